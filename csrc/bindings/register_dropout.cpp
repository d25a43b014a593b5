// Dropout with its counter-based mask (core/dropout.hpp).
#include <cmath>

#include "../core/dropout.hpp"
#include "checks.hpp"

namespace bprop_py {
namespace {

double checked_rate(double rate) {
    if (!(rate >= 0.0 && rate < 1.0))
        throw py::value_error("rate: expected a value in [0, 1), got " + std::to_string(rate));
    return rate;
}

std::uint64_t checked_u64(py::handle obj, const char* name) {
    if (!py::isinstance<py::int_>(obj) || py::isinstance<py::bool_>(obj))
        throw py::type_error(std::string(name) + ": expected an int, got " +
                             py::str(py::type::handle_of(obj)).cast<std::string>());
    try {
        return obj.cast<std::uint64_t>();
    } catch (const py::cast_error&) {
        throw py::value_error(std::string(name) + ": expected an int in [0, 2**64), got " + py::str(obj).cast<std::string>());
    }
}

// A uint8 mask of `shape`: new, or the user's (checked like out=).
py::array mask_array(py::handle obj, const std::vector<py::ssize_t>& shape) {
    if (obj.is_none()) return py::array_t<std::uint8_t>(shape);
    if (!py::isinstance<py::array>(obj))
        throw py::type_error("mask: expected a numpy.ndarray, got " + py::str(py::type::handle_of(obj)).cast<std::string>());
    py::array m = py::reinterpret_borrow<py::array>(obj);
    if (!m.dtype().is(py::dtype::of<std::uint8_t>()) && !m.dtype().equal(py::dtype::of<std::uint8_t>()))
        throw py::type_error("mask: expected dtype uint8, got " + dtype_str(m));
    if (shape_of(m) != shape) throw py::value_error("mask: expected shape " + shape_str(shape) + ", got " + shape_str(m));
    if (!(m.flags() & py::array::c_style)) throw py::value_error("mask: expected a C-contiguous array");
    if (!m.writeable()) throw py::value_error("mask: array is read-only");
    return m;
}

py::tuple dropout(py::handle x_obj, double rate, py::handle seed_obj, py::handle counter_obj, py::handle offset_obj,
                  py::handle out, py::handle mask_obj) {
    py::array x = c_contiguous(float_arg(x_obj, "x"));
    const DType dt = float_dtype(x, "x");
    checked_rate(rate);
    const std::uint64_t seed = checked_u64(seed_obj, "seed"), counter = checked_u64(counter_obj, "counter");
    const std::uint64_t offset = checked_u64(offset_obj, "row_offset");
    if (offset > (1ULL << 40)) throw py::value_error("row_offset: expected an int in [0, 2**40]");
    const index_t rows = x.ndim() >= 1 ? x.shape(0) : 1;
    const index_t cols = rows > 0 ? static_cast<index_t>(x.size()) / rows : 0;
    py::array y = output(out, "out", shape_of(x), dt, {{&x, "x"}}, true);
    py::array mask = mask_array(mask_obj, shape_of(x));
    if (overlaps(mask, x) || overlaps(mask, y)) throw py::value_error("mask: must not overlap x or out");
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* xp = static_cast<const T*>(x.data());
        T* yp = static_cast<T*>(y.mutable_data());
        auto* mp = static_cast<std::uint8_t*>(mask.mutable_data());
        py::gil_scoped_release nogil;
        bprop::dropout_forward<T>(xp, yp, mp, rows, cols, rate, seed, counter, static_cast<index_t>(offset));
        return 0;
    });
    return py::make_tuple(y, mask);
}

py::array dropout_backward(py::handle dy_obj, py::handle mask_obj, double rate, py::handle out) {
    py::array dy = c_contiguous(float_arg(dy_obj, "dy"));
    const DType dt = float_dtype(dy, "dy");
    checked_rate(rate);
    py::array mask = as_array(mask_obj, "mask");
    if (!mask.dtype().equal(py::dtype::of<std::uint8_t>()))
        throw py::type_error("mask: expected dtype uint8 (from dropout), got " + dtype_str(mask));
    require_same_shape(mask, "mask", dy, "dy");
    mask = c_contiguous(mask);
    py::array dx = output(out, "out", shape_of(dy), dt, {{&dy, "dy"}}, true);
    if (overlaps(dx, mask)) throw py::value_error("out: must not overlap the input 'mask'");
    const index_t n = static_cast<index_t>(dy.size());
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* dp = static_cast<const T*>(dy.data());
        const auto* mp = static_cast<const std::uint8_t*>(mask.data());
        T* xp = static_cast<T*>(dx.mutable_data());
        py::gil_scoped_release nogil;
        bprop::dropout_backward<T>(dp, mp, xp, n, rate);
        return 0;
    });
    return dx;
}

}  // namespace

void register_dropout(py::module_& m) {
    const auto none = py::none();
    m.def("dropout", &dropout, py::arg("x"), py::arg("rate"), py::arg("seed"), py::arg("counter"),
          py::arg("row_offset") = 0, py::arg("out") = none, py::arg("mask") = none,
          "dropout(x, rate, seed, counter, row_offset=0, out=None, mask=None) -> (y, mask)\n\n"
          "Inverted dropout: y = x / (1 - rate) where kept, 0 elsewhere; mask (uint8) is 1 where kept.\n"
          "Element (r, c) of x viewed as (rows, cols) is kept when the top 32 bits of a splitmix64\n"
          "hash of (seed, counter, (row_offset + r) * cols + c) are >= floor(rate * 2^32).");
    m.def("dropout_backward", &dropout_backward, py::arg("dy"), py::arg("mask"), py::arg("rate"),
          py::arg("out") = none, "dropout_backward(dy, mask, rate, out=None): dy / (1 - rate) where mask, else 0.");
}

}  // namespace bprop_py
