"""The ``Optimizer`` base class: validation, clipping, slots, state, backends.

A subclass declares its slot names (``_slot_names``), how to initialise
them (``_slot_initial_value``), and ``_update(backend, param, grad, slots,
lr, step)``, which makes exactly one call of the backend's update kernel
(``sgd_update``, ``rmsprop_update``, ``adam_update`` or ``adagrad_update``)
that changes ``param`` (``Variable.value``) in place.  ``_core_spec()``
describes the same update to the core's compiled step (None for an update
the core does not know, such as a user's subclass overriding ``_update``).

Hyper-parameters are :class:`Hyper` attributes: checked whenever they are
set (in ``__init__`` or later), so no path (the compiled step, the update
kernels, ``apply_gradients``) ever sees an invalid value.

Slots are created lazily the first time a Variable is seen, or eagerly by
``build(variables)``, and are kept per Variable in first-seen order; that
order is the order of :meth:`Optimizer.get_state`.
"""
from __future__ import annotations

import math
import numbers

import numpy as np

from .. import utils
from .._aligned import aligned_copy
from ..variables import Variable
from . import schedules


def _check_lr(value):
    if isinstance(value, schedules.LearningRateSchedule):
        return value
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(
            "learning_rate: expected a non-negative float or a LearningRateSchedule, got %r"
            % (value,)
        )
    value = float(value)
    if not (value >= 0.0 and math.isfinite(value)):
        raise ValueError("learning_rate: expected a finite float >= 0, got %r" % (value,))
    return value


