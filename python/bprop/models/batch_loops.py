"""``fit``/``evaluate``/``predict`` on a ``bprop.data.Dataset`` or a Python generator.

Each batch the input yields is prepared as array input is (``models/data.py``:
dtype, NaN check, targets, weights) and run as one step through the same
step plan as arrays, so the two paths train identically: a Dataset of the
batches ``fit(x, y, shuffle=False)`` would cut gives the same weights and
History.  Consecutive batches of one size are read and run together, a
chunk of steps per core call (``models/batch_chunks.py``), so only a chunk
is held at a time.  Callbacks, History, metric tallies and the progress
bar behave as for arrays; the number of steps shown is ``steps_per_epoch``
or the Dataset's cardinality when known.

See :mod:`bprop.models.batch_source` for what ``steps`` means.
"""
from __future__ import annotations

import contextlib
import itertools
import numbers
import time
import warnings

import numpy as np

from .. import distributed as _dist
from ..engine.plan import STATUS_APPLIED
from . import data as _data
from .batch_chunks import ChunkReader
from .batch_source import BatchSource, is_batch_source
from .progress import resolve_verbose
from .training import (_PREDICT_HOOKS, _TEST_HOOKS, _TRAIN_HOOKS, _callback_dispatch, _Chunker,
                       _Tally, _needs_batch_hooks)

__all__ = ["fit", "evaluate", "predict", "prepare_validation", "validation_runs", "validate"]

_DEFAULT_BATCH_SIZE = 32  # validation arrays of a fit on a Dataset (Keras' default)
_END = object()  # not None: a generator's None is a (bad) batch, reported as such


def _refuse(value, argname, why):
    if value is not None:
        got = repr(value) if isinstance(value, (numbers.Number, str)) else \
            "a " + type(value).__name__
        raise ValueError("%s: expected None when x is a Dataset or a generator (%s), got %s"
                         % (argname, why, got))


def _first_or_fail(source, argname, what):
    """The run's batches, after checking it has one (an empty run is an error)."""
    batches = source.run()
    first = next(batches, _END)
    if first is _END:
        raise ValueError("%s: expected at least one batch to %s, %s yielded none"
                         % (argname, what, source.what))
    return itertools.chain([first], batches)


# --------------------------------------------------------------------------- fit
def fit(model, x, y, batch_size, epochs, verbose, callbacks, validation_split, validation_data,
        class_weight, sample_weight, initial_epoch, validation_batch_size, validation_freq,
        terminate_on_nan, steps_per_epoch, validation_steps):
    from ..callbacks import History

    model._require_compiled("fit")
    _refuse(y, "y", "its batches hold the targets")
    _refuse(sample_weight, "sample_weight", "yield (x, y, sample_weight) batches instead")
    _refuse(batch_size, "batch_size", "its batches are the steps")
    if validation_split:
        raise ValueError("validation_split: only for array input; with a Dataset or a generator "
                         "give validation_data")
    if _dist.job() is not None:
        raise NotImplementedError("fit: data-parallel training (bprop.distributed) takes arrays "
                                  "x, y; a Dataset or a generator is not supported there")
    epochs = _data.check_positive_int(epochs, "epochs", allow_zero=True)
    initial_epoch = _data.check_positive_int(initial_epoch, "initial_epoch", allow_zero=True)
    validation_freq = _data.check_positive_int(validation_freq, "validation_freq")
    verbose = resolve_verbose(verbose)
    source = BatchSource(x, steps_per_epoch, "x", "steps_per_epoch",
                         runs=max(epochs - initial_epoch, 1))
    val = prepare_validation(model, validation_data, validation_steps,
                             validation_runs(initial_epoch, epochs, validation_freq))
    model.history = History()
    dispatch, user, progress = _callback_dispatch(model, callbacks, verbose, "train", epochs,
                                                  source.known_steps, history=model.history)
    model.stop_training = False
    model._nonfinite_stop = None
    chunker = _Chunker(any(_needs_batch_hooks(cb, _TRAIN_HOOKS) for cb in user))
    dispatch.on_train_begin({})
    epoch_logs = {}
    for epoch in range(initial_epoch, epochs):
        batches = source.run()
        first = next(batches, _END)  # before the epoch begins: an empty one never does
        if first is _END:
            if epoch == initial_epoch:
                raise ValueError("x: expected at least one batch to train on, %s yielded none"
                                 % source.what)
            warnings.warn(source.ran_out_message("interrupting training", "epoch"), stacklevel=3)
            break
        model._reset_metrics()
        dispatch.on_epoch_begin(epoch, {})
        reader = ChunkReader(model, itertools.chain([first], batches), "x",
                             class_weight=class_weight)
        logs = _train_epoch(model, reader, epoch, epochs, dispatch, chunker, progress,
                            terminate_on_nan)
        if source.ran_out:  # Keras: the input ran out, training ends with this epoch
            warnings.warn(source.ran_out_message("interrupting training", "epoch"), stacklevel=3)
            model.stop_training = True
        epoch_logs = dict(logs)
        if val is not None and (epoch + 1) % validation_freq == 0:
            val_logs = validate(model, val, validation_batch_size or _DEFAULT_BATCH_SIZE,
                                dispatch)
            epoch_logs.update({"val_" + k: v for k, v in val_logs.items()})
        dispatch.on_epoch_end(epoch, epoch_logs)
        if model.stop_training:
            break
    dispatch.on_train_end(epoch_logs)
    return model.history


