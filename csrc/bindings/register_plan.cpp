// TrainPlan: a model's compiled step (core/plan/train_plan.hpp), built from
// the spec that bprop/engine/core_plan.py writes.  Every array the plan will
// read or write is checked here (dtype, size, C-contiguous, writeable, no two
// overlapping) and kept referenced for the plan's lifetime; every call's
// data is checked again before the GIL is released.
#include <atomic>
#include <cstring>
#include <limits>

#include "../core/losses.hpp"
#include "../core/plan/nodes.hpp"
#include "../core/plan/train_plan.hpp"
#include "checks.hpp"
#include "hyper_checks.hpp"
#include "plan_image_nodes.hpp"
#include "python_node.hpp"
#include "spec_access.hpp"

namespace bprop_py {
namespace {

using bprop::Act;
using bprop::MetricKind;
namespace bp = bprop::plan;

// ------------------------------------------------------------------ arrays
struct Extent {
    std::uintptr_t lo, hi;
    std::string name;
};

// The data of `obj`: a C-contiguous, aligned, writeable ndarray of dtype dt
// and `size` elements, kept alive by `keep`; its bytes join `extents`.
template <typename T>
T* owned(py::handle obj, const std::string& name, DType dt, index_t size, std::vector<Extent>& extents,
         py::list& keep) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(name + ": expected a numpy.ndarray, got " +
                             py::str(py::type::handle_of(obj)).cast<std::string>());
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (float_dtype(a, name.c_str()) != dt)
        throw py::type_error(name + ": expected dtype " + dtype_name(dt) + ", got " + dtype_str(a));
    if (static_cast<index_t>(a.size()) != size)
        throw py::value_error(name + ": expected " + std::to_string(size) + " elements, got shape " + shape_str(a));
    if (!(a.flags() & py::array::c_style) || !element_addressable(a))
        throw py::value_error(name + ": expected a C-contiguous, aligned array");
    if (!a.writeable()) throw py::value_error(name + ": array is read-only");
    const auto bounds = byte_bounds(a);
    if (bounds.first < bounds.second) extents.push_back({bounds.first, bounds.second, name});
    keep.append(a);
    return static_cast<T*>(a.mutable_data());
}

void refuse_overlaps(std::vector<Extent>& extents) {
    std::sort(extents.begin(), extents.end(), [](const Extent& a, const Extent& b) { return a.lo < b.lo; });
    for (std::size_t i = 1; i < extents.size(); ++i)
        if (extents[i].lo < extents[i - 1].hi)
            throw py::value_error(extents[i].name + ": must not overlap " + extents[i - 1].name +
                                  " (the plan updates them in place)");
}

// ------------------------------------------------------------------ kinds
Act activation_of(const std::string& s, const std::string& name) {
    return parse_activation(py::str(s), name.c_str());
}

bp::LossKind loss_of(const std::string& s) {
    if (s == "none") return bp::LossKind::none;
    if (s == "mse") return bp::LossKind::mse;
    if (s == "mae") return bp::LossKind::mae;
    if (s == "softmax_xent") return bp::LossKind::softmax_xent;
    if (s == "prob_xent") return bp::LossKind::prob_xent;
    if (s == "binary_xent") return bp::LossKind::binary_xent;
    if (s == "binary_xent_probs") return bp::LossKind::binary_xent_probs;
    throw py::value_error("spec['loss']: expected one of none, mse, mae, softmax_xent, prob_xent, binary_xent, "
                          "binary_xent_probs, got '" + s + "'");
}

MetricKind metric_of(const std::string& s, const std::string& name) {
    if (s == "sparse_categorical_accuracy") return MetricKind::sparse_categorical_accuracy;
    if (s == "categorical_accuracy") return MetricKind::categorical_accuracy;
    if (s == "binary_accuracy") return MetricKind::binary_accuracy;
    if (s == "mean_squared_error") return MetricKind::mean_squared_error;
    if (s == "mean_absolute_error") return MetricKind::mean_absolute_error;
    if (s == "sparse_top_k_categorical_accuracy") return MetricKind::sparse_top_k_accuracy;
    if (s == "top_k_categorical_accuracy") return MetricKind::top_k_accuracy;
    throw py::value_error(name + ": expected one of sparse_categorical_accuracy, categorical_accuracy, "
                          "binary_accuracy, mean_squared_error, mean_absolute_error, "
                          "sparse_top_k_categorical_accuracy, top_k_categorical_accuracy, got '" + s + "'");
}

bp::OptimizerSpec optimizer_of(const py::dict& d) {
    const std::string w = "spec['optimizer']";
    bp::OptimizerSpec o;
    const std::string kind = str_item(d, "kind", w);
    if (kind == "sgd") o.kind = bp::OptimizerKind::sgd;
    else if (kind == "rmsprop") o.kind = bp::OptimizerKind::rmsprop;
    else if (kind == "adam") o.kind = bp::OptimizerKind::adam;
    else if (kind == "adagrad") o.kind = bp::OptimizerKind::adagrad;
    else throw py::value_error(w + "['kind']: expected one of sgd, rmsprop, adam, adagrad, got '" + kind + "'");
    o.momentum = real_item(d, "momentum", w, 0.0);
    o.nesterov = d.contains("nesterov") && py::bool_(d["nesterov"]);
    o.rho = real_item(d, "rho", w, 0.9);
    o.centered = d.contains("centered") && py::bool_(d["centered"]);
    o.beta1 = real_item(d, "beta_1", w, 0.9);
    o.beta2 = real_item(d, "beta_2", w, 0.999);
    o.weight_decay = real_item(d, "weight_decay", w, 0.0);
    o.epsilon = real_item(d, "epsilon", w, 1e-7);
    o.clipvalue = real_item(d, "clipvalue", w, 0.0);
    o.clipnorm = real_item(d, "clipnorm", w, 0.0);
    o.global_clipnorm = real_item(d, "global_clipnorm", w, 0.0);
    check_unit_closed(o.momentum, "momentum");
    if (o.kind == bp::OptimizerKind::rmsprop) check_unit_open(o.momentum, "momentum");
    check_unit_open(o.rho, "rho");
    check_unit_open(o.beta1, "beta_1");
    check_unit_open(o.beta2, "beta_2");
    check_finite_nonneg(o.weight_decay, "weight_decay");
    check_finite_nonneg(o.epsilon, "epsilon");
    check_finite_nonneg(o.clipvalue, "clipvalue");
    check_finite_nonneg(o.clipnorm, "clipnorm");
    check_finite_nonneg(o.global_clipnorm, "global_clipnorm");
    if ((o.clipvalue > 0) + (o.clipnorm > 0) + (o.global_clipnorm > 0) > 1)
        throw py::value_error("clipnorm, clipvalue, global_clipnorm: at most one may be set");
    return o;
}

// ------------------------------------------------------------------ the plan object
class PlanHandle {
public:
    explicit PlanHandle(const py::dict& spec) {
        const std::string dt = str_item(spec, "dtype", "spec");
        if (dt != "float32" && dt != "float64")
            throw py::value_error("spec['dtype']: expected 'float32' or 'float64', got '" + dt + "'");
        dtype_ = dt == "float32" ? DType::f32 : DType::f64;
        dispatch(dtype_, [&](auto tag) {
            using T = decltype(tag);
            build<T>(spec);
            return 0;
        });
    }

