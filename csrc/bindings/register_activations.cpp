// Activations (forward/backward), softmax/log_softmax, bias add and bias grad.
#include "../core/bias.hpp"
#include "../core/elementwise.hpp"
#include "../core/softmax.hpp"
#include "checks.hpp"

namespace bprop_py {
namespace {

using bprop::Act;

py::array forward(py::handle x_obj, py::handle out_obj, Act act, double alpha) {
    py::array x = c_contiguous(float_arg(x_obj, "x"));
    const DType dt = float_dtype(x, "x");
    py::array y = output(out_obj, "out", shape_of(x), dt, {{&x, "x"}}, true);
    const index_t n = static_cast<index_t>(x.size());
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* xp = static_cast<const T*>(x.data());
        T* yp = static_cast<T*>(y.mutable_data());
        py::gil_scoped_release nogil;
        bprop::activation_forward<T>(act, xp, yp, n, T(alpha));
        return 0;
    });
    return y;
}

// dx = dy * act'(other); `other_name` says whether it is the input or the output.
py::array backward(py::handle dy_obj, py::handle other_obj, py::handle out_obj, Act act, double alpha,
                   const char* other_name) {
    py::array dy = c_contiguous(float_arg(dy_obj, "dy"));
    const DType dt = float_dtype(dy, "dy");
    py::array other = c_contiguous(float_arg(other_obj, other_name, dt, "dy"));
    require_same_shape(other, other_name, dy, "dy");
    py::array dx = output(out_obj, "out", shape_of(dy), dt, {{&dy, "dy"}, {&other, other_name}}, true);
    const index_t n = static_cast<index_t>(dy.size());
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* g = static_cast<const T*>(dy.data());
        const T* o = static_cast<const T*>(other.data());
        T* d = static_cast<T*>(dx.mutable_data());
        py::gil_scoped_release nogil;
        bprop::activation_backward<T>(act, g, o, d, n, T(alpha));
        return 0;
    });
    return dx;
}

// Row-wise ops over the last axis: rows = size / last dimension.
void rows_cols(const py::array& a, index_t& rows, index_t& cols) {
    cols = static_cast<index_t>(a.shape(a.ndim() - 1));
    rows = cols == 0 ? 0 : static_cast<index_t>(a.size()) / cols;
    if (cols == 0) rows = 0;
}

template <bool Log>
py::array rowwise_forward(py::handle x_obj, py::handle out_obj) {
    py::array x = c_contiguous(float_arg(x_obj, "x"));
    const DType dt = float_dtype(x, "x");
    require_min_ndim(x, 1, "x");
    py::array y = output(out_obj, "out", shape_of(x), dt, {{&x, "x"}}, true);
    index_t rows, cols;
    rows_cols(x, rows, cols);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* xp = static_cast<const T*>(x.data());
        T* yp = static_cast<T*>(y.mutable_data());
        py::gil_scoped_release nogil;
        if (Log) bprop::log_softmax_forward<T>(xp, yp, rows, cols);
        else bprop::softmax_forward<T>(xp, yp, rows, cols);
        return 0;
    });
    return y;
}

template <bool Log>
py::array rowwise_backward(py::handle dy_obj, py::handle y_obj, py::handle out_obj) {
    py::array dy = c_contiguous(float_arg(dy_obj, "dy"));
    const DType dt = float_dtype(dy, "dy");
    require_min_ndim(dy, 1, "dy");
    py::array y = c_contiguous(float_arg(y_obj, "y", dt, "dy"));
    require_same_shape(y, "y", dy, "dy");
    py::array dx = output(out_obj, "out", shape_of(dy), dt, {{&dy, "dy"}, {&y, "y"}}, true);
    index_t rows, cols;
    rows_cols(dy, rows, cols);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* g = static_cast<const T*>(dy.data());
        const T* yp = static_cast<const T*>(y.data());
        T* d = static_cast<T*>(dx.mutable_data());
        py::gil_scoped_release nogil;
        if (Log) bprop::log_softmax_backward<T>(g, yp, d, rows, cols);
        else bprop::softmax_backward<T>(g, yp, d, rows, cols);
        return 0;
    });
    return dx;
}

py::array add_bias(py::handle x_obj, py::handle b_obj, py::handle out_obj) {
    py::array x = float_arg(x_obj, "x");
    const DType dt = float_dtype(x, "x");
    py::array b = float_arg(b_obj, "b", dt, "x");
    require_ndim(x, 2, "x");
    require_ndim(b, 1, "b");
    if (b.shape(0) != x.shape(1))
        throw py::value_error("b: expected shape (" + std::to_string(x.shape(1)) +
                              ",) to match the columns of x " + shape_str(x) + ", got " + shape_str(b));
    x = c_contiguous(x);  // copies only after the shapes are known to be sane
    b = c_contiguous(b);
    py::array y = output(out_obj, "out", shape_of(x), dt, {{&x, "x"}, {&b, "b"}}, true);
    const index_t rows = x.shape(0), cols = x.shape(1);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* xp = static_cast<const T*>(x.data());
        const T* bp = static_cast<const T*>(b.data());
        T* yp = static_cast<T*>(y.mutable_data());
        py::gil_scoped_release nogil;
        bprop::add_bias<T>(xp, bp, yp, rows, cols);
        return 0;
    });
    return y;
}