def _train_epoch(model, reader, epoch, epochs, dispatch, chunker, progress, terminate_on_nan):
    tally = _Tally(model.compiled_metrics)
    logs = {}
    while not model.stop_training:  # checked before batches are taken from the input
        chunk = reader.next(chunker.size)
        if chunk is None:
            break
        plan = model._train_plan()  # the same one, unless a callback changed the model
        data = plan.data(chunk.x, chunk.y, chunk.sw)
        k, total, done = len(chunk.sizes), chunk.x.shape[0], 0
        while done < k and not model.stop_training:
            step = chunk.first_step + done
            if chunker.per_step:
                dispatch.on_train_batch_begin(step, {})
            start = time.perf_counter()
            with model._training_lock.writing():
                res = plan.run(data, np.arange(chunk.offset(done), total), chunk.sizes[0],
                               train=True, dropout_counter=model.optimizer.iterations)
            # A bad step ends the core call; the chunk's later steps run in the next one.
            attempted = min(k - done, res.done + 1)
            chunker.record(attempted, time.perf_counter() - start)
            losses, status = res.losses.tolist(), res.status.tolist()
            sums, counts = res.metric_sums.tolist(), res.metric_counts.tolist()
            for j in range(attempted):
                applied = status[j] == STATUS_APPLIED
                tally.add(losses[j], chunk.sizes[done + j], sums[j] if applied else None,
                          counts[j])
                if not applied:
                    model._report_bad_step(status[j], losses[j], epoch, epochs, step + j,
                                           terminate_on_nan)
                if chunker.per_step:
                    dispatch.on_train_batch_end(step + j, tally.logs())
            done += attempted
            logs = tally.logs()
            tally.publish()
            if progress is not None:
                progress.advance(step + attempted, logs)
    return logs


# --------------------------------------------------------------------------- validation
def validation_runs(initial_epoch, epochs, validation_freq):
    """How many epochs of a fit validate."""
    return sum(1 for e in range(initial_epoch, epochs) if (e + 1) % validation_freq == 0)


def prepare_validation(model, validation_data, validation_steps, runs):
    """``validation_data`` as a BatchSource, or as prepared arrays (x, y, sw)."""
    if validation_data is None:
        if validation_steps is not None:
            raise ValueError("validation_steps: expected None without validation_data, got %r"
                             % (validation_steps,))
        return None
    if is_batch_source(validation_data):
        return BatchSource(validation_data, validation_steps, "validation_data",
                           "validation_steps", runs=runs)
    if validation_steps is not None:
        raise ValueError("validation_steps: only for validation_data given as a Dataset or a "
                         "generator; arrays are evaluated whole (got %r)" % (validation_steps,))
    return model._prepare_validation(validation_data)


def validate(model, val, batch_size, dispatch):
    """The validation logs of one epoch (no progress bar of its own, as Keras)."""
    if isinstance(val, BatchSource):
        logs = evaluate_batches(model, val, dispatch, None, "validation_data")
        if val.ran_out:
            warnings.warn(val.ran_out_message("this validation used the batches it got",
                                              "validation"), stacklevel=4)
        return logs
    return model._evaluate_arrays(*val, batch_size, dispatch, progress=None)