    py::tuple run(py::handle x, py::handle labels, py::handle targets, py::handle sample_weight, py::handle rows,
                  py::handle batch_obj, py::handle lrs_obj, py::handle iterations_obj, py::handle counter_obj,
                  py::handle offset_obj, bool train, py::handle step_rows_obj, py::handle step_offsets_obj,
                  py::handle step_global_obj, py::handle allreduce) {
        Data d = data(x, labels, targets, sample_weight);
        py::array r = row_indices(rows, d.n);
        const index_t total = r.shape(0);
        const index_t batch = static_cast<index_t>(int_item(batch_obj, "batch_size", 1));
        const auto* rp = static_cast<const std::int64_t*>(r.data());
        // Data-parallel slices: all three per-step arrays, or none.
        const bool sliced = !step_rows_obj.is_none();
        py::array step_rows, step_offsets, step_global;
        index_t steps = total == 0 ? 0 : (total - 1) / batch + 1;  // (no overflow for a huge batch)
        if (sliced) {
            step_rows = step_array(step_rows_obj, "step_rows", -1);
            steps = step_rows.shape(0);
            step_offsets = step_array(step_offsets_obj, "step_offsets", steps);
            step_global = step_array(step_global_obj, "step_global_rows", steps);
            const auto* sr = static_cast<const std::int64_t*>(step_rows.data());
            const auto* so = static_cast<const std::int64_t*>(step_offsets.data());
            const auto* sg = static_cast<const std::int64_t*>(step_global.data());
            long long sum = 0;
            const long long limit = 1LL << 40;
            for (index_t s = 0; s < steps; ++s) {
                if (sr[s] < 0 || so[s] < 0 || sg[s] < 1 || sr[s] > limit || so[s] > limit || sg[s] > limit ||
                    so[s] + sr[s] > sg[s])
                    throw py::value_error("step_rows, step_offsets, step_global_rows: step " + std::to_string(s) +
                                          " takes rows [" + std::to_string(so[s]) + ", " + std::to_string(so[s] + sr[s]) +
                                          ") of a global batch of " + std::to_string(sg[s]));
                sum += sr[s];
            }
            if (sum != total)
                throw py::value_error("step_rows: expected counts adding up to the " + std::to_string(total) +
                                      " rows, got " + std::to_string(sum));
            if (!train) throw py::value_error("step_rows: slices are for data-parallel training (train=True)");
        } else if (!step_offsets_obj.is_none() || !step_global_obj.is_none()) {
            throw py::value_error("step_offsets, step_global_rows: given without step_rows");
        }
        if (!allreduce.is_none() && (!sliced || !PyCallable_Check(allreduce.ptr())))
            throw py::value_error("allreduce: expected a callable, with step_rows (data-parallel training)");
        check_labels(d, rp, total);
        py::array lrs;
        if (train) {
            if (!has_optimizer_) throw py::value_error("train: this plan has no optimizer (a predict plan)");
            lrs = as_array(lrs_obj, "lrs");
            lrs = typed_array<double>(lrs);
            if (lrs.ndim() != 1 || lrs.shape(0) != steps)
                throw py::value_error("lrs: expected " + std::to_string(steps) + " learning rates (one per step of " +
                                      std::to_string(batch) + " of the " + std::to_string(total) + " rows), got shape " +
                                      shape_str(lrs));
            const auto* lp = static_cast<const double*>(lrs.data());
            for (index_t s = 0; s < steps; ++s) check_finite_nonneg(lp[s], "lrs[" + std::to_string(s) + "]");
        }
        bp::RunRequest req;
        req.mode = train ? bp::RunMode::train : bp::RunMode::evaluate;
        req.rows = rp;
        req.total = total;
        req.batch = batch;
        if (sliced) {
            req.step_rows = static_cast<const std::int64_t*>(step_rows.data());
            req.step_offsets = static_cast<const std::int64_t*>(step_offsets.data());
            req.step_global_rows = static_cast<const std::int64_t*>(step_global.data());
            req.steps = steps;
        }
        req.lrs = train ? static_cast<const double*>(lrs.data()) : nullptr;
        req.iterations = int_item(iterations_obj, "iterations", 0, std::numeric_limits<long long>::max() / 2);
        req.dropout_counter = static_cast<std::uint64_t>(int_item(counter_obj, "dropout_counter", 0));
        req.row_offset = static_cast<index_t>(int_item(offset_obj, "row_offset", 0, 1LL << 40));
        const auto m = static_cast<py::ssize_t>(metrics_);
        py::array_t<double> losses(steps), sums({static_cast<py::ssize_t>(steps), m}),
            counts({static_cast<py::ssize_t>(steps), m});
        py::array_t<std::int8_t> status(steps);
        bp::RunResult res;
        res.losses = losses.mutable_data();
        res.metric_sums = sums.mutable_data();
        res.metric_counts = counts.mutable_data();
        res.status = status.mutable_data();
        Busy guard(busy_);
        dispatch(dtype_, [&](auto tag) {
            using T = decltype(tag);
            const bp::DataSet<T> ds = dataset<T>(d);
            PythonCollective<T> collective(allreduce);
            // The reduction belongs to this call only.
            struct Unset {
                bp::TrainPlan<T>& plan;
                ~Unset() { plan.set_collective(nullptr); }
            } unset{plan<T>()};
            if (!allreduce.is_none()) plan<T>().set_collective(&collective);
            py::gil_scoped_release nogil;
            plan<T>().run(ds, req, res);
            return 0;
        });
        return py::make_tuple(losses, sums, counts, status, static_cast<long long>(res.done));
    }