py::array bias_grad(py::handle dy_obj, py::handle out_obj) {
    py::array dy = c_contiguous(float_arg(dy_obj, "dy"));
    const DType dt = float_dtype(dy, "dy");
    require_ndim(dy, 2, "dy");
    py::array db = output(out_obj, "out", {dy.shape(1)}, dt, {{&dy, "dy"}}, false);
    const index_t rows = dy.shape(0), cols = dy.shape(1);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* g = static_cast<const T*>(dy.data());
        T* d = static_cast<T*>(db.mutable_data());
        py::gil_scoped_release nogil;
        bprop::bias_grad<T>(g, d, rows, cols);
        return 0;
    });
    return db;
}

}  // namespace

void register_activations(py::module_& m) {
    const auto none = py::none();
    m.def("relu", [](py::handle x, py::handle out) { return forward(x, out, Act::relu, 0.0); },
          py::arg("x"), py::arg("out") = none, "relu(x, out=None): max(x, 0) elementwise.");
    m.def("relu_backward",
          [](py::handle dy, py::handle x, py::handle out) { return backward(dy, x, out, Act::relu, 0.0, "x"); },
          py::arg("dy"), py::arg("x"), py::arg("out") = none,
          "relu_backward(dy, x, out=None): dy where x > 0, else 0 (x: input or output of relu).");
    m.def("leaky_relu",
          [](py::handle x, double alpha, py::handle out) { return forward(x, out, Act::leaky_relu, alpha); },
          py::arg("x"), py::arg("alpha") = 0.2, py::arg("out") = none,
          "leaky_relu(x, alpha=0.2, out=None): x if x > 0 else alpha * x.");
    m.def("leaky_relu_backward",
          [](py::handle dy, py::handle x, double alpha, py::handle out) {
              return backward(dy, x, out, Act::leaky_relu, alpha, "x");
          },
          py::arg("dy"), py::arg("x"), py::arg("alpha") = 0.2, py::arg("out") = none,
          "leaky_relu_backward(dy, x, alpha=0.2, out=None): x is the input (or, for alpha >= 0, the output).");
    m.def("sigmoid", [](py::handle x, py::handle out) { return forward(x, out, Act::sigmoid, 0.0); },
          py::arg("x"), py::arg("out") = none, "sigmoid(x, out=None): 1 / (1 + exp(-x)), overflow-free.");
    m.def("sigmoid_backward",
          [](py::handle dy, py::handle y, py::handle out) { return backward(dy, y, out, Act::sigmoid, 0.0, "y"); },
          py::arg("dy"), py::arg("y"), py::arg("out") = none,
          "sigmoid_backward(dy, y, out=None): dy * y * (1 - y), y the output of sigmoid.");
    m.def("tanh", [](py::handle x, py::handle out) { return forward(x, out, Act::tanh, 0.0); },
          py::arg("x"), py::arg("out") = none, "tanh(x, out=None).");
    m.def("tanh_backward",
          [](py::handle dy, py::handle y, py::handle out) { return backward(dy, y, out, Act::tanh, 0.0, "y"); },
          py::arg("dy"), py::arg("y"), py::arg("out") = none,
          "tanh_backward(dy, y, out=None): dy * (1 - y^2), y the output of tanh.");
    m.def("gelu", [](py::handle x, py::handle out) { return forward(x, out, Act::gelu, 0.0); },
          py::arg("x"), py::arg("out") = none, "gelu(x, out=None): GELU, tanh approximation.");
    m.def("gelu_backward",
          [](py::handle dy, py::handle x, py::handle out) { return backward(dy, x, out, Act::gelu, 0.0, "x"); },
          py::arg("dy"), py::arg("x"), py::arg("out") = none,
          "gelu_backward(dy, x, out=None): x the input of gelu.");
    // Activations whose backward reads the input x.
    m.def("elu", [](py::handle x, double alpha, py::handle out) { return forward(x, out, Act::elu, alpha); },
          py::arg("x"), py::arg("alpha") = 1.0, py::arg("out") = none,
          "elu(x, alpha=1.0, out=None): x if x > 0 else alpha * (exp(x) - 1).");
    m.def("elu_backward",
          [](py::handle dy, py::handle x, double alpha, py::handle out) {
              return backward(dy, x, out, Act::elu, alpha, "x");
          },
          py::arg("dy"), py::arg("x"), py::arg("alpha") = 1.0, py::arg("out") = none,
          "elu_backward(dy, x, alpha=1.0, out=None): dy if x > 0 else dy * alpha * exp(x), x the input.");
    m.def("selu", [](py::handle x, py::handle out) { return forward(x, out, Act::selu, 0.0); },
          py::arg("x"), py::arg("out") = none,
          "selu(x, out=None): scale * elu(x, alpha), alpha = 1.6732632..., scale = 1.0507009...");
    m.def("selu_backward",
          [](py::handle dy, py::handle x, py::handle out) { return backward(dy, x, out, Act::selu, 0.0, "x"); },
          py::arg("dy"), py::arg("x"), py::arg("out") = none, "selu_backward(dy, x, out=None): x the input of selu.");
    m.def("softplus", [](py::handle x, py::handle out) { return forward(x, out, Act::softplus, 0.0); },
          py::arg("x"), py::arg("out") = none, "softplus(x, out=None): log(1 + exp(x)), overflow-free.");
    m.def("softplus_backward",
          [](py::handle dy, py::handle x, py::handle out) { return backward(dy, x, out, Act::softplus, 0.0, "x"); },
          py::arg("dy"), py::arg("x"), py::arg("out") = none,
          "softplus_backward(dy, x, out=None): dy * sigmoid(x), x the input of softplus.");
    m.def("softsign", [](py::handle x, py::handle out) { return forward(x, out, Act::softsign, 0.0); },
          py::arg("x"), py::arg("out") = none, "softsign(x, out=None): x / (1 + |x|).");
    m.def("softsign_backward",
          [](py::handle dy, py::handle x, py::handle out) { return backward(dy, x, out, Act::softsign, 0.0, "x"); },
          py::arg("dy"), py::arg("x"), py::arg("out") = none,
          "softsign_backward(dy, x, out=None): dy / (1 + |x|)^2, x the input of softsign.");
    m.def("silu", [](py::handle x, py::handle out) { return forward(x, out, Act::silu, 0.0); },
          py::arg("x"), py::arg("out") = none, "silu(x, out=None): x * sigmoid(x) (swish).");
    m.def("silu_backward",
          [](py::handle dy, py::handle x, py::handle out) { return backward(dy, x, out, Act::silu, 0.0, "x"); },
          py::arg("dy"), py::arg("x"), py::arg("out") = none,
          "silu_backward(dy, x, out=None): dy * s * (1 + x * (1 - s)), s = sigmoid(x), x the input.");
    // Activations whose backward reads the output y.
    m.def("exponential", [](py::handle x, py::handle out) { return forward(x, out, Act::exponential, 0.0); },
          py::arg("x"), py::arg("out") = none, "exponential(x, out=None): exp(x).");
    m.def("exponential_backward",
          [](py::handle dy, py::handle y, py::handle out) {
              return backward(dy, y, out, Act::exponential, 0.0, "y");
          },
          py::arg("dy"), py::arg("y"), py::arg("out") = none,
          "exponential_backward(dy, y, out=None): dy * y, y the output of exponential.");
    m.def("hard_sigmoid", [](py::handle x, py::handle out) { return forward(x, out, Act::hard_sigmoid, 0.0); },
          py::arg("x"), py::arg("out") = none, "hard_sigmoid(x, out=None): relu6(x + 3) / 6 (Keras 3).");
    m.def("hard_sigmoid_backward",
          [](py::handle dy, py::handle y, py::handle out) {
              return backward(dy, y, out, Act::hard_sigmoid, 0.0, "y");
          },
          py::arg("dy"), py::arg("y"), py::arg("out") = none,
          "hard_sigmoid_backward(dy, y, out=None): dy / 6 where 0 < y < 1, else 0; y the output.");
    m.def("softmax", &rowwise_forward<false>, py::arg("x"), py::arg("out") = none,
          "softmax(x, out=None): softmax over the last axis, stable for huge logits.");
    m.def("softmax_backward", &rowwise_backward<false>, py::arg("dy"), py::arg("y"), py::arg("out") = none,
          "softmax_backward(dy, y, out=None): y * (dy - sum(dy * y, -1)), y the output of softmax.");
    m.def("log_softmax", &rowwise_forward<true>, py::arg("x"), py::arg("out") = none,
          "log_softmax(x, out=None): log-softmax over the last axis, stable for huge logits.");
    m.def("log_softmax_backward", &rowwise_backward<true>, py::arg("dy"), py::arg("y"), py::arg("out") = none,
          "log_softmax_backward(dy, y, out=None): dy - exp(y) * sum(dy, -1), y the output of log_softmax.");
    m.def("add_bias", &add_bias, py::arg("x"), py::arg("b"), py::arg("out") = none,
          "add_bias(x, b, out=None): x (n, m) + b (m,).");
    m.def("bias_grad", &bias_grad, py::arg("dy"), py::arg("out") = none,
          "bias_grad(dy, out=None): sum of dy (n, m) over axis 0 -> (m,).");
}

}  // namespace bprop_py
