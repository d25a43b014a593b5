// What a data-parallel job adds to a step: the sum, over every process, of a
// flat buffer (all the trainable parameters' gradients, then the step's loss
// and metric sums).  The core only sees this interface; the bindings
// implement it with mpi4py, so the core never links MPI.
#pragma once

#include "../common.hpp"

namespace bprop::plan {

template <typename T>
class Collective {
public:
    virtual ~Collective() = default;
    // data[0:count] = the sum of every process's data[0:count], in place; every
    // process gets the same bits.
    virtual void allreduce_sum(T* data, index_t count) = 0;
};

}  // namespace bprop::plan