    py::array predict(py::handle x_obj, py::handle batch_obj, py::handle out) {
        py::array x = c_contiguous(float_arg(x_obj, "x", dtype_, "the plan"));
        const index_t n = samples(x, "x", input_size_);
        const index_t batch = static_cast<index_t>(int_item(batch_obj, "batch_size", 1));
        py::array o = output(out, "out", {static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(output_size_)}, dtype_,
                             {{&x, "x"}}, false);
        Busy guard(busy_);
        dispatch(dtype_, [&](auto tag) {
            using T = decltype(tag);
            const T* xp = static_cast<const T*>(x.data());
            T* op = static_cast<T*>(o.mutable_data());
            py::gil_scoped_release nogil;
            plan<T>().predict(xp, n, batch, op);
            return 0;
        });
        return o;
    }

    py::tuple gradients(py::handle x, py::handle labels, py::handle targets, py::handle sample_weight, bool training,
                        py::handle counter_obj) {
        Data d = data(x, labels, targets, sample_weight);
        check_labels(d, nullptr, d.n);
        const auto counter = static_cast<std::uint64_t>(int_item(counter_obj, "dropout_counter", 0));
        double loss = 0.0;
        py::list grads;
        Busy guard(busy_);
        dispatch(dtype_, [&](auto tag) {
            using T = decltype(tag);
            const bp::DataSet<T> ds = dataset<T>(d);
            {
                py::gil_scoped_release nogil;
                loss = plan<T>().gradients(ds, d.n, training, counter);
            }
            for (std::size_t i = 0; i < param_shapes_.size(); ++i) {
                const bp::Param<T>& p = plan<T>().param(i);
                if (!p.trainable) {
                    grads.append(py::none());
                    continue;
                }
                py::array_t<T> g(param_shapes_[i]);
                std::memcpy(g.mutable_data(), p.grad, sizeof(T) * static_cast<std::size_t>(p.size));
                grads.append(g);
            }
            return 0;
        });
        return py::make_tuple(loss, grads);
    }

