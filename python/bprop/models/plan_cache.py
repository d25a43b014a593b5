"""Where a model keeps its step plans, and the lock between training and inference.

* The train plan is built once per (layers and their trainable flags, loss,
  metrics, optimizer and its hyper-parameters, input signature, backend) and
  kept: a second ``fit`` reuses it, a callback that freezes a layer or
  changes a hyper-parameter gets a new one at the next step.
* Evaluate and predict plans come from a small pool: each call takes one (or
  builds one) and gives it back, so concurrent calls never share buffers.
* A reader-writer lock: a training step holds it for writing while it
  updates the weights, predict/evaluate/``model(x)`` hold it for reading.
  What a concurrent ``predict`` sees during ``fit`` is therefore the weights
  of one moment between two core calls of training (a call is up to ~0.1 s
  of steps): every row comes from one consistent set of weights.
"""
from __future__ import annotations

import contextlib
import threading

__all__ = ["PlanCache", "ReadWriteLock"]

_POOL_PER_KEY = 4
_MAX_KEYS = 8


class ReadWriteLock:
    """Many readers or one writer; a waiting writer holds back new readers."""

    def __init__(self):
        self._cond = threading.Condition(threading.Lock())
        self._readers = 0
        self._writer = False
        self._writers_waiting = 0

    @contextlib.contextmanager
    def reading(self):
        with self._cond:
            while self._writer or self._writers_waiting:
                self._cond.wait()
            self._readers += 1
        try:
            yield
        finally:
            with self._cond:
                self._readers -= 1
                if not self._readers:
                    self._cond.notify_all()

    @contextlib.contextmanager
    def writing(self):
        with self._cond:
            self._writers_waiting += 1
            while self._writer or self._readers:
                self._cond.wait()
            self._writers_waiting -= 1
            self._writer = True
        try:
            yield
        finally:
            with self._cond:
                self._writer = False
                self._cond.notify_all()


def plan_key(model, purpose, executor):
    """What a plan depends on; a change in any of it means a new plan."""
    layers = model._plan_layers()
    key = [purpose, executor, id(model._backend), model._dtype.str, model._sample_shape,
           tuple((id(layer), layer.trainable) for layer in layers),
           tuple(v.trainable for v in model.weights),
           # which weights train (a nested model's own flag is not among its
           # layers' flags above)
           tuple(id(v) for v in model.trainable_variables)]
    if purpose != "predict":
        key.append(id(model.compiled_loss))
        key.append(model.compiled_loss.sparse)  # a loss function's: set by the targets it saw
        key.append(tuple(id(m) for m in model.compiled_metrics))
    if purpose == "train":
        key.append(id(model.optimizer))
        spec = model.optimizer._core_spec()  # hyper-parameters may change between steps
        key.append(None if spec is None else tuple(sorted(spec.items())))
    return tuple(key)


class PlanCache:
    """A model's plans: the kept train plan and the pools of the others."""

    def __init__(self):
        self._lock = threading.Lock()
        self._train = None        # (key, plan)
        self._pools = {}          # key -> [idle plans]
        self.rw = ReadWriteLock()

    def train_plan(self, model, executor):
        from ..engine import StepPlan

        key = plan_key(model, "train", executor)
        if self._train is None or self._train[0] != key:
            self._train = (key, StepPlan(model, "train", executor))
        return self._train[1]

    @contextlib.contextmanager
    def borrowed(self, model, purpose, executor):
        """A plan for this call alone (from the pool, or new), returned after."""
        from ..engine import StepPlan

        key = plan_key(model, purpose, executor)
        with self._lock:
            idle = self._pools.get(key)
            plan = idle.pop() if idle else None
        if plan is None:
            plan = StepPlan(model, purpose, executor)
        try:
            yield plan
        finally:
            with self._lock:
                if key not in self._pools and len(self._pools) >= _MAX_KEYS:
                    self._pools.clear()  # plans of a model that has since changed
                pool = self._pools.setdefault(key, [])
                if len(pool) < _POOL_PER_KEY:
                    pool.append(plan)

    def clear(self):
        with self._lock:
            self._train = None
            self._pools = {}
