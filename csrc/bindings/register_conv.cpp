// 2-D convolution (core/conv.hpp): conv2d and conv2d_backward.
#include "conv_args.hpp"
#include "layer_backward_args.hpp"

namespace bprop_py {
namespace {

using bprop::Act;

struct ConvArgs {
    py::array x, kernel;
    DType dt;
    bprop::ConvGeometry g;
    bool same;
};

ConvArgs conv_args(py::handle x_obj, py::handle k_obj, py::handle strides, py::handle padding,
                   py::handle dilation) {
    ConvArgs a;
    a.x = images_arg(x_obj, "x", &a.dt);
    a.kernel = c_contiguous(float_arg(k_obj, "kernel", a.dt, "x"));
    require_ndim(a.kernel, 4, "kernel");
    if (a.kernel.shape(2) != a.x.shape(3))
        throw py::value_error("x, kernel: x has " + std::to_string(a.x.shape(3)) + " channels but the kernel takes " +
                              std::to_string(a.kernel.shape(2)) + " (x " + shape_str(a.x) + ", kernel " +
                              shape_str(a.kernel) + ": (height, width, in_channels, filters))");
    if (a.kernel.shape(0) < 1 || a.kernel.shape(1) < 1 || a.kernel.shape(3) < 1)
        throw py::value_error("kernel: expected a non-empty window and at least one filter, got shape " +
                              shape_str(a.kernel));
    const auto s = pair_arg(strides, "strides");
    const auto d = pair_arg(dilation, "dilation_rate");
    a.same = padding_arg(padding);
    if (a.kernel.shape(0) > kMaxWindowArg || a.kernel.shape(1) > kMaxWindowArg)
        throw py::value_error("kernel: window too large, shape " + shape_str(a.kernel));
    a.g = bprop::conv_geometry(a.x.shape(0), a.x.shape(1), a.x.shape(2), a.x.shape(3), a.kernel.shape(0),
                               a.kernel.shape(1), a.kernel.shape(3), s.first, s.second, d.first, d.second, a.same);
    require_window_fits(a.g, shape_of(a.x), "kernel", a.same);
    return a;
}

py::array conv2d(py::handle x_obj, py::handle k_obj, py::handle b_obj, py::handle strides, py::handle padding,
                 py::handle dilation, py::handle act_obj, py::handle out_obj) {
    ConvArgs a = conv_args(x_obj, k_obj, strides, padding, dilation);
    const Act act = parse_activation(act_obj);
    const bool has_b = !b_obj.is_none();
    py::array b;
    if (has_b) {
        b = c_contiguous(float_arg(b_obj, "bias", a.dt, "x"));
        if (b.ndim() != 1 || b.shape(0) != a.g.f)
            throw py::value_error("bias: expected shape (" + std::to_string(a.g.f) + ",) (one per filter), got " +
                                  shape_str(b));
    }
    py::array y = output(out_obj, "out", out_shape(a.g, a.g.f), a.dt,
                         {{&a.x, "x"}, {&a.kernel, "kernel"}, {has_b ? &b : nullptr, "bias"}}, false);
    dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const T* bp = has_b ? static_cast<const T*>(b.data()) : nullptr;
        const T* xp = static_cast<const T*>(a.x.data());
        const T* kp = static_cast<const T*>(a.kernel.data());
        T* yp = static_cast<T*>(y.mutable_data());
        py::gil_scoped_release nogil;
        bprop::conv2d_forward<T>(a.g, xp, kp, bp, act, yp);
        return 0;
    });
    return y;
}