    index_t output_size() const { return output_size_; }
    std::size_t metric_count() const { return metrics_; }
    index_t team_steps() const { return f32_ ? f32_->team_steps() : f64_->team_steps(); }

private:
    // Refuses a second thread while one runs: the plan's buffers are its own.
    struct Busy {
        explicit Busy(std::atomic<bool>& flag) : flag_(flag) {
            if (flag_.exchange(true))
                throw std::runtime_error("plan: already running in another thread (a plan belongs to one call)");
        }
        ~Busy() { flag_ = false; }
        std::atomic<bool>& flag_;
    };

    struct Data {
        py::array x, labels, targets, weight;
        index_t n;
        bool weighted = false;  // (a default py::array is an empty array, not null)
    };

    // An int64 array of `steps` entries (any length when steps < 0).
    static py::array step_array(py::handle obj, const char* name, index_t steps) {
        if (obj.is_none()) throw py::value_error(std::string(name) + ": required with step_rows");
        py::array a = as_array(obj, name);
        if (a.dtype().kind() != 'i' && a.dtype().kind() != 'u')
            throw py::type_error(std::string(name) + ": expected integers, got " + dtype_str(a));
        a = typed_array<std::int64_t>(a);
        if (a.ndim() != 1 || (steps >= 0 && a.shape(0) != steps))
            throw py::value_error(std::string(name) + ": expected a 1-D array" +
                                  (steps >= 0 ? " of " + std::to_string(steps) + " steps" : std::string()) +
                                  ", got shape " + shape_str(a));
        return a;
    }

    index_t samples(const py::array& a, const char* name, index_t per) const {
        if (a.ndim() < 1) throw py::value_error(std::string(name) + ": expected an array of samples, got a scalar");
        const index_t n = a.shape(0);
        if (static_cast<index_t>(a.size()) != n * per)
            throw py::value_error(std::string(name) + ": expected " + std::to_string(per) +
                                  " values per sample, got shape " + shape_str(a));
        return n;
    }

