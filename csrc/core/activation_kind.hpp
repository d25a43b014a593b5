// The activations the fused kernels know, shared by GEMM's epilogue,
// the elementwise kernels and the dense layer kernels.
#pragma once

namespace bprop {

enum class Act {
    linear, relu, leaky_relu, sigmoid, tanh, gelu, softmax,
    elu, selu, softplus, softsign, silu, exponential, hard_sigmoid
};

// The slope of leaky_relu for the fused dense kernels (Keras' default for
// the "leaky_relu" activation).
constexpr double kLeakyReluAlpha = 0.2;

// The parameter of an activation when it is named without one (Dense's
// activation="elu"): leaky_relu's slope, elu's alpha; ignored by the others.
constexpr double default_alpha(Act act) {
    return act == Act::elu ? 1.0 : kLeakyReluAlpha;
}

// Whether the backward kernel reads the activation's input (the
// pre-activation) rather than its output.  A layer that fuses such an
// activation keeps its pre-activation for the backward pass.
constexpr bool backward_reads_input(Act act) {
    return act == Act::gelu || act == Act::elu || act == Act::selu || act == Act::softplus ||
           act == Act::softsign || act == Act::silu;
}

}  // namespace bprop
