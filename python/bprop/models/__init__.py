"""Models: ``Sequential`` (alias ``Model``), ``load_model``, ``save_model``."""
from __future__ import annotations

from .saving import load_model, save_model
from .sequential import Model, Sequential

__all__ = ["Sequential", "Model", "load_model", "save_model"]
