// Range checks of optimizer hyper-parameters, shared by the update kernels'
// bindings and the training plan's, so every path refuses the same values
// with the same message (the Python optimizers check the same ranges when a
// value is set).
#pragma once

#include <cmath>
#include <string>

#include "checks.hpp"

namespace bprop_py {

inline std::string number_str(double v) {
    std::string s = std::to_string(v);
    if (std::isnan(v)) s = "nan";
    else if (std::isinf(v)) s = v > 0 ? "inf" : "-inf";
    return s;
}

// A finite value >= 0 (learning rates, epsilons, weight decay, clip bounds).
inline void check_finite_nonneg(double v, const std::string& name) {
    if (!(v >= 0.0 && std::isfinite(v)))
        throw py::value_error(name + ": expected a finite value >= 0, got " + number_str(v));
}

// A value in [0, 1] (momentum).
inline void check_unit_closed(double v, const std::string& name) {
    if (!(v >= 0.0 && v <= 1.0))
        throw py::value_error(name + ": expected a value in [0, 1], got " + number_str(v));
}

// A value in [0, 1) (decay rates: Adam's betas, RMSprop's rho).
inline void check_unit_open(double v, const std::string& name) {
    if (!(v >= 0.0 && v < 1.0))
        throw py::value_error(name + ": expected a value in [0, 1), got " + number_str(v));
}

}  // namespace bprop_py
