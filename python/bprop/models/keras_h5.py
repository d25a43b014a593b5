"""Keras' HDF5 weight layouts, read without trust and written as Keras writes them.

Keras 3 (``model.weights.h5`` inside a ``.keras`` file, and ``.weights.h5``)::

    vars                                  (the model's own: none)
    layers/<snake_case class name>/vars/0, 1, ...     per layer, in model order:
        dense, dense_1, dropout, ... numbered per class, not the layer's name
    layers/sequential/layers/dense/vars/0 ...         a nested Sequential
    optimizer/vars/0 (iterations), 1 (learning rate, when not a schedule), then
        each trainable variable's slots in turn (Adam: m, v; SGD: momentum; ...)

Keras 2 (legacy ``.h5``: a whole model's ``model_weights`` group, or a
weights-only file's root)::

    attrs layer_names = [layer names]; per layer group attrs weight_names =
    ["dense/kernel:0", ...], the datasets at those paths inside the group;
    optimizer_weights: attrs weight_names, datasets at those paths.

Reading is bounded by the file: a dataset is read only when it is a plain
numeric array (no external or virtual storage: a file cannot make bprop
read other files) whose declared bytes, and whose chunks', fit in what is
left of the file's size; names, counts and ranks are checked first.  HDF5's
own parsing of the file's structure is h5py's; what it refuses becomes a
ValueError naming the file in :mod:`bprop.models.keras_files`.
"""
from __future__ import annotations

import re

import numpy as np

__all__ = ["require_h5py", "H5Reader", "keras3_layer_paths", "write_keras3_weights",
           "read_keras3_weights", "write_legacy_weights", "read_legacy_weights",
           "write_legacy_optimizer", "optimizer_state"]

_MAX_NAMES = 100000
_MAX_RANK = 8
_ATTR_CHUNK = 64512  # Keras splits name lists longer than HDF5's object-header limit


def require_h5py():
    """The h5py module, or ImportError saying how to install it."""
    try:
        import h5py
    except ImportError:
        raise ImportError('h5py is needed to read and write Keras files (.keras, .h5, '
                          '.weights.h5): pip install "bprop[keras]"') from None
    return h5py


