// matmul and gemm: validate, allocate, release the GIL, call bprop::gemm.
#include "../core/gemm/gemm.hpp"
#include "checks.hpp"

namespace bprop_py {
namespace {

py::array gemm_call(py::handle a_obj, py::handle b_obj, py::handle c_obj, double alpha, double beta,
                    bool trans_a, bool trans_b, const char* c_name) {
    py::array a = float_arg(a_obj, "a");
    const DType dt = float_dtype(a, "a");
    py::array b = float_arg(b_obj, "b", dt, "a");
    require_ndim(a, 2, "a");
    require_ndim(b, 2, "b");
    const index_t m = trans_a ? a.shape(1) : a.shape(0);
    const index_t k = trans_a ? a.shape(0) : a.shape(1);
    const index_t kb = trans_b ? b.shape(1) : b.shape(0);
    const index_t n = trans_b ? b.shape(0) : b.shape(1);
    if (k != kb)
        throw py::value_error(std::string("a, b: inner dimensions differ: op(a) has shape (") +
                              std::to_string(m) + ", " + std::to_string(k) + ") and op(b) has shape (" +
                              std::to_string(kb) + ", " + std::to_string(n) + ")  [a " + shape_str(a) +
                              ", b " + shape_str(b) + ", trans_a=" + (trans_a ? "True" : "False") +
                              ", trans_b=" + (trans_b ? "True" : "False") + "]");
    const std::vector<py::ssize_t> shape{static_cast<py::ssize_t>(m), static_cast<py::ssize_t>(n)};

    py::array c;
    const bool fresh = c_obj.is_none();
    if (fresh) {
        c = output(c_obj, c_name, shape, dt, {}, false);
        beta = 0.0;
    } else {
        if (!py::isinstance<py::array>(c_obj))
            throw py::type_error(std::string(c_name) + ": expected a numpy.ndarray, got " +
                                 py::str(py::type::handle_of(c_obj)).cast<std::string>());
        c = py::reinterpret_borrow<py::array>(c_obj);
        if (float_dtype(c, c_name) != dt)
            throw py::type_error(std::string(c_name) + ": expected dtype " + dtype_name(dt) + " (the dtype of a), got " +
                                 dtype_str(c));
        if (shape_of(c) != shape)
            throw py::value_error(std::string(c_name) + ": expected shape " + shape_str(shape) + ", got " +
                                  shape_str(c));
        if (!c.writeable()) throw py::value_error(std::string(c_name) + ": array is read-only");
        if (!element_addressable(c))
            throw py::value_error(std::string(c_name) + ": expected an aligned array with whole-element strides");
        if (overlaps(c, a)) throw py::value_error(std::string(c_name) + ": must not overlap the input 'a'");
        if (overlaps(c, b)) throw py::value_error(std::string(c_name) + ": must not overlap the input 'b'");
    }

    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        bprop::MatrixRef<const T> ar = matrix_ref<T>(a), br = matrix_ref<T>(b);
        if (trans_a) std::swap(ar.rs, ar.cs);
        if (trans_b) std::swap(br.rs, br.cs);
        const auto item = static_cast<index_t>(c.itemsize());
        bprop::MatrixRef<T> cr{static_cast<T*>(c.mutable_data()), static_cast<index_t>(c.strides(0)) / item,
                               static_cast<index_t>(c.strides(1)) / item};
        py::gil_scoped_release nogil;
        bprop::gemm<T>(m, n, k, T(alpha), ar, br, T(beta), cr);
        return 0;
    });
    return c;
}

}  // namespace

void register_gemm(py::module_& m) {
    m.def(
        "matmul",
        [](py::handle a, py::handle b, py::handle out) {
            return gemm_call(a, b, out, 1.0, 0.0, false, false, "out");
        },
        py::arg("a"), py::arg("b"), py::arg("out") = py::none(),
        "matmul(a, b, out=None) -> ndarray\n\n"
        "Matrix product of 2-D a (m, k) and b (k, n) -> (m, n), float32 or float64.\n"
        "Transposed or sliced views are used without a copy.");
    m.def(
        "gemm",
        [](py::handle a, py::handle b, py::handle c, double alpha, double beta, bool trans_a,
           bool trans_b) { return gemm_call(a, b, c, alpha, beta, trans_a, trans_b, "c"); },
        py::arg("a"), py::arg("b"), py::arg("c") = py::none(), py::arg("alpha") = 1.0,
        py::arg("beta") = 0.0, py::arg("trans_a") = false, py::arg("trans_b") = false,
          "gemm(a, b, c=None, alpha=1.0, beta=0.0, trans_a=False, trans_b=False) -> ndarray\n\n"
          "c = alpha * op(a) @ op(b) + beta * c, op(x) = x.T when its flag is set.\n"
          "Without c a new (m, n) array is returned (beta ignored); with c it is\n"
          "updated in place (any strides) and returned.  beta == 0 never reads c.");
}

}  // namespace bprop_py
