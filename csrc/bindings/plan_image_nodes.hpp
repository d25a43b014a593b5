// The plan spec's image nodes (core/plan/spatial_nodes.hpp): conv2d,
// max_pool2d, avg_pool2d, global_avg_pool and zero_pad2d, each checked
// against the size of the samples reaching it.
#pragma once

#include <memory>
#include <string>

#include "../core/plan/spatial_nodes.hpp"
#include "checks.hpp"
#include "spec_access.hpp"

namespace bprop_py {

inline bool is_image_kind(const std::string& kind) {
    return kind == "conv2d" || kind == "max_pool2d" || kind == "avg_pool2d" || kind == "global_avg_pool" ||
           kind == "zero_pad2d";
}

// spec[key] as `count` ints in [lo, hi].
inline std::vector<index_t> ints_item(const py::dict& d, const char* key, const std::string& where, std::size_t count,
                                      long long lo, long long hi) {
    py::object v = item(d, key, where);
    const std::string name = where + "['" + key + "']";
    if (!py::isinstance<py::sequence>(v) || py::isinstance<py::str>(v) || py::len(v) != count)
        throw py::type_error(name + ": expected " + std::to_string(count) + " ints");
    std::vector<index_t> out;
    for (py::handle e : py::reinterpret_borrow<py::sequence>(v))
        out.push_back(static_cast<index_t>(int_item(e, name, lo, hi)));
    return out;
}

// The image (h, w, c) a node reads; h * w * c must be the samples' size.
inline std::vector<index_t> image_item(const py::dict& nd, const std::string& where, index_t size) {
    const auto hwc = ints_item(nd, "image", where, 3, 1, 1LL << 40);
    if (hwc[0] * hwc[1] > (1LL << 40) / hwc[2] || hwc[0] * hwc[1] * hwc[2] != size)
        throw py::value_error(where + "['image']: expected images of " + std::to_string(size) +
                              " values per sample, got " + std::to_string(hwc[0]) + " x " + std::to_string(hwc[1]) +
                              " x " + std::to_string(hwc[2]));
    return hwc;
}

inline bool same_padding_item(const py::dict& nd, const std::string& where) {
    const std::string p = str_item(nd, "padding", where);
    if (p != "valid" && p != "same")
        throw py::value_error(where + "['padding']: expected 'valid' or 'same', got '" + p + "'");
    return p == "same";
}

// The node of an image kind; param_ref(obj, name, elements) resolves a parameter.
template <typename T, typename ParamRef>
std::unique_ptr<bprop::plan::Node<T>> image_node(const std::string& kind, const py::dict& nd, const std::string& w,
                                                 index_t size, index_t rows_per_sample, index_t cols,
                                                 ParamRef&& param_ref) {
    namespace bp = bprop::plan;
    constexpr long long kMaxWindow = 1LL << 30;
    if (kind == "global_avg_pool") return std::make_unique<bp::GlobalAvgPoolNode<T>>(rows_per_sample, cols);
    const auto hwc = image_item(nd, w, size);
    if (kind == "zero_pad2d") {
        const auto pad = ints_item(nd, "padding", w, 4, 0, kMaxWindow);
        return std::make_unique<bp::ZeroPad2DNode<T>>(hwc[0], hwc[1], hwc[2], pad[0], pad[1], pad[2], pad[3]);
    }
    const bool same = same_padding_item(nd, w);
    const auto strides = ints_item(nd, "strides", w, 2, 1, kMaxWindow);
    auto fits = [&](const bprop::ConvGeometry& g) {
        if (g.oh < 1 || g.ow < 1)
            throw py::value_error(w + ": the window does not fit in the " + std::to_string(hwc[0]) + "x" +
                                  std::to_string(hwc[1]) + " input with padding='" + (same ? "same" : "valid") + "'");
    };
    if (kind == "conv2d") {
        const auto window = ints_item(nd, "kernel_size", w, 2, 1, kMaxWindow);
        const auto dilation = ints_item(nd, "dilation", w, 2, 1, kMaxWindow);
        const auto filters = static_cast<index_t>(int_item(item(nd, "filters", w), w + "['filters']", 1, 1LL << 40));
        const bprop::Act act = parse_activation(item(nd, "activation", w), (w + "['activation']").c_str());
        const auto g = bprop::conv_geometry(0, hwc[0], hwc[1], hwc[2], window[0], window[1], filters, strides[0],
                                            strides[1], dilation[0], dilation[1], same);
        fits(g);
        auto* kernel = param_ref(item(nd, "kernel", w), w + "['kernel']", g.patch() * filters);
        py::object b = item(nd, "bias", w);
        auto* bias = b.is_none() ? nullptr : param_ref(b, w + "['bias']", filters);
        return std::make_unique<bp::Conv2DNode<T>>(g, act, kernel, bias);
    }
    // max_pool2d / avg_pool2d
    const auto window = ints_item(nd, "pool_size", w, 2, 1, kMaxWindow);
    if (hwc[0] * hwc[1] * hwc[2] > (1LL << 31) - 1)
        throw py::value_error(w + "['image']: images of more than 2**31 - 1 values are not supported");
    const auto g = bprop::conv_geometry(0, hwc[0], hwc[1], hwc[2], window[0], window[1], hwc[2], strides[0],
                                        strides[1], 1, 1, same);
    fits(g);
    return std::make_unique<bp::Pool2DNode<T>>(g, kind == "max_pool2d" ? bp::PoolKind::max : bp::PoolKind::average);
}

}  // namespace bprop_py
