"""``fit``, ``evaluate`` and ``predict`` (mixed into ``Sequential``): one loop over a step plan.

The path of one training batch:

    fit -> StepPlan("train") (bprop/engine, built once per model, loss, optimizer,
           input signature) -> plan.run(rows of up to ~0.1 s of steps)
        core plan: gather the batch's rows -> forward -> loss (+ penalties) ->
                   metrics -> backward -> clip -> update, per step, in C++ with
                   the GIL released (or the same calls op by op from Python)
    <- per-step losses, metric sums, status -> logs, callbacks, progress bar

Batch-level callbacks (``on_train_batch_begin/end``, and Keras 2's
``on_batch_begin/end``) make the loop run one step per core call, so each
gets every call in Keras order; otherwise steps run in chunks of about 0.1 s,
and the progress bar is fed from the chunks.
"""
from __future__ import annotations

import math
import time

import numpy as np

from .. import utils as _utils
from .. import distributed as _dist
from ..engine.plan import STATUS_APPLIED, STATUS_LOSS_NOT_FINITE
from . import data as _data
from . import data_parallel as _parallel
from .batch_source import is_batch_source
from .plan_cache import PlanCache
from .progress import ProgressLogger, resolve_verbose

__all__ = ["TrainingMixin"]

# A core call runs about this long (seconds): the progress bar's refresh and
# the time Ctrl-C waits.
_SECONDS_PER_CALL = 0.1
_MAX_STEPS_PER_CALL = 1024


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


def _callback_dispatch(model, callbacks, verbose, mode, epochs, steps, history=None):
    """The callbacks of one fit/evaluate/predict call, in their order: the
    user's, ``history`` (fit's), the progress logger of ``mode`` when verbose.
    Returns ``(dispatch, the user's callbacks, the progress logger or None)``."""
    user = _user_callbacks(callbacks)
    cbs = user + ([history] if history is not None else [])
    progress = ProgressLogger(verbose, mode=mode) if verbose else None
    if progress is not None:
        cbs.append(progress)
    params = {"verbose": verbose, "epochs": epochs, "steps": steps}
    return _CallbackDispatch(cbs, model, params), user, progress


def _needs_batch_hooks(callback, hooks):
    """Whether a callback does anything in the given batch hooks."""
    from ..callbacks import Callback

    if isinstance(callback, ProgressLogger):
        return False  # fed from the chunks
    for hook in hooks:
        # The bound hook as the loop would call it (instance attributes and
        # __getattribute__ tricks included): only Callback's own no-op is idle.
        method = getattr(callback, hook, None)
        if method is None:
            continue
        if getattr(method, "__func__", None) is not getattr(Callback, hook, None):
            return True
    return False


_TRAIN_HOOKS = ("on_train_batch_begin", "on_train_batch_end", "on_batch_begin", "on_batch_end")
_TEST_HOOKS = ("on_test_batch_begin", "on_test_batch_end")
_PREDICT_HOOKS = ("on_predict_batch_begin", "on_predict_batch_end")


def _batch_bounds(n, batch_size):
    return [(s, min(s + batch_size, n)) for s in range(0, n, batch_size)]


def _step_stats(res, j):
    """Step ``j``'s statistics vectors of a :class:`RunResult` (None: no metric keeps any)."""
    if res.metric_stats is None:
        return None
    return [None if v is None else v[j] for v in res.metric_stats]


