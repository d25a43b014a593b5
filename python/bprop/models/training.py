"""The loops of ``fit``, ``evaluate`` and ``predict`` (mixed into ``Sequential``).

One training step (``_train_batch``):

    forward   each layer writes into its kept buffer (backend.dense_forward ...)
    loss      loss.value_and_grad -> backend.softmax_cross_entropy(_backward) on
              the logits when the fused path is on, gradient into a kept buffer
    backward  each layer's backward (backend.dense_backward ...) -> layer.grads
    update    optimizer.apply_gradients -> one backend update kernel per variable

Batches are gathered with ``np.take(..., out=buffer)`` from one index
permutation per epoch, so no copy of the data set is made per epoch, and in
steady state the step allocates no new arrays.
"""
from __future__ import annotations

import math

import numpy as np

from .. import utils as _utils
from ..layers.base import kept_buffer
from . import data as _data
from .fused_step import FusedDenseStep
from .progress import ProgressLogger, resolve_verbose

__all__ = ["TrainingMixin"]

_MAX_BATCH_BUFFERS = 16


class _CallbackDispatch:
    """Calls one hook on every callback, in order (user callbacks, History, progress)."""

    def __init__(self, callbacks, model, params):
        self.callbacks = list(callbacks)
        for cb in self.callbacks:
            cb.set_model(model)
            cb.set_params(params)

    def __getattr__(self, hook):
        if not hook.startswith("on_"):
            raise AttributeError(hook)

        def call(*args):
            for cb in self.callbacks:
                getattr(cb, hook)(*args)
        return call


def _user_callbacks(callbacks):
    if callbacks is None:
        return []
    if not isinstance(callbacks, (list, tuple)):
        callbacks = [callbacks]
    for cb in callbacks:
        if not hasattr(cb, "on_epoch_end") or not hasattr(cb, "set_model"):
            raise TypeError("callbacks: expected bprop.callbacks.Callback instances, got %r"
                            % (cb,))
    return list(callbacks)


# Steps per core call on fit's chunked fast path: long enough to amortise the
# call, short enough (~30-100 ms) that Ctrl-C is seen promptly.
_STEPS_PER_CALL = 128


def _needs_batch_hooks(callback):
    """Whether a callback does anything in on_train_batch_begin/end."""
    from ..callbacks import Callback

    if isinstance(callback, ProgressLogger):
        return callback.verbose == 1  # the bar advances per batch
    for hook in ("on_train_batch_begin", "on_train_batch_end"):
        # The bound hook as the loop would call it (instance attributes and
        # __getattribute__ tricks included): only Callback's own no-op is idle.
        method = getattr(callback, hook, None)
        if method is not None and getattr(method, "__func__", None) is not getattr(Callback, hook):
            return True
    return False


def _batch_bounds(n, batch_size):
    return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


