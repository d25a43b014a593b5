// dense_softmax_xent_train_step: one whole training step of a dense stack in
// one call (see core/train_step.hpp).  The arrays are the model's own
// parameters, gradients, buffers and optimizer slots: all are checked here
// (dtype, exact shape, C-contiguous, writeable) before the GIL is released.
#include "../core/losses.hpp"
#include "../core/train_step.hpp"
#include "checks.hpp"

#include <algorithm>
#include <cstring>
#include <limits>

#include "../core/gemm/workspace.hpp"

namespace bprop_py {
namespace {

// Byte ranges of every array of one call, to refuse any two that overlap:
// the step reads and writes them all, so aliasing would corrupt results.
struct Extent {
    std::uintptr_t lo, hi;
    std::string name;
};

// The data pointer of `obj`, which must be a C-contiguous, aligned ndarray of
// dtype `dt` and exactly `shape`, writeable (the step writes or updates every
// array it is given); its byte range is added to `extents`.
template <typename T>
T* checked(py::handle obj, const std::string& name, DType dt, const std::vector<py::ssize_t>& shape,
           std::vector<Extent>& extents) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(name + ": expected a numpy.ndarray, got " +
                             py::str(py::type::handle_of(obj)).cast<std::string>());
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (float_dtype(a, name.c_str()) != dt)
        throw py::type_error(name + ": expected dtype " + dtype_name(dt) + ", got " + dtype_str(a));
    if (shape_of(a) != shape)
        throw py::value_error(name + ": expected shape " + shape_str(shape) + ", got " + shape_str(a));
    if (!(a.flags() & py::array::c_style) || !element_addressable(a))
        throw py::value_error(name + ": expected a C-contiguous, aligned array");
    if (!a.writeable()) throw py::value_error(name + ": array is read-only");
    const auto bounds = byte_bounds(a);
    if (bounds.first < bounds.second) extents.push_back({bounds.first, bounds.second, name});
    return static_cast<T*>(const_cast<void*>(a.data()));
}

// The batch's rows of x and labels (row indices checked by the caller),
// gathered into scratch memory that is kept across calls, so that a
// shuffled epoch costs no copy on the Python side.
template <typename T>
struct Gathered {
    const T* x;
    const std::int64_t* labels;
};

template <typename T>
Gathered<T> gather_rows(const T* x, index_t features, const std::int64_t* labels,
                        const std::int64_t* rows, index_t n) {
    thread_local bprop::AlignedBuffer x_buf, label_buf;
    T* xs = static_cast<T*>(x_buf.reserve(sizeof(T) * static_cast<std::size_t>(n * features) + 1));
    auto* ls = static_cast<std::int64_t*>(label_buf.reserve(sizeof(std::int64_t) * static_cast<std::size_t>(n) + 1));
    for (index_t r = 0; r < n; ++r) {
        std::memcpy(xs + r * features, x + rows[r] * features, sizeof(T) * static_cast<std::size_t>(features));
        ls[r] = labels[rows[r]];
    }
    return {xs, ls};
}

// The model's arrays of one call, checked for a batch of n rows.
template <typename T>
struct StepArrays {
    std::vector<bprop::StepLayer<T>> layers;
    T* dlogits;
    index_t classes;
};

template <typename T>
StepArrays<T> checked_step_arrays(DType dt, const py::array& x, const py::array& labels, index_t n,
                                  const py::list& weights, const py::list& biases,
                                  const py::list& activations, const py::list& outputs,
                                  const py::list& input_grads, const py::list& weight_grads,
                                  const py::list& bias_grads, const py::list& slots,
                                  py::handle dlogits_obj, const bprop::StepOptimizerParams& opt) {
    const std::size_t count = weights.size();
    std::vector<bprop::StepLayer<T>> layers(count);
    index_t in = x.shape(1);
    const std::size_t slots_per_param = opt.kind == bprop::StepOptimizer::adam ? 2 : (opt.momentum != 0.0 ? 1 : 0);
    std::size_t slot_index = 0;
    std::vector<Extent> extents;
    for (const py::array* a : {&x, &labels}) {
        const auto bounds = byte_bounds(*a);
        if (bounds.first < bounds.second) extents.push_back({bounds.first, bounds.second, a == &x ? "x" : "labels"});
    }
    auto next_slot = [&](const std::string& name, const std::vector<py::ssize_t>& shape, std::size_t k) -> T* {
        if (k >= slots_per_param) return nullptr;
        if (slot_index >= slots.size())
            throw py::value_error("slots: expected " + std::to_string(slots_per_param) +
                                  " optimizer slots per parameter, the list is too short");
        return checked<T>(slots[slot_index++], name, dt, shape, extents);
    };
    for (std::size_t l = 0; l < count; ++l) {
        const std::string idx = "[" + std::to_string(l) + "]";
        bprop::StepLayer<T>& L = layers[l];
        py::array w = as_array(weights[l], ("weights" + idx).c_str());
        require_ndim(w, 2, ("weights" + idx).c_str());
        if (w.shape(0) != in)
            throw py::value_error("weights" + idx + ": expected " + std::to_string(in) + " rows (the width of its input), got shape " + shape_str(w));
        const index_t out = w.shape(1);
        L.in = in;
        L.out = out;
        L.w = checked<T>(weights[l], "weights" + idx, dt, {in, out}, extents);
        L.b = biases[l].is_none() ? nullptr : checked<T>(biases[l], "biases" + idx, dt, {out}, extents);
        // The last layer's activation is the softmax fused into the loss.
        L.act = l + 1 == count ? bprop::Act::linear : parse_activation(activations[l], ("activations" + idx).c_str());
        if (L.act == bprop::Act::gelu || L.act == bprop::Act::softmax)
            throw py::value_error("activations" + idx + ": gelu and softmax hidden layers are not supported by the fused step");
        L.y = checked<T>(outputs[l], "outputs" + idx, dt, {n, out}, extents);
        L.dx = l == 0 ? nullptr : checked<T>(input_grads[l], "input_grads" + idx, dt, {n, in}, extents);
        L.dw = checked<T>(weight_grads[l], "weight_grads" + idx, dt, {in, out}, extents);
        L.db = checked<T>(bias_grads[l], "bias_grads" + idx, dt, {out}, extents);
        L.w_slot0 = next_slot("slots (kernel" + idx + ")", {in, out}, 0);
        L.w_slot1 = next_slot("slots (kernel" + idx + ")", {in, out}, 1);
        if (L.b != nullptr) {
            L.b_slot0 = next_slot("slots (bias" + idx + ")", {out}, 0);
            L.b_slot1 = next_slot("slots (bias" + idx + ")", {out}, 1);
        } else {
            L.b_slot0 = L.b_slot1 = nullptr;
        }
        in = out;
    }
    if (slot_index != slots.size())
        throw py::value_error("slots: expected " + std::to_string(slot_index) + " arrays, got " +
                              std::to_string(slots.size()));
    T* dlogits = checked<T>(dlogits_obj, "dlogits", dt, {n, in}, extents);
    std::sort(extents.begin(), extents.end(),
              [](const Extent& a, const Extent& b) { return a.lo < b.lo; });
    for (std::size_t i = 1; i < extents.size(); ++i)
        if (extents[i].lo < extents[i - 1].hi)
            throw py::value_error(extents[i].name + ": must not overlap " + extents[i - 1].name +
                                  " (every array of the step is read or written)");
    return {std::move(layers), dlogits, in};
}

// Every label a step will read (labels[rows], or the first n) is a class index.
inline void check_labels(const std::int64_t* lp, const std::int64_t* rp, index_t n, index_t classes) {
    for (index_t r = 0; r < n; ++r) {
        const index_t at = rp != nullptr ? rp[r] : r;
        if (lp[at] < 0 || lp[at] >= classes)
            throw py::value_error("labels: expected class indices in [0, " + std::to_string(classes) +
                                  "), got " + std::to_string(lp[at]) + " at index " + std::to_string(at));
    }
}

template <typename T>
py::tuple step_impl(DType dt, const py::array& x, const py::array& labels, const py::array* rows,
                    const py::list& weights,
                    const py::list& biases, const py::list& activations, const py::list& outputs,
                    const py::list& input_grads, const py::list& weight_grads, const py::list& bias_grads,
                    const py::list& slots, py::handle dlogits_obj, const bprop::StepOptimizerParams& opt) {
    const bool gather = rows != nullptr;
    const index_t n = gather ? rows->shape(0) : x.shape(0);
    StepArrays<T> arrays = checked_step_arrays<T>(dt, x, labels, n, weights, biases, activations, outputs,
                                                  input_grads, weight_grads, bias_grads, slots, dlogits_obj, opt);
    const T* xp = static_cast<const T*>(x.data());
    const auto* lp = static_cast<const std::int64_t*>(labels.data());
    // Only the batch's labels are checked (with rows, not the whole data set).
    const auto* rp = gather ? static_cast<const std::int64_t*>(rows->data()) : nullptr;
    check_labels(lp, rp, n, arrays.classes);
    bprop::StepResult r;
    {
        py::gil_scoped_release nogil;
        if (gather) {
            const Gathered<T> g = gather_rows(xp, x.shape(1), lp, rp, n);
            xp = g.x;
            lp = g.labels;
        }
        r = bprop::dense_softmax_xent_step<T>(n, xp, lp, arrays.layers, arrays.dlogits, opt);
    }
    return py::make_tuple(r.loss, static_cast<long long>(r.correct), r.updated);
}

// Asks the memory system for the rows of the next batch while this one
// trains: a shuffled batch is a few dozen rows scattered over the data set.
template <typename T>
void prefetch_rows(const T* x, index_t features, const std::int64_t* rows, index_t n) {
    const std::size_t row_bytes = sizeof(T) * static_cast<std::size_t>(features);
    for (index_t r = 0; r < n; ++r) {
        const char* p = reinterpret_cast<const char*>(x + rows[r] * features);
        for (std::size_t off = 0; off < row_bytes; off += 64) __builtin_prefetch(p + off);
    }
}

// Consecutive steps over rows[0:batch], rows[batch:2 batch], ... (the last
// may be shorter), with lrs[s] and Adam's count first_step + s for step s.
// Stops before updating on a non-finite loss; returns (losses, correct, done).
template <typename T>
py::tuple steps_impl(DType dt, const py::array& x, const py::array& labels, const py::array& rows,
                     index_t batch, const py::array& lrs, const py::list& weights, const py::list& biases,
                     const py::list& activations, const py::list& outputs, const py::list& input_grads,
                     const py::list& weight_grads, const py::list& bias_grads, const py::list& slots,
                     py::handle dlogits_obj, bprop::StepOptimizerParams opt) {
    const index_t total = rows.shape(0);
    const index_t steps = (total + batch - 1) / batch;
    if (lrs.shape(0) != steps)
        throw py::value_error("lrs: expected " + std::to_string(steps) + " learning rates (one per step of " +
                              std::to_string(batch) + " of the " + std::to_string(total) + " rows), got " +
                              std::to_string(lrs.shape(0)));
    const auto* lr = static_cast<const double*>(lrs.data());
    for (index_t s = 0; s < steps; ++s)
        if (!(lr[s] >= 0.0))
            throw py::value_error("lrs: expected learning rates >= 0, got " + std::to_string(lr[s]) +
                                  " at index " + std::to_string(s));
    StepArrays<T> arrays = checked_step_arrays<T>(dt, x, labels, total == 0 ? batch : std::min(batch, total), weights, biases,
                                                  activations, outputs, input_grads, weight_grads, bias_grads,
                                                  slots, dlogits_obj, opt);
    const auto* lp = static_cast<const std::int64_t*>(labels.data());
    const auto* rp = static_cast<const std::int64_t*>(rows.data());
    check_labels(lp, rp, total, arrays.classes);
    py::array_t<double> losses(steps);
    py::array_t<std::int64_t> correct(steps);
    double* loss_out = losses.mutable_data();
    std::int64_t* correct_out = correct.mutable_data();
    for (index_t s = 0; s < steps; ++s) {  // steps after a stop stay NaN / 0
        loss_out[s] = std::numeric_limits<double>::quiet_NaN();
        correct_out[s] = 0;
    }
    const T* xp = static_cast<const T*>(x.data());
    const index_t features = x.shape(1);
    const double first_step = opt.step;
    index_t done = 0;
    {
        py::gil_scoped_release nogil;
        for (index_t s = 0; s < steps; ++s) {
            const index_t begin = s * batch, n = std::min(batch, total - begin);
            if (begin + n < total) prefetch_rows(xp, features, rp + begin + n, std::min(batch, total - begin - n));
            const Gathered<T> g = gather_rows(xp, features, lp, rp + begin, n);
            opt.lr = lr[s];
            opt.step = first_step + static_cast<double>(s);
            const bprop::StepResult r = bprop::dense_softmax_xent_step<T>(n, g.x, g.labels, arrays.layers,
                                                                          arrays.dlogits, opt);
            loss_out[s] = r.loss;
            correct_out[s] = static_cast<std::int64_t>(r.correct);
            if (!r.updated) break;
            done = s + 1;
        }
    }
    return py::make_tuple(losses, correct, static_cast<long long>(done));
}

// x as a C-contiguous 2-D float array, labels as int64 of its length.
inline std::pair<py::array, py::array> checked_data(py::handle x_obj, py::handle labels_obj) {
    py::array x = c_contiguous(float_arg(x_obj, "x"));
    require_ndim(x, 2, "x");
    py::array labels = as_array(labels_obj, "labels");
    const char kind = labels.dtype().kind();
    if (kind != 'i' && kind != 'u')
        throw py::type_error("labels: expected integer class indices, got " + dtype_str(labels));
    if (labels.ndim() != 1 || labels.shape(0) != x.shape(0))
        throw py::value_error("labels: expected shape (" + std::to_string(x.shape(0)) + ",), got " +
                              shape_str(labels));
    labels = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(labels);
    if (!labels) throw std::bad_alloc();
    return {x, labels};
}

// Row indices into x: 1-D integers in [0, rows of x), as int64.
inline py::array checked_rows(py::handle rows_obj, index_t x_rows) {
    py::array rows = as_array(rows_obj, "rows");
    const char rkind = rows.dtype().kind();
    if (rkind != 'i' && rkind != 'u')
        throw py::type_error("rows: expected integer row indices, got " + dtype_str(rows));
    if (rows.ndim() != 1) throw py::value_error("rows: expected a 1-D array, got shape " + shape_str(rows));
    rows = py::array_t<std::int64_t, py::array::c_style | py::array::forcecast>::ensure(rows);
    if (!rows) throw std::bad_alloc();
    const auto* rp = static_cast<const std::int64_t*>(rows.data());
    for (py::ssize_t i = 0; i < rows.shape(0); ++i)
        if (rp[i] < 0 || rp[i] >= x_rows)
            throw py::value_error("rows: expected row indices in [0, " + std::to_string(x_rows) +
                                  ") (the rows of x), got " + std::to_string(rp[i]) + " at index " +
                                  std::to_string(i));
    return rows;
}

inline void check_layer_lists(const py::list& weights, std::initializer_list<std::pair<const py::list*, const char*>> lists) {
    const std::size_t count = weights.size();
    if (count == 0) throw py::value_error("weights: expected at least one layer, got none");
    for (const auto& lst : lists)
        if (lst.first->size() != count)
            throw py::value_error(std::string(lst.second) + ": expected " + std::to_string(count) +
                                  " entries (one per layer), got " + std::to_string(lst.first->size()));
}

inline bprop::StepOptimizerParams checked_optimizer(const std::string& optimizer, double lr, double step,
                                                    double beta1, double beta2, double eps, double weight_decay,
                                                    double momentum, bool nesterov) {
    bprop::StepOptimizerParams opt{};
    if (optimizer == "adam") opt.kind = bprop::StepOptimizer::adam;
    else if (optimizer == "sgd") opt.kind = bprop::StepOptimizer::sgd;
    else throw py::value_error("optimizer: expected 'adam' or 'sgd', got '" + optimizer + "'");
    if (!(lr >= 0.0)) throw py::value_error("lr: expected a value >= 0, got " + std::to_string(lr));
    if (opt.kind == bprop::StepOptimizer::adam && !(step >= 1.0))
        throw py::value_error("step: expected a count >= 1, got " + std::to_string(step));
    if (!(momentum >= 0.0 && momentum <= 1.0))
        throw py::value_error("momentum: expected a value in [0, 1], got " + std::to_string(momentum));
    opt.lr = lr;
    opt.step = step;
    opt.beta1 = beta1;
    opt.beta2 = beta2;
    opt.eps = eps;
    opt.weight_decay = weight_decay;
    opt.momentum = momentum;
    opt.nesterov = nesterov;
    return opt;
}

}  // namespace