    Data data(py::handle x_obj, py::handle labels_obj, py::handle targets_obj, py::handle weight_obj) const {
        Data d;
        d.x = c_contiguous(float_arg(x_obj, "x", dtype_, "the plan"));
        d.n = samples(d.x, "x", input_size_);
        if (label_size_ > 0) {
            py::array l = as_array(labels_obj, "labels");
            if (l.dtype().kind() != 'i' && l.dtype().kind() != 'u')
                throw py::type_error("labels: expected integer class indices, got " + dtype_str(l));
            l = typed_array<std::int64_t>(l);
            if (samples(l, "labels", label_size_) != d.n)
                throw py::value_error("labels: expected " + std::to_string(d.n) + " samples (as x), got shape " + shape_str(l));
            d.labels = l;
        } else if (!labels_obj.is_none()) {
            throw py::value_error("labels: this plan's loss takes dense targets, got labels");
        }
        if (dense_targets_) {
            d.targets = c_contiguous(float_arg(targets_obj, "targets", dtype_, "the plan"));
            if (samples(d.targets, "targets", output_size_) != d.n)
                throw py::value_error("targets: expected " + std::to_string(d.n) + " samples (as x), got shape " +
                                      shape_str(d.targets));
        } else if (!targets_obj.is_none()) {
            throw py::value_error("targets: this plan's loss takes labels, got dense targets");
        }
        if (!weight_obj.is_none()) {
            py::array w = typed_array<double>(as_array(weight_obj, "sample_weight"));
            if (w.ndim() != 1 || w.shape(0) != d.n)
                throw py::value_error("sample_weight: expected shape (" + std::to_string(d.n) + ",), got " + shape_str(w));
            d.weight = w;
            d.weighted = true;
        }
        return d;
    }

    py::array row_indices(py::handle rows_obj, index_t n) const {
        py::array rows = as_array(rows_obj, "rows");
        if (rows.dtype().kind() != 'i' && rows.dtype().kind() != 'u')
            throw py::type_error("rows: expected integer row indices, got " + dtype_str(rows));
        if (rows.ndim() != 1) throw py::value_error("rows: expected a 1-D array, got shape " + shape_str(rows));
        rows = typed_array<std::int64_t>(rows);
        const auto* rp = static_cast<const std::int64_t*>(rows.data());
        for (py::ssize_t i = 0; i < rows.shape(0); ++i)
            if (rp[i] < 0 || rp[i] >= n)
                throw py::value_error("rows: expected row indices in [0, " + std::to_string(n) + ") (the samples of x), got " +
                                      std::to_string(rp[i]) + " at index " + std::to_string(i));
        return rows;
    }

    // Every label the call reads (of the samples `rows`, or the first n) is a class index.
    void check_labels(const Data& d, const std::int64_t* rows, index_t n) const {
        if (label_size_ == 0) return;
        const auto* lp = static_cast<const std::int64_t*>(d.labels.data());
        for (index_t i = 0; i < n; ++i) {
            const index_t sample = rows != nullptr ? rows[i] : i;
            for (index_t k = 0; k < label_size_; ++k) {
                const std::int64_t v = lp[sample * label_size_ + k];
                if (v < 0 || v >= classes_)
                    throw py::value_error("labels: expected class indices in [0, " + std::to_string(classes_) + "), got " +
                                          std::to_string(v) + " at sample " + std::to_string(sample));
            }
        }
    }

    template <typename T>
    bp::DataSet<T> dataset(const Data& d) const {
        bp::DataSet<T> ds;
        ds.x = static_cast<const T*>(d.x.data());
        if (label_size_ > 0) ds.labels = static_cast<const std::int64_t*>(d.labels.data());
        if (dense_targets_) ds.targets = static_cast<const T*>(d.targets.data());
        if (d.weighted) ds.sample_weight = static_cast<const double*>(d.weight.data());
        return ds;
    }

    template <typename T>
    bp::TrainPlan<T>& plan() {
        if constexpr (std::is_same<T, float>::value) return *f32_;
        else return *f64_;
    }