class TrainingMixin:
    """fit / evaluate / predict for a model with ``forward``/``backward`` and compile state."""

    # -------------------------------------------------------------- helpers
    def _require_compiled(self, what):
        if not self.compiled or self.compiled_loss is None:
            raise RuntimeError("model %r: call compile(optimizer=..., loss=...) before %s()"
                               % (self.name, what))

    @property
    def _is_logits(self):
        return self._fused or self.compiled_loss.from_logits

    def _batch_buffer(self, tag, shape, dtype):
        return kept_buffer(self._batch_buffers, _MAX_BATCH_BUFFERS, tag, shape, dtype)

    def _take(self, tag, arr, idx):
        """Rows ``idx`` of ``arr`` gathered into a kept buffer (or None for None)."""
        if arr is None:
            return None
        out = self._batch_buffer(tag, (idx.shape[0],) + arr.shape[1:], arr.dtype)
        np.take(arr, idx, axis=0, out=out)
        return out

    def _forward_for_loss(self, x, training):
        self._emit_logits = self._fused
        try:
            return self.forward(x, training=training)
        finally:
            self._emit_logits = False

    def _predictions(self, out):
        """What metrics see: probabilities, also on the fused path (which yields logits)."""
        if not self._fused:
            return out
        probs = self._batch_buffer("probs", out.shape, out.dtype)
        rows = out.reshape(-1, out.shape[-1])
        getattr(self._backend, self.compiled_loss.fuses_with)(rows, out=probs.reshape(rows.shape))
        return probs

    def _update_metrics(self, y, out):
        if self.compiled_metrics:
            preds = self._predictions(out)
            for m in self.compiled_metrics:
                m.update_state(y, preds)

    def _metric_logs(self, loss, prefix=""):
        logs = {prefix + "loss": loss}
        for m in self.compiled_metrics:
            logs[prefix + m.name] = float(m.result())
        return logs

    def _reset_metrics(self):
        for m in self.compiled_metrics:
            m.reset_state()

    # -------------------------------------------------------------- one batch
    def _loss_and_backward(self, xb, yb, swb, training=True):
        """Forward, loss, backward into ``self.grads``; returns (loss, model output)."""
        out = self._forward_for_loss(xb, training=training)
        grad = self._batch_buffer("dloss", out.shape, out.dtype)
        loss, _ = self.compiled_loss.value_and_grad(yb, out, self._is_logits, self._backend,
                                                    grad, swb)
        if math.isfinite(loss):
            self.backward(grad, need_dx=False)
        return loss, out

    def _train_batch(self, xb, yb, swb):
        """Forward, loss, backward, update; returns the batch loss (no update if not finite)."""
        loss, out = self._loss_and_backward(xb, yb, swb)
        if not math.isfinite(loss):
            return loss
        self._update_metrics(yb, out)
        self.optimizer.apply_gradients(zip(self.grads, self.trainable_variables))
        return loss

    def compute_gradients(self, x, y, sample_weight=None, training=False):
        """``(loss, grads)`` of the compiled loss on one batch, without updating anything.

        ``grads`` are copies, in ``trainable_variables`` order: what ``fit``
        hands the optimizer for this batch (``training=True`` makes Dropout
        active).  Meant for gradient checks and custom loops.
        """
        self._require_compiled("compute_gradients")
        x = _data.prepare_x(self, x)
        y = _data.prepare_y(self, y, x.shape[0])
        sw = _data.prepare_sample_weight(sample_weight, x.shape[0])
        loss, _ = self._loss_and_backward(x, y, sw, training=training)
        if not math.isfinite(loss):
            raise ValueError("x, y: the loss is not finite (%s); no gradients" % loss)
        return loss, [np.array(g, copy=True) for g in self.grads]

    def _test_batch(self, xb, yb, swb):
        out = self._forward_for_loss(xb, training=False)
        loss = self.compiled_loss.value(yb, out, self._is_logits, self._backend, swb)
        self._update_metrics(yb, out)
        return loss

    # -------------------------------------------------------------- fit
    def _report_bad_loss(self, loss, epoch, epochs, step, terminate_on_nan):
        if terminate_on_nan:
            print("Epoch %d/%d, batch %d: invalid loss (%s), terminating training "
                  "(TerminateOnNaN); the weights are those before this batch"
                  % (epoch + 1, epochs, step, loss))
            self.stop_training = True
        else:
            print("Epoch %d/%d, batch %d: invalid loss (%s), batch skipped "
                  "(no update); training goes on (terminate_on_nan=False)"
                  % (epoch + 1, epochs, step, loss))

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, validation_batch_size=None,
            validation_freq=1, terminate_on_nan=True):
        """Train for ``epochs`` epochs; returns the History callback (``.history`` dict).

        x (n, *input_shape); y: integer labels (n,) for the sparse loss,
        otherwise targets shaped like the output.  ``verbose``: "auto"/1 a
        progress bar per epoch, 2 one line per epoch, 0 silent.  A non-finite
        batch loss is never applied to the weights; by default it also stops
        training with a message naming the epoch and the batch, as Keras'
        TerminateOnNaN does.  ``terminate_on_nan=False`` opts out of stopping:
        that batch is skipped with the same message and training goes on.
        """
        from ..callbacks import History

        self._require_compiled("fit")
        batch_size = _data.check_positive_int(32 if batch_size is None else batch_size,
                                              "batch_size")
        epochs = _data.check_positive_int(epochs, "epochs", allow_zero=True)
        initial_epoch = _data.check_positive_int(initial_epoch, "initial_epoch", allow_zero=True)
        validation_freq = _data.check_positive_int(validation_freq, "validation_freq")
        verbose = resolve_verbose(verbose)
        x = _data.prepare_x(self, x)
        n = x.shape[0]
        y = _data.prepare_y(self, y, n)
        sw = _data.prepare_sample_weight(sample_weight, n)
        sw = _data.class_weight_to_sample_weight(class_weight, y, self.compiled_loss, sw)
        val = None
        if validation_data is not None:
            val = self._prepare_validation(validation_data)
        elif validation_split:
            (x, y, sw), val = _data.split_validation([x, y, sw], validation_split)
            n = x.shape[0]
        else:
            _data.split_validation([x], validation_split)  # validates the argument
        if n == 0:
            raise ValueError("x: expected at least one training sample, got 0")
        bounds = _batch_bounds(n, batch_size)

        self.history = History()
        cbs = _user_callbacks(callbacks) + [self.history]
        if verbose:
            cbs.append(ProgressLogger(verbose, mode="train"))
        params = {"verbose": verbose, "epochs": epochs, "steps": len(bounds)}
        dispatch = _CallbackDispatch(cbs, self, params)
        self.stop_training = False
        fused = FusedDenseStep.for_model(self, sw)  # None: the general step below
        if fused is not None:
            fused.bind(x, y)
        # Without batch-level callbacks, many fused steps run per core call.
        chunked = fused is not None and not any(_needs_batch_hooks(cb) for cb in cbs)
        dispatch.on_train_begin({})
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            dispatch.on_epoch_begin(epoch, {})
            order = _utils.get_rng().permutation(n) if shuffle else None
            seen, loss_sum = 0, 0.0
            logs = {}
            if chunked:
                rows = order if order is not None else np.arange(n)
                step = 0
                while step < len(bounds) and not self.stop_training:
                    last = min(step + _STEPS_PER_CALL, len(bounds)) - 1
                    losses = fused.run_steps(rows[bounds[step][0]:bounds[last][1]], batch_size)
                    for loss in losses.tolist():
                        start, stop = bounds[step]
                        seen += stop - start
                        loss_sum += loss * (stop - start)
                        if not math.isfinite(loss):
                            self._report_bad_loss(loss, epoch, epochs, step, terminate_on_nan)
                        step += 1
                        if self.stop_training:
                            break
                    logs = self._metric_logs(loss_sum / seen)
            for step, (start, stop) in enumerate([] if chunked else bounds):
                dispatch.on_train_batch_begin(step, {})
                if fused is not None:  # the core gathers the batch itself
                    loss = fused.run(start, stop, None if order is None else order[start:stop])
                else:
                    if order is None:
                        xb, yb = x[start:stop], y[start:stop]
                        swb = None if sw is None else sw[start:stop]
                    else:
                        idx = order[start:stop]
                        xb, yb, swb = self._take("x", x, idx), self._take("y", y, idx), \
                            self._take("sw", sw, idx)
                    loss = self._train_batch(xb, yb, swb)
                seen += stop - start
                loss_sum += loss * (stop - start)
                logs = self._metric_logs(loss_sum / seen)
                if not math.isfinite(loss):
                    self._report_bad_loss(loss, epoch, epochs, step, terminate_on_nan)
                dispatch.on_train_batch_end(step, logs)
                if self.stop_training:
                    break
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._evaluate_arrays(*val, validation_batch_size or batch_size,
                                                 dispatch)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            dispatch.on_epoch_end(epoch, epoch_logs)
            if self.stop_training:
                break
        dispatch.on_train_end(epoch_logs)
        return self.history

    def _prepare_validation(self, validation_data):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data: expected a tuple (x_val, y_val) or (x_val, y_val, "
                             "sample_weight_val), got %r" % (type(validation_data).__name__,))
        xv = _data.prepare_x(self, validation_data[0], "x_val")
        yv = _data.prepare_y(self, validation_data[1], xv.shape[0], "y_val")
        swv = None
        if len(validation_data) == 3:
            swv = _data.prepare_sample_weight(validation_data[2], xv.shape[0],
                                              "sample_weight_val")
        return xv, yv, swv

    # -------------------------------------------------------------- evaluate
    def _evaluate_arrays(self, x, y, sw, batch_size, dispatch):
        self._reset_metrics()
        dispatch.on_test_begin({})
        seen, loss_sum = 0, 0.0
        logs = {}
        for step, (start, stop) in enumerate(_batch_bounds(x.shape[0], batch_size)):
            dispatch.on_test_batch_begin(step, {})
            loss = self._test_batch(x[start:stop], y[start:stop],
                                    None if sw is None else sw[start:stop])
            seen += stop - start
            loss_sum += loss * (stop - start)
            logs = self._metric_logs(loss_sum / seen)
            dispatch.on_test_batch_end(step, logs)
        dispatch.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 callbacks=None, return_dict=False):
        """Loss (and metrics) on ``x, y``: a float, or [loss, metrics...], or a dict."""
        self._require_compiled("evaluate")
        batch_size = _data.check_positive_int(32 if batch_size is None else batch_size,
                                              "batch_size")
        verbose = resolve_verbose(verbose)
        x = _data.prepare_x(self, x)
        y = _data.prepare_y(self, y, x.shape[0])
        sw = _data.prepare_sample_weight(sample_weight, x.shape[0])
        cbs = _user_callbacks(callbacks)
        if verbose:
            cbs.append(ProgressLogger(verbose, mode="test"))
        params = {"verbose": verbose, "epochs": 1,
                  "steps": len(_batch_bounds(x.shape[0], batch_size))}
        logs = self._evaluate_arrays(x, y, sw, batch_size, _CallbackDispatch(cbs, self, params))
        if not logs:
            logs = self._metric_logs(0.0)
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values

    # -------------------------------------------------------------- predict
    def predict(self, x, batch_size=None, verbose="auto", callbacks=None):
        """Outputs for ``x`` in batches: array (n, *output_shape) with the final activation."""
        batch_size = _data.check_positive_int(32 if batch_size is None else batch_size,
                                              "batch_size")
        verbose = resolve_verbose(verbose)
        x = _data.prepare_x(self, x)
        n = x.shape[0]
        out_shape = (n,) + tuple(self.compute_output_shape(self._sample_shape))
        result = np.empty(out_shape, dtype=self._dtype)
        bounds = _batch_bounds(n, batch_size)
        cbs = _user_callbacks(callbacks)
        if verbose:
            cbs.append(ProgressLogger(verbose, mode="predict"))
        dispatch = _CallbackDispatch(cbs, self, {"verbose": verbose, "epochs": 1,
                                                 "steps": len(bounds)})
        dispatch.on_predict_begin({})
        for step, (start, stop) in enumerate(bounds):
            dispatch.on_predict_batch_begin(step, {})
            result[start:stop] = self.forward(x[start:stop], training=False)
            dispatch.on_predict_batch_end(step, {"outputs": result[start:stop]})
        dispatch.on_predict_end({})
        return result

    # -------------------------------------------------------------- single batches
    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on one batch; returns loss (and metrics) as ``evaluate`` does."""
        self._require_compiled("train_on_batch")
        x = _data.prepare_x(self, x)
        y = _data.prepare_y(self, y, x.shape[0])
        sw = _data.prepare_sample_weight(sample_weight, x.shape[0])
        sw = _data.class_weight_to_sample_weight(class_weight, y, self.compiled_loss, sw)
        self._reset_metrics()
        logs = self._metric_logs(self._train_batch(x, y, sw))
        return self._format_result(logs, return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        x = _data.prepare_x(self, x)
        y = _data.prepare_y(self, y, x.shape[0])
        sw = _data.prepare_sample_weight(sample_weight, x.shape[0])
        self._reset_metrics()
        logs = self._metric_logs(self._test_batch(x, y, sw))
        return self._format_result(logs, return_dict)

    def predict_on_batch(self, x):
        x = _data.prepare_x(self, x)
        return np.array(self.forward(x, training=False), copy=True)

    @staticmethod
    def _format_result(logs, return_dict):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values
