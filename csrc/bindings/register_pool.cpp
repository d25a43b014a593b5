// Pooling (core/pool.hpp): max (with argmax indices), average, global average.
#include <cstdint>

#include "../core/pool.hpp"
#include "conv_args.hpp"

namespace bprop_py {
namespace {

// Per-image flat indices of max_pool2d are int32.
constexpr long long kMaxImageSize = (1LL << 31) - 1;

struct PoolArgs {
    DType dt;
    bprop::ConvGeometry g;
    bool same;
};

// The geometry of a pool over images of `shape` (n, h, w, c).
PoolArgs pool_geometry(const std::vector<py::ssize_t>& shape, DType dt, py::handle pool_size,
                       py::handle strides, py::handle padding) {
    PoolArgs a;
    a.dt = dt;
    const auto p = pair_arg(pool_size, "pool_size");
    const auto s = strides.is_none() ? p : pair_arg(strides, "strides");
    a.same = padding_arg(padding);
    a.g = bprop::conv_geometry(shape[0], shape[1], shape[2], shape[3], p.first, p.second, shape[3], s.first,
                               s.second, 1, 1, a.same);
    require_window_fits(a.g, shape, "pool window", a.same);
    return a;
}

// A (n, h, w, c) shape given as a sequence (the backward's x_shape).
std::vector<py::ssize_t> shape_arg(py::handle obj) {
    if (!py::isinstance<py::sequence>(obj) || py::isinstance<py::str>(obj) || py::len(obj) != 4)
        throw py::type_error("x_shape: expected a sequence of 4 ints (n, h, w, c), got " +
                             py::repr(obj).cast<std::string>());
    std::vector<py::ssize_t> shape;
    for (py::handle v : py::reinterpret_borrow<py::sequence>(obj)) {
        if (py::isinstance<py::bool_>(v) || !py::isinstance<py::int_>(v) || v.cast<long long>() < 0 ||
            v.cast<long long>() > (1LL << 40))
            throw py::value_error("x_shape: expected 4 ints in [0, 2**40], got " + py::repr(obj).cast<std::string>());
        shape.push_back(static_cast<py::ssize_t>(v.cast<long long>()));
    }
    if (shape[3] < 1) throw py::value_error("x_shape: expected at least one channel, got " + shape_str(shape));
    return shape;
}

py::array indices_array(py::handle obj, const std::vector<py::ssize_t>& shape) {
    if (obj.is_none()) return py::array_t<std::int32_t>(shape);
    if (!py::isinstance<py::array>(obj))
        throw py::type_error("indices: expected a numpy.ndarray, got " +
                             py::str(py::type::handle_of(obj)).cast<std::string>());
    py::array m = py::reinterpret_borrow<py::array>(obj);
    if (!m.dtype().equal(py::dtype::of<std::int32_t>()))
        throw py::type_error("indices: expected dtype int32, got " + dtype_str(m));
    if (shape_of(m) != shape) throw py::value_error("indices: expected shape " + shape_str(shape) + ", got " + shape_str(m));
    if (!(m.flags() & py::array::c_style) || !element_addressable(m))
        throw py::value_error("indices: expected a C-contiguous, aligned array");
    if (!m.writeable()) throw py::value_error("indices: array is read-only");
    return m;
}

py::tuple max_pool2d(py::handle x_obj, py::handle pool_size, py::handle strides, py::handle padding,
                     py::handle out_obj, py::handle idx_obj) {
    DType dt;
    py::array x = images_arg(x_obj, "x", &dt);
    if (x.shape(1) * x.shape(2) * x.shape(3) > kMaxImageSize)
        throw py::value_error("x: images of more than 2**31 - 1 values are not supported, got shape " + shape_str(x));
    PoolArgs a = pool_geometry(shape_of(x), dt, pool_size, strides, padding);
    const auto shape = out_shape(a.g, a.g.c);
    py::array y = output(out_obj, "out", shape, dt, {{&x, "x"}}, false);
    py::array idx = indices_array(idx_obj, shape);
    if (overlaps(idx, x) || overlaps(idx, y)) throw py::value_error("indices: must not overlap x or out");
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* xp = static_cast<const T*>(x.data());
        T* yp = static_cast<T*>(y.mutable_data());
        auto* ip = static_cast<std::int32_t*>(idx.mutable_data());
        py::gil_scoped_release nogil;
        bprop::max_pool2d_forward<T>(a.g, xp, yp, ip);
        return 0;
    });
    return py::make_tuple(y, idx);
}

