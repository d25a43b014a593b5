// The pieces a training plan is made of: parameters, buffers and the Node
// interface every layer kind implements (see plan/nodes.hpp for the kinds).
//
// A node maps a batch of n samples, each `in.size()` values, to n samples of
// `out.size()` values.  Within a sample the values are rows_per_sample rows
// of `cols` (the last axis, as Keras' Dense sees a (batch, time, features)
// input).  A node owns its output and input-gradient buffers, sized for the
// largest batch the plan has seen, so a plan (one per fit, or per predict
// call) owns every byte a step writes except the parameters and optimizer
// slots, which stay in the caller's arrays.
#pragma once

#include <cstdint>
#include <cstring>
#include <vector>

#include "../common.hpp"
#include "../gemm/workspace.hpp"

namespace bprop::plan {

struct Shape {
    index_t rows_per_sample = 1;
    index_t cols = 0;
    index_t size() const { return rows_per_sample * cols; }
};

// A typed, 64-byte aligned, grow-only buffer.
template <typename T>
class Buffer {
public:
    T* reserve(index_t count) {
        data_ = static_cast<T*>(mem_.reserve(sizeof(T) * static_cast<std::size_t>(count > 0 ? count : 1)));
        return data_;
    }
    T* data() const { return data_; }

private:
    AlignedBuffer mem_;
    T* data_ = nullptr;
};

// One model variable.  `value` and `slots` belong to the caller (a
// bprop.Variable and the optimizer's slot arrays); `grad` is the plan's, a
// part of one flat buffer holding every trainable parameter's gradient (so
// a data-parallel job sums them all in one reduction).
template <typename T>
struct Param {
    T* value = nullptr;
    index_t size = 0;
    bool trainable = true;
    // A non-trainable parameter that a training forward writes (a moving
    // statistic of BatchNormalization): saved and restored with the trainable
    // ones, so an undone and replayed step does not write it twice.
    bool state = false;
    double l1 = 0.0, l2 = 0.0;          // the weight regularizer (Keras L1L2)
    T* slots[3] = {nullptr, nullptr, nullptr};
    T* grad = nullptr;
};

// What one step tells its nodes.
struct StepContext {
    bool training = false;
    std::uint64_t dropout_counter = 0;  // advances by one per training step
    index_t row_offset = 0;             // index of this batch's row 0 in the global batch
};

template <typename T>
class Node {
public:
    Shape in, out;
    double activity_l1 = 0.0, activity_l2 = 0.0;  // penalty on the output (Keras' activity_regularizer)

    virtual ~Node() = default;
    // Room for batches of up to n samples.
    virtual void reserve(index_t n) = 0;
    // Output of a batch of n samples: the node's own buffer, or `x` itself
    // when the node passes it through (a dropout outside training).
    virtual const T* forward(const T* x, index_t n, const StepContext& ctx) = 0;
    // Gradient wrt the input of the last forward, from dy (the output's
    // gradient); accumulates into the parameters' grads.  Returns null when
    // need_dx is false.
    virtual const T* backward(const T* dy, index_t n, bool need_dx) = 0;
    // Whether backward has any parameter gradient to compute.
    virtual bool has_trainable() const { return false; }
};

}  // namespace bprop::plan