py::tuple conv2d_backward(py::handle dy_obj, py::handle x_obj, py::handle k_obj, py::handle zy_obj,
                          py::handle act_obj, py::handle strides, py::handle padding, py::handle dilation,
                          py::handle dx_obj, py::handle dw_obj, py::handle db_obj, bool need_dx, bool need_dw,
                          bool need_db) {
    ConvArgs a = conv_args(x_obj, k_obj, strides, padding, dilation);
    const Act act = parse_activation(act_obj);
    py::array dy = c_contiguous(float_arg(dy_obj, "dy", a.dt, "x"));
    const auto y_shape = out_shape(a.g, a.g.f);
    if (shape_of(dy) != y_shape)
        throw py::value_error("dy: expected shape " + shape_str(y_shape) + " (conv2d's output), got " + shape_str(dy));
    const bool has_zy = act != Act::linear;
    py::array zy = saved_activation(zy_obj, act, act_obj, a.dt, dy);
    const Input ins[] = {{&dy, "dy"}, {&a.x, "x"}, {&a.kernel, "kernel"}, {has_zy ? &zy : nullptr, "z_or_y"}};
    LayerGrads grads = layer_grad_outputs(a.dt, ins, dx_obj, shape_of(a.x), need_dx, dw_obj, shape_of(a.kernel), need_dw,
                                          db_obj, {a.g.f}, need_db);
    dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const T* g = static_cast<const T*>(dy.data());
        const T* xp = static_cast<const T*>(a.x.data());
        const T* kp = static_cast<const T*>(a.kernel.data());
        const T* zp = has_zy ? static_cast<const T*>(zy.data()) : nullptr;
        T* dxp = need_dx ? static_cast<T*>(grads.dx.mutable_data()) : nullptr;
        T* dwp = need_dw ? static_cast<T*>(grads.dw.mutable_data()) : nullptr;
        T* dbp = need_db ? static_cast<T*>(grads.db.mutable_data()) : nullptr;
        py::gil_scoped_release nogil;
        bprop::conv2d_backward<T>(a.g, g, xp, kp, zp, act, dxp, dwp, dbp);
        return 0;
    });
    return layer_grads_tuple(grads, need_dx, need_dw, need_db);
}

}  // namespace

void register_conv(py::module_& m) {
    const auto none = py::none();
    m.def("conv2d", &conv2d, py::arg("x"), py::arg("kernel"), py::arg("bias") = none, py::arg("strides") = 1,
          py::arg("padding") = "valid", py::arg("dilation_rate") = 1, py::arg("activation") = none,
          py::arg("out") = none,
          "conv2d(x, kernel, bias=None, strides=1, padding='valid', dilation_rate=1, activation=None,\n"
          "       out=None) -> ndarray\n\n"
          "act(conv(x, kernel) + bias) for images x (n, h, w, c) and a kernel (kh, kw, c, f), as\n"
          "Keras' Conv2D (channels_last): the output is (n, oh, ow, f).  strides and\n"
          "dilation_rate: an int or a pair; padding 'valid' (whole windows) or 'same'\n"
          "(oh = ceil(h / stride), zeros split evenly, the odd one after).  The bias and\n"
          "activation (as dense_forward's) are applied by the GEMM's epilogue.");
    m.def("conv2d_backward", &conv2d_backward, py::arg("dy"), py::arg("x"), py::arg("kernel"),
          py::arg("z_or_y") = none, py::arg("activation") = none, py::arg("strides") = 1,
          py::arg("padding") = "valid", py::arg("dilation_rate") = 1, py::arg("dx") = none, py::arg("dw") = none,
          py::arg("db") = none, py::arg("need_dx") = true, py::arg("need_dw") = true, py::arg("need_db") = true,
          "conv2d_backward(dy, x, kernel, z_or_y=None, activation=None, strides=1, padding='valid',\n"
          "                dilation_rate=1, dx=None, dw=None, db=None, need_dx=True, need_dw=True,\n"
          "                need_db=True) -> (dx, dw, db)\n\n"
          "Backward of conv2d: dx (n, h, w, c), dw (kh, kw, c, f), db (f,) from dy (n, oh, ow, f).\n"
          "z_or_y as in dense_backward (the output; the pre-activation for gelu, elu, ...).");
}

}  // namespace bprop_py