py::array max_pool2d_backward(py::handle dy_obj, py::handle idx_obj, py::handle x_shape_obj, py::handle out_obj) {
    py::array dy = float_arg(dy_obj, "dy");
    const DType dt = float_dtype(dy, "dy");
    dy = c_contiguous(dy);
    const auto x_shape = shape_arg(x_shape_obj);
    require_ndim(dy, 4, "dy");
    if (dy.shape(0) != x_shape[0] || dy.shape(3) != x_shape[3])
        throw py::value_error("dy: expected shape (" + std::to_string(x_shape[0]) + ", oh, ow, " +
                              std::to_string(x_shape[3]) + ") for x_shape " + shape_str(x_shape) + ", got " + shape_str(dy));
    const long long image = static_cast<long long>(x_shape[1]) * x_shape[2] * x_shape[3];
    if (image > kMaxImageSize) throw py::value_error("x_shape: images of more than 2**31 - 1 values are not supported");
    py::array idx = as_array(idx_obj, "indices");
    if (!idx.dtype().equal(py::dtype::of<std::int32_t>()))
        throw py::type_error("indices: expected dtype int32 (from max_pool2d), got " + dtype_str(idx));
    require_same_shape(idx, "indices", dy, "dy");
    idx = c_contiguous(idx);
    // Every index must lie in its image (-1: a window that saw no input): a
    // forged one would write outside dx.
    const auto* ip = static_cast<const std::int32_t*>(idx.data());
    for (py::ssize_t i = 0; i < idx.size(); ++i)
        if (ip[i] < -1 || ip[i] >= image)
            throw py::value_error("indices: expected values in [-1, " + std::to_string(image) + ") (from max_pool2d of x_shape " +
                                  shape_str(x_shape) + "), got " + std::to_string(ip[i]) + " at flat position " +
                                  std::to_string(i));
    bprop::ConvGeometry g;
    g.n = x_shape[0], g.h = x_shape[1], g.w = x_shape[2], g.c = x_shape[3], g.f = g.c;
    g.oh = dy.shape(1), g.ow = dy.shape(2);
    py::array dx = output(out_obj, "out", x_shape, dt, {{&dy, "dy"}, {&idx, "indices"}}, false);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* gp = static_cast<const T*>(dy.data());
        T* dxp = static_cast<T*>(dx.mutable_data());
        py::gil_scoped_release nogil;
        bprop::max_pool2d_backward<T>(g, gp, ip, dxp);
        return 0;
    });
    return dx;
}

py::array avg_pool2d(py::handle x_obj, py::handle pool_size, py::handle strides, py::handle padding,
                     py::handle out_obj) {
    DType dt;
    py::array x = images_arg(x_obj, "x", &dt);
    PoolArgs a = pool_geometry(shape_of(x), dt, pool_size, strides, padding);
    py::array y = output(out_obj, "out", out_shape(a.g, a.g.c), dt, {{&x, "x"}}, false);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* xp = static_cast<const T*>(x.data());
        T* yp = static_cast<T*>(y.mutable_data());
        py::gil_scoped_release nogil;
        bprop::avg_pool2d_forward<T>(a.g, xp, yp);
        return 0;
    });
    return y;
}

py::array avg_pool2d_backward(py::handle dy_obj, py::handle x_shape_obj, py::handle pool_size, py::handle strides,
                              py::handle padding, py::handle out_obj) {
    py::array dy = float_arg(dy_obj, "dy");
    const DType dt = float_dtype(dy, "dy");
    dy = c_contiguous(dy);
    const auto x_shape = shape_arg(x_shape_obj);
    PoolArgs a = pool_geometry(x_shape, dt, pool_size, strides, padding);
    const auto y_shape = out_shape(a.g, a.g.c);
    if (shape_of(dy) != y_shape)
        throw py::value_error("dy: expected shape " + shape_str(y_shape) + " (avg_pool2d's output for x_shape " +
                              shape_str(x_shape) + "), got " + shape_str(dy));
    py::array dx = output(out_obj, "out", x_shape, dt, {{&dy, "dy"}}, false);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* gp = static_cast<const T*>(dy.data());
        T* dxp = static_cast<T*>(dx.mutable_data());
        py::gil_scoped_release nogil;
        bprop::avg_pool2d_backward<T>(a.g, gp, dxp);
        return 0;
    });
    return dx;
}