    template <typename T>
    void build(const py::dict& spec) {
        std::vector<Extent> extents;
        input_size_ = static_cast<index_t>(int_item(item(spec, "input_size", "spec"), "spec['input_size']", 1, 1LL << 40));
        py::object opt_obj = item(spec, "optimizer", "spec");
        has_optimizer_ = !opt_obj.is_none();
        bp::OptimizerSpec opt;
        if (has_optimizer_) {
            if (!py::isinstance<py::dict>(opt_obj)) throw py::type_error("spec['optimizer']: expected a dict or None");
            opt = optimizer_of(opt_obj.cast<py::dict>());
        }
        const int slots = has_optimizer_ ? opt.slots() : 0;

        // Parameters.
        std::vector<std::unique_ptr<bp::Param<T>>> params;
        py::list plist = item(spec, "params", "spec").cast<py::list>();
        for (std::size_t i = 0; i < plist.size(); ++i) {
            const std::string w = "spec['params'][" + std::to_string(i) + "]";
            py::dict pd = plist[i].cast<py::dict>();
            py::object value = item(pd, "value", w);
            if (!py::isinstance<py::array>(value)) throw py::type_error(w + "['value']: expected a numpy.ndarray");
            py::array va = value.cast<py::array>();
            auto p = std::make_unique<bp::Param<T>>();
            p->size = static_cast<index_t>(va.size());
            p->value = owned<T>(value, w + "['value']", dtype_, p->size, extents, keep_);
            p->trainable = py::bool_(item(pd, "trainable", w));
            p->state = pd.contains("state") && py::bool_(pd["state"]);
            p->l1 = real_item(pd, "l1", w, 0.0);
            p->l2 = real_item(pd, "l2", w, 0.0);
            check_finite_nonneg(p->l1, w + "['l1']");
            check_finite_nonneg(p->l2, w + "['l2']");
            if (p->trainable && has_optimizer_) {
                py::list sl = item(pd, "slots", w).cast<py::list>();
                if (static_cast<int>(sl.size()) != slots)
                    throw py::value_error(w + "['slots']: expected " + std::to_string(slots) +
                                          " optimizer slot arrays, got " + std::to_string(sl.size()));
                for (int s = 0; s < slots; ++s)
                    p->slots[s] = owned<T>(sl[s], w + "['slots'][" + std::to_string(s) + "]", dtype_, p->size, extents, keep_);
            }
            param_shapes_.push_back(shape_of(va));
            params.push_back(std::move(p));
        }
        refuse_overlaps(extents);

        // Nodes, checked to chain: each takes what the one before gives.
        std::vector<std::unique_ptr<bp::Node<T>>> nodes;
        index_t size = input_size_;
        std::vector<bool> used(params.size(), false);
        auto param_ref = [&](py::handle idx, const std::string& name, index_t expected) -> bp::Param<T>* {
            const auto i = static_cast<std::size_t>(int_item(idx, name, 0, static_cast<long long>(params.size()) - 1));
            if (used[i]) throw py::value_error(name + ": parameter " + std::to_string(i) + " is used by two nodes");
            used[i] = true;
            if (params[i]->size != expected)
                throw py::value_error(name + ": expected a parameter of " + std::to_string(expected) + " elements, got " +
                                      std::to_string(params[i]->size));
            return params[i].get();
        };
        py::list nlist = item(spec, "nodes", "spec").cast<py::list>();
        for (std::size_t i = 0; i < nlist.size(); ++i) {
            const std::string w = "spec['nodes'][" + std::to_string(i) + "]";
            py::dict nd = nlist[i].cast<py::dict>();
            const std::string kind = str_item(nd, "kind", w);
            bp::Shape shape;
            shape.rows_per_sample = static_cast<index_t>(int_item(item(nd, "rows_per_sample", w), w + "['rows_per_sample']", 1, 1LL << 40));
            shape.cols = static_cast<index_t>(int_item(item(nd, "cols", w), w + "['cols']", 1, 1LL << 40));
            if (shape.size() != size)
                throw py::value_error(w + ": expected an input of " + std::to_string(size) + " values per sample, got " +
                                      std::to_string(shape.rows_per_sample) + " x " + std::to_string(shape.cols));
            std::unique_ptr<bp::Node<T>> node;
            if (kind == "dense") {
                const auto units = static_cast<index_t>(int_item(item(nd, "units", w), w + "['units']", 1, 1LL << 40));
                const Act act = activation_of(str_item(nd, "activation", w), w + "['activation']");
                bp::Param<T>* kernel = param_ref(item(nd, "kernel", w), w + "['kernel']", shape.cols * units);
                py::object b = item(nd, "bias", w);
                bp::Param<T>* bias = b.is_none() ? nullptr : param_ref(b, w + "['bias']", units);
                node = std::make_unique<bp::DenseNode<T>>(shape, units, act, kernel, bias);
            } else if (kind == "activation") {
                const Act act = activation_of(str_item(nd, "activation", w), w + "['activation']");
                const double alpha = real_item(nd, "alpha", w, bprop::default_alpha(act));
                if (!std::isfinite(alpha)) throw py::value_error(w + "['alpha']: expected a finite number");
                node = std::make_unique<bp::ActivationNode<T>>(shape, act, alpha);
            } else if (kind == "dropout") {
                const double rate = real_item(nd, "rate", w, 0.0);
                if (!(rate >= 0.0 && rate < 1.0))
                    throw py::value_error(w + "['rate']: expected a value in [0, 1), got " + number_str(rate));
                py::object seed = item(nd, "seed", w);
                const auto s = static_cast<std::uint64_t>(int_item(seed, w + "['seed']", 0));
                node = std::make_unique<bp::DropoutNode<T>>(shape, rate, s);
            } else if (kind == "python") {
                const auto out_size = static_cast<index_t>(int_item(item(nd, "out_size", w), w + "['out_size']", 1, 1LL << 40));
                std::vector<bp::Param<T>*> node_params;
                py::list idx = item(nd, "params", w).cast<py::list>();
                for (std::size_t k = 0; k < idx.size(); ++k) {
                    const auto pi = static_cast<std::size_t>(
                        int_item(idx[k], w + "['params']", 0, static_cast<long long>(params.size()) - 1));
                    if (used[pi]) throw py::value_error(w + "['params']: parameter " + std::to_string(pi) + " is used by two nodes");
                    used[pi] = true;
                    node_params.push_back(params[pi].get());
                }
                py::object fwd = item(nd, "forward", w), bwd = item(nd, "backward", w);
                if (!PyCallable_Check(fwd.ptr()) || !PyCallable_Check(bwd.ptr()))
                    throw py::type_error(w + ": 'forward' and 'backward' must be callables");
                node = std::make_unique<PythonNode<T>>(shape, out_size, fwd, bwd, std::move(node_params),
                                                       py::str(nd.contains("name") ? nd["name"] : py::str("python node")).cast<std::string>());
            } else if (is_image_kind(kind)) {
                node = image_node<T>(kind, nd, w, size, shape.rows_per_sample, shape.cols, param_ref);
            } else {
                throw py::value_error(w + "['kind']: expected one of dense, activation, dropout, python, conv2d, "
                                      "max_pool2d, avg_pool2d, global_avg_pool, zero_pad2d, got '" + kind + "'");
            }
            node->activity_l1 = real_item(nd, "activity_l1", w, 0.0);
            node->activity_l2 = real_item(nd, "activity_l2", w, 0.0);
            check_finite_nonneg(node->activity_l1, w + "['activity_l1']");
            check_finite_nonneg(node->activity_l2, w + "['activity_l2']");
            size = node->out.size();
            nodes.push_back(std::move(node));
        }
        const bp::Shape out = nodes.empty() ? bp::Shape{1, input_size_} : nodes.back()->out;
        output_size_ = out.size();

        // Loss and metrics.
        const bp::LossKind loss = loss_of(str_item(spec, "loss", "spec"));
        const bool sparse = spec.contains("sparse") && py::bool_(spec["sparse"]);
        if (sparse && loss != bp::LossKind::softmax_xent && loss != bp::LossKind::prob_xent)
            throw py::value_error("spec['sparse']: only the cross-entropies take integer labels");
        label_size_ = sparse ? out.rows_per_sample : 0;
        classes_ = out.cols;
        dense_targets_ = loss != bp::LossKind::none && !sparse;
        const Act predictions = spec.contains("predictions")
                                    ? activation_of(str_item(spec, "predictions", "spec"), "spec['predictions']")
                                    : Act::linear;
        std::vector<bp::MetricSpec> metrics;
        py::list mlist = spec.contains("metrics") ? spec["metrics"].cast<py::list>() : py::list();
        for (std::size_t i = 0; i < mlist.size(); ++i) {
            const std::string w = "spec['metrics'][" + std::to_string(i) + "]";
            py::tuple mt = mlist[i].cast<py::tuple>();
            if (mt.size() != 2) throw py::value_error(w + ": expected (kind, threshold or k)");
            bp::MetricSpec ms;
            ms.kind = metric_of(mt[0].cast<std::string>(), w);
            const bool top_k = ms.kind == MetricKind::sparse_top_k_accuracy || ms.kind == MetricKind::top_k_accuracy;
            if (top_k) {
                ms.k = mt[1].cast<index_t>();
                if (ms.k < 1) throw py::value_error(w + ": expected k >= 1, got " + std::to_string(ms.k));
            } else {
                ms.threshold = mt[1].cast<double>();
            }
            const bool needs_labels =
                ms.kind == MetricKind::sparse_categorical_accuracy || ms.kind == MetricKind::sparse_top_k_accuracy;
            if (loss == bp::LossKind::none || needs_labels != sparse)
                throw py::value_error(w + ": a '" + mt[0].cast<std::string>() + "' metric needs " +
                                      (needs_labels ? "integer labels" : "dense targets") + ", which this plan's loss does not take");
            metrics.push_back(ms);
        }
        metrics_ = metrics.size();
        auto objective = std::make_unique<bp::Objective<T>>(loss, std::move(metrics), out, predictions);
        auto p = std::make_unique<bp::TrainPlan<T>>(input_size_, label_size_, std::move(params), std::move(nodes),
                                                    std::move(objective), opt);
        if constexpr (std::is_same<T, float>::value) f32_ = std::move(p);
        else f64_ = std::move(p);
    }

