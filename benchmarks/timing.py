"""Timing helpers: median of repeats after warm-up, and thread-count control.

``measure(fn)`` calls ``fn`` a few times to warm caches, thread pools and
lazily-allocated buffers, then takes ``repeats`` samples.  A sample times
``number`` back-to-back calls (chosen automatically so that one sample lasts
at least ``min_sample_s``, which keeps the timer's resolution and the call's
jitter out of the figure for microsecond-scale kernels) and is divided by
``number``.  The median of the samples is the reported figure: it ignores
the odd sample slowed down by another process on a shared machine.

``thread_limit(n)`` runs a block with ``n`` threads in bprop's core, in
NumPy's BLAS (through threadpoolctl when installed) and in PyTorch (when
installed), and restores the previous settings afterwards.
"""
from __future__ import annotations

import contextlib
import statistics
import time
from dataclasses import asdict, dataclass, field
from typing import Callable, Dict, List, Optional


# Pause before each library's block of multi-threaded samples: longer than
# OpenBLAS keeps its idle workers busy-waiting after a call (~0.1 s here).
SETTLE_S = 0.25


@dataclass
class Timing:
    """Seconds per call of one measured function.

    ``samples`` holds one figure per repeat (seconds per call, averaged over
    ``number`` calls); ``median`` and ``min`` summarise them.
    """

    median: float
    min: float
    samples: List[float] = field(default_factory=list)
    number: int = 1
    warmup: int = 0

    def to_dict(self):
        return asdict(self)


def _check_count(name, value, minimum):
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, got {type(value).__name__} ({value!r})")
    if value < minimum:
        raise ValueError(f"{name} must be >= {minimum}, got {value}")


def _check_measure_args(repeats, warmup, number, max_number, min_sample_s):
    _check_count("repeats", repeats, 1)
    _check_count("warmup", warmup, 0)
    if number is not None:
        _check_count("number", number, 1)
    _check_count("max_number", max_number, 1)
    if not min_sample_s >= 0:
        raise ValueError(f"min_sample_s must be >= 0, got {min_sample_s!r}")


def calibrate(fn: Callable[[], object], warmup: int = 1, min_sample_s: float = 0.01,
              max_number: int = 100000, clock: Callable[[], float] = time.perf_counter) -> int:
    """Make ``warmup`` untimed calls, then return the calls per sample.

    The number of calls doubles (or jumps to an estimate) from 1 until a
    batch of calls lasts ``min_sample_s``, capped at ``max_number``.  The
    calibration calls count as extra warm-up and are not reported.
    """
    last_warmup_s = 0.0
    for _ in range(warmup):
        t0 = clock()
        fn()
        last_warmup_s = clock() - t0
    if warmup > 0 and last_warmup_s >= min_sample_s:
        # One call already lasts a whole sample: calibrating would only
        # repeat a slow call for nothing.
        return 1
    number = 1
    while True:
        t0 = clock()
        for _ in range(number):
            fn()
        elapsed = clock() - t0
        if elapsed >= min_sample_s or number >= max_number:
            return number
        # Aim a little past the target so the loop ends in one more step.
        guess = int(number * 1.2 * min_sample_s / elapsed) if elapsed > 0 else number * 2
        number = min(max_number, max(number * 2, guess))


def _sample(fn, number, clock):
    t0 = clock()
    for _ in range(number):
        fn()
    return (clock() - t0) / number


def measure(fn: Callable[[], object], repeats: int = 5, warmup: int = 1,
            number: Optional[int] = None, min_sample_s: float = 0.01,
            max_number: int = 100000, clock: Callable[[], float] = time.perf_counter) -> Timing:
    """Time ``fn()``: ``warmup`` untimed calls, then ``repeats`` timed samples.

    Args:
        fn: a callable taking no argument (its result is ignored).
        repeats: number of timed samples (>= 1); the median is reported.
        warmup: untimed calls made first (>= 0).
        number: calls per sample; None picks it with :func:`calibrate` so
            that a sample lasts at least ``min_sample_s``.
        min_sample_s: target duration of one sample when ``number`` is None.
        max_number: upper bound of the automatic ``number``.
        clock: a monotonic clock in seconds (injectable for tests).

    Returns:
        A :class:`Timing` in seconds per call.
    """
    if not callable(fn):
        raise TypeError(f"fn must be callable, got {type(fn).__name__}")
    return compare({"fn": fn}, repeats=repeats, warmup=warmup, number=number,
                   min_sample_s=min_sample_s, max_number=max_number, clock=clock)["fn"]