py::array global_average_pool2d(py::handle x_obj, py::handle out_obj) {
    DType dt;
    py::array x = images_arg(x_obj, "x", &dt);
    const index_t n = x.shape(0), positions = x.shape(1) * x.shape(2), c = x.shape(3);
    py::array y = output(out_obj, "out", {n, c}, dt, {{&x, "x"}}, false);
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* xp = static_cast<const T*>(x.data());
        T* yp = static_cast<T*>(y.mutable_data());
        py::gil_scoped_release nogil;
        bprop::global_avg_pool_forward<T>(n, positions, c, xp, yp);
        return 0;
    });
    return y;
}

py::array global_average_pool2d_backward(py::handle dy_obj, py::handle x_shape_obj, py::handle out_obj) {
    py::array dy = float_arg(dy_obj, "dy");
    const DType dt = float_dtype(dy, "dy");
    dy = c_contiguous(dy);
    const auto x_shape = shape_arg(x_shape_obj);
    const std::vector<py::ssize_t> y_shape{x_shape[0], x_shape[3]};
    if (shape_of(dy) != y_shape)
        throw py::value_error("dy: expected shape " + shape_str(y_shape) + " (n, c) for x_shape " + shape_str(x_shape) +
                              ", got " + shape_str(dy));
    py::array dx = output(out_obj, "out", x_shape, dt, {{&dy, "dy"}}, false);
    const index_t n = x_shape[0], positions = x_shape[1] * x_shape[2], c = x_shape[3];
    dispatch(dt, [&](auto tag) {
        using T = decltype(tag);
        const T* gp = static_cast<const T*>(dy.data());
        T* dxp = static_cast<T*>(dx.mutable_data());
        py::gil_scoped_release nogil;
        bprop::global_avg_pool_backward<T>(n, positions, c, gp, dxp);
        return 0;
    });
    return dx;
}

}  // namespace

void register_pool(py::module_& m) {
    const auto none = py::none();
    m.def("max_pool2d", &max_pool2d, py::arg("x"), py::arg("pool_size"), py::arg("strides") = none,
          py::arg("padding") = "valid", py::arg("out") = none, py::arg("indices") = none,
          "max_pool2d(x, pool_size, strides=None, padding='valid', out=None, indices=None)\n"
          "    -> (y, indices)\n\n"
          "The max of each pool_size window of images x (n, h, w, c), as Keras' MaxPooling2D\n"
          "(strides default to pool_size; 'same' padding takes no part in the max).  indices\n"
          "(int32, y's shape): where each max was, (iy * w + ix) * c + channel within its image\n"
          "(the first maximum, or the first NaN), for max_pool2d_backward.");
    m.def("max_pool2d_backward", &max_pool2d_backward, py::arg("dy"), py::arg("indices"), py::arg("x_shape"),
          py::arg("out") = none,
          "max_pool2d_backward(dy, indices, x_shape, out=None) -> ndarray\n\n"
          "dx (x_shape): dy added at the positions max_pool2d's indices name.");
    m.def("avg_pool2d", &avg_pool2d, py::arg("x"), py::arg("pool_size"), py::arg("strides") = none,
          py::arg("padding") = "valid", py::arg("out") = none,
          "avg_pool2d(x, pool_size, strides=None, padding='valid', out=None) -> ndarray\n\n"
          "The mean of each window, as Keras' AveragePooling2D: with 'same' padding a window\n"
          "divides by the positions inside the image only.");
    m.def("avg_pool2d_backward", &avg_pool2d_backward, py::arg("dy"), py::arg("x_shape"), py::arg("pool_size"),
          py::arg("strides") = none, py::arg("padding") = "valid", py::arg("out") = none,
          "avg_pool2d_backward(dy, x_shape, pool_size, strides=None, padding='valid', out=None)\n"
          "    -> ndarray\n\nBackward of avg_pool2d.");
    m.def("global_average_pool2d", &global_average_pool2d, py::arg("x"), py::arg("out") = none,
          "global_average_pool2d(x, out=None) -> ndarray\n\n"
          "The mean over the spatial axes: (n, h, w, c) -> (n, c).");
    m.def("global_average_pool2d_backward", &global_average_pool2d_backward, py::arg("dy"), py::arg("x_shape"),
          py::arg("out") = none,
          "global_average_pool2d_backward(dy, x_shape, out=None) -> ndarray\n\n"
          "dx (x_shape) = dy / (h * w) at every position.");
}

}  // namespace bprop_py