    DType dtype_ = DType::f32;
    std::unique_ptr<bp::TrainPlan<float>> f32_;
    std::unique_ptr<bp::TrainPlan<double>> f64_;
    py::list keep_;  // the arrays whose memory the plan reads and writes
    std::vector<std::vector<py::ssize_t>> param_shapes_;
    index_t input_size_ = 0, label_size_ = 0, output_size_ = 0, classes_ = 0;
    bool dense_targets_ = false, has_optimizer_ = false;
    std::size_t metrics_ = 0;
    std::atomic<bool> busy_{false};
};

}  // namespace

void register_plan(py::module_& m) {
    const auto none = py::none();
    py::class_<PlanHandle>(m, "TrainPlan",
                           "A model's compiled step (built by bprop.engine from a spec dict): nodes, loss,\n"
                           "metrics and optimizer, run over many batches per call with the GIL released.")
        .def(py::init<const py::dict&>(), py::arg("spec"))
        .def("run", &PlanHandle::run, py::arg("x"), py::arg("labels"), py::arg("targets"), py::arg("sample_weight"),
             py::arg("rows"), py::arg("batch_size"), py::arg("lrs") = none, py::arg("iterations") = 0,
             py::arg("dropout_counter") = 0, py::arg("row_offset") = 0, py::arg("train") = true,
             py::arg("step_rows") = none, py::arg("step_offsets") = none, py::arg("step_global_rows") = none,
             py::arg("allreduce") = none,
             "run(x, labels, targets, sample_weight, rows, batch_size, lrs=None, iterations=0,\n"
             "    dropout_counter=0, row_offset=0, train=True, step_rows=None, step_offsets=None,\n"
             "    step_global_rows=None, allreduce=None) -> (losses, metric_sums, metric_counts, status, done)\n\n"
             "Steps over x[rows] in batches of batch_size: training (lrs[s] for step s, the optimizer's\n"
             "count `iterations` before the first) or evaluation (train=False).  status[s]: 0 applied,\n"
             "1 loss not finite, 2 update not finite (undone); training stops at the first such step.\n"
             "Data-parallel training: step s takes the next step_rows[s] rows, which start at row\n"
             "step_offsets[s] of a global batch of step_global_rows[s]; allreduce(buffer) sums the\n"
             "flat buffer of gradients, loss and metric sums across the processes, in place.")
        .def("predict", &PlanHandle::predict, py::arg("x"), py::arg("batch_size"), py::arg("out") = none,
             "predict(x, batch_size, out=None) -> (n, output size) outputs, in batches")
        .def("gradients", &PlanHandle::gradients, py::arg("x"), py::arg("labels"), py::arg("targets"),
             py::arg("sample_weight"), py::arg("training") = false, py::arg("dropout_counter") = 0,
             "gradients(x, labels, targets, sample_weight, training=False, dropout_counter=0) -> (loss, grads)\n\n"
             "The loss of one batch and copies of every trainable parameter's gradient (None if frozen).")
        .def_property_readonly("output_size", &PlanHandle::output_size)
        .def_property_readonly("metric_count", &PlanHandle::metric_count)
        .def_property_readonly("team_steps", &PlanHandle::team_steps,
                               "Steps run so far by a thread team (csrc/core/plan/train_plan_team.cpp).");
}

}  // namespace bprop_py
