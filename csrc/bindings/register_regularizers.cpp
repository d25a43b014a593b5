// Weight and activity penalties (Keras' L1L2) and the squared norm the
// optimizers' clipnorm uses.
#include <cmath>

#include "../core/gradient_tools.hpp"
#include "../core/regularizers.hpp"
#include "checks.hpp"
#include "hyper_checks.hpp"

namespace bprop_py {
namespace {

double penalty(py::handle w_obj, double l1, double l2) {
    py::array w = c_contiguous(float_arg(w_obj, "x"));
    check_finite_nonneg(l1, "l1");
    check_finite_nonneg(l2, "l2");
    const index_t n = static_cast<index_t>(w.size());
    return dispatch(float_dtype(w, "x"), [&](auto tag) {
        using T = decltype(tag);
        const T* wp = static_cast<const T*>(w.data());
        py::gil_scoped_release nogil;
        return bprop::l1_l2_penalty<T>(wp, n, l1, l2);
    });
}

py::array penalty_grad(py::handle w_obj, py::handle g_obj, double l1, double l2) {
    py::array w = c_contiguous(float_arg(w_obj, "x"));
    const DType dt = float_dtype(w, "x");
    check_finite_nonneg(l1, "l1");
    check_finite_nonneg(l2, "l2");
    if (!py::isinstance<py::array>(g_obj))
        throw py::type_error("grad: expected a numpy.ndarray (added to in place), got " +
                             py::str(py::type::handle_of(g_obj)).cast<std::string>());
    py::array g = py::reinterpret_borrow<py::array>(g_obj);
    require_dtype(g, dt, "grad", "x");
    require_same_shape(g, "grad", w, "x");
    if (!(g.flags() & py::array::c_style) || !element_addressable(g))
        throw py::value_error("grad: expected a C-contiguous, aligned array (it is updated in place)");
    if (!g.writeable()) throw py::value_error("grad: array is read-only");
    if (overlaps(g, w)) throw py::value_error("grad: must not overlap x");
    const index_t n = static_cast<index_t>(w.size());
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* wp = static_cast<const T*>(w.data());
        T* gp = static_cast<T*>(g.mutable_data());
        py::gil_scoped_release nogil;
        bprop::l1_l2_grad<T>(wp, gp, n, l1, l2);
        return 0;
    });
    return g;
}

double sum_squares(py::handle x_obj) {
    py::array x = c_contiguous(float_arg(x_obj, "x"));
    const index_t n = static_cast<index_t>(x.size());
    return dispatch(float_dtype(x, "x"), [&](auto tag) {
        using T = decltype(tag);
        const T* xp = static_cast<const T*>(x.data());
        py::gil_scoped_release nogil;
        return bprop::sum_squares<T>(xp, n);
    });
}

}  // namespace

void register_regularizers(py::module_& m) {
    m.def("l1_l2_penalty", &penalty, py::arg("x"), py::arg("l1") = 0.0, py::arg("l2") = 0.0,
          "l1_l2_penalty(x, l1=0.0, l2=0.0) -> float: l1 sum|x| + l2 sum x^2 (Keras' L1L2).");
    m.def("l1_l2_grad", &penalty_grad, py::arg("x"), py::arg("grad"), py::arg("l1") = 0.0, py::arg("l2") = 0.0,
          "l1_l2_grad(x, grad, l1=0.0, l2=0.0) -> grad: adds l1 sign(x) + 2 l2 x to grad in place.");
    m.def("sum_squares", &sum_squares, py::arg("x"),
          "sum_squares(x) -> float: sum of x^2 in float64 (fixed chunks: the same at any thread count).");
}

}  // namespace bprop_py