def check_real(value, argname, low=None, high=None, low_open=False, high_open=False):
    """Validate a real hyper-parameter against [low, high] (open ends when asked)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError("%s: expected a real number, got %r" % (argname, value))
    value = float(value)
    ok = not math.isnan(value)
    if ok and low is not None:
        ok = value > low if low_open else value >= low
    if ok and high is not None:
        ok = value < high if high_open else value <= high
    if not ok:
        lo = "-inf" if low is None else repr(low)
        hi = "inf" if high is None else repr(high)
        interval = "%s%s, %s%s" % ("(" if low_open or low is None else "[", lo, hi,
                                   ")" if high_open or high is None else "]")
        raise ValueError("%s: expected a value in %s, got %r" % (argname, interval, value))
    return value


def check_finite(value, argname, low=None, high=None, low_open=False, high_open=False):
    """:func:`check_real`, and finite."""
    value = check_real(value, argname, low, high, low_open, high_open)
    if not math.isfinite(value):
        raise ValueError("%s: expected a finite value, got %r" % (argname, value))
    return value


def unit_open(value, argname):
    """A decay rate in [0, 1) (Adam's betas, RMSprop's rho)."""
    return check_real(value, argname, 0.0, 1.0, high_open=True)


def unit_closed(value, argname):
    """A value in [0, 1] (momentum)."""
    return check_real(value, argname, 0.0, 1.0)


def finite_nonneg(value, argname):
    """A finite value >= 0 (epsilons, weight decay, initial accumulators)."""
    return check_finite(value, argname, low=0.0)


class Hyper:
    """A hyper-parameter attribute validated by ``check(value, name)`` on every set."""

    def __init__(self, check):
        self.check = check

    def __set_name__(self, owner, name):
        self.name = name
        self.attr = "_hyper_" + name

    def __get__(self, obj, owner=None):
        return self if obj is None else getattr(obj, self.attr)

    def __set__(self, obj, value):
        setattr(obj, self.attr, self.check(value, self.name))


_CLIPS = ("clipnorm", "clipvalue", "global_clipnorm")


def _check_clip(value, argname):
    if value is None:
        return None
    return check_finite(value, argname, low=0.0, low_open=True)


class _Clip(Hyper):
    """clipnorm / clipvalue / global_clipnorm: > 0 or None, at most one set."""

    def __init__(self):
        super().__init__(_check_clip)

    def __set__(self, obj, value):
        value = self.check(value, self.name)
        others = [k for k in _CLIPS if k != self.name and getattr(obj, "_hyper_" + k, None)
                  is not None]
        if value is not None and others:
            raise ValueError("clipnorm, clipvalue, global_clipnorm: at most one may be set, got "
                             "%s" % ", ".join(sorted(others + [self.name])))
        setattr(obj, self.attr, value)


class Optimizer:
    """Base of all optimizers.

    ``learning_rate``: float >= 0 or a ``schedules.LearningRateSchedule``.
    ``clipnorm``: clip each gradient to this L2 norm; ``clipvalue``: clip each
    element to [-v, v]; ``global_clipnorm``: scale all gradients so that their
    joint L2 norm is at most this.  At most one of the three may be set.
    ``backend``: None/"core" (bprop.ops) or "numpy" (bprop.reference).
    """

    _slot_names = ()
    clipnorm = _Clip()
    clipvalue = _Clip()
    global_clipnorm = _Clip()

    def __init__(self, learning_rate, clipnorm=None, clipvalue=None, global_clipnorm=None,
                 name=None, backend=None):
        self._learning_rate = _check_lr(learning_rate)
        given = [k for k, v in zip(_CLIPS, (clipnorm, clipvalue, global_clipnorm))
                 if v is not None]
        if len(given) > 1:
            raise ValueError(
                "clipnorm, clipvalue, global_clipnorm: at most one may be set, got %s"
                % ", ".join(given)
            )
        for key in _CLIPS:
            setattr(self, "_hyper_" + key, None)
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.name = name if name is not None else type(self).__name__.lower()
        self._backend_spec = backend
        self._backend = None  # resolved lazily: bprop.ops needs the compiled core
        self.iterations = 0
        self._slots = {}          # Variable -> list of ndarrays (order of _slot_names)
        self._variables = []      # first-seen order
        self._clip_buffers = {}   # Variable -> scratch ndarray for clipped gradients
        self._pending_state = None

    # ------------------------------------------------------------ learning rate
    @property
    def learning_rate(self):
        """The rate the next step uses, as Keras 3 reads it: the float given, or the
        schedule's value at ``iterations`` (the schedule itself: ``_learning_rate``)."""
        return self.current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value):
        if isinstance(value, np.ndarray) and value.ndim == 0:
            value = value.item()
        elif isinstance(value, np.generic):
            value = value.item()
        if isinstance(self._learning_rate, schedules.LearningRateSchedule) and \
                not isinstance(value, schedules.LearningRateSchedule):
            raise TypeError("learning_rate: this optimizer was created with the schedule %r; "
                            "its learning rate cannot be set to a number (give it another "
                            "schedule, or create the optimizer with a float)"
                            % (self._learning_rate,))
        self._learning_rate = _check_lr(value)

    # Keras 2 spelling, still used by older user code.
    lr = learning_rate

    def _replace_learning_rate(self, value):
        """Set the rate even over a schedule (what LearningRateScheduler and
        ReduceLROnPlateau do: from then on the callback drives the rate)."""
        self._learning_rate = _check_lr(float(value))

    def current_learning_rate(self):
        """The rate the next step uses: the float, or the schedule at ``iterations``."""
        return self._learning_rate_at(self.iterations)

    def _learning_rate_at(self, iterations):
        """The rate of the step taken after ``iterations`` steps (a schedule's
        value is checked: finite and >= 0)."""
        lr = self._learning_rate
        if isinstance(lr, schedules.LearningRateSchedule):
            value = float(lr(iterations))
            if not (value >= 0.0 and math.isfinite(value)):
                raise ValueError("learning_rate: the schedule %r gave %r at step %d; expected a "
                                 "finite value >= 0" % (lr, value, iterations))
            return value
        return lr

    # ------------------------------------------------------------ backend
    @property
    def backend(self):
        if self._backend is None:
            self._backend = utils.get_backend(self._backend_spec)
        return self._backend

    def set_backend(self, backend):
        """Use ``bprop.ops`` (None/"core") or ``bprop.reference`` ("numpy") from now on."""
        self._backend = utils.get_backend(backend)
        self._backend_spec = self._backend
        return self

    # ------------------------------------------------------------ slots
    def _slot_initial_value(self, slot_name, variable):
        return np.zeros_like(variable.value)

    def _ensure_slots(self, variable):
        slots = self._slots.get(variable)
        if slots is None:
            # Fresh, C-contiguous and cache-line aligned (see _aligned.py);
            # a 0-d slot stays 0-d.
            slots = [aligned_copy(self._slot_initial_value(n, variable), variable.dtype)
                     for n in self._slot_names]
            self._slots[variable] = slots
            self._variables.append(variable)
        return slots

    def build(self, variables):
        """Create the slots of ``variables`` now, in this order (then apply any pending state)."""
        for v in variables:
            self._ensure_slots(_check_variable(v, "variables"))
        if self._pending_state is not None:
            state, self._pending_state = self._pending_state, None
            self.set_state(state)
        return self

    @property
    def tracked_variables(self):
        """The model Variables this optimizer holds slots for, in first-seen order
        (the order of :meth:`get_state`)."""
        return list(self._variables)

    def get_slot(self, variable, slot_name):
        """The slot array ``slot_name`` (e.g. "m", "velocity") of ``variable``."""
        if slot_name not in self._slot_names:
            raise ValueError("slot_name: expected one of %r, got %r"
                             % (self._slot_names, slot_name))
        if variable not in self._slots:
            raise KeyError("variable: %r has no slots yet (apply a gradient first)"
                           % (getattr(variable, "name", variable),))
        return self._slots[variable][self._slot_names.index(slot_name)]

    # ------------------------------------------------------------ state (saving)
    @property
    def variables(self):
        """Keras' ``optimizer.variables``: the step count, then every slot (copies)."""
        return self.get_state()

    def get_state(self):
        """``[iterations, slots...]``: a 0-d int64 array, then each variable's slots
        (in ``_slot_names`` order) for the variables in first-seen order (see
        :meth:`build`).  Copies, safe to store."""
        state = [np.array(self.iterations, dtype=np.int64)]
        for v in self._variables:
            state.extend(s.copy() for s in self._slots[v])
        return state

    def set_state(self, state):
        """Inverse of :meth:`get_state`.

        If no variable is known yet, the state is kept and applied when
        :meth:`build` (or the first ``apply_gradients``) sees the variables;
        call ``build(model.trainable_variables)`` first to apply it at once.
        """
        state = list(state)
        if not state:
            raise ValueError("state: expected [iterations, slots...], got an empty list")
        if not self._variables and len(state) > 1:
            self._pending_state = state
            self.iterations = _check_iterations(state[0])
            return self
        expected = len(self._variables) * len(self._slot_names)
        if len(state) - 1 != expected:
            raise ValueError(
                "state: expected %d slot arrays (%d variables x %d slots %r), got %d"
                % (expected, len(self._variables), len(self._slot_names),
                   self._slot_names, len(state) - 1)
            )
        pos = 1
        new_slots = []
        for v in self._variables:
            for slot_name, current in zip(self._slot_names, self._slots[v]):
                arr = np.asarray(state[pos])
                if arr.shape != current.shape:
                    raise ValueError(
                        "state[%d]: expected shape %s (slot %r of %s), got %s"
                        % (pos, current.shape, slot_name, v.name, arr.shape)
                    )
                new_slots.append((current, arr))
                pos += 1
        iterations = _check_iterations(state[0])
        for current, arr in new_slots:  # validated everything before mutating
            current[...] = arr
        self.iterations = iterations
        return self

    # ------------------------------------------------------------ applying
    def apply_gradients(self, grads_and_vars):
        """Update each Variable in place from its gradient; returns ``iterations``.

        ``grads_and_vars``: iterable of ``(grad, Variable)``; ``grad`` is an
        ndarray (or array-like, e.g. a bprop Tensor) of the variable's shape
        and dtype, or None to skip that variable.
        """
        pairs = []
        for i, pair in enumerate(grads_and_vars):
            try:
                grad, var = pair
            except (TypeError, ValueError):
                raise TypeError(
                    "grads_and_vars[%d]: expected a (gradient, Variable) pair, got %r" % (i, pair)
                ) from None
            var = _check_variable(var, "grads_and_vars[%d][1]" % i)
            if grad is None:
                continue
            pairs.append((_check_grad(grad, var, "grads_and_vars[%d][0]" % i), var))
        if not pairs:
            return self.iterations
        if self._pending_state is not None:
            self.build([v for _, v in pairs])
        pairs = self._clip(pairs)
        lr = self.current_learning_rate()
        step = self.iterations + 1
        backend = self.backend
        for grad, var in pairs:
            self._update(backend, var.value, grad, self._ensure_slots(var), lr, step)
        self.iterations = step
        return self.iterations

    def apply(self, grads, trainable_variables=None):
        """Keras 3 order: ``apply(grads, variables)``."""
        if trainable_variables is None:
            if not self._variables:
                raise ValueError("trainable_variables: required on the first call of apply()")
            trainable_variables = self._variables
        grads = list(grads)
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                "grads: expected one per variable (%d), got %d"
                % (len(trainable_variables), len(grads))
            )
        return self.apply_gradients(zip(grads, trainable_variables))

    def minimize(self, loss, var_list, tape=None):
        """Differentiate ``loss`` with a GradientTape and apply the gradients.

        Without ``tape``, ``loss`` is a zero-argument callable returning the
        loss (recorded on a new ``bprop.GradientTape``).  With ``tape``,
        ``loss`` is the loss tensor already recorded on it.  ``var_list`` is a
        list of Variables or a callable returning one.  Returns the loss.
        """
        if tape is None:
            if not callable(loss):
                raise TypeError(
                    "loss: expected a callable when tape is None, got %r" % (loss,)
                )
            from ..autodiff import GradientTape  # lazy: autodiff imports the layers

            with GradientTape() as tape:
                loss_value = loss()
        else:
            loss_value = loss
        variables = list(var_list() if callable(var_list) else var_list)
        grads = tape.gradient(loss_value, variables)
        self.apply_gradients(zip(grads, variables))
        return loss_value

    def _clip(self, pairs):
        """Clipped copies of the gradients (the caller's arrays are never modified)."""
        if self.clipvalue is not None:
            out = []
            for g, v in pairs:
                buf = self._clip_buffer(v)
                np.clip(g, -self.clipvalue, self.clipvalue, out=buf)
                out.append((buf, v))
            return out
        if self.clipnorm is not None:
            out = []
            for g, v in pairs:
                norm = math.sqrt(_sum_squares(g, self.backend))
                if norm > self.clipnorm:
                    buf = self._clip_buffer(v)
                    np.multiply(g, g.dtype.type(self.clipnorm / norm), out=buf)
                    g = buf
                out.append((g, v))
            return out
        if self.global_clipnorm is not None:
            norm = math.sqrt(sum(_sum_squares(g, self.backend) for g, _ in pairs))
            if norm <= self.global_clipnorm:
                return pairs
            scale = self.global_clipnorm / norm
            out = []
            for g, v in pairs:
                buf = self._clip_buffer(v)
                np.multiply(g, g.dtype.type(scale), out=buf)
                out.append((buf, v))
            return out
        return pairs

    def _clip_buffer(self, variable):
        buf = self._clip_buffers.get(variable)
        if buf is None:
            buf = np.empty_like(variable.value)
            self._clip_buffers[variable] = buf
        return buf

    def _update(self, backend, param, grad, slots, lr, step):
        raise NotImplementedError("%s must implement _update" % type(self).__name__)

    def _core_spec(self):
        """The update as the core's compiled step takes it (a dict), or None."""
        return None

    def _clip_spec(self):
        """The clipping part of :meth:`_core_spec` (0 for unset)."""
        return {k: (getattr(self, k) or 0.0) for k in _CLIPS}

    # ------------------------------------------------------------ config
    def get_config(self):
        lr = getattr(self._learning_rate, "_serialize_as", self._learning_rate)  # (a warm-up)
        if isinstance(lr, schedules.LearningRateSchedule):
            lr = schedules.serialize(lr)
        return {"name": self.name, "learning_rate": lr, "clipnorm": self.clipnorm,
                "clipvalue": self.clipvalue, "global_clipnorm": self.global_clipnorm}

    @classmethod
    def from_config(cls, config):
        config = dict(config)
        lr = config.get("learning_rate")
        if isinstance(lr, dict):
            config["learning_rate"] = schedules.deserialize(lr)
        return cls(**config)

    def __repr__(self):
        return "<bprop.optimizers.%s learning_rate=%r iterations=%d>" % (
            type(self).__name__, self._learning_rate, self.iterations)


def _check_variable(var, argname):
    if not isinstance(var, Variable):
        raise TypeError("%s: expected a bprop.Variable, got %s" % (argname, type(var).__name__))
    return var


def _check_grad(grad, var, argname):
    g = np.asarray(grad)
    if g.dtype != var.dtype:
        raise TypeError("%s: expected dtype %s (variable %r), got %s"
                        % (argname, var.dtype, var.name, g.dtype))
    if g.shape != var.shape:
        raise ValueError("%s: expected shape %s (variable %r), got %s"
                         % (argname, var.shape, var.name, g.shape))
    return np.asarray(g, order="C")  # (ascontiguousarray would turn 0-d into shape (1,))


def _check_iterations(value):
    arr = np.asarray(value)
    if arr.ndim != 0 or arr.dtype.kind not in "iu" or int(arr) < 0:
        raise ValueError("state[0]: expected the iteration count (a non-negative int), got %r"
                         % (value,))
    return int(arr)


def _sum_squares(g, backend):
    """The squared L2 norm through the backend's kernel: the core's float64
    fixed-chunk sum (the compiled step's bits) or NumPy's."""
    return float(backend.sum_squares(g))