class _Tally:
    """One loop's running loss and metric sums.  They belong to the call, so two
    threads evaluating one model never mix their counts; :meth:`publish` copies
    them into the model's metric objects (what ``model.metrics`` reports).

    Steps are added one by one in order (plain floats: cheap), so the totals
    do not depend on how the steps were grouped into core calls.  A metric
    keeping a vector of statistics (``StatsMetric``: Precision, AUC, ...)
    gets the sum of the steps' vectors."""

    def __init__(self, metrics):
        from ..metrics import StatsMetric

        self.metrics = list(metrics)
        m = len(self.metrics)
        self.sums = [0.0] * m
        self.counts = [0.0] * m
        self.keeps_stats = [isinstance(metric, StatsMetric) for metric in self.metrics]
        self.stats = [None] * m
        self.direct = [False] * m  # updated by the op-by-op plan itself
        self.seen, self.loss_sum = 0, 0.0

    def add(self, loss, rows, sums=None, counts=None, stats=None):
        """One step: its loss and rows, and (when applied) its metric sums and counts
        and statistics vectors."""
        self.seen += rows
        self.loss_sum += loss * rows
        if sums is None:
            return
        for i, (s, c) in enumerate(zip(sums, counts)):
            if self.keeps_stats[i]:
                v = stats[i]
                self.stats[i] = v.copy() if self.stats[i] is None else self.stats[i] + v
            elif c != c:  # NaN: the plan updated this metric directly
                self.direct[i] = True
            else:
                self.sums[i] += s
                self.counts[i] += c

    def logs(self, prefix=""):
        logs = {prefix + "loss": self.loss_sum / max(self.seen, 1)}
        for i, m in enumerate(self.metrics):
            if self.keeps_stats[i]:
                logs[prefix + m.name] = float(m._result_of(self.stats[i]))
            elif self.direct[i]:
                logs[prefix + m.name] = float(m._result_value())
            else:
                logs[prefix + m.name] = float(m._result_from(self.sums[i], self.counts[i]))
        return logs

    def publish(self):
        for i, m in enumerate(self.metrics):
            if self.keeps_stats[i]:
                m._set_stats(self.stats[i])
            elif not self.direct[i]:
                m._set_batch_state(self.sums[i], self.counts[i])


class _Chunker:
    """Steps per core call: about _SECONDS_PER_CALL of them (1 with batch hooks)."""

    def __init__(self, per_step):
        self.per_step = per_step
        self.size = 1 if per_step else 4

    def next(self, remaining):
        return min(remaining, self.size)

    def record(self, steps, seconds):
        if self.per_step or steps <= 0:
            return
        per = max(seconds / steps, 1e-7)
        self.size = int(min(_MAX_STEPS_PER_CALL, max(1, _SECONDS_PER_CALL / per)))


