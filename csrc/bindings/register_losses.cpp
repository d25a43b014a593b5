// Losses of a batch (a Python float) and their gradients, each with optional
// per-row sample weights (see core/losses.hpp for the reduction).
#include "../core/losses.hpp"
#include "checks.hpp"

#include <cmath>

namespace bprop_py {
namespace {


// One call's operands: predictions viewed as (rows, cols), targets (labels or
// dense), weights; all checked.
struct Operands {
    py::array pred, labels, target, weight;
    DType dt;
    index_t rows, cols;
    bool sparse;
    bool weighted = false;  // (a default py::array is an empty array, not null)
};

// Per-row weights: float64 (rows,), finite.
py::array row_weights(py::handle obj, index_t rows) {
    if (obj.is_none()) return py::array();
    py::array w = as_array(obj, "sample_weight");
    const char kind = w.dtype().kind();
    if (kind != 'f' && kind != 'i' && kind != 'u' && kind != 'b')
        throw py::type_error("sample_weight: expected real numbers, got " + dtype_str(w));
    w = typed_array<double>(w);
    if (w.ndim() != 1 || w.shape(0) != rows)
        throw py::value_error("sample_weight: expected shape (" + std::to_string(rows) +
                              ",) (one weight per row), got " + shape_str(w));
    const auto* wp = static_cast<const double*>(w.data());
    for (index_t i = 0; i < rows; ++i)
        if (!std::isfinite(wp[i]))
            throw py::value_error("sample_weight: expected finite weights, got " + std::to_string(wp[i]) +
                                  " at index " + std::to_string(i));
    return w;
}

// Elementwise losses: y_pred and a same-shape target; rows = the first axis.
Operands elementwise(py::handle p_obj, const char* p_name, py::handle t_obj, const char* t_name, py::handle w_obj) {
    Operands o;
    o.pred = c_contiguous(float_arg(p_obj, p_name));
    o.dt = float_dtype(o.pred, p_name);
    o.target = c_contiguous(float_arg(t_obj, t_name, o.dt, p_name));
    require_same_shape(o.target, t_name, o.pred, p_name);
    const index_t n = static_cast<index_t>(o.pred.size());
    o.rows = o.pred.ndim() >= 1 ? o.pred.shape(0) : 1;
    o.cols = o.rows > 0 ? n / o.rows : 0;
    if (o.rows == 0) o.cols = 0;
    o.sparse = false;
    if (!w_obj.is_none() && o.pred.ndim() < 1)
        throw py::value_error("sample_weight: needs y_pred with a batch axis, got a scalar");
    o.weight = row_weights(w_obj, o.rows);
    o.weighted = !w_obj.is_none();
    return o;
}

// Row-wise losses: (n, c) predictions and integer labels (n,) or dense targets (n, c).
Operands rowwise(py::handle z_obj, const char* z_name, py::handle l_obj, py::handle w_obj) {
    Operands o;
    o.pred = c_contiguous(float_arg(z_obj, z_name));
    o.dt = float_dtype(o.pred, z_name);
    require_ndim(o.pred, 2, z_name);
    o.rows = o.pred.shape(0);
    o.cols = o.pred.shape(1);
    py::array l = as_array(l_obj, "labels");
    const char kind = l.dtype().kind();
    if (kind == 'i' || kind == 'u') {
        if (l.ndim() != 1 || l.shape(0) != o.rows)
            throw py::value_error("labels: expected integer class indices of shape (" + std::to_string(o.rows) +
                                  ",) for " + z_name + " " + shape_str(o.pred) + ", got shape " + shape_str(l));
        l = typed_array<std::int64_t>(l);
        const auto* lp = static_cast<const std::int64_t*>(l.data());
        const index_t bad = bprop::first_label_out_of_range(lp, o.rows, o.cols);
        if (bad >= 0)
            throw py::value_error("labels: expected class indices in [0, " + std::to_string(o.cols) + "), got " +
                                  std::to_string(lp[bad]) + " at index " + std::to_string(bad));
        o.labels = l;
        o.sparse = true;
    } else {
        if (kind != 'f')
            throw py::type_error("labels: expected integer class indices or " + std::string(dtype_name(o.dt)) +
                                 " targets, got " + dtype_str(l));
        require_dtype(l, o.dt, "labels", z_name);
        require_same_shape(l, "labels", o.pred, z_name);
        o.target = c_contiguous(l);
        o.sparse = false;
    }
    o.weight = row_weights(w_obj, o.rows);
    o.weighted = !w_obj.is_none();
    return o;
}

template <typename T>
bprop::LossBatch<T> batch_of(const Operands& o) {
    bprop::LossBatch<T> b{static_cast<const T*>(o.pred.data()), o.rows, o.cols, nullptr, nullptr, nullptr};
    if (o.sparse) b.labels = static_cast<const std::int64_t*>(o.labels.data());
    else b.target = static_cast<const T*>(o.target.data());
    if (o.weighted) b.weight = static_cast<const double*>(o.weight.data());
    return b;
}

// A loss kernel pair, bound as value(pred, targets, sample_weight) and
// backward(pred, targets, out, sample_weight).
template <template <typename> class K>
double value(const Operands& o) {
    return dispatch(o.dt, [&](auto tag) {
        using T = decltype(tag);
        const bprop::LossBatch<T> b = batch_of<T>(o);
        py::gil_scoped_release nogil;
        return K<T>::value(b);
    });
}

template <template <typename> class K>
py::array gradient(const Operands& o, py::handle out, const char* pred_name, bool pred_may_alias) {
    // out may be the predictions (in place) when each element's gradient
    // reads only its own prediction; never the targets.
    py::array g = output(out, "out", shape_of(o.pred), o.dt, {}, false);
    if (overlaps(g, o.pred) && !(pred_may_alias && same_layout(g, o.pred)))
        throw py::value_error(std::string("out: must not overlap the input '") + pred_name + "'" +
                              (pred_may_alias ? " (only exact in-place aliasing is allowed)" : ""));
    if (overlaps(g, o.sparse ? o.labels : o.target))
        throw py::value_error("out: must not overlap the targets");
    dispatch(o.dt, [&](auto tag) {
        using T = decltype(tag);
        const bprop::LossBatch<T> b = batch_of<T>(o);
        T* gp = static_cast<T*>(g.mutable_data());
        py::gil_scoped_release nogil;
        K<T>::backward(b, gp);
        return 0;
    });
    return g;
}

#define BPROP_LOSS_KERNEL(NAME, FWD, BWD)                                                   \
    template <typename T>                                                                   \
    struct NAME {                                                                           \
        static double value(const bprop::LossBatch<T>& b) { return bprop::FWD<T>(b); }      \
        static void backward(const bprop::LossBatch<T>& b, T* g) { bprop::BWD<T>(b, g); }   \
    };
BPROP_LOSS_KERNEL(Mse, mse, mse_backward)
BPROP_LOSS_KERNEL(Mae, mae, mae_backward)
BPROP_LOSS_KERNEL(SoftmaxXent, softmax_xent, softmax_xent_backward)
BPROP_LOSS_KERNEL(ProbXent, prob_xent, prob_xent_backward)
BPROP_LOSS_KERNEL(BinaryXent, binary_xent, binary_xent_backward)
BPROP_LOSS_KERNEL(BinaryXentProbs, binary_xent_probs, binary_xent_probs_backward)
#undef BPROP_LOSS_KERNEL

// Registers NAME and NAME_backward for an elementwise loss.
template <template <typename> class K>
void def_elementwise(py::module_& m, const char* name, const char* p, const char* t, const char* doc,
                     const char* grad_doc) {
    const auto none = py::none();
    m.def(name, [p, t](py::handle pred, py::handle target, py::handle w) { return value<K>(elementwise(pred, p, target, t, w)); },
          py::arg(p), py::arg(t), py::arg("sample_weight") = none, doc);
    m.def((std::string(name) + "_backward").c_str(),
          [p, t](py::handle pred, py::handle target, py::handle out, py::handle w) {
              return gradient<K>(elementwise(pred, p, target, t, w), out, p, true);
          },
          py::arg(p), py::arg(t), py::arg("out") = none, py::arg("sample_weight") = none, grad_doc);
}

// Registers NAME and NAME_backward for a row-wise (cross-entropy) loss.
template <template <typename> class K>
void def_rowwise(py::module_& m, const char* name, const char* z, const char* doc, const char* grad_doc,
                 bool z_may_alias) {
    const auto none = py::none();
    m.def(name, [z](py::handle pred, py::handle labels, py::handle w) { return value<K>(rowwise(pred, z, labels, w)); },
          py::arg(z), py::arg("labels"), py::arg("sample_weight") = none, doc);
    m.def((std::string(name) + "_backward").c_str(),
          [z, z_may_alias](py::handle pred, py::handle labels, py::handle out, py::handle w) {
              return gradient<K>(rowwise(pred, z, labels, w), out, z, z_may_alias);
          },
          py::arg(z), py::arg("labels"), py::arg("out") = none, py::arg("sample_weight") = none, grad_doc);
}

}  // namespace

void register_losses(py::module_& m) {
    def_elementwise<Mse>(m, "mse", "y_pred", "y_true",
                         "mse(y_pred, y_true, sample_weight=None) -> float: mean of (y_pred - y_true)^2;\n"
                         "with per-row weights (rows = the first axis), sum of w * row mean / rows.",
                         "mse_backward(y_pred, y_true, out=None, sample_weight=None): 2 w (y_pred - y_true) / size.");
    def_elementwise<Mae>(m, "mae", "y_pred", "y_true",
                         "mae(y_pred, y_true, sample_weight=None) -> float: mean of |y_pred - y_true|\n"
                         "(weighted per row as mse).",
                         "mae_backward(y_pred, y_true, out=None, sample_weight=None): w sign(y_pred - y_true) / size.");
    def_elementwise<BinaryXent>(m, "binary_cross_entropy", "logits", "targets",
                                "binary_cross_entropy(logits, targets, sample_weight=None) -> float: mean logistic\n"
                                "loss from logits (weighted per row as mse).",
                                "binary_cross_entropy_backward(logits, targets, out=None, sample_weight=None):\n"
                                "w (sigmoid(z) - t) / size.");
    def_elementwise<BinaryXentProbs>(m, "binary_cross_entropy_from_probs", "probs", "targets",
                                     "binary_cross_entropy_from_probs(probs, targets, sample_weight=None) -> float:\n"
                                     "mean of -(t log p + (1 - t) log(1 - p)), p clipped to [1e-7, 1 - 1e-7] (Keras).",
                                     "binary_cross_entropy_from_probs_backward(probs, targets, out=None, sample_weight=None):\n"
                                     "w (p - t) / (p (1 - p) size), zero where the clip is active.");
    def_rowwise<SoftmaxXent>(m, "softmax_cross_entropy", "logits",
                             "softmax_cross_entropy(logits, labels, sample_weight=None) -> float: mean over the\n"
                             "batch of -log softmax(logits)[label]; labels are int class indices (n,) or float\n"
                             "targets (n, c) (one-hot or probabilities); with per-row weights, sum of w * loss / n.",
                             "softmax_cross_entropy_backward(logits, labels, out=None, sample_weight=None):\n"
                             "w (softmax(logits) - target) / n.",
                             true);
    def_rowwise<ProbXent>(m, "cross_entropy_from_probs", "probs",
                          "cross_entropy_from_probs(probs, labels, sample_weight=None) -> float: Keras'\n"
                          "categorical cross-entropy of probabilities: rows divided by their sum, clipped to\n"
                          "[1e-7, 1 - 1e-7], -sum(t log q), mean over the batch (labels as softmax_cross_entropy).",
                          "cross_entropy_from_probs_backward(probs, labels, out=None, sample_weight=None): its\n"
                          "gradient wrt probs (zero where the clip is active).",
                          false);
}

}  // namespace bprop_py
