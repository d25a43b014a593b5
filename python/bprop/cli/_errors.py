"""The one exception type the command line turns into "bprop: error: ..." and exit 2."""
from __future__ import annotations


class CLIError(Exception):
    """A mistake the user can fix (bad option value, missing file, unknown data set)."""
