// The activations the fused kernels know, shared by GEMM's epilogue,
// the elementwise kernels and the dense layer kernels.
#pragma once

namespace bprop {

enum class Act { linear, relu, leaky_relu, sigmoid, tanh, gelu, softmax };

// The slope of leaky_relu for the fused dense kernels (Keras' default for
// the "leaky_relu" activation).
constexpr double kLeakyReluAlpha = 0.2;

}  // namespace bprop
