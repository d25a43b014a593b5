// Argument parsing shared by the convolution and pooling bindings:
// Keras-style pairs (an int or two), padding names, NHWC shapes.
#pragma once

#include <cctype>
#include <utility>

#include "../core/conv.hpp"
#include "checks.hpp"

namespace bprop_py {

// Strides, dilations and windows stay below 2^30: their products with image
// sizes then never overflow 64 bits.
constexpr long long kMaxWindowArg = 1LL << 30;

// An int or a sequence of two ints, each in [1, 2^30].
inline std::pair<index_t, index_t> pair_arg(py::handle obj, const char* name) {
    auto one = [&](py::handle v) -> index_t {
        if (py::isinstance<py::bool_>(v) || !py::isinstance<py::int_>(v))
            throw py::type_error(std::string(name) + ": expected an int or a pair of ints, got " +
                                 py::repr(obj).cast<std::string>());
        const long long value = v.cast<long long>();
        if (value < 1 || value > kMaxWindowArg)
            throw py::value_error(std::string(name) + ": expected values in [1, 2**30], got " +
                                  py::repr(obj).cast<std::string>());
        return static_cast<index_t>(value);
    };
    if (py::isinstance<py::int_>(obj) && !py::isinstance<py::bool_>(obj)) {
        const index_t v = one(obj);
        return {v, v};
    }
    if (!py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj) || py::len(obj) != 2)
        throw py::type_error(std::string(name) + ": expected an int or a pair of ints, got " +
                             py::repr(obj).cast<std::string>());
    py::sequence s = py::reinterpret_borrow<py::sequence>(obj);
    return {one(s[0]), one(s[1])};
}

// "valid" -> false, "same" -> true (any case, as Keras).
inline bool padding_arg(py::handle obj) {
    if (!py::isinstance<py::str>(obj))
        throw py::type_error("padding: expected 'valid' or 'same', got " + py::repr(obj).cast<std::string>());
    std::string s = obj.cast<std::string>();
    for (char& ch : s) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (s == "valid") return false;
    if (s == "same") return true;
    throw py::value_error("padding: expected 'valid' or 'same', got '" + obj.cast<std::string>() + "'");
}

// A 4-D (n, h, w, c) image batch, C-contiguous, with at least one channel.
inline py::array images_arg(py::handle obj, const char* name, DType* dt) {
    py::array x = float_arg(obj, name);
    *dt = float_dtype(x, name);
    require_ndim(x, 4, name);
    if (x.shape(3) < 1)
        throw py::value_error(std::string(name) + ": expected at least one channel (axis 3), got shape " +
                              shape_str(x));
    return c_contiguous(x);
}

// The window must fit the (padded) input: Keras refuses an empty output.
inline void require_window_fits(const bprop::ConvGeometry& g, const std::vector<py::ssize_t>& x_shape,
                                const char* what, bool same) {
    if (g.oh > 0 && g.ow > 0) return;
    throw py::value_error("x: the " + std::to_string(g.kh) + "x" + std::to_string(g.kw) + " " + what +
                          (g.dh > 1 || g.dw > 1 ? " (dilated to " + std::to_string((g.kh - 1) * g.dh + 1) + "x" +
                                                      std::to_string((g.kw - 1) * g.dw + 1) + ")"
                                                : std::string()) +
                          " does not fit in the " + std::to_string(x_shape[1]) + "x" + std::to_string(x_shape[2]) +
                          " input with padding='" + (same ? "same" : "valid") + "' (x " + shape_str(x_shape) + ")");
}

inline std::vector<py::ssize_t> out_shape(const bprop::ConvGeometry& g, index_t channels) {
    return {g.n, g.oh, g.ow, channels};
}

}  // namespace bprop_py
