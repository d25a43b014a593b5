// bprop._core: creates the module and lets each area register its functions.
#include "checks.hpp"

PYBIND11_MODULE(_core, m) {
    m.doc() = "bprop's compiled kernels (use them through bprop.ops)";
    bprop_py::register_gemm(m);
    bprop_py::register_activations(m);
    bprop_py::register_losses(m);
    bprop_py::register_dense(m);
    bprop_py::register_optimizers(m);
    bprop_py::register_dropout(m);
    bprop_py::register_regularizers(m);
    bprop_py::register_conv(m);
    bprop_py::register_pool(m);
    bprop_py::register_plan(m);
    bprop_py::register_info(m);
}