def compare(fns: Dict[str, Callable[[], object]], repeats: int = 5, warmup: int = 1,
            number: Optional[int] = None, min_sample_s: float = 0.01,
            max_number: int = 100000, interleave: bool = True, settle_s: float = 0.0,
            clock: Callable[[], float] = time.perf_counter) -> Dict[str, Timing]:
    """Time several implementations of one task.

    Each function is warmed up and calibrated (as :func:`measure`).  With
    ``interleave`` the repeats take turns: sample 1 of every function,
    sample 2 of every function, ...  On a shared machine a burst of load
    then slows all of them alike, so the ratios of the medians stay fair.
    Without it each function takes all its samples in a row, right after
    its own warm-up: use that for multi-threaded runs, where the worker
    threads one library leaves spinning after a call (OpenBLAS busy-waits
    for a while) would steal cores from the next library's threads; and
    give ``settle_s``, a pause before each block that outlasts that
    busy-wait (otherwise a short block runs entirely beside the previous
    library's spinning threads, at about half speed on two cores).

    Returns ``{name: Timing}`` in the order of ``fns``.
    """
    for name, fn in fns.items():
        if not callable(fn):
            raise TypeError(f"fns[{name!r}] must be callable, got {type(fn).__name__}")
    _check_measure_args(repeats, warmup, number, max_number, min_sample_s)
    if not settle_s >= 0:
        raise ValueError(f"settle_s must be >= 0, got {settle_s!r}")
    numbers = {}
    samples = {name: [] for name in fns}

    def prepare(name, fn):
        numbers[name] = number if number is not None else calibrate(
            fn, warmup=warmup, min_sample_s=min_sample_s, max_number=max_number, clock=clock)
        if number is not None:
            for _ in range(warmup):
                fn()

    if interleave:
        for name, fn in fns.items():
            prepare(name, fn)
        for _ in range(repeats):
            for name, fn in fns.items():
                samples[name].append(_sample(fn, numbers[name], clock))
    else:
        for name, fn in fns.items():
            if settle_s > 0:
                time.sleep(settle_s)
            prepare(name, fn)
            samples[name] = [_sample(fn, numbers[name], clock) for _ in range(repeats)]
    return {name: Timing(median=statistics.median(s), min=min(s), samples=s,
                         number=numbers[name], warmup=warmup)
            for name, s in samples.items()}


def numpy_thread_control():
    """The threadpoolctl module when installed, else None (NumPy's BLAS threads uncontrolled)."""
    try:
        import threadpoolctl
    except ImportError:
        return None
    return threadpoolctl


def import_torch():
    """PyTorch when ``import torch`` works, else None: it is optional, never required."""
    try:
        import torch
    except Exception:  # noqa: BLE001 - a broken torch install must not stop the benchmarks
        return None
    return torch


@contextlib.contextmanager
def thread_limit(n: int, torch=None):
    """Run the block with ``n`` threads in bprop, NumPy's BLAS and ``torch`` (if given).

    Yields a dict saying which of them were actually limited, so that the
    report can say when NumPy ran with its own thread count.
    """
    import bprop

    _check_count("threads", n, 1)
    before = bprop.get_num_threads()
    controlled = {"bprop": True, "numpy": False, "torch": False}
    with contextlib.ExitStack() as stack:
        bprop.set_num_threads(n)
        stack.callback(bprop.set_num_threads, before)
        tpc = numpy_thread_control()
        if tpc is not None:
            # user_api="blas": bprop's own OpenMP pool is set by bprop itself.
            stack.enter_context(tpc.threadpool_limits(limits=n, user_api="blas"))
            controlled["numpy"] = True
        if torch is not None:
            torch_before = torch.get_num_threads()
            torch.set_num_threads(n)
            stack.callback(torch.set_num_threads, torch_before)
            controlled["torch"] = True
        yield controlled
