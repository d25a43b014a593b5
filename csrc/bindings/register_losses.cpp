// Losses (mean over the batch, a Python float) and their gradients.
#include "../core/losses.hpp"
#include "checks.hpp"

namespace bprop_py {
namespace {

struct Pair {
    py::array pred, target;
    DType dt;
};

// Two same-dtype, same-shape contiguous operands.
Pair pair_args(py::handle p_obj, const char* p_name, py::handle t_obj, const char* t_name) {
    py::array p = c_contiguous(float_arg(p_obj, p_name));
    const DType dt = float_dtype(p, p_name);
    py::array t = c_contiguous(float_arg(t_obj, t_name, dt, p_name));
    require_same_shape(t, t_name, p, p_name);
    return {p, t, dt};
}

// Logits (n, c) and their labels: integer classes (n,) -> sparse, checked in
// range; float targets (n, c) -> dense.
struct Labeled {
    py::array logits, labels;
    DType dt;
    bool sparse;
    index_t rows, cols;
};

Labeled labeled_args(py::handle z_obj, py::handle l_obj) {
    py::array z = c_contiguous(float_arg(z_obj, "logits"));
    const DType dt = float_dtype(z, "logits");
    require_ndim(z, 2, "logits");
    const index_t rows = z.shape(0), cols = z.shape(1);
    py::array l = as_array(l_obj, "labels");
    const char kind = l.dtype().kind();
    if (kind == 'i' || kind == 'u') {
        if (l.ndim() != 1 || l.shape(0) != rows)
            throw py::value_error("labels: expected integer class indices of shape (" + std::to_string(rows) +
                                  ",) for logits " + shape_str(z) + ", got shape " + shape_str(l));
        l = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(l);
        if (!l) throw std::bad_alloc();  // ensure() returns null only when the copy failed
        const auto* lp = static_cast<const std::int64_t*>(l.data());
        const index_t bad = bprop::first_label_out_of_range(lp, rows, cols);
        if (bad >= 0)
            throw py::value_error("labels: expected class indices in [0, " + std::to_string(cols) + "), got " +
                                  std::to_string(lp[bad]) + " at index " + std::to_string(bad));
        return {z, l, dt, true, rows, cols};
    }
    if (kind != 'f')
        throw py::type_error("labels: expected integer class indices or " + std::string(dtype_name(dt)) +
                             " targets, got " + dtype_str(l));
    require_dtype(l, dt, "labels", "logits");
    require_same_shape(l, "labels", z, "logits");
    return {z, c_contiguous(l), dt, false, rows, cols};
}

double mse(py::handle p, py::handle t) {
    Pair a = pair_args(p, "y_pred", t, "y_true");
    const index_t n = static_cast<index_t>(a.pred.size());
    return dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const T* pp = static_cast<const T*>(a.pred.data());
        const T* tp = static_cast<const T*>(a.target.data());
        py::gil_scoped_release nogil;
        return bprop::mse<T>(pp, tp, n);
    });
}

py::array mse_backward(py::handle p, py::handle t, py::handle out) {
    Pair a = pair_args(p, "y_pred", t, "y_true");
    py::array g = output(out, "out", shape_of(a.pred), a.dt, {{&a.pred, "y_pred"}, {&a.target, "y_true"}}, true);
    const index_t n = static_cast<index_t>(a.pred.size());
    dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const T* pp = static_cast<const T*>(a.pred.data());
        const T* tp = static_cast<const T*>(a.target.data());
        T* gp = static_cast<T*>(g.mutable_data());
        py::gil_scoped_release nogil;
        bprop::mse_backward<T>(pp, tp, gp, n);
        return 0;
    });
    return g;
}

double softmax_xent(py::handle z, py::handle l) {
    Labeled a = labeled_args(z, l);
    return dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const T* zp = static_cast<const T*>(a.logits.data());
        if (a.sparse) {
            const auto* lp = static_cast<const std::int64_t*>(a.labels.data());
            py::gil_scoped_release nogil;
            return bprop::softmax_xent_sparse<T>(zp, lp, a.rows, a.cols);
        }
        const T* tp = static_cast<const T*>(a.labels.data());
        py::gil_scoped_release nogil;
        return bprop::softmax_xent_dense<T>(zp, tp, a.rows, a.cols);
    });
}

