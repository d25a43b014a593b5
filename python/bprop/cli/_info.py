"""``bprop info``: version, build of the C++ core, threads, optional extras, data dirs."""
from __future__ import annotations

import importlib.util
import platform

__all__ = ["info_lines", "cmd_info"]


def info_lines():
    import numpy

    import bprop
    from ..datasets import cache_dir

    lines = [f"bprop {bprop.__version__}"]
    build = bprop.build_info()
    for key in sorted(build):
        lines.append(f"  {key}: {build[key]}")
    lines.append(f"threads: {bprop.get_num_threads()}")
    lines.append(f"python: {platform.python_version()} ({platform.machine()}), numpy {numpy.__version__}")
    extras = []
    for module in ("matplotlib", "tqdm"):
        extras.append(f"{module} {'yes' if importlib.util.find_spec(module) else 'no'}")
    lines.append("optional: " + ", ".join(extras))
    lines.append(f"data cache: {cache_dir()}")
    return lines


def cmd_info(args):
    print("\n".join(info_lines()))
    return 0
