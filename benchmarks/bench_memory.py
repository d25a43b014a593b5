"""Peak memory of training: issue 5's "peak RSS of a 5-epoch Fashion-MNIST run
at most the data plus 80 MiB".

The run happens in a fresh child process (``python -m benchmarks.bench_memory
--child``), so that nothing the other sections allocated counts.  The child
loads the data as float32 (as the training benchmark does), then resets the
kernel's high-water mark of its resident set (``/proc/self/clear_refs``), so
the peak covers the training and not the one-off uint8-to-float conversion
copies; then it builds the 784-64-64-10 MLP, fits it for the given epochs
(batch 32, Adam), evaluates it and reports ``VmHWM``.  Linux only: elsewhere
the row says it was skipped.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Dict, Optional

MIB = 2 ** 20
TARGET_OVERHEAD_MIB = 80.0


def _status_kib(field: str) -> Optional[int]:
    """A ``/proc/self/status`` field in KiB (VmRSS, VmHWM), None where unavailable."""
    try:
        with open("/proc/self/status") as f:
            for line in f:
                if line.startswith(field + ":"):
                    return int(line.split()[1])
    except OSError:
        return None
    return None


def _reset_peak() -> bool:
    """Restart VmHWM from the current RSS (Linux >= 4.0); False when not allowed."""
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
        return True
    except OSError:
        return False


def child(epochs: int, synthetic: bool) -> Dict:
    """Runs in the child: load, reset the peak, fit, report (sizes in MiB)."""
    import numpy as np

    import bprop
    from benchmarks import bench_training

    (x, y), (xt, yt), source = bench_training.load_data(synthetic=synthetic)
    data_bytes = sum(a.nbytes for a in (x, y, xt, yt))
    reset = _reset_peak()
    before = _status_kib("VmRSS")
    model = bench_training.build_model(bench_training.MODELS[0], "core", seed=0)
    model.fit(x, y, batch_size=32, epochs=epochs, verbose=0)
    _, accuracy = model.evaluate(xt, yt, verbose=0)
    peak = _status_kib("VmHWM")
    del np, bprop
    return {"source": source, "epochs": epochs, "data_mib": data_bytes / MIB,
            "rss_before_fit_mib": None if before is None else before / 1024,
            "peak_rss_mib": None if peak is None else peak / 1024,
            "peak_reset_after_loading": reset, "test_accuracy": float(accuracy)}


def run(epochs: int = 5, synthetic: bool = False, log=None) -> Dict:
    """The child's report plus the target check (``met``: peak <= data + 80 MiB)."""
    if not sys.platform.startswith("linux"):
        return {"skipped": "peak RSS is read from /proc (Linux only)"}
    cmd = [sys.executable, "-m", "benchmarks.bench_memory", "--child", str(epochs)]
    if synthetic:
        cmd.append("--synthetic")
    root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    proc = subprocess.run(cmd, cwd=root, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        raise RuntimeError(f"memory benchmark child failed ({proc.returncode}): {proc.stderr[-2000:]}")
    row = json.loads(proc.stdout.strip().splitlines()[-1])
    if row["peak_rss_mib"] is not None:
        row["overhead_mib"] = row["peak_rss_mib"] - row["data_mib"]
        row["target"] = f"<= data + {TARGET_OVERHEAD_MIB:.0f} MiB"
        row["met"] = row["overhead_mib"] <= TARGET_OVERHEAD_MIB
    if log:
        log(f"memory {epochs} epochs: peak RSS {row['peak_rss_mib']:.1f} MiB, "
            f"data {row['data_mib']:.1f} MiB")
    return row


if __name__ == "__main__":
    if len(sys.argv) >= 3 and sys.argv[1] == "--child":
        print(json.dumps(child(int(sys.argv[2]), "--synthetic" in sys.argv[3:])))
    else:
        print(json.dumps(run(int(sys.argv[1]) if len(sys.argv) > 1 else 5), indent=1))
