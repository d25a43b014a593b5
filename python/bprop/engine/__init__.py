"""The one engine every model trains on: a step plan per (model, loss,
optimizer, input signature), run in the core or op by op.

:class:`StepPlan` (``plan.py``) is the one place that decides what runs
where: nodes with core kernels, a loss, metrics and an optimizer the core
knows run as one compiled step (``core_executor.py`` over ``_core.TrainPlan``),
many steps per call with the GIL released, a user's layer inside it as a
Python node (through a GradientTape); anything else (a user's loss
function, metric or optimizer, or the NumPy backend) runs the same plan op
by op (``op_executor.py``).
"""
from __future__ import annotations

from .nodes import StepContext
from .plan import PlanData, RunResult, StepPlan

__all__ = ["StepPlan", "PlanData", "RunResult", "StepContext"]
