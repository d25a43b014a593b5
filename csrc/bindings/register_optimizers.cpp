// In-place optimizer updates: the parameter and its slots are updated where
// they are, so they must be writeable, C-contiguous arrays of one dtype.
#include <vector>

#include "../core/optimizers.hpp"
#include "checks.hpp"
#include "hyper_checks.hpp"

namespace bprop_py {
namespace {

// A writeable C-contiguous float array updated in place.
py::array inplace_arg(py::handle obj, const char* name, const DType* dt, const py::array* ref,
                      const char* ref_name) {
    if (!py::isinstance<py::array>(obj))
        throw py::type_error(std::string(name) + ": expected a numpy.ndarray (updated in place), got " +
                             py::str(py::type::handle_of(obj)).cast<std::string>());
    py::array a = py::reinterpret_borrow<py::array>(obj);
    if (dt) require_dtype(a, *dt, name, ref_name);
    else float_dtype(a, name);
    if (ref) require_same_shape(a, name, *ref, ref_name);
    if (!(a.flags() & py::array::c_style) || !element_addressable(a))
        throw py::value_error(std::string(name) + ": expected a C-contiguous, aligned array (it is updated in place)");
    if (!a.writeable()) throw py::value_error(std::string(name) + ": array is read-only");
    return a;
}

struct Update {
    py::array param, grad;
    DType dt;
    index_t n;
};

Update update_args(py::handle p_obj, py::handle g_obj) {
    py::array p = inplace_arg(p_obj, "param", nullptr, nullptr, nullptr);
    const DType dt = float_dtype(p, "param");
    py::array g = c_contiguous(float_arg(g_obj, "grad", dt, "param"));
    require_same_shape(g, "grad", p, "param");
    if (overlaps(g, p)) throw py::value_error("grad: must not overlap param");
    return {p, g, dt, static_cast<index_t>(p.size())};
}

py::array slot(py::handle obj, const char* name, const Update& u) {
    py::array s = inplace_arg(obj, name, &u.dt, &u.param, "param");
    if (overlaps(s, u.param) || overlaps(s, u.grad))
        throw py::value_error(std::string(name) + ": must not overlap param or grad");
    return s;
}


template <typename T>
T* ptr(py::array& a) {
    return static_cast<T*>(a.mutable_data());
}

}  // namespace

void register_optimizers(py::module_& m) {
    m.def(
        "sgd_update",
        [](py::handle p, py::handle g, double lr, double momentum, bool nesterov, py::handle vel) {
            Update u = update_args(p, g);
            check_finite_nonneg(lr, "lr");
            check_unit_closed(momentum, "momentum");
            const bool has_v = momentum != 0.0;
            py::array v;
            if (has_v) {
                if (vel.is_none()) throw py::value_error("velocity: required when momentum != 0, got None");
                v = slot(vel, "velocity", u);
            }
            dispatch(u.dt, [&](auto tag) {
                using T = decltype(tag);
                T* vp = has_v ? ptr<T>(v) : nullptr;
                T* pp = ptr<T>(u.param);
                const T* gp = static_cast<const T*>(u.grad.data());
                py::gil_scoped_release nogil;
                bprop::sgd_update<T>(pp, gp, vp, u.n, lr, momentum, nesterov);
                return 0;
            });
            return u.param;
        },
        py::arg("param"), py::arg("grad"), py::arg("lr"), py::arg("momentum") = 0.0,
        py::arg("nesterov") = false, py::arg("velocity") = py::none(),
        "sgd_update(param, grad, lr, momentum=0.0, nesterov=False, velocity=None) -> param\n\n"
        "Keras SGD in place: v = momentum v - lr g; p += v (nesterov: p += momentum v - lr g).");
    m.def(
        "rmsprop_update",
        [](py::handle p, py::handle g, py::handle s_obj, double lr, double rho, double eps, double momentum,
           bool centered, py::handle vel_obj, py::handle avg_obj) {
            Update u = update_args(p, g);
            py::array s = slot(s_obj, "sq_avg", u);
            check_finite_nonneg(lr, "lr");
            check_unit_open(rho, "rho");
            check_finite_nonneg(eps, "eps");
            check_unit_open(momentum, "momentum");
            // A slot in use: given, and sharing memory with no other operand.
            auto extra_slot = [&](bool used, py::handle obj, const char* name, const char* when,
                                  std::vector<py::array>& taken) {
                py::array a;
                if (!used) return a;
                if (obj.is_none())
                    throw py::value_error(std::string(name) + ": required when " + when + ", got None");
                a = slot(obj, name, u);
                for (const py::array& other : taken)
                    if (overlaps(a, other)) throw py::value_error(std::string(name) + ": must not overlap the other slots");
                taken.push_back(a);
                return a;
            };
            std::vector<py::array> taken{s};
            py::array v = extra_slot(momentum > 0.0, vel_obj, "velocity", "momentum > 0", taken);
            py::array a = extra_slot(centered, avg_obj, "average_grad", "centered=True", taken);
            dispatch(u.dt, [&](auto tag) {
                using T = decltype(tag);
                T* pp = ptr<T>(u.param);
                T* sp = ptr<T>(s);
                T* vp = momentum > 0.0 ? ptr<T>(v) : nullptr;
                T* ap = centered ? ptr<T>(a) : nullptr;
                const T* gp = static_cast<const T*>(u.grad.data());
                py::gil_scoped_release nogil;
                bprop::rmsprop_update<T>(pp, gp, sp, vp, ap, u.n, lr, rho, eps, momentum, centered);
                return 0;
            });
            return u.param;
        },
        py::arg("param"), py::arg("grad"), py::arg("sq_avg"), py::arg("lr"), py::arg("rho") = 0.9,
        py::arg("eps") = 1e-7, py::arg("momentum") = 0.0, py::arg("centered") = false,
        py::arg("velocity") = py::none(), py::arg("average_grad") = py::none(),
        "rmsprop_update(param, grad, sq_avg, lr, rho=0.9, eps=1e-7, momentum=0.0, centered=False,\n"
        "               velocity=None, average_grad=None) -> param\n\n"
        "Keras RMSprop in place: s = rho s + (1 - rho) g^2; centered: a = rho a + (1 - rho) g and\n"
        "d = s - a^2 + eps, else d = s + eps; inc = lr g / sqrt(d); momentum > 0: v = momentum v + inc,\n"
        "p -= v; else p -= inc.");
    m.def(
        "adam_update",
        [](py::handle p, py::handle g, py::handle m_obj, py::handle v_obj, double lr, double step,
           double beta1, double beta2, double eps, double weight_decay) {
            Update u = update_args(p, g);
            py::array mm = slot(m_obj, "m", u);
            py::array vv = slot(v_obj, "v", u);
            if (overlaps(mm, vv)) throw py::value_error("m: must not overlap v");
            check_finite_nonneg(lr, "lr");
            if (!(step >= 1.0)) throw py::value_error("step: expected a count >= 1, got " + std::to_string(step));
            check_unit_open(beta1, "beta1");
            check_unit_open(beta2, "beta2");
            check_finite_nonneg(eps, "eps");
            check_finite_nonneg(weight_decay, "weight_decay");
            dispatch(u.dt, [&](auto tag) {
                using T = decltype(tag);
                T* pp = ptr<T>(u.param);
                T* mp = ptr<T>(mm);
                T* vp = ptr<T>(vv);
                const T* gp = static_cast<const T*>(u.grad.data());
                py::gil_scoped_release nogil;
                bprop::adam_update<T>(pp, gp, mp, vp, u.n, lr, step, beta1, beta2, eps, weight_decay);
                return 0;
            });
            return u.param;
        },
        py::arg("param"), py::arg("grad"), py::arg("m"), py::arg("v"), py::arg("lr"), py::arg("step"),
        py::arg("beta1") = 0.9, py::arg("beta2") = 0.999, py::arg("eps") = 1e-7,
        py::arg("weight_decay") = 0.0,
        "adam_update(param, grad, m, v, lr, step, beta1=0.9, beta2=0.999, eps=1e-7,\n"
        "            weight_decay=0.0) -> param\n\n"
        "Keras Adam in place (step counts from 1), with decoupled weight decay (AdamW).");
    m.def(
        "adagrad_update",
        [](py::handle p, py::handle g, py::handle a_obj, double lr, double eps) {
            Update u = update_args(p, g);
            py::array acc = slot(a_obj, "accum", u);
            check_finite_nonneg(lr, "lr");
            check_finite_nonneg(eps, "eps");
            dispatch(u.dt, [&](auto tag) {
                using T = decltype(tag);
                T* pp = ptr<T>(u.param);
                T* ap = ptr<T>(acc);
                const T* gp = static_cast<const T*>(u.grad.data());
                py::gil_scoped_release nogil;
                bprop::adagrad_update<T>(pp, gp, ap, u.n, lr, eps);
                return 0;
            });
            return u.param;
        },
        py::arg("param"), py::arg("grad"), py::arg("accum"), py::arg("lr"), py::arg("eps") = 1e-7,
        "adagrad_update(param, grad, accum, lr, eps=1e-7) -> param\n\n"
        "Keras Adagrad in place: a += g^2; p -= lr g / sqrt(a + eps).");
}

}  // namespace bprop_py
