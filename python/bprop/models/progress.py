"""Progress display of ``fit``/``evaluate``/``predict``.

``verbose=1``: a live tqdm bar per epoch (steps done, elapsed, ETA, and the
running loss and metrics), closed with the epoch's final logs, validation
included.  ``verbose=2``: one line per epoch.  ``verbose=0``: nothing.
Output goes to ``sys.stdout``, as Keras prints.

The epoch hooks open and close the bar; the loops feed it with
:meth:`ProgressLogger.advance` after each core call (a chunk of steps), and
it redraws at most every 0.1 s, so it costs training nothing measurable.
"""
from __future__ import annotations

import sys
import time

__all__ = ["ProgressLogger", "format_logs", "resolve_verbose"]

_REFRESH_SECONDS = 0.1
_BAR_FORMAT = "{n_fmt}/{total_fmt} [{bar:30}] - ETA: {remaining} - {elapsed} - {rate_fmt}{postfix}"


def resolve_verbose(verbose):
    """Keras' ``verbose``: "auto" -> 1; 0, 1, 2 otherwise (ValueError for anything else)."""
    if verbose == "auto":
        return 1
    if isinstance(verbose, bool) or verbose not in (0, 1, 2):
        raise ValueError("verbose: expected 'auto', 0, 1 or 2, got %r" % (verbose,))
    return int(verbose)


def format_logs(logs):
    """``"loss: 0.1234 - accuracy: 0.9500"`` from a logs dict."""
    parts = []
    for key, value in logs.items():
        try:
            parts.append("%s: %.4f" % (key, float(value)))
        except (TypeError, ValueError):
            parts.append("%s: %s" % (key, value))
    return " - ".join(parts)


def _new_bar(total, desc=None):
    from tqdm import tqdm

    return tqdm(total=total, file=sys.stdout, bar_format=_BAR_FORMAT, unit="step",
                ascii=" =", leave=True, desc=desc, mininterval=_REFRESH_SECONDS)


class ProgressLogger:
    """Callback-shaped logger the training loop adds when ``verbose`` is 1 or 2."""

    def __init__(self, verbose, mode="train"):
        self.verbose = verbose
        self.mode = mode
        self.model = None
        self.params = {}
        self._bar = None
        self._start = 0.0
        self._epochs = 1
        self._epoch = 0
        self._last_postfix = 0.0
        self._steps_done = 0  # the count shown when params has no "steps" (a generator)

    def set_model(self, model):
        self.model = model

    def set_params(self, params):
        self.params = dict(params)
        self._epochs = params.get("epochs", 1)

    # -------------------------------------------------------------- training
    def on_train_begin(self, logs=None):
        pass

    def on_epoch_begin(self, epoch, logs=None):
        self._epoch = epoch
        self._start = time.perf_counter()
        self._steps_done = 0
        if self.verbose == 1:
            print("Epoch %d/%d" % (epoch + 1, self._epochs), file=sys.stdout, flush=True)
            self._bar = _new_bar(self.params.get("steps"))

    def on_train_batch_begin(self, batch, logs=None):
        pass

    def on_train_batch_end(self, batch, logs=None):
        pass

    def advance(self, steps_done, logs=None):
        """The loop has done ``steps_done`` steps of this epoch (or call)."""
        self._steps_done = steps_done
        bar = self._bar
        if bar is None:
            return
        now = time.perf_counter()
        if logs and now - self._last_postfix >= _REFRESH_SECONDS:
            bar.set_postfix_str(format_logs(logs), refresh=False)
            self._last_postfix = now
        if steps_done > bar.n:
            bar.update(steps_done - bar.n)

    def on_epoch_end(self, epoch, logs=None):
        elapsed = time.perf_counter() - self._start
        steps = max(self.params.get("steps") or self._steps_done, 1)
        if self._bar is not None:
            self._bar.set_postfix_str(format_logs(logs or {}), refresh=True)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            print("Epoch %d/%d - %.1fs - %.0fms/step - %s"
                  % (epoch + 1, self._epochs, elapsed, 1000.0 * elapsed / steps,
                     format_logs(logs or {})), file=sys.stdout, flush=True)

    def on_train_end(self, logs=None):
        if self._bar is not None:
            self._bar.close()
            self._bar = None

    # -------------------------------------------------------------- evaluate / predict
    def on_test_begin(self, logs=None):
        if self.mode == "test":
            self._begin_standalone()

    def on_test_batch_begin(self, batch, logs=None):
        pass

    def on_test_batch_end(self, batch, logs=None):
        pass

    def on_test_end(self, logs=None):
        if self.mode == "test":
            self._end_standalone(logs)

    def on_predict_begin(self, logs=None):
        self._begin_standalone()

    def on_predict_batch_begin(self, batch, logs=None):
        pass

    def on_predict_batch_end(self, batch, logs=None):
        pass

    def on_predict_end(self, logs=None):
        self._end_standalone(logs)

    def _begin_standalone(self):
        self._start = time.perf_counter()
        self._steps_done = 0
        if self.verbose == 1:
            self._bar = _new_bar(self.params.get("steps"))

    def _end_standalone(self, logs):
        elapsed = time.perf_counter() - self._start
        if self._bar is not None:
            if logs:
                self._bar.set_postfix_str(format_logs(logs), refresh=True)
            self._bar.close()
            self._bar = None
        elif self.verbose == 2:
            steps = max(self.params.get("steps") or self._steps_done, 1)
            line = "%d/%d - %.1fs - %.0fms/step" % (steps, steps, elapsed, 1000.0 * elapsed / steps)
            if logs:
                line += " - " + format_logs(logs)
            print(line, file=sys.stdout, flush=True)
