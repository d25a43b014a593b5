// Threads, SIMD path and build facts.
#include "../core/cpu_features.hpp"
#include "../core/gemm/gemm.hpp"
#include "../core/gemm/kernel_table.hpp"
#include "../core/threading.hpp"
#include "checks.hpp"

namespace bprop_py {
namespace {

std::string compiler() {
#if defined(__clang__)
    return "clang " __clang_version__;
#elif defined(__GNUC__)
    return "gcc " __VERSION__;
#else
    return "unknown";
#endif
}

bprop::Isa parse_isa(const std::string& s) {
    if (s == "generic") return bprop::Isa::generic;
    if (s == "avx2") return bprop::Isa::avx2;
    if (s == "avx512") return bprop::Isa::avx512;
    throw py::value_error("isa: expected 'generic', 'avx2' or 'avx512', got '" + s + "'");
}

const char* gemm_path_name(bprop::GemmPath p) {
    switch (p) {
        case bprop::GemmPath::packed: return "packed";
        case bprop::GemmPath::direct: return "direct";
        default: return "auto";
    }
}

bprop::GemmPath parse_gemm_path(const std::string& s) {
    if (s == "auto") return bprop::GemmPath::automatic;
    if (s == "packed") return bprop::GemmPath::packed;
    if (s == "direct") return bprop::GemmPath::direct;
    throw py::value_error("path: expected 'auto', 'packed' or 'direct', got '" + s + "'");
}

}  // namespace

void register_info(py::module_& m) {
    m.def("get_num_threads", &bprop::get_num_threads,
          "get_num_threads() -> int: threads the core's parallel loops may use.");
    m.def(
        "set_num_threads",
        [](py::handle n_obj) {
            if (!py::isinstance<py::int_>(n_obj) || py::isinstance<py::bool_>(n_obj))
                throw py::type_error("n: expected an int, got " +
                                     py::str(py::type::handle_of(n_obj)).cast<std::string>());
            const long long n = n_obj.cast<long long>();
            if (n < 1 || n > 4096) throw py::value_error("n: expected a thread count in [1, 4096], got " + std::to_string(n));
            bprop::set_num_threads(static_cast<int>(n));
        },
        py::arg("n"), "set_num_threads(n): threads the core's parallel loops may use (n >= 1).");
    m.def("get_isa", []() { return std::string(bprop::isa_name(bprop::active_isa())); },
          "get_isa() -> str: the SIMD path in use ('generic', 'avx2' or 'avx512').");
    m.def(
        "set_isa",
        [](const std::string& name) {
            bprop::set_isa(parse_isa(name));
            return std::string(bprop::isa_name(bprop::active_isa()));
        },
        py::arg("isa"),
        "set_isa(isa) -> str: select a SIMD path (clamped to what the CPU supports); returns the one in use.");
    m.def(
        "_set_gemm_path",
        [](const std::string& name) {
            const bprop::GemmPath previous = bprop::gemm_path();
            bprop::set_gemm_path(parse_gemm_path(name));
            return std::string(gemm_path_name(previous));
        },
        py::arg("path"),
        "_set_gemm_path(path) -> str: force the GEMM driver ('packed' or 'direct'; 'auto' picks by "
        "size) for tests and benchmarks; both give the same bits. Returns the previous setting.");
    m.def("build_info", []() {
        py::dict d;
        d["compiler"] = compiler();
        d["openmp"] = bprop::openmp_enabled();
        d["openmp_version"] = bprop::openmp_version();
        d["simd_detected"] = bprop::isa_name(bprop::detect_isa());
        d["simd"] = bprop::isa_name(bprop::active_isa());
        d["gemm_kernel_fp32"] = bprop::gemm_detail::select_kernel<float>(bprop::active_isa()).name;
        d["gemm_kernel_fp64"] = bprop::gemm_detail::select_kernel<double>(bprop::active_isa()).name;
        d["num_threads"] = bprop::get_num_threads();
#ifdef BPROP_BUILD_TYPE
        d["build_type"] = BPROP_BUILD_TYPE;
#endif
        return d;
    }, "build_info() -> dict: compiler, OpenMP, SIMD path and GEMM kernels in use, threads.");
}

}  // namespace bprop_py
