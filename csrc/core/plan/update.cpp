#include "update.hpp"

#include <cmath>

#include "../gradient_tools.hpp"
#include "../optimizers.hpp"
#include "../regularizers.hpp"

namespace bprop::plan {

int OptimizerSpec::slots() const {
    switch (kind) {
        case OptimizerKind::sgd: return momentum > 0.0 ? 1 : 0;
        case OptimizerKind::rmsprop: return 1 + (momentum > 0.0 ? 1 : 0) + (centered ? 1 : 0);
        case OptimizerKind::adam: return 2;
        case OptimizerKind::adagrad: return 1;
    }
    return 0;
}

template <typename T>
void add_regularizer_grads(const std::vector<Param<T>*>& params) {
    for (Param<T>* p : params)
        if (p->l1 != 0.0 || p->l2 != 0.0) l1_l2_grad(p->value, p->grad, p->size, p->l1, p->l2);
}

namespace {

// The same clipping as bprop.optimizers.Optimizer._clip, in the same order.
template <typename T>
void clip(const OptimizerSpec& opt, const std::vector<Param<T>*>& params) {
    if (opt.clipvalue > 0.0) {
        for (Param<T>* p : params) clip_by_value(p->grad, p->size, opt.clipvalue);
    } else if (opt.clipnorm > 0.0) {
        for (Param<T>* p : params) {
            const double norm = std::sqrt(sum_squares(p->grad, p->size));
            if (norm > opt.clipnorm) scale_in_place(p->grad, p->size, opt.clipnorm / norm);
        }
    } else if (opt.global_clipnorm > 0.0) {
        double total = 0.0;
        for (Param<T>* p : params) total += sum_squares(p->grad, p->size);
        const double norm = std::sqrt(total);
        if (norm > opt.global_clipnorm)
            for (Param<T>* p : params) scale_in_place(p->grad, p->size, opt.global_clipnorm / norm);
    }
}

// Updates one parameter; returns whether it and its slots stayed finite.
template <typename T>
bool update_one(const OptimizerSpec& opt, Param<T>& p, double lr, double step) {
    const T* g = p.grad;
    switch (opt.kind) {
        case OptimizerKind::sgd:
            return sgd_update(p.value, g, p.slots[0], p.size, lr, opt.momentum, opt.nesterov);
        case OptimizerKind::rmsprop: {
            const int velocity = opt.momentum > 0.0 ? 1 : 0;  // the slots: sq_avg, [velocity], [average_grad]
            return rmsprop_update(p.value, g, p.slots[0], velocity ? p.slots[1] : nullptr,
                                  opt.centered ? p.slots[1 + velocity] : nullptr, p.size, lr, opt.rho,
                                  opt.epsilon, opt.momentum, opt.centered);
        }
        case OptimizerKind::adam:
            return adam_update(p.value, g, p.slots[0], p.slots[1], p.size, lr, step, opt.beta1, opt.beta2,
                               opt.epsilon, opt.weight_decay);
        case OptimizerKind::adagrad:
            return adagrad_update(p.value, g, p.slots[0], p.size, lr, opt.epsilon);
    }
    return true;
}

}  // namespace

template <typename T>
void clip_gradients(const OptimizerSpec& opt, const std::vector<Param<T>*>& params) {
    clip(opt, params);
}

template <typename T>
SpanUpdate<T> update_rule(const OptimizerSpec& opt, double lr, double step) {
    switch (opt.kind) {
        case OptimizerKind::sgd: return sgd_rule<T>(lr, opt.momentum, opt.nesterov);
        case OptimizerKind::rmsprop: return rmsprop_rule<T>(lr, opt.rho, opt.epsilon, opt.momentum, opt.centered);
        case OptimizerKind::adam:
            return adam_rule<T>(lr, step, opt.beta1, opt.beta2, opt.epsilon, opt.weight_decay);
        case OptimizerKind::adagrad: return adagrad_rule<T>(lr, opt.epsilon);
    }
    return SpanUpdate<T>();
}

template <typename T>
bool apply_rule(const SpanUpdate<T>& rule, const OptimizerSpec& opt, Param<T>& p, index_t begin, index_t count) {
    const int slots = opt.slots();
    return rule.apply(p.value + begin, p.grad + begin, slots > 0 ? p.slots[0] + begin : nullptr,
                      slots > 1 ? p.slots[1] + begin : nullptr, slots > 2 ? p.slots[2] + begin : nullptr, count);
}

template <typename T>
bool apply_update(const OptimizerSpec& opt, const std::vector<Param<T>*>& params, double lr, double step) {
    clip(opt, params);
    bool finite = true;
    for (Param<T>* p : params) finite = update_one(opt, *p, lr, step) && finite;
    return finite;
}

template void clip_gradients<float>(const OptimizerSpec&, const std::vector<Param<float>*>&);
template void clip_gradients<double>(const OptimizerSpec&, const std::vector<Param<double>*>&);
template SpanUpdate<float> update_rule<float>(const OptimizerSpec&, double, double);
template SpanUpdate<double> update_rule<double>(const OptimizerSpec&, double, double);
template bool apply_rule<float>(const SpanUpdate<float>&, const OptimizerSpec&, Param<float>&, index_t, index_t);
template bool apply_rule<double>(const SpanUpdate<double>&, const OptimizerSpec&, Param<double>&, index_t,
                                 index_t);
template void add_regularizer_grads<float>(const std::vector<Param<float>*>&);
template void add_regularizer_grads<double>(const std::vector<Param<double>*>&);
template bool apply_update<float>(const OptimizerSpec&, const std::vector<Param<float>*>&, double, double);
template bool apply_update<double>(const OptimizerSpec&, const std::vector<Param<double>*>&, double, double);

}  // namespace bprop::plan
