"""The Callback base class with Keras' hooks, CallbackList, History, LambdaCallback."""
from __future__ import annotations

__all__ = ["Callback", "CallbackList", "History", "LambdaCallback", "HOOKS"]


class Callback:
    """Base class: every hook exists and does nothing until overridden."""

    def __init__(self):
        self.model = None
        self.params = {}

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = dict(params or {})

    def on_train_begin(self, logs=None):
        pass

    def on_train_end(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        pass

    def on_epoch_end(self, epoch, logs=None):
        pass

    def on_train_batch_begin(self, batch, logs=None):
        # Keras 2 name kept working for subclasses that override it.
        self.on_batch_begin(batch, logs)

    def on_train_batch_end(self, batch, logs=None):
        self.on_batch_end(batch, logs)

    def on_batch_begin(self, batch, logs=None):
        pass

    def on_batch_end(self, batch, logs=None):
        pass

    def on_test_begin(self, logs=None):
        pass

    def on_test_end(self, logs=None):
        pass

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_predict_begin(self, logs=None):
        pass

    def on_predict_end(self, logs=None):
        pass

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def get_config(self):
        return {}


HOOKS = (
    "on_train_begin", "on_train_end", "on_epoch_begin", "on_epoch_end",
    "on_train_batch_begin", "on_train_batch_end", "on_test_begin", "on_test_end",
    "on_test_batch_begin", "on_test_batch_end", "on_predict_begin", "on_predict_end",
    "on_predict_batch_begin", "on_predict_batch_end",
)


class CallbackList:
    """Dispatches every hook to a list of callbacks, in order.

    ``CallbackList(callbacks=None, add_history=False, model=None, params=None)``;
    with ``add_history`` a :class:`History` is appended unless one is given.
    """

    def __init__(self, callbacks=None, add_history=False, model=None, params=None):
        self.callbacks = []
        for i, cb in enumerate(callbacks or []):
            if not isinstance(cb, Callback):
                raise TypeError("callbacks[%d]: expected a bprop.callbacks.Callback, got %s"
                                % (i, type(cb).__name__))
            self.callbacks.append(cb)
        if add_history and not any(isinstance(cb, History) for cb in self.callbacks):
            self.callbacks.append(History())
        self.model = None
        self.params = {}
        if model is not None:
            self.set_model(model)
        if params is not None:
            self.set_params(params)

    @property
    def history(self):
        """The History callback in the list (None if there is none)."""
        for cb in self.callbacks:
            if isinstance(cb, History):
                return cb
        return None

    def append(self, callback):
        if not isinstance(callback, Callback):
            raise TypeError("callback: expected a bprop.callbacks.Callback, got %s"
                            % type(callback).__name__)
        self.callbacks.append(callback)
        if self.model is not None:
            callback.set_model(self.model)
        callback.set_params(self.params)

    def set_model(self, model):
        self.model = model
        for cb in self.callbacks:
            cb.set_model(model)

    def set_params(self, params):
        self.params = dict(params or {})
        for cb in self.callbacks:
            cb.set_params(self.params)

    def __iter__(self):
        return iter(self.callbacks)

    def __len__(self):
        return len(self.callbacks)


def _make_dispatch(hook):
    def dispatch(self, *args, **kwargs):
        for cb in self.callbacks:
            getattr(cb, hook)(*args, **kwargs)
    dispatch.__name__ = hook
    dispatch.__doc__ = "Call ``%s`` on every callback, in order." % hook
    return dispatch


for _hook in HOOKS:
    setattr(CallbackList, _hook, _make_dispatch(_hook))
del _hook


class History(Callback):
    """Records the epoch logs: ``history`` (dict of lists) and ``epoch`` (list of ints).

    ``fit`` returns it; it also sets ``model.history`` to itself, as Keras does.
    """

    def __init__(self):
        super().__init__()
        self.history = {}
        self.epoch = []

    def on_train_begin(self, logs=None):
        self.epoch = []

    def on_epoch_end(self, epoch, logs=None):
        self.epoch.append(epoch)
        for key, value in (logs or {}).items():
            self.history.setdefault(key, []).append(value)
        if self.model is not None:
            try:
                self.model.history = self
            except AttributeError:  # a model object that forbids new attributes
                pass


class LambdaCallback(Callback):
    """A callback from plain functions: ``LambdaCallback(on_epoch_end=lambda epoch, logs: ...)``.

    Keyword names are the hook names (also Keras' ``on_batch_begin/end``,
    meaning the training batches).
    """

    def __init__(self, **hooks):
        super().__init__()
        allowed = set(HOOKS) | {"on_batch_begin", "on_batch_end"}
        for name, fn in hooks.items():
            if name not in allowed:
                raise ValueError("%s: expected one of the hook names %s"
                                 % (name, ", ".join(sorted(allowed))))
            if fn is not None and not callable(fn):
                raise TypeError("%s: expected a callable, got %r" % (name, fn))
            if fn is not None:
                setattr(self, name, fn)