py::array softmax_xent_backward(py::handle z, py::handle l, py::handle out) {
    Labeled a = labeled_args(z, l);
    // out may be the logits (in place) but not the targets: each row's
    // softmax is written before the targets are read.
    py::array g = output(out, "out", shape_of(a.logits), a.dt, {{&a.logits, "logits"}}, true);
    if (overlaps(g, a.labels)) throw py::value_error("out: must not overlap the input 'labels'");
    dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const T* zp = static_cast<const T*>(a.logits.data());
        T* gp = static_cast<T*>(g.mutable_data());
        if (a.sparse) {
            const auto* lp = static_cast<const std::int64_t*>(a.labels.data());
            py::gil_scoped_release nogil;
            bprop::softmax_xent_sparse_backward<T>(zp, lp, gp, a.rows, a.cols);
        } else {
            const T* tp = static_cast<const T*>(a.labels.data());
            py::gil_scoped_release nogil;
            bprop::softmax_xent_dense_backward<T>(zp, tp, gp, a.rows, a.cols);
        }
        return 0;
    });
    return g;
}

double binary_xent(py::handle z, py::handle t) {
    Pair a = pair_args(z, "logits", t, "targets");
    const index_t n = static_cast<index_t>(a.pred.size());
    return dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const T* zp = static_cast<const T*>(a.pred.data());
        const T* tp = static_cast<const T*>(a.target.data());
        py::gil_scoped_release nogil;
        return bprop::binary_xent<T>(zp, tp, n);
    });
}

py::array binary_xent_backward(py::handle z, py::handle t, py::handle out) {
    Pair a = pair_args(z, "logits", t, "targets");
    py::array g = output(out, "out", shape_of(a.pred), a.dt, {{&a.pred, "logits"}, {&a.target, "targets"}}, true);
    const index_t n = static_cast<index_t>(a.pred.size());
    dispatch(a.dt, [&](auto tag) {
        using T = decltype(tag);
        const T* zp = static_cast<const T*>(a.pred.data());
        const T* tp = static_cast<const T*>(a.target.data());
        T* gp = static_cast<T*>(g.mutable_data());
        py::gil_scoped_release nogil;
        bprop::binary_xent_backward<T>(zp, tp, gp, n);
        return 0;
    });
    return g;
}

}  // namespace

void register_losses(py::module_& m) {
    const auto none = py::none();
    m.def("mse", &mse, py::arg("y_pred"), py::arg("y_true"),
          "mse(y_pred, y_true) -> float: mean of (y_pred - y_true)^2 over all elements.");
    m.def("mse_backward", &mse_backward, py::arg("y_pred"), py::arg("y_true"), py::arg("out") = none,
          "mse_backward(y_pred, y_true, out=None): 2 (y_pred - y_true) / size.");
    m.def("softmax_cross_entropy", &softmax_xent, py::arg("logits"), py::arg("labels"),
          "softmax_cross_entropy(logits, labels) -> float: mean over the batch of\n"
          "-log softmax(logits)[label]; labels are int class indices (n,) or float\n"
          "targets (n, c) (one-hot or probabilities).");
    m.def("softmax_cross_entropy_backward", &softmax_xent_backward, py::arg("logits"), py::arg("labels"),
          py::arg("out") = none,
          "softmax_cross_entropy_backward(logits, labels, out=None): (softmax(logits) - target) / n.");
    m.def("binary_cross_entropy", &binary_xent, py::arg("logits"), py::arg("targets"),
          "binary_cross_entropy(logits, targets) -> float: mean logistic loss from logits.");
    m.def("binary_cross_entropy_backward", &binary_xent_backward, py::arg("logits"), py::arg("targets"),
          py::arg("out") = none, "binary_cross_entropy_backward(logits, targets, out=None): (sigmoid(z) - t) / size.");
}

}  // namespace bprop_py
