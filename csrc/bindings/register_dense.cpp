// The fused dense layer kernels.
#include "../core/dense.hpp"
#include "checks.hpp"
#include "layer_backward_args.hpp"

namespace bprop_py {
namespace {

using bprop::Act;

struct DenseArgs {
    py::array x, w;
    DType dt;
    index_t n, k, m;
};

DenseArgs dense_args(py::handle x_obj, py::handle w_obj) {
    py::array x = float_arg(x_obj, "x");
    const DType dt = float_dtype(x, "x");
    py::array w = float_arg(w_obj, "w", dt, "x");
    require_ndim(x, 2, "x");
    require_ndim(w, 2, "w");
    if (x.shape(1) != w.shape(0))
        throw py::value_error("x, w: x has " + std::to_string(x.shape(1)) + " columns but w has " +
                              std::to_string(w.shape(0)) + " rows (x " + shape_str(x) + ", w " + shape_str(w) + ")");
    return {x, w, dt, x.shape(0), x.shape(1), w.shape(1)};
}

py::array bias_arg(py::handle b_obj, const DenseArgs& a, const char* name) {
    py::array b = c_contiguous(float_arg(b_obj, name, a.dt, "x"));
    if (b.ndim() != 1 || b.shape(0) != a.m)
        throw py::value_error(std::string(name) + ": expected shape (" + std::to_string(a.m) +
                              ",) to match the columns of w " + shape_str(a.w) + ", got " + shape_str(b));
    return b;
}

py::array dense_forward(py::handle x_obj, py::handle w_obj, py::handle b_obj, py::handle act_obj,
                        py::handle out_obj) {
    DenseArgs a = dense_args(x_obj, w_obj);
    const Act act = parse_activation(act_obj);
    // (a default py::array is an empty array, not a null handle: track "given" explicitly)
    const bool has_b = !b_obj.is_none();
    py::array b = has_b ? bias_arg(b_obj, a, "b") : py::array();
    py::array y = output(out_obj, "out", {a.n, a.m}, a.dt,
                         {{&a.x, "x"}, {&a.w, "w"}, {has_b ? &b : nullptr, "b"}}, false);
    dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const auto xr = matrix_ref<T>(a.x);
        const auto wr = matrix_ref<T>(a.w);
        const T* bp = has_b ? static_cast<const T*>(b.data()) : nullptr;
        T* yp = static_cast<T*>(y.mutable_data());
        py::gil_scoped_release nogil;
        bprop::dense_forward<T>(a.n, a.k, a.m, xr, wr, bp, act, yp);
        return 0;
    });
    return y;
}

py::tuple dense_backward(py::handle dy_obj, py::handle x_obj, py::handle w_obj, py::handle zy_obj,
                         py::handle act_obj, py::handle dx_obj, py::handle dw_obj, py::handle db_obj,
                         bool need_dx, bool need_dw, bool need_db) {
    DenseArgs a = dense_args(x_obj, w_obj);
    const Act act = parse_activation(act_obj);
    py::array dy = c_contiguous(float_arg(dy_obj, "dy", a.dt, "x"));
    const std::vector<py::ssize_t> y_shape{a.n, a.m};
    if (shape_of(dy) != y_shape)
        throw py::value_error("dy: expected shape " + shape_str(y_shape) + " (rows of x, columns of w), got " +
                              shape_str(dy));
    const bool has_zy = act != Act::linear;
    py::array zy = saved_activation(zy_obj, act, act_obj, a.dt, dy);
    const Input ins[] = {{&dy, "dy"}, {&a.x, "x"}, {&a.w, "w"}, {has_zy ? &zy : nullptr, "z_or_y"}};
    LayerGrads grads = layer_grad_outputs(a.dt, ins, dx_obj, {a.n, a.k}, need_dx, dw_obj, {a.k, a.m}, need_dw,
                                          db_obj, {a.m}, need_db);
    dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const auto xr = matrix_ref<T>(a.x);
        const auto wr = matrix_ref<T>(a.w);
        const T* g = static_cast<const T*>(dy.data());
        const T* zp = has_zy ? static_cast<const T*>(zy.data()) : nullptr;
        T* dxp = need_dx ? static_cast<T*>(grads.dx.mutable_data()) : nullptr;
        T* dwp = need_dw ? static_cast<T*>(grads.dw.mutable_data()) : nullptr;
        T* dbp = need_db ? static_cast<T*>(grads.db.mutable_data()) : nullptr;
        py::gil_scoped_release nogil;
        bprop::dense_backward<T>(a.n, a.k, a.m, g, xr, wr, zp, act, dxp, dwp, dbp);
        return 0;
    });
    return layer_grads_tuple(grads, need_dx, need_dw, need_db);
}

}  // namespace

void register_dense(py::module_& m) {
    const auto none = py::none();
    m.def("dense_forward", &dense_forward, py::arg("x"), py::arg("w"), py::arg("b") = none,
          py::arg("activation") = none, py::arg("out") = none,
          "dense_forward(x, w, b=None, activation=None, out=None) -> ndarray\n\n"
          "act(x @ w + b) for x (n, k), w (k, m), b (m,): one GEMM whose epilogue adds\n"
          "the bias and applies the activation (linear, relu, leaky_relu (slope 0.2),\n"
          "sigmoid, tanh, gelu, elu (alpha 1), selu, softplus, softsign, silu, exponential,\n"
          "hard_sigmoid; softmax as a row-wise pass after).");
    m.def("dense_backward", &dense_backward, py::arg("dy"), py::arg("x"), py::arg("w"),
          py::arg("z_or_y") = none, py::arg("activation") = none, py::arg("dx") = none,
          py::arg("dw") = none, py::arg("db") = none, py::arg("need_dx") = true, py::arg("need_dw") = true,
          py::arg("need_db") = true,
          "dense_backward(dy, x, w, z_or_y=None, activation=None, dx=None, dw=None, db=None,\n"
          "               need_dx=True, need_dw=True, need_db=True) -> (dx, dw, db)\n\n"
          "Backward of dense_forward.  z_or_y is the activation's output for relu,\n"
          "leaky_relu, sigmoid, tanh, exponential, hard_sigmoid and softmax, its input for\n"
          "gelu, elu, selu, softplus, softsign and silu, unused for linear.\n"
          "dx, dw, db are None when need_dx, need_dw, need_db are False (a first layer, a\n"
          "frozen kernel or bias).");
}

}  // namespace bprop_py
