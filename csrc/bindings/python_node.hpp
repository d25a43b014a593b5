// A node of the compiled step whose forward and backward are Python
// functions: the plan's Python segment (a user's layer, run through the
// GradientTape by bprop/engine/nodes.py).  The core only sees the Node
// interface; this binding-side node takes the GIL for the call, hands the
// batch to Python as an array view (the callee must not keep it) and copies
// the results into its own buffers.  The rest of the step stays in the core.
#pragma once

#include <cstring>
#include <vector>

#include "../core/plan/collective.hpp"
#include "../core/plan/node.hpp"
#include "checks.hpp"

namespace bprop_py {

template <typename T>
class PythonNode final : public bprop::plan::Node<T> {
public:
    // forward(x, n, training, dropout_counter) -> y (n, out); backward(dy, n,
    // need_dx) -> (dx or None, [grad of each param, None for a frozen one]).
    PythonNode(bprop::plan::Shape in, index_t out_size, py::object forward, py::object backward,
               std::vector<bprop::plan::Param<T>*> params, std::string name)
        : forward_(std::move(forward)), backward_(std::move(backward)), params_(std::move(params)),
          name_(std::move(name)) {
        this->in = in;
        this->out = bprop::plan::Shape{1, out_size};
    }

    ~PythonNode() override {
        py::gil_scoped_acquire gil;  // the callables are released with the GIL held
        forward_ = py::object();
        backward_ = py::object();
    }

    void reserve(index_t n) override {
        y_.reserve(n * this->out.size());
        dx_.reserve(n * this->in.size());
    }

    const T* forward(const T* x, index_t n, const bprop::plan::StepContext& ctx) override {
        py::gil_scoped_acquire gil;
        py::object y = forward_(view(x, n, this->in.size()), n, ctx.training,
                                static_cast<unsigned long long>(ctx.dropout_counter));
        copy_result(y, n, this->out.size(), y_.data(), "forward");
        return y_.data();
    }

    const T* backward(const T* dy, index_t n, bool need_dx) override {
        py::gil_scoped_acquire gil;
        py::tuple r = backward_(view(dy, n, this->out.size()), n, need_dx);
        py::list grads = r[1];
        if (grads.size() != params_.size())
            throw std::runtime_error(name_ + ": backward gave " + std::to_string(grads.size()) + " gradients for " +
                                     std::to_string(params_.size()) + " weights");
        for (std::size_t i = 0; i < params_.size(); ++i) {
            bprop::plan::Param<T>* p = params_[i];
            if (!p->trainable) continue;
            copy_result(grads[i], 1, p->size, p->grad, "a weight gradient");
        }
        if (!need_dx) return nullptr;
        copy_result(r[0], n, this->in.size(), dx_.data(), "backward");
        return dx_.data();
    }

    bool has_trainable() const override {
        for (const auto* p : params_)
            if (p->trainable) return true;
        return false;
    }

private:
    // A read-only view of n x size values (no copy; the capsule owns nothing).
    static py::array view(const T* data, index_t n, index_t size) {
        py::capsule none(data, [](void*) {});
        py::array_t<T> a({static_cast<py::ssize_t>(n), static_cast<py::ssize_t>(size)}, data, none);
        a.attr("setflags")(py::arg("write") = false);
        return a;
    }

    void copy_result(py::handle obj, index_t n, index_t size, T* dst, const char* what) const {
        py::array base = py::array::ensure(obj);
        if (!base) {
            PyErr_Clear();
            throw std::runtime_error(name_ + ": " + what + " gave " +
                                     py::str(py::type::handle_of(obj)).cast<std::string>() + ", expected an array");
        }
        py::array a = typed_array<T>(base);
        if (static_cast<index_t>(a.size()) != n * size)
            throw std::runtime_error(name_ + ": " + what + " gave " + py::str(py::type::handle_of(obj)).cast<std::string>() +
                                     " of the wrong size (expected " + std::to_string(n * size) + " values)");
        std::memcpy(dst, a.data(), sizeof(T) * static_cast<std::size_t>(n * size));
    }

    py::object forward_, backward_;
    std::vector<bprop::plan::Param<T>*> params_;
    std::string name_;
    bprop::plan::Buffer<T> y_, dx_;
};

// The reduction of a data-parallel step: a Python callable (bprop.distributed,
// over mpi4py) given a writable view of the plan's flat buffer to sum in
// place across the processes.
template <typename T>
class PythonCollective final : public bprop::plan::Collective<T> {
public:
    explicit PythonCollective(py::handle allreduce) : allreduce_(allreduce) {}

    void allreduce_sum(T* data, index_t count) override {
        py::gil_scoped_acquire gil;
        py::capsule none(data, [](void*) {});
        py::array_t<T> view({static_cast<py::ssize_t>(count)}, data, none);
        allreduce_(view);
    }

private:
    py::handle allreduce_;  // borrowed for the run
};

}  // namespace bprop_py
