#include "elementwise.hpp"

#include "activation_apply.hpp"
#include "parallel.hpp"

namespace bprop {

template <typename T>
void activation_forward(Act act, const T* x, T* y, index_t n, T alpha) {
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
        activation_forward_span(act, x + b, y + b, e - b, alpha);
    });
}

template <typename T>
void activation_backward(Act act, const T* dy, const T* z_or_y, T* dx, index_t n, T alpha) {
    parallel_chunks(n, kElementwiseChunk, [&](index_t, index_t b, index_t e) {
        activation_backward_span(act, dy + b, z_or_y == nullptr ? nullptr : z_or_y + b, dx + b,
                                 e - b, alpha);
    });
}

template void activation_forward<float>(Act, const float*, float*, index_t, float);
template void activation_forward<double>(Act, const double*, double*, index_t, double);
template void activation_backward<float>(Act, const float*, const float*, float*, index_t, float);
template void activation_backward<double>(Act, const double*, const double*, double*, index_t,
                                          double);

}  // namespace bprop