def _snake_case(name):
    # keras.src.utils.naming.to_snake_case
    name = re.sub(r"\W+", "", name)
    name = re.sub("(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub("([a-z])([A-Z])", r"\1_\2", name).lower()


# ------------------------------------------------------------------ reading without trust
class H5Reader:
    """Reads arrays and attributes of an open h5py File within a byte budget."""

    def __init__(self, h5file, budget):
        self.h5py = require_h5py()
        self.file = h5file
        self.budget = int(budget)  # bytes the arrays read so far may still take

    def _get(self, parent, path):
        """``parent[path]`` through hard links only (a soft or external link, which could
        lead to another file, is refused); None when absent."""
        obj = parent
        for part in path.split("/"):
            if not part:
                continue
            if not isinstance(obj, self.h5py.Group):
                return None
            try:
                link = obj.get(part, getlink=True)
            except (KeyError, ValueError):  # an odd name
                return None
            if link is None:
                return None
            if not isinstance(link, self.h5py.HardLink):
                raise ValueError("%r is a link (%s); refused: only what the file itself "
                                 "holds is read" % (_path(obj, part), type(link).__name__))
            obj = obj[part]
        return obj

    def group(self, path, parent=None, required=True):
        parent = self.file if parent is None else parent
        obj = self._get(parent, path)
        if obj is None:
            if required:
                raise ValueError("no group %r" % _path(parent, path))
            return None
        if not isinstance(obj, self.h5py.Group):
            raise ValueError("%r is not a group" % _path(parent, path))
        return obj

    def array(self, parent, name):
        """The dataset ``parent[name]`` as a NumPy array, checked before it is read."""
        ds = self._get(parent, name)
        where = _path(parent, name)
        if not isinstance(ds, self.h5py.Dataset):
            raise ValueError("no array %r" % where)
        dtype, shape = ds.dtype, ds.shape
        if shape is None or len(shape) > _MAX_RANK or dtype.kind not in "fiu" \
                or dtype.fields is not None or dtype.subdtype is not None:
            raise ValueError("array %r is a %s of shape %s, expected numbers"
                             % (where, dtype, shape))
        plist = ds.id.get_create_plist()
        if plist.get_external_count() or ds.is_virtual:
            raise ValueError("array %r keeps its data outside the file (refused)" % where)
        nbytes = dtype.itemsize * _product(shape)
        chunk = dtype.itemsize * _product(ds.chunks) if ds.chunks else 0
        if max(nbytes, chunk) > self.budget:
            raise ValueError("array %r declares shape %s of %s (%d bytes): more than the "
                             "file holds" % (where, shape, dtype, max(nbytes, chunk)))
        self.budget -= nbytes
        return np.asarray(ds[()] if shape == () else ds[...])

    def names(self, obj, key):
        """A list of names stored as an attribute (or as Keras' chunks key0, key1, ...)."""
        attrs = obj.attrs
        if key in attrs:
            values = [self._attr(obj, key)]
        else:
            values, i = [], 0
            while "%s%d" % (key, i) in attrs and i < _MAX_NAMES:
                values.append(self._attr(obj, "%s%d" % (key, i)))
                i += 1
            if not values:
                raise ValueError("%r has no %r attribute" % (obj.name, key))
        out = []
        for value in values:
            arr = np.asarray(value)
            if arr.size == 0:
                continue
            if arr.ndim != 1 or arr.dtype.kind not in "SUO":
                raise ValueError("attribute %r of %r is not a list of names" % (key, obj.name))
            for item in arr.tolist():
                if isinstance(item, bytes):
                    item = item.decode("utf-8")
                if not isinstance(item, str):
                    raise ValueError("attribute %r of %r is not a list of names"
                                     % (key, obj.name))
                out.append(item)
        if len(out) > _MAX_NAMES:
            raise ValueError("attribute %r of %r lists %d names" % (key, obj.name, len(out)))
        return out

    def text(self, obj, key):
        """A string attribute (a JSON config), or None when absent."""
        if key not in obj.attrs:
            return None
        value = self._attr(obj, key)
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        if isinstance(value, bytes):
            value = value.decode("utf-8")
        if not isinstance(value, str):
            raise ValueError("attribute %r of %r is not a string" % (key, obj.name))
        return value

    def _attr(self, obj, key):
        aid = self.h5py.h5a.open(obj.id, key.encode("utf-8"))
        try:
            stored = aid.get_storage_size()
        except RuntimeError:  # h5py reports 0 (variable-length strings) as an error
            stored = 0
        if stored > self.budget or _product(aid.shape or ()) > _MAX_NAMES \
                or aid.dtype.kind not in "SUOfiu":
            raise ValueError("attribute %r of %r is not a name list or string" % (key, obj.name))
        return obj.attrs[key]


def _product(shape):
    n = 1
    for d in shape:
        n *= int(d)
    return n


def _path(parent, name):
    base = parent.name.rstrip("/")
    return "%s/%s" % (base, name) if name else (base or "/")


# ------------------------------------------------------------------ Keras 3 layout
def keras3_layer_paths(layers, prefix=""):
    """``[(path of the layer's vars group, layer)]`` in model order, recursing into
    nested models.  ``layers``: ``(class_name, children or None, item)`` triples."""
    out, used = [], {}
    for class_name, children, item in layers:
        name = _snake_case(class_name)
        if name in used:
            used[name] += 1
            name = "%s_%d" % (name, used[name])
        else:
            used[name] = 0
        path = "%slayers/%s" % (prefix, name)
        if children is not None:
            out.extend(keras3_layer_paths(children, path + "/"))
        else:
            out.append((path + "/vars", item))
    return out


def model_tree(model):
    """A bprop model's layers as :func:`keras3_layer_paths` takes them."""
    from .sequential import Sequential

    return [(type(layer).__name__, model_tree(layer) if isinstance(layer, Sequential) else None,
             layer) for layer in model.layers]


def config_tree(arch):
    """The same, of a bprop architecture config (before the model is built)."""
    return [(lc["class_name"], config_tree(lc) if lc["class_name"] == "Sequential" else None,
             lc) for lc in arch["config"]["layers"] if lc["class_name"] != "InputLayer"]


def _vars_group(h5file, path, name):
    group = h5file.create_group(path)
    group.attrs["name"] = name
    return group


def write_keras3_weights(h5file, model, optimizer_arrays):
    """The Keras 3 layout of ``model``'s weights (and ``optimizer_arrays``, or None)."""
    _vars_group(h5file, "vars", model.name)
    for path, layer in keras3_layer_paths(model_tree(model)):
        group = _vars_group(h5file, path, layer.name)
        for i, w in enumerate(layer.get_weights()):
            group[str(i)] = w
    _nested_vars_groups(h5file, model, "")
    if optimizer_arrays is not None:
        group = _vars_group(h5file, "optimizer/vars", model.optimizer.name)
        for i, arr in enumerate(optimizer_arrays):
            group[str(i)] = arr


def _nested_vars_groups(h5file, model, prefix):
    """Each nested model's own (empty) vars group, as Keras writes it."""
    from .sequential import Sequential

    flat = [(type(layer).__name__, None, layer) for layer in model.layers]
    for path, layer in keras3_layer_paths(flat, prefix):
        if isinstance(layer, Sequential):
            base = path[:-len("/vars")]
            _vars_group(h5file, path, layer.name)
            _nested_vars_groups(h5file, layer, base + "/")


def _numbered(reader, group):
    """The arrays "0", "1", ... of a vars group, in order (no other members)."""
    keys = list(group.keys())
    if sorted(keys, key=lambda k: (len(k), k)) != [str(i) for i in range(len(keys))]:
        raise ValueError("%r holds %s, expected arrays named 0, 1, ..."
                         % (group.name, sorted(keys)[:10]))
    return [reader.array(group, str(i)) for i in range(len(keys))]


def read_keras3_weights(reader, tree):
    """The flat weight list (model order) of the layers ``tree`` from a Keras 3 file,
    and the optimizer's arrays (None when the file has none)."""
    weights = []
    for path, _ in keras3_layer_paths(tree):
        group = reader.group(path, required=False)
        if group is not None:  # a layer without weights may have no group at all
            weights.extend(_numbered(reader, group))
    own = reader.group("vars", required=False)
    if own is not None and len(own):
        raise ValueError("the model itself holds %d variables; a Sequential has none"
                         % len(own))
    group = reader.group("optimizer/vars", required=False)
    return weights, (None if group is None else _numbered(reader, group))


# ------------------------------------------------------------------ Keras 2 (legacy) layout
def _set_names(obj, key, names):
    """Keras' save_attributes_to_hdf5_group: one attribute, or chunks when long."""
    data = np.array([n.encode("utf-8") for n in names]) if names else np.array([])
    if data.nbytes <= _ATTR_CHUNK:
        obj.attrs[key] = data
        return
    chunks = int(np.ceil(data.nbytes / _ATTR_CHUNK))
    for i, part in enumerate(np.array_split(data, chunks)):
        obj.attrs["%s%d" % (key, i)] = part


def _weight_names(layer):
    names = [v.name + ":0" for v in layer.weights]
    if len(set(names)) != len(names):
        names = ["%s/weight_%d:0" % (layer.name, i) for i in range(len(names))]
    return names


def write_legacy_weights(group, model, keras_version):
    """``model``'s weights in the Keras 2 layout, into ``group`` (a file's root for
    save_weights, its ``model_weights`` group for a whole model)."""
    group.attrs["backend"] = "tensorflow"
    group.attrs["keras_version"] = keras_version
    _set_names(group, "layer_names", [layer.name for layer in model.layers])
    for layer in model.layers:
        g = group.create_group(layer.name)
        names = _weight_names(layer)
        _set_names(g, "weight_names", names)
        for name, value in zip(names, layer.get_weights()):
            g.create_dataset(name, data=value)
    top = group.create_group("top_level_model_weights")
    _set_names(top, "weight_names", [])


def read_legacy_weights(reader, group):
    """The flat weight list of a Keras 2 weights group, in layer order."""
    weights = []
    for layer_name in reader.names(group, "layer_names"):
        g = reader.group(layer_name, parent=group)
        for weight_name in reader.names(g, "weight_names"):
            weights.append(reader.array(g, weight_name))
    top = reader.group("top_level_model_weights", parent=group, required=False)
    if top is not None and reader.names(top, "weight_names"):
        raise ValueError("the model itself holds weights; a Sequential has none")
    return weights


# Keras 2 slot names (tf.keras 2.11+ optimizers) of bprop's slots, for writing.
_LEGACY_SLOTS = {"Adam": ("m", "v"), "AdamW": ("m", "v"), "SGD": ("m",),
                 "RMSprop": ("velocity",), "Adagrad": ("accumulator",)}
# Every name Keras 1/2/3 gives each bprop slot, for reading.
_SLOT_ALIASES = {"m": ("m", "momentum"), "v": ("v", "velocity"),
                 "velocity": ("m", "momentum"), "sq_avg": ("rms", "velocity"),
                 "accumulator": ("accumulator",)}


def write_legacy_optimizer(h5file, model, state_arrays):
    """``optimizer_weights`` as tf.keras 2.11+ writes it: iteration:0, then each
    variable's slots in turn ("Adam/m/dense/kernel:0", "Adam/v/dense/kernel:0", ...)."""
    optimizer = model.optimizer
    cls = type(optimizer).__name__
    names = ["iteration:0"]
    for var in model.trainable_variables:
        for slot in _LEGACY_SLOTS[cls][:len(optimizer._slot_names)]:
            names.append("%s/%s/%s:0" % (cls, slot, var.name))
    names = names[:len(state_arrays)]
    group = h5file.create_group("optimizer_weights")
    _set_names(group, "weight_names", names)
    for name, arr in zip(names, state_arrays):
        group.create_dataset(name, data=arr)


def _slot_of(name, slot_names):
    """Which of bprop's ``slot_names`` a Keras optimizer weight name is.  Keras 1/2
    (OptimizerV2) wrote "Adam/dense/kernel/m:0", tf.keras 2.11+ "Adam/m/dense/kernel:0"
    (read back as "m/dense/kernel:0"), Keras 3 "adam/sequential_dense_kernel_momentum"."""
    parts = [p for p in re.sub(r":\d+$", "", name).split("/") if p]
    if not parts:
        return None
    candidates = [parts[-1], parts[-1].rsplit("_", 1)[-1], parts[0]] + parts[1:2]
    for token in candidates:
        for slot in slot_names:
            if token in _SLOT_ALIASES.get(slot, (slot,)):
                return slot
    return None


def optimizer_state(arrays, names, optimizer, variables):
    """bprop's ``[iterations, slots...]`` (per variable, in ``_slot_names`` order) from
    a Keras optimizer's arrays: by position (Keras 3: [iterations, learning rate?,
    each variable's slots]) or, given ``names`` (legacy files), by name."""
    slots = tuple(optimizer._slot_names)
    if not arrays:
        raise ValueError("the optimizer state is empty (no iteration count)")
    iterations = arrays[0]
    if iterations.ndim != 0 or iterations.dtype.kind not in "iu":
        raise ValueError("the optimizer's first array is %s %s, expected the iteration "
                         "count (an integer scalar)" % (iterations.dtype, iterations.shape))
    rest = list(zip(arrays[1:], (names or [None] * len(arrays))[1:]))
    rest = [(a, n) for a, n in rest if not (a.ndim == 0 and a.dtype.kind == "f")]  # lr
    if not rest:
        return [iterations]  # Keras had not built its slots yet
    expected = len(slots) * len(variables)
    if len(rest) != expected:
        raise ValueError("the optimizer state holds %d slot arrays; %s over %d variables "
                         "keeps %d" % (len(rest), type(optimizer).__name__, len(variables),
                                       expected))
    if names is None:
        ordered = [a for a, _ in rest]
    else:  # legacy files: Keras 2 grouped slots by kind (m..., v...), Keras 3 per variable
        by_slot = {s: [] for s in slots}
        for a, n in rest:
            slot = _slot_of(n, slots)
            if slot is None:
                raise ValueError("optimizer weight %r is none of %s' slots %s"
                                 % (n, type(optimizer).__name__, slots))
            by_slot[slot].append(a)
        if any(len(v) != len(variables) for v in by_slot.values()):
            raise ValueError("the optimizer weights do not give each of the %d variables "
                             "its slots %s" % (len(variables), slots))
        ordered = [by_slot[s][i] for i in range(len(variables)) for s in slots]
    for arr, (var, slot) in zip(ordered, [(v, s) for v in variables for s in slots]):
        if arr.shape != var.shape or arr.dtype.kind != "f":
            raise ValueError("optimizer slot %r of %s is stored as %s %s, expected shape %s"
                             % (slot, var.name, arr.dtype, arr.shape, var.shape))
    return [iterations] + ordered
