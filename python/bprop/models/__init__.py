"""Models: ``Sequential``, ``Model`` (functional or subclassed), ``load_model``, ``save_model``."""
from __future__ import annotations

from .cloning import clone_model, model_from_json
from .functional import Functional
from .model import Model
from .saving import load_model, save_model
from .sequential import Sequential

__all__ = ["Sequential", "Model", "Functional", "load_model", "save_model", "clone_model",
           "model_from_json"]
