"""``bprop.GradientTape``: records tensor ops and replays them backwards.

Every op of :mod:`bprop.autodiff` calls :func:`record` with its operands,
its output Tensor and a backward rule.  Each tape that is recording keeps
the op when one of its operands is *tracked* by the tape: a watched Tensor,
a trainable Variable (watched on first use, as TensorFlow does), or the
output of an op the tape kept.  ``gradient()`` walks the kept ops newest
first (they were appended in execution order, so that is a valid
reverse-topological order) and accumulates vector-Jacobian products.

Backward rules compute on ndarrays (backend kernels and NumPy), so
gradients are not themselves differentiable: no higher-order derivatives.
"""
from __future__ import annotations

import contextlib
import threading

import numpy as np

from ..variables import Variable
from .tensor import Tensor

__all__ = ["GradientTape", "tape_is_recording", "record"]

_UNCONNECTED = ("none", "zero")


class _Stack(threading.local):
    """The active tapes of this thread (tapes are thread-local, as in TF)."""

    def __init__(self):
        self.tapes = []


_STACK = _Stack()


def tape_is_recording():
    """True when some GradientTape of this thread is recording."""
    return any(t._recording for t in _STACK.tapes)


def record(name, sources, output, backward):
    """Offer an executed op to every recording tape.

    ``sources``: one entry per operand, the Tensor/Variable it came from or
    None for plain data; ``output``: the op's result Tensor;
    ``backward(dy, needs) -> grads``: ``dy`` is the gradient of the output,
    ``needs[i]`` says whether operand ``i`` wants a gradient; ``grads[i]``
    has operand ``i``'s shape (or is None when not needed).
    """
    for tape in _STACK.tapes:
        if tape._recording:
            tape._record(name, sources, output, backward)


class _Node:
    __slots__ = ("name", "sources", "output", "backward", "tracked")

    def __init__(self, name, sources, output, backward, tracked):
        self.name = name
        self.sources = sources
        self.output = output
        self.backward = backward
        self.tracked = tracked


def _flatten(structure, argname):
    """Sources may be one object, a list/tuple (nested) or a dict of them."""
    if isinstance(structure, (Tensor, Variable)):
        return [structure], lambda flat: flat[0]
    if isinstance(structure, dict):
        keys = list(structure)
        parts = [_flatten(structure[k], argname) for k in keys]
        return _join(parts, lambda vals: dict(zip(keys, vals)))
    if isinstance(structure, (list, tuple)):
        parts = [_flatten(s, argname) for s in structure]
        kind = type(structure) if isinstance(structure, list) else tuple
        return _join(parts, kind)
    raise TypeError(
        "%s: expected a bprop.Variable or bprop.Tensor (or a list/tuple/dict of them), "
        "got %s" % (argname, type(structure).__name__)
    )


def _join(parts, build):
    flat, sizes = [], []
    for items, _ in parts:
        flat.extend(items)
        sizes.append(len(items))

    def rebuild(values):
        out, i = [], 0
        for (_, sub), n in zip(parts, sizes):
            out.append(sub(values[i:i + n]))
            i += n
        return build(out)

    return flat, rebuild