void register_train_step(py::module_& m) {
    m.def(
        "dense_softmax_xent_train_step",
        [](py::handle x_obj, py::handle labels_obj, py::list weights, py::list biases, py::list activations,
           py::list outputs, py::list input_grads, py::list weight_grads, py::list bias_grads,
           py::handle dlogits, const std::string& optimizer, double lr, double step, double beta1, double beta2,
           double eps, double weight_decay, double momentum, bool nesterov, py::list slots, py::handle rows_obj) {
            auto data = checked_data(x_obj, labels_obj);
            py::array x = data.first, labels = data.second;
            const DType dt = float_dtype(x, "x");
            // A default py::array is an empty array, not null: `gather` says whether rows were given.
            const bool gather = !rows_obj.is_none();
            py::array rows;
            if (gather) rows = checked_rows(rows_obj, x.shape(0));
            check_layer_lists(weights, {{&biases, "biases"}, {&activations, "activations"}, {&outputs, "outputs"},
                                        {&input_grads, "input_grads"}, {&weight_grads, "weight_grads"},
                                        {&bias_grads, "bias_grads"}});
            const bprop::StepOptimizerParams opt =
                checked_optimizer(optimizer, lr, step, beta1, beta2, eps, weight_decay, momentum, nesterov);
            return dispatch(dt, [&](auto tag) {
                using T = decltype(tag);
                return step_impl<T>(dt, x, labels, gather ? &rows : nullptr, weights, biases, activations, outputs, input_grads,
                                    weight_grads, bias_grads, slots, dlogits, opt);
            });
        },
        py::arg("x"), py::arg("labels"), py::arg("weights"), py::arg("biases"), py::arg("activations"),
        py::arg("outputs"), py::arg("input_grads"), py::arg("weight_grads"), py::arg("bias_grads"),
        py::arg("dlogits"), py::arg("optimizer"), py::arg("lr"), py::arg("step") = 1.0,
        py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("eps") = 1e-7,
        py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0, py::arg("nesterov") = false,
        py::arg("slots") = py::list(), py::arg("rows") = py::none(),
        "dense_softmax_xent_train_step(x, labels, weights, biases, activations, outputs, input_grads,\n"
        "    weight_grads, bias_grads, dlogits, optimizer, lr, step=1, beta1=0.9, beta2=0.999,\n"
        "    eps=1e-7, weight_decay=0.0, momentum=0.0, nesterov=False, slots=[], rows=None)\n"
        "    -> (loss, correct, updated)\n\n"
        "One training step of dense layers ending in softmax cross-entropy on integer labels:\n"
        "forward (outputs[l] = act(x_l @ weights[l] + biases[l]), the last layer's logits),\n"
        "loss, backward and the 'adam' or 'sgd' update of every parameter in place, with the\n"
        "same kernels (and bits) as the separate calls.  slots: the optimizer's slot arrays,\n"
        "in variable order (kernel, bias per layer; adam m, v; sgd with momentum velocity).\n"
        "No update when the loss is not finite (updated=False).  correct: rows whose\n"
        "softmax argmax is the label.  rows: when given, the batch is x[rows] with labels[rows]\n"
        "(gathered in the core: x and labels are then the whole data set).");

    m.def(
        "dense_softmax_xent_train_steps",
        [](py::handle x_obj, py::handle labels_obj, py::handle rows_obj, py::handle batch_size_obj,
           py::list weights, py::list biases, py::list activations, py::list outputs, py::list input_grads,
           py::list weight_grads, py::list bias_grads, py::handle dlogits, const std::string& optimizer,
           py::handle lrs_obj, double first_step, double beta1, double beta2, double eps, double weight_decay,
           double momentum, bool nesterov, py::list slots) {
            auto data = checked_data(x_obj, labels_obj);
            py::array x = data.first, labels = data.second;
            const DType dt = float_dtype(x, "x");
            py::array rows = checked_rows(rows_obj, x.shape(0));
            if (!py::isinstance<py::int_>(batch_size_obj) || py::isinstance<py::bool_>(batch_size_obj))
                throw py::type_error("batch_size: expected an int, got " +
                                     py::str(py::type::handle_of(batch_size_obj)).cast<std::string>());
            const long long batch = batch_size_obj.cast<long long>();
            if (batch < 1) throw py::value_error("batch_size: expected an int >= 1, got " + std::to_string(batch));
            py::array lrs = as_array(lrs_obj, "lrs");
            if (lrs.ndim() != 1) throw py::value_error("lrs: expected a 1-D array, got shape " + shape_str(lrs));
            lrs = py::array_t<double, py::array::c_style | py::array::forcecast>::ensure(lrs);
            if (!lrs) throw std::bad_alloc();
            check_layer_lists(weights, {{&biases, "biases"}, {&activations, "activations"}, {&outputs, "outputs"},
                                        {&input_grads, "input_grads"}, {&weight_grads, "weight_grads"},
                                        {&bias_grads, "bias_grads"}});
            const bprop::StepOptimizerParams opt = checked_optimizer(
                optimizer, 0.0, first_step, beta1, beta2, eps, weight_decay, momentum, nesterov);
            return dispatch(dt, [&](auto tag) {
                using T = decltype(tag);
                return steps_impl<T>(dt, x, labels, rows, static_cast<index_t>(batch), lrs, weights, biases,
                                     activations, outputs, input_grads, weight_grads, bias_grads, slots, dlogits,
                                     opt);
            });
        },
        py::arg("x"), py::arg("labels"), py::arg("rows"), py::arg("batch_size"), py::arg("weights"),
        py::arg("biases"), py::arg("activations"), py::arg("outputs"), py::arg("input_grads"),
        py::arg("weight_grads"), py::arg("bias_grads"), py::arg("dlogits"), py::arg("optimizer"),
        py::arg("lrs"), py::arg("first_step") = 1.0, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
        py::arg("eps") = 1e-7, py::arg("weight_decay") = 0.0, py::arg("momentum") = 0.0,
        py::arg("nesterov") = false, py::arg("slots") = py::list(),
        "dense_softmax_xent_train_steps(x, labels, rows, batch_size, weights, biases, activations, outputs,\n"
        "    input_grads, weight_grads, bias_grads, dlogits, optimizer, lrs, first_step=1, beta1=0.9,\n"
        "    beta2=0.999, eps=1e-7, weight_decay=0.0, momentum=0.0, nesterov=False, slots=[])\n"
        "    -> (losses, correct, done)\n\n"
        "Consecutive dense_softmax_xent_train_step calls in one: step s trains on\n"
        "x[rows[s*batch_size:(s+1)*batch_size]] (the last batch may be shorter) with lrs[s]\n"
        "and Adam's count first_step + s, the GIL released throughout; the batch buffers\n"
        "(outputs, input_grads, dlogits) have batch_size rows (or fewer when rows is shorter).\n"
        "Stops before the update of the first step whose loss is not finite.  losses (float64)\n"
        "and correct (int64) have one entry per step (NaN / 0 past a stop); done counts the\n"
        "steps applied.");
}

}  // namespace bprop_py
