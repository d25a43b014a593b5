// What the backward bindings of layers with a kernel (dense_backward,
// conv2d_backward) check alike: the saved activation and the dx / dw / db
// outputs.
#pragma once

#include <string>
#include <vector>

#include "checks.hpp"

namespace bprop_py {

// The pre-activation (or output) the activation's derivative reads: an empty
// array for a linear layer, else required, of x's dtype and dy's shape.
inline py::array saved_activation(py::handle zy_obj, bprop::Act act, py::handle act_obj, DType dt,
                                  const py::array& dy) {
    if (act == bprop::Act::linear) return py::array();
    if (zy_obj.is_none())
        throw py::value_error("z_or_y: required for activation '" + act_obj.cast<std::string>() + "', got None");
    py::array zy = c_contiguous(float_arg(zy_obj, "z_or_y", dt, "x"));
    require_same_shape(zy, "z_or_y", dy, "dy");
    return zy;
}

// dx, dw and db: each requested one the user's `out` array (checked against
// the four inputs dy, x, the kernel and z_or_y) or a new one; none may overlap
// another.  An empty array for one not requested.
struct LayerGrads {
    py::array dx, dw, db;
};

inline LayerGrads layer_grad_outputs(DType dt, const Input (&inputs)[4], py::handle dx_obj,
                                     const std::vector<py::ssize_t>& dx_shape, bool need_dx, py::handle dw_obj,
                                     const std::vector<py::ssize_t>& dw_shape, bool need_dw, py::handle db_obj,
                                     const std::vector<py::ssize_t>& db_shape, bool need_db) {
    auto out = [&](py::handle o, const char* name, const std::vector<py::ssize_t>& shape) {
        return output(o, name, shape, dt, {inputs[0], inputs[1], inputs[2], inputs[3]}, false);
    };
    LayerGrads g;
    if (need_dx) g.dx = out(dx_obj, "dx", dx_shape);
    if (need_dw) g.dw = out(dw_obj, "dw", dw_shape);
    if (need_db) g.db = out(db_obj, "db", db_shape);
    if (need_dx && ((need_dw && overlaps(g.dx, g.dw)) || (need_db && overlaps(g.dx, g.db))))
        throw py::value_error("dx: must not overlap dw or db");
    if (need_dw && need_db && overlaps(g.dw, g.db)) throw py::value_error("dw: must not overlap db");
    return g;
}

// The backward's result: (dx, dw, db), None for one not requested.
inline py::tuple layer_grads_tuple(const LayerGrads& g, bool need_dx, bool need_dw, bool need_db) {
    auto maybe = [](bool need, const py::array& a) { return need ? py::object(a) : py::object(py::none()); };
    return py::make_tuple(maybe(need_dx, g.dx), maybe(need_dw, g.dw), maybe(need_db, g.db));
}

}  // namespace bprop_py
