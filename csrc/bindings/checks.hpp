// Argument checks shared by every binding.  Each failure raises a Python
// exception whose message names the argument, what was expected and what
// was given.  Nothing here computes: it validates, converts and allocates.
#pragma once

#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <cstdint>
#include <string>
#include <vector>

#include "../core/activation_kind.hpp"
#include "../core/common.hpp"
#include "../core/gemm/gemm.hpp"

namespace bprop_py {

namespace py = pybind11;
using bprop::index_t;

enum class DType { f32, f64 };

inline const char* dtype_name(DType d) { return d == DType::f32 ? "float32" : "float64"; }

inline std::string shape_str(const py::array& a) {
    std::string s = "(";
    for (py::ssize_t i = 0; i < a.ndim(); ++i) {
        if (i) s += ", ";
        s += std::to_string(a.shape(i));
    }
    if (a.ndim() == 1) s += ",";
    return s + ")";
}

inline std::string shape_str(const std::vector<py::ssize_t>& shape) {
    std::string s = "(";
    for (std::size_t i = 0; i < shape.size(); ++i) {
        if (i) s += ", ";
        s += std::to_string(shape[i]);
    }
    if (shape.size() == 1) s += ",";
    return s + ")";
}

inline std::string dtype_str(const py::array& a) { return py::str(a.dtype()).cast<std::string>(); }

// np.asarray(obj), keeping its dtype.
inline py::array as_array(py::handle obj, const char* name) {
    if (obj.is_none()) throw py::type_error(std::string(name) + ": expected an array, got None");
    py::array arr = py::array::ensure(obj);
    if (!arr) {
        throw py::type_error(std::string(name) + ": expected an array of float32 or float64, got " +
                             py::str(py::type::handle_of(obj)).cast<std::string>());
    }
    return arr;
}

inline DType float_dtype(const py::array& a, const char* name) {
    if (a.dtype().is(py::dtype::of<float>())) return DType::f32;
    if (a.dtype().is(py::dtype::of<double>())) return DType::f64;
    if (a.dtype().equal(py::dtype::of<float>())) return DType::f32;
    if (a.dtype().equal(py::dtype::of<double>())) return DType::f64;
    throw py::type_error(std::string(name) + ": expected float32 or float64, got " + dtype_str(a));
}

inline void require_dtype(const py::array& a, DType want, const char* name, const char* ref) {
    const DType got = float_dtype(a, name);
    if (got != want)
        throw py::type_error(std::string(name) + ": expected " + dtype_name(want) + " (the dtype of " +
                             ref + "), got " + dtype_str(a));
}

inline void require_ndim(const py::array& a, int ndim, const char* name) {
    if (a.ndim() != ndim)
        throw py::value_error(std::string(name) + ": expected a " + std::to_string(ndim) +
                              "-D array, got shape " + shape_str(a));
}

inline void require_min_ndim(const py::array& a, int ndim, const char* name) {
    if (a.ndim() < ndim)
        throw py::value_error(std::string(name) + ": expected at least " + std::to_string(ndim) +
                              " dimension(s), got shape " + shape_str(a));
}

inline void require_same_shape(const py::array& a, const char* name, const py::array& ref,
                               const char* ref_name) {
    bool same = a.ndim() == ref.ndim();
    for (py::ssize_t i = 0; same && i < a.ndim(); ++i) same = a.shape(i) == ref.shape(i);
    if (!same)
        throw py::value_error(std::string(name) + ": expected shape " + shape_str(ref) + " (the shape of " +
                              ref_name + "), got " + shape_str(a));
}

inline std::vector<py::ssize_t> shape_of(const py::array& a) {
    return std::vector<py::ssize_t>(a.shape(), a.shape() + a.ndim());
}

// True when the array's strides are whole elements and its data is aligned,
// so the core may address it as T* with element strides.
inline bool element_addressable(const py::array& a) {
    const auto item = a.itemsize();
    if (reinterpret_cast<std::uintptr_t>(a.data()) % static_cast<std::uintptr_t>(item) != 0) return false;
    for (py::ssize_t i = 0; i < a.ndim(); ++i)
        if (a.strides(i) % item != 0) return false;
    return true;
}

// A fresh C-contiguous, aligned copy.  Goes through numpy.array so that an
// impossible allocation (a huge broadcast view) raises MemoryError.
inline py::array contiguous_copy(const py::array& a) {
    return py::module_::import("numpy").attr("array")(a, py::arg("order") = "C", py::arg("copy") = true);
}

// A C-contiguous, aligned view of `a` (a copy only when needed).
inline py::array c_contiguous(const py::array& a) {
    if ((a.flags() & py::array::c_style) && element_addressable(a)) return a;
    return contiguous_copy(a);
}

// ``a`` converted to a C-contiguous, aligned array of T (cast, or copied when
// misaligned: the core reads T*).  ``a`` must be an array already.
template <typename T>
py::array typed_array(const py::array& a) {
    py::array out = py::array_t<T, py::array::c_style | py::array::forcecast>::ensure(a);
    if (!out) throw std::bad_alloc();  // ensure() returns null only when the copy failed
    if (!element_addressable(out)) out = contiguous_copy(out);
    return out;
}

// A 2-D operand for GEMM: any element strides are fine (transposed, sliced,
// reversed views need no copy); only odd byte strides are copied.
template <typename T>
bprop::MatrixRef<const T> matrix_ref(py::array& a) {
    if (!element_addressable(a)) a = contiguous_copy(a);
    const auto item = static_cast<index_t>(a.itemsize());
    return {static_cast<const T*>(a.data()), static_cast<index_t>(a.strides(0)) / item,
            static_cast<index_t>(a.strides(1)) / item};
}

// [lo, hi) byte range spanned by an array (empty for zero-size arrays).
inline std::pair<std::uintptr_t, std::uintptr_t> byte_bounds(const py::array& a) {
    if (a.size() == 0) return {0, 0};
    auto base = reinterpret_cast<std::uintptr_t>(a.data());
    std::intptr_t lo = 0, hi = 0;
    for (py::ssize_t i = 0; i < a.ndim(); ++i) {
        const std::intptr_t extent = static_cast<std::intptr_t>(a.strides(i)) * (a.shape(i) - 1);
        if (extent < 0) lo += extent; else hi += extent;
    }
    return {base + lo, base + hi + a.itemsize()};
}

inline bool overlaps(const py::array& a, const py::array& b) {
    const auto ra = byte_bounds(a), rb = byte_bounds(b);
    return ra.first < ra.second && rb.first < rb.second && ra.first < rb.second && rb.first < ra.second;
}

inline bool same_layout(const py::array& a, const py::array& b) {
    if (a.data() != b.data() || a.ndim() != b.ndim()) return false;
    for (py::ssize_t i = 0; i < a.ndim(); ++i)
        if (a.shape(i) != b.shape(i) || a.strides(i) != b.strides(i)) return false;
    return true;
}

struct Input {
    const py::array* array;
    const char* name;
};

// The output array: a new C-contiguous array of `shape`, or the user's
// `out` after checking type, dtype, shape, contiguity, writeability and
// overlap with the inputs (exact aliasing allowed only when `may_alias`).
inline py::array output(py::handle out, const char* out_name, const std::vector<py::ssize_t>& shape,
                        DType dt, std::initializer_list<Input> inputs, bool may_alias) {
    if (out.is_none()) {
        if (dt == DType::f32) return py::array_t<float>(shape);
        return py::array_t<double>(shape);
    }
    if (!py::isinstance<py::array>(out))
        throw py::type_error(std::string(out_name) + ": expected a numpy.ndarray, got " +
                             py::str(py::type::handle_of(out)).cast<std::string>());
    py::array o = py::reinterpret_borrow<py::array>(out);
    if (float_dtype(o, out_name) != dt)
        throw py::type_error(std::string(out_name) + ": expected dtype " + dtype_name(dt) + ", got " +
                             dtype_str(o));
    if (shape_of(o) != shape)
        throw py::value_error(std::string(out_name) + ": expected shape " + shape_str(shape) + ", got " +
                              shape_str(o));
    if (!(o.flags() & py::array::c_style) || !element_addressable(o))
        throw py::value_error(std::string(out_name) + ": expected a C-contiguous, aligned array");
    if (!o.writeable()) throw py::value_error(std::string(out_name) + ": array is read-only");
    for (const Input& in : inputs) {
        if (in.array == nullptr || !overlaps(o, *in.array)) continue;
        if (may_alias && same_layout(o, *in.array)) continue;
        throw py::value_error(std::string(out_name) + ": must not overlap the input '" + in.name + "'" +
                              (may_alias ? " (only exact in-place aliasing is allowed)" : ""));
    }
    return o;
}

// A float array argument, converted with np.asarray and dtype-checked
// against a reference dtype (the first operand's).
inline py::array float_arg(py::handle obj, const char* name) {
    py::array a = as_array(obj, name);
    float_dtype(a, name);
    return a;
}

inline py::array float_arg(py::handle obj, const char* name, DType dt, const char* ref) {
    py::array a = as_array(obj, name);
    require_dtype(a, dt, name, ref);
    return a;
}

// The activation named by a Python string (or None for linear).
inline bprop::Act parse_activation(py::handle obj, const char* name = "activation") {
    if (obj.is_none()) return bprop::Act::linear;
    if (!py::isinstance<py::str>(obj))
        throw py::type_error(std::string(name) + ": expected a string or None, got " +
                             py::str(py::type::handle_of(obj)).cast<std::string>());
    const std::string s = obj.cast<std::string>();
    if (s == "linear") return bprop::Act::linear;
    if (s == "relu") return bprop::Act::relu;
    if (s == "leaky_relu") return bprop::Act::leaky_relu;
    if (s == "sigmoid") return bprop::Act::sigmoid;
    if (s == "tanh") return bprop::Act::tanh;
    if (s == "gelu") return bprop::Act::gelu;
    if (s == "softmax") return bprop::Act::softmax;
    if (s == "elu") return bprop::Act::elu;
    if (s == "selu") return bprop::Act::selu;
    if (s == "softplus") return bprop::Act::softplus;
    if (s == "softsign") return bprop::Act::softsign;
    if (s == "silu") return bprop::Act::silu;
    if (s == "exponential") return bprop::Act::exponential;
    if (s == "hard_sigmoid") return bprop::Act::hard_sigmoid;
    throw py::value_error(std::string(name) +
                          ": expected one of linear, relu, leaky_relu, sigmoid, tanh, gelu, softmax, elu, selu, "
                          "softplus, softsign, silu, exponential, hard_sigmoid or None, got '" + s + "'");
}

// Runs f(T{}) with T = float or double.
template <typename F>
auto dispatch(DType dt, F&& f) {
    if (dt == DType::f32) return f(float{});
    return f(double{});
}

// Registration of each area (register_<area>.cpp).
void register_gemm(py::module_& m);
void register_activations(py::module_& m);
void register_losses(py::module_& m);
void register_dense(py::module_& m);
void register_optimizers(py::module_& m);
void register_info(py::module_& m);
void register_dropout(py::module_& m);
void register_regularizers(py::module_& m);
void register_plan(py::module_& m);
void register_conv(py::module_& m);
void register_pool(py::module_& m);

}  // namespace bprop_py
