// Reading the plan spec (a dict bprop/engine writes): typed items that name
// the key in every error.
#pragma once

#include <limits>
#include <string>

#include "checks.hpp"

namespace bprop_py {

inline py::object item(const py::dict& d, const char* key, const std::string& where) {
    if (!d.contains(key)) throw py::value_error(where + ": missing key '" + key + "'");
    return d[key];
}

inline double real_item(const py::dict& d, const char* key, const std::string& where, double fallback) {
    if (!d.contains(key) || d[key].is_none()) return fallback;
    py::object v = d[key];
    if (!py::isinstance<py::float_>(v) && !py::isinstance<py::int_>(v))
        throw py::type_error(where + "['" + key + "']: expected a number, got " +
                             py::str(py::type::handle_of(v)).cast<std::string>());
    return v.cast<double>();
}

inline long long int_item(py::handle v, const std::string& name, long long lo = 0,
                   long long hi = std::numeric_limits<long long>::max()) {
    if (!py::isinstance<py::int_>(v) || py::isinstance<py::bool_>(v))
        throw py::type_error(name + ": expected an int, got " + py::str(py::type::handle_of(v)).cast<std::string>());
    long long x;
    try {
        x = v.cast<long long>();
    } catch (const py::cast_error&) {
        throw py::value_error(name + ": expected an int in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                              "], got " + py::str(v).cast<std::string>());
    }
    if (x < lo || x > hi)
        throw py::value_error(name + ": expected an int in [" + std::to_string(lo) + ", " + std::to_string(hi) +
                              "], got " + std::to_string(x));
    return x;
}

inline std::string str_item(const py::dict& d, const char* key, const std::string& where) {
    py::object v = item(d, key, where);
    if (!py::isinstance<py::str>(v))
        throw py::type_error(where + "['" + key + "']: expected a string, got " +
                             py::str(py::type::handle_of(v)).cast<std::string>());
    return v.cast<std::string>();
}

}  // namespace bprop_py