class GradientTape:
    """Record operations for automatic differentiation (reverse mode).

    ``GradientTape(persistent=False, watch_accessed_variables=True)``;
    use as a context manager::

        with bprop.GradientTape() as tape:
            loss = bprop.reduce_mean(bprop.square(y - (w * x + b)))
        dw, db = tape.gradient(loss, [w, b])

    A non-persistent tape answers one ``gradient()`` call and then frees its
    records; ``persistent=True`` keeps them for several calls.
    """

    def __init__(self, persistent=False, watch_accessed_variables=True):
        self._persistent = bool(persistent)
        self._watch_accessed = bool(watch_accessed_variables)
        self._recording = False
        self._used = False
        self._nodes = []
        self._tracked = {}  # id -> object (the value keeps the id alive and unique)

    # ------------------------------------------------------------ recording
    def __enter__(self):
        if self in _STACK.tapes:
            raise RuntimeError("GradientTape: this tape is already recording (nested `with` on the same tape)")
        if self._used and not self._persistent:
            raise RuntimeError(
                "GradientTape: a non-persistent tape cannot record again after gradient(); "
                "create a new tape or use persistent=True"
            )
        _STACK.tapes.append(self)
        self._recording = True
        return self

    def __exit__(self, exc_type, exc, tb):
        self._recording = False
        if self in _STACK.tapes:
            _STACK.tapes.remove(self)
        return False

    @contextlib.contextmanager
    def stop_recording(self):
        """Temporarily stop recording ops on this tape (``with tape.stop_recording():``)."""
        if not self._recording:
            raise RuntimeError("GradientTape.stop_recording: the tape is not recording")
        self._recording = False
        try:
            yield
        finally:
            self._recording = True

    def reset(self):
        """Forget everything recorded so far (the tape keeps recording if it was)."""
        self._nodes = []
        self._tracked = {}
        self._used = False

    def watch(self, tensor):
        """Track a Tensor or Variable (or a list/tuple/dict of them).  Integer
        and bool tensors are constants (no gradient flows through them, as in
        TensorFlow): watching them is allowed and does nothing."""
        for obj in _flatten(tensor, "tensor")[0]:
            if obj.dtype.kind == "f":
                self._tracked[id(obj)] = obj

    def watched_variables(self):
        """The Variables this tape tracks, in the order first seen."""
        return tuple(o for o in self._tracked.values() if isinstance(o, Variable))

    def _is_tracked(self, obj):
        if obj is None:
            return False
        if id(obj) in self._tracked:
            return True
        if self._watch_accessed and isinstance(obj, Variable) and obj.trainable:
            self._tracked[id(obj)] = obj
            return True
        return False

    def _record(self, name, sources, output, backward):
        tracked = tuple(self._is_tracked(s) for s in sources)
        if any(tracked):
            self._nodes.append(_Node(name, tuple(sources), output, backward, tracked))
            self._tracked[id(output)] = output

    # ------------------------------------------------------------ gradients
    def gradient(self, target, sources, output_gradients=None, unconnected_gradients="none"):
        """Gradients of ``target`` with respect to ``sources``.

        ``target``: a scalar Tensor (or a list of them, summed); a non-scalar
        target needs ``output_gradients`` of its shape (the vector of the
        vector-Jacobian product).  ``sources``: a Variable/Tensor or a
        list/tuple/dict of them; the result has the same structure, each
        gradient a Tensor of its source's shape and dtype, or None when the
        source does not influence the target (``unconnected_gradients="zero"``
        gives zeros instead).
        """
        if self._used and not self._persistent:
            raise RuntimeError(
                "GradientTape.gradient: a non-persistent GradientTape can only be used to "
                "compute one set of gradients; create it with persistent=True to call "
                "gradient() several times"
            )
        if unconnected_gradients not in _UNCONNECTED:
            raise ValueError(
                "unconnected_gradients: expected 'none' or 'zero', got %r" % (unconnected_gradients,)
            )
        flat_sources, rebuild = _flatten(sources, "sources")
        seeds = self._seeds(target, output_gradients)
        grads = self._backprop(seeds, flat_sources)
        if not self._persistent:
            self._used = True
            self._nodes = []
            self._tracked = {}
        out = []
        for src in flat_sources:
            g = grads.get(id(src))
            if g is None and unconnected_gradients == "zero":
                g = np.zeros(src.shape, dtype=src.dtype)
            out.append(None if g is None else Tensor._wrap(_owned(g, src)))
        return rebuild(out)

    def jacobian(self, target, sources, unconnected_gradients="none"):
        """Full Jacobian: for each source, an array of shape target.shape + source.shape."""
        if self._used and not self._persistent:
            raise RuntimeError(
                "GradientTape.jacobian: a non-persistent GradientTape can only be used to "
                "compute one set of gradients; create it with persistent=True"
            )
        if not isinstance(target, (Tensor, Variable)):
            raise TypeError("target: expected a bprop.Tensor or bprop.Variable, got %s"
                            % type(target).__name__)
        flat_sources, rebuild = _flatten(sources, "sources")
        rows = [[] for _ in flat_sources]
        for i in range(target.size):
            seed = np.zeros(target.size, dtype=target.dtype)
            seed[i] = 1
            grads = self._backprop([(target, seed.reshape(target.shape))], flat_sources)
            for row, src in zip(rows, flat_sources):
                row.append(grads.get(id(src)))
        if not self._persistent:
            self._used = True
            self._nodes = []
            self._tracked = {}
        out = []
        for row, src in zip(rows, flat_sources):
            if all(g is None for g in row) and unconnected_gradients == "none":
                out.append(None)
                continue
            full = np.stack([np.zeros(src.shape, src.dtype) if g is None else np.asarray(g)
                             for g in row]) if row else np.zeros((0,) + src.shape, src.dtype)
            out.append(Tensor._wrap(full.reshape(target.shape + src.shape)))
        return rebuild(out)

    def _seeds(self, target, output_gradients):
        single = isinstance(target, (Tensor, Variable))
        targets = [target] if single else target
        if not isinstance(targets, (list, tuple)):
            raise TypeError(
                "target: expected a bprop.Tensor or bprop.Variable (or a list of them), got %s"
                % type(target).__name__
            )
        if output_gradients is None:
            ograds = [None] * len(targets)
        else:
            ograds = [output_gradients] if single else list(output_gradients)
            if len(ograds) != len(targets):
                raise ValueError(
                    "output_gradients: expected %d entries (one per target), got %d"
                    % (len(targets), len(ograds))
                )
        seeds = []
        for i, (t, og) in enumerate(zip(targets, ograds)):
            where = "target" if single else "target[%d]" % i
            if not isinstance(t, (Tensor, Variable)):
                raise TypeError("%s: expected a bprop.Tensor or bprop.Variable, got %s"
                                % (where, type(t).__name__))
            if og is None:
                if t.size != 1:
                    raise ValueError(
                        "%s: expected a scalar (one element) to differentiate, got shape %s; "
                        "reduce it first (e.g. bprop.reduce_mean) or pass output_gradients= "
                        "of shape %s" % (where, t.shape, t.shape)
                    )
                seed = np.ones(t.shape, dtype=t.dtype)
            else:
                seed = np.asarray(og)
                if seed.shape != t.shape:
                    raise ValueError("output_gradients: expected shape %s (the target's), got %s"
                                     % (t.shape, seed.shape))
                if seed.dtype.kind == "f" and seed.dtype != t.dtype:
                    raise TypeError("output_gradients: expected dtype %s (the target's), got %s"
                                    % (t.dtype, seed.dtype))
                seed = seed.astype(t.dtype, copy=True)  # ours, not the caller's
            seeds.append((t, seed))
        return seeds

    def _backprop(self, seeds, sources):
        """id -> accumulated gradient, for every object between targets and sources."""
        # Forward sweep: which recorded values depend on a source (prunes the
        # backward sweep to gradients that can reach one).
        reaches = {id(s) for s in sources}
        for node in self._nodes:
            if any(t and id(s) in reaches for s, t in zip(node.sources, node.tracked)):
                reaches.add(id(node.output))
        grads = {}
        for t, seed in seeds:
            if id(t) in reaches:
                _accumulate(grads, id(t), seed)
        wanted = {id(s) for s in sources}
        for node in reversed(self._nodes):
            key = id(node.output)
            dy = grads.get(key)
            if dy is None:
                continue
            if key not in wanted:
                del grads[key]  # consumed: free it early
            needs = tuple(t and id(s) in reaches for s, t in zip(node.sources, node.tracked))
            if not any(needs):
                continue
            results = node.backward(dy, needs)
            for src, need, g in zip(node.sources, needs, results):
                if need and g is not None:
                    if np.shape(g) != src.shape:
                        raise RuntimeError(
                            "GradientTape: the backward rule of %r returned shape %s for an "
                            "operand of shape %s" % (node.name, np.shape(g), src.shape)
                        )
                    _accumulate(grads, id(src), g)
        return grads


def _accumulate(grads, key, g):
    prev = grads.get(key)
    g = np.asarray(g)
    # Never add in place: ``g`` may be a view or a buffer owned by a layer.
    grads[key] = g if prev is None else prev + g


def _owned(g, src):
    """A C-contiguous array of the source's dtype that nothing else holds."""
    g = np.asarray(g)
    if g.dtype != src.dtype:
        g = g.astype(src.dtype)
    g = g.reshape(src.shape)
    if not g.flags.c_contiguous or not g.flags.owndata or not g.flags.writeable:
        g = np.array(g, order="C", copy=True)
    return g