# --------------------------------------------------------------------------- evaluate
def _chunks_and_plan(model, reader, chunker, stack, purpose):
    """Each chunk ``reader`` gives, with the plan borrowed for ``purpose`` (kept
    open in ``stack``), borrowed after the first batch: it may have built the model."""
    plan = None
    while True:
        chunk = reader.next(chunker.size)
        if chunk is None:
            return
        if plan is None:
            plan = stack.enter_context(model._plan_cache.borrowed(model, purpose, model._plan_executor))
        yield chunk, plan


def evaluate_batches(model, source, dispatch, progress, argname="x"):
    dispatch.on_test_begin({})
    chunker = _Chunker(any(_needs_batch_hooks(cb, _TEST_HOOKS) for cb in dispatch.callbacks))
    reader = ChunkReader(model, _first_or_fail(source, argname, "evaluate"), argname)
    tally = _Tally(model.compiled_metrics)
    logs = {}
    with contextlib.ExitStack() as stack:
        for chunk, plan in _chunks_and_plan(model, reader, chunker, stack, "evaluate"):
            k, step = len(chunk.sizes), chunk.first_step
            if chunker.per_step:
                dispatch.on_test_batch_begin(step, {})
            start = time.perf_counter()
            with model._training_lock.reading():
                res = plan.run(plan.data(chunk.x, chunk.y, chunk.sw),
                               np.arange(chunk.x.shape[0]), chunk.sizes[0], train=False)
            chunker.record(k, time.perf_counter() - start)
            losses = res.losses.tolist()
            sums, counts = res.metric_sums.tolist(), res.metric_counts.tolist()
            for j in range(k):
                tally.add(losses[j], chunk.sizes[j], sums[j], counts[j])
                if chunker.per_step:
                    dispatch.on_test_batch_end(step + j, tally.logs())
            logs = tally.logs()
            if progress is not None:
                progress.advance(step + k, logs)
    tally.publish()
    dispatch.on_test_end(logs)
    return logs


def evaluate(model, x, y, batch_size, verbose, sample_weight, callbacks, steps):
    model._require_compiled("evaluate")
    _refuse(y, "y", "its batches hold the targets")
    _refuse(sample_weight, "sample_weight", "yield (x, y, sample_weight) batches instead")
    _refuse(batch_size, "batch_size", "its batches are the steps")
    verbose = resolve_verbose(verbose)
    source = BatchSource(x, steps, "x", "steps")
    dispatch, _, progress = _callback_dispatch(model, callbacks, verbose, "test", 1,
                                               source.known_steps)
    logs = evaluate_batches(model, source, dispatch, progress)
    if source.ran_out:
        warnings.warn(source.ran_out_message("evaluated the batches it gave"), stacklevel=3)
    return logs


# --------------------------------------------------------------------------- predict
def predict(model, x, batch_size, verbose, callbacks, steps):
    _refuse(batch_size, "batch_size", "its batches are the steps")
    verbose = resolve_verbose(verbose)
    source = BatchSource(x, steps, "x", "steps")
    dispatch, _, progress = _callback_dispatch(model, callbacks, verbose, "predict", 1,
                                               source.known_steps)
    chunker = _Chunker(any(_needs_batch_hooks(cb, _PREDICT_HOOKS) for cb in dispatch.callbacks))
    reader = ChunkReader(model, _first_or_fail(source, "x", "predict"), "x", targets=False)
    dispatch.on_predict_begin({})
    outputs, out_shape = [], None
    with contextlib.ExitStack() as stack:
        for chunk, plan in _chunks_and_plan(model, reader, chunker, stack, "predict"):
            if out_shape is None:
                out_shape = tuple(model.compute_output_shape(model._sample_shape))
            n, k, step = chunk.x.shape[0], len(chunk.sizes), chunk.first_step
            if chunker.per_step:
                dispatch.on_predict_batch_begin(step, {})
            start = time.perf_counter()
            with model._training_lock.reading():
                out = plan.predict(chunk.x.reshape(n, -1), chunk.sizes[0])
            chunker.record(k, time.perf_counter() - start)
            out = out.reshape((n,) + out_shape)
            outputs.append(out)
            if chunker.per_step:
                dispatch.on_predict_batch_end(step, {"outputs": out})
            if progress is not None:
                progress.advance(step + k, {})
    if source.ran_out:
        warnings.warn(source.ran_out_message("predicted the batches it gave"), stacklevel=3)
    dispatch.on_predict_end({})
    return model._outputs_from_flat(np.concatenate(outputs))