class TrainingMixin:
    """fit / evaluate / predict for a model with layers and compile state."""

    # Tests set "ops" to run the same plans op by op (the core's oracle).
    _plan_executor = "auto"

    # -------------------------------------------------------------- plans
    def _reset_plans(self):
        cache = getattr(self, "_plan_cache", None)
        if cache is None:
            self._plan_cache = PlanCache()
            self._direct_dropout_calls = 0
        else:
            cache.clear()

    def _require_compiled(self, what):
        if not self.compiled or self.compiled_loss is None:
            raise RuntimeError("model %r: call compile(optimizer=..., loss=...) before %s()"
                               % (self.name, what))
        if len(getattr(self, "outputs", None) or ()) > 1:
            raise NotImplementedError(
                "model %r has %d outputs: bprop trains and evaluates models with one output "
                "(predict works); concatenate the outputs into one, or train a model per output"
                % (self.name, len(self.outputs)))

    def _train_plan(self):
        return self._plan_cache.train_plan(self, self._plan_executor)

    def _reset_metrics(self):
        for m in self.compiled_metrics:
            m.reset_state()

    @property
    def _training_lock(self):
        return self._plan_cache.rw

    # -------------------------------------------------------------- fit
    def _report_bad_step(self, status, loss, epoch, epochs, step, terminate_on_nan):
        what = ("invalid loss (%s)" % loss if status == STATUS_LOSS_NOT_FINITE else
                "the gradients or the updated weights are not finite (loss %s)" % loss)
        if terminate_on_nan:
            print("Epoch %d/%d, batch %d: %s, terminating training (TerminateOnNaN); the "
                  "weights are those before this batch" % (epoch + 1, epochs, step, what))
            self.stop_training = True
            self._nonfinite_stop = "epoch %d, batch %d: %s" % (epoch + 1, step, what)
        else:
            print("Epoch %d/%d, batch %d: %s, batch skipped (no update); training goes on "
                  "(terminate_on_nan=False)" % (epoch + 1, epochs, step, what))

    def fit(self, x=None, y=None, batch_size=None, epochs=1, verbose="auto", callbacks=None,
            validation_split=0.0, validation_data=None, shuffle=True, class_weight=None,
            sample_weight=None, initial_epoch=0, steps_per_epoch=None, validation_steps=None,
            validation_batch_size=None, validation_freq=1, terminate_on_nan=True):
        """Train for ``epochs`` epochs; returns the History callback (``.history`` dict).

        x (n, *input_shape); y: integer labels (n,) for the sparse loss,
        otherwise targets shaped like the output.  ``verbose``: "auto"/1 a
        progress bar per epoch, 2 one line per epoch, 0 silent.  A batch
        whose loss, gradients or updated weights are not finite is never
        applied to the weights; by default it also stops training with a
        message naming the epoch and the batch, as Keras' TerminateOnNaN
        does.  ``terminate_on_nan=False`` opts out of stopping: that batch is
        skipped with the same message and training goes on.

        Other threads may call ``predict``/``evaluate`` meanwhile: they see
        the weights as they are between two core calls of training (every
        row computed from one consistent set of weights), never torn rows.

        ``x`` may also be a ``bprop.data.Dataset`` or a Python generator of
        batches ``(x, y)`` / ``(x, y, sample_weight)`` (``y`` and
        ``batch_size`` then None; ``steps_per_epoch`` as Keras defines it),
        and ``validation_data`` a Dataset or generator (``validation_steps``):
        see :mod:`bprop.models.batch_loops`.
        """
        from ..callbacks import History

        if is_batch_source(x):
            from . import batch_loops

            return batch_loops.fit(self, x, y, batch_size, epochs, verbose, callbacks,
                                   validation_split, validation_data, class_weight,
                                   sample_weight, initial_epoch, validation_batch_size,
                                   validation_freq, terminate_on_nan, steps_per_epoch,
                                   validation_steps)
        if steps_per_epoch is not None:
            raise ValueError("steps_per_epoch: only for x given as a Dataset or a generator; "
                             "arrays train one pass per epoch (got %r)" % (steps_per_epoch,))
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
        if validation_data is not None or validation_steps is not None:
            from . import batch_loops

            val = batch_loops.prepare_validation(
                self, validation_data, validation_steps,
                batch_loops.validation_runs(initial_epoch, epochs, validation_freq))
        elif validation_split:
            (x, y, sw), val = _data.split_validation([x, y, sw], validation_split)
            n = x.shape[0]
        else:
            _data.split_validation([x], validation_split)  # validates the argument
        if n == 0:
            raise ValueError("x: expected at least one training sample, got 0")
        batch_size = min(batch_size, n)
        bounds = _batch_bounds(n, batch_size)

        job = _dist.job()
        if job is not None:  # data-parallel: the same model, rank 0's state, rank 0 prints
            verbose = verbose if job.rank == 0 else 0
            _parallel.check_agreement(job, self, n, batch_size, epochs)
            _parallel.share_random_state(job)  # before the plan draws Dropout's seeds
            _parallel.broadcast_state(job, self, self._train_plan().trainable)
        self.history = History()
        dispatch, user, progress = _callback_dispatch(self, callbacks, verbose, "train", epochs,
                                                      len(bounds), history=self.history)
        self.stop_training = False
        self._nonfinite_stop = None  # what stopped training, when a step was not finite
        data = self._train_plan().data(x, y, sw)
        chunker = _Chunker(any(_needs_batch_hooks(cb, _TRAIN_HOOKS) for cb in user))
        dispatch.on_train_begin({})
        epoch_logs = {}
        for epoch in range(initial_epoch, epochs):
            self._reset_metrics()
            dispatch.on_epoch_begin(epoch, {})
            order = _utils.get_rng().permutation(n) if shuffle else np.arange(n)
            logs = self._train_epoch(data, order, bounds, batch_size, epoch, epochs,
                                     dispatch, chunker, progress, terminate_on_nan)
            epoch_logs = dict(logs)
            if val is not None and (epoch + 1) % validation_freq == 0:
                val_logs = self._validate(val, validation_batch_size or batch_size, dispatch)
                epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
            dispatch.on_epoch_end(epoch, epoch_logs)
            if job is not None:  # a callback of any process may stop the job
                self.stop_training = job.any(self.stop_training, "fit: end of an epoch")
            if self.stop_training:
                break
        dispatch.on_train_end(epoch_logs)
        return self.history

    def _train_epoch(self, data, order, bounds, batch_size, epoch, epochs, dispatch,
                     chunker, progress, terminate_on_nan):
        steps = len(bounds)
        step = 0
        tally = _Tally(self.compiled_metrics)
        logs = {}
        while step < steps and not self.stop_training:
            k = chunker.next(steps - step)
            if chunker.per_step:
                dispatch.on_train_batch_begin(step, {})
            rows = order[bounds[step][0]:bounds[step + k - 1][1]]
            parallel = None
            job = _dist.job()
            if job is not None:  # this process's slice of each global batch
                rows, counts, offsets, totals = _parallel.slices(order, bounds[step:step + k],
                                                                 job.rank, job.size)
                parallel = (counts, offsets, totals, job.allreduce_inplace)
            plan = self._train_plan()  # the same one, unless a callback changed the model
            start = time.perf_counter()
            with self._training_lock.writing():
                # Dropout's masks count the optimizer's steps: a saved and
                # loaded model (or every process of a job) draws the same.
                res = plan.run(data, rows, batch_size, train=True,
                               dropout_counter=self.optimizer.iterations, parallel=parallel)
            attempted = min(k, res.done + 1)
            chunker.record(attempted, time.perf_counter() - start)
            losses, status = res.losses.tolist(), res.status.tolist()
            sums, counts = res.metric_sums.tolist(), res.metric_counts.tolist()
            for j in range(attempted):
                lo, hi = bounds[step + j]
                applied = status[j] == STATUS_APPLIED
                tally.add(losses[j], hi - lo, sums[j] if applied else None, counts[j],
                          _step_stats(res, j))
                if not applied:
                    self._report_bad_step(status[j], losses[j], epoch, epochs, step + j,
                                          terminate_on_nan)
                if chunker.per_step:
                    logs = tally.logs()
                    dispatch.on_train_batch_end(step + j, logs)
            logs = tally.logs()
            step += attempted
            tally.publish()
            if progress is not None:
                progress.advance(step, logs)
        return logs

    def _validate(self, val, batch_size, dispatch):
        if isinstance(val, tuple):  # prepared arrays
            return self._evaluate_arrays(*val, batch_size, dispatch, progress=None)
        from . import batch_loops

        return batch_loops.validate(self, val, batch_size, dispatch)

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
    def _evaluate_arrays(self, x, y, sw, batch_size, dispatch, progress):
        # Keras resets the metrics first: a user's metric that the plan updates
        # directly must not carry the training epoch's state into validation.
        self._reset_metrics()
        dispatch.on_test_begin({})
        n = x.shape[0]
        bounds = _batch_bounds(n, batch_size)
        chunker = _Chunker(any(_needs_batch_hooks(cb, _TEST_HOOKS) for cb in dispatch.callbacks))
        tally = _Tally(self.compiled_metrics)
        logs = {}
        with self._training_lock.reading(), \
                self._plan_cache.borrowed(self, "evaluate", self._plan_executor) as plan:
            data = plan.data(x, y, sw)
            step = 0
            while step < len(bounds):
                k = chunker.next(len(bounds) - step)
                if chunker.per_step:
                    dispatch.on_test_batch_begin(step, {})
                rows = np.arange(bounds[step][0], bounds[step + k - 1][1])
                start = time.perf_counter()
                res = plan.run(data, rows, batch_size, train=False)
                chunker.record(k, time.perf_counter() - start)
                losses = res.losses.tolist()
                sums, counts = res.metric_sums.tolist(), res.metric_counts.tolist()
                for j in range(k):
                    lo, hi = bounds[step + j]
                    tally.add(losses[j], hi - lo, sums[j], counts[j], _step_stats(res, j))
                    if chunker.per_step:
                        dispatch.on_test_batch_end(step + j, tally.logs())
                logs = tally.logs()
                step += k
                if progress is not None:
                    progress.advance(step, logs)
        tally.publish()
        dispatch.on_test_end(logs)
        return logs

    def evaluate(self, x=None, y=None, batch_size=None, verbose="auto", sample_weight=None,
                 steps=None, callbacks=None, return_dict=False):
        """Loss (and metrics) on ``x, y``: a float, or [loss, metrics...], or a dict.

        ``x`` may be a Dataset or a generator of batches (``steps``: how many)."""
        if is_batch_source(x):
            from . import batch_loops

            logs = batch_loops.evaluate(self, x, y, batch_size, verbose, sample_weight,
                                        callbacks, steps)
            return self._format_result(logs, return_dict)
        if steps is not None:
            raise ValueError("steps: only for x given as a Dataset or a generator; arrays are "
                             "evaluated whole (got %r)" % (steps,))
        self._require_compiled("evaluate")
        batch_size = _data.check_positive_int(32 if batch_size is None else batch_size,
                                              "batch_size")
        verbose = resolve_verbose(verbose)
        x = _data.prepare_x(self, x)
        if x.shape[0] == 0:
            raise ValueError("x: expected at least one sample to evaluate, got 0")
        y = _data.prepare_y(self, y, x.shape[0])
        sw = _data.prepare_sample_weight(sample_weight, x.shape[0])
        batch_size = min(batch_size, x.shape[0])
        dispatch, _, progress = _callback_dispatch(self, callbacks, verbose, "test", 1,
                                                   len(_batch_bounds(x.shape[0], batch_size)))
        logs = self._evaluate_arrays(x, y, sw, batch_size, dispatch, progress)
        return self._format_result(logs, return_dict)

    # -------------------------------------------------------------- predict
    def _predict_arrays(self, x, batch_size, training=False, dispatch=None, progress=None):
        """Outputs (n, *output shape) of prepared ``x``, through a plan of this call."""
        n = x.shape[0]
        out_shape = tuple(self.compute_output_shape(self._sample_shape))
        result = np.empty((n,) + out_shape, dtype=self._dtype)
        flat = result.reshape(n, -1)
        x2 = x.reshape(n, -1)
        bounds = _batch_bounds(n, batch_size)
        per_step = dispatch is not None and any(
            _needs_batch_hooks(cb, _PREDICT_HOOKS) for cb in dispatch.callbacks)
        chunker = _Chunker(per_step)
        with self._training_lock.reading(), \
                self._plan_cache.borrowed(self, "predict", self._plan_executor) as plan:
            if training:  # model(x, training=True): its own count, apart from fit's
                self._direct_dropout_calls += 1
                plan.forward_training(x2, (1 << 62) + self._direct_dropout_calls, out=flat)
                return result
            step = 0
            while step < len(bounds):
                k = chunker.next(len(bounds) - step)
                if per_step:
                    dispatch.on_predict_batch_begin(step, {})
                lo, hi = bounds[step][0], bounds[step + k - 1][1]
                start = time.perf_counter()
                plan.predict(x2[lo:hi], batch_size, out=flat[lo:hi])
                chunker.record(k, time.perf_counter() - start)
                if per_step:
                    dispatch.on_predict_batch_end(step, {"outputs": result[lo:hi]})
                step += k
                if progress is not None:
                    progress.advance(step, {})
        return result

    def predict(self, x, batch_size=None, verbose="auto", steps=None, callbacks=None):
        """Outputs for ``x`` in batches: array (n, *output_shape) with the final activation.

        Safe to call from several threads at once (each call has its own
        buffers), and while another thread trains (see :meth:`fit`).  ``x``
        may be a Dataset or a generator of batches (``steps``: how many).
        """
        if is_batch_source(x):
            from . import batch_loops

            return batch_loops.predict(self, x, batch_size, verbose, callbacks, steps)
        if steps is not None:
            raise ValueError("steps: only for x given as a Dataset or a generator; arrays are "
                             "predicted whole (got %r)" % (steps,))
        batch_size = _data.check_positive_int(32 if batch_size is None else batch_size,
                                              "batch_size")
        verbose = resolve_verbose(verbose)
        x = _data.prepare_x(self, x)
        n = x.shape[0]
        bounds = _batch_bounds(n, batch_size)
        dispatch, _, progress = _callback_dispatch(self, callbacks, verbose, "predict", 1,
                                                   len(bounds))
        dispatch.on_predict_begin({})
        result = self._predict_arrays(x, max(min(batch_size, n), 1), dispatch=dispatch,
                                      progress=progress)
        dispatch.on_predict_end({})
        return self._outputs_from_flat(result)

    # -------------------------------------------------------------- single batches
    def compute_gradients(self, x, y, sample_weight=None, training=False):
        """``(loss, grads)`` of the compiled loss on one batch, without updating anything.

        ``grads`` are copies, in ``trainable_variables`` order: what ``fit``
        hands the optimizer for this batch (``training=True`` makes Dropout
        active), regularization penalties included.  Meant for gradient
        checks and custom loops.
        """
        self._require_compiled("compute_gradients")
        x = _data.prepare_x(self, x)
        y = _data.prepare_y(self, y, x.shape[0])
        sw = _data.prepare_sample_weight(sample_weight, x.shape[0])
        plan = self._train_plan()
        with self._training_lock.reading():
            loss, grads = plan.gradients(plan.data(x, y, sw), training=training,
                                         dropout_counter=self.optimizer.iterations)
        if not math.isfinite(loss):
            raise ValueError("x, y: the loss is not finite (%s); no gradients" % loss)
        by_var = dict(zip(plan.trainable, grads))
        return loss, [by_var[v] for v in self.trainable_variables]

    def train_on_batch(self, x, y=None, sample_weight=None, class_weight=None,
                       return_dict=False):
        """One optimizer step on one batch; returns loss (and metrics) as ``evaluate`` does."""
        self._require_compiled("train_on_batch")
        x = _data.prepare_x(self, x)
        y = _data.prepare_y(self, y, x.shape[0])
        sw = _data.prepare_sample_weight(sample_weight, x.shape[0])
        sw = _data.class_weight_to_sample_weight(class_weight, y, self.compiled_loss, sw)
        n = x.shape[0]
        if n == 0:
            raise ValueError("x: expected at least one sample, got 0")
        self._reset_metrics()
        plan = self._train_plan()
        with self._training_lock.writing():
            res = plan.run(plan.data(x, y, sw), np.arange(n), n, train=True,
                           dropout_counter=self.optimizer.iterations)
        tally = _Tally(self.compiled_metrics)
        applied = res.status[0] == STATUS_APPLIED
        tally.add(float(res.losses[0]), n, res.metric_sums[0].tolist() if applied else None,
                  res.metric_counts[0].tolist(), _step_stats(res, 0))
        tally.publish()
        return self._format_result(tally.logs(), return_dict)

    def test_on_batch(self, x, y=None, sample_weight=None, return_dict=False):
        self._require_compiled("test_on_batch")
        x = _data.prepare_x(self, x)
        y = _data.prepare_y(self, y, x.shape[0])
        sw = _data.prepare_sample_weight(sample_weight, x.shape[0])
        n = x.shape[0]
        if n == 0:
            raise ValueError("x: expected at least one sample, got 0")
        self._reset_metrics()
        with self._training_lock.reading(), \
                self._plan_cache.borrowed(self, "evaluate", self._plan_executor) as plan:
            res = plan.run(plan.data(x, y, sw), np.arange(n), n, train=False)
        tally = _Tally(self.compiled_metrics)
        tally.add(float(res.losses[0]), n, res.metric_sums[0].tolist(),
                  res.metric_counts[0].tolist(), _step_stats(res, 0))
        tally.publish()
        return self._format_result(tally.logs(), return_dict)

    def predict_on_batch(self, x):
        x = _data.prepare_x(self, x)
        return self._predict_arrays(x, max(x.shape[0], 1))

    @staticmethod
    def _format_result(logs, return_dict):
        if return_dict:
            return logs
        values = list(logs.values())
        return values[0] if len(values) == 1 else values
