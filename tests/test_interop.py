"""Interop: bprop's OpenMP runtime next to threadpoolctl, NumPy's BLAS, PyTorch
and ``os.fork()``.

* threadpoolctl must see bprop's OpenMP library, and ``threadpool_limits``
  must cap the threads bprop's kernels use (and restore them after).
* bprop, NumPy and (when installed) PyTorch in one process: no crash, right
  answers, every thread pool visible to threadpoolctl.
* ``os.fork()`` after the parent ran parallel kernels: the child's kernels
  finish (run in a subprocess with a timeout, so a hang fails the test).

Each scenario runs in a fresh interpreter: OpenMP state (first use, thread
pools, fork) is process-wide and must not leak between tests.
"""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest

TIMEOUT = 120


def run_python(code, timeout=TIMEOUT):
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                          text=True, timeout=timeout)
    assert proc.returncode == 0, "child exited with %d\n%s\n%s" % (
        proc.returncode, proc.stdout[-3000:], proc.stderr[-3000:])
    return proc.stdout


needs_tpc = pytest.mark.skipif(
    subprocess.run([sys.executable, "-c", "import threadpoolctl"], capture_output=True).returncode != 0,
    reason="threadpoolctl is not installed")


@needs_tpc
def test_threadpoolctl_sees_bprops_openmp_library():
    out = run_python("""
        import os, bprop, threadpoolctl
        info = bprop.build_info()
        assert info["openmp"], "bprop built without OpenMP"
        # the OpenMP library mapped into this process by bprop's extension
        maps = open("/proc/self/maps").read()
        pools = threadpoolctl.threadpool_info()
        omp = [p for p in pools if p["user_api"] == "openmp"]
        assert omp, pools
        assert any(os.path.realpath(p["filepath"]) in maps or p["filepath"] in maps for p in omp), omp
        print("ok", [p["filepath"] for p in omp])
    """)
    assert out.startswith("ok")


@needs_tpc
@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="reads /proc")
def test_threadpool_limits_caps_and_restores_bprop_threads():
    out = run_python("""
        import bprop, threadpoolctl
        bprop.set_num_threads(2)
        assert bprop.get_num_threads() == 2
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            inside = bprop.get_num_threads()
        after = bprop.get_num_threads()
        print(inside, after)
    """)
    inside, after = map(int, out.split())
    assert inside == 1, "threadpool_limits(1) did not cap bprop: it still uses %d threads" % inside
    assert after == 2, "bprop's thread count was not restored after threadpool_limits: %d" % after


@needs_tpc
def test_threadpool_limits_at_first_use_does_not_freeze_the_count():
    # bprop reads OpenMP's default thread count lazily, at first use; a
    # temporary limit active at that moment must not become bprop's
    # permanent thread count once the limit is lifted.
    out = run_python("""
        import os
        os.environ["OMP_NUM_THREADS"] = "2"
        import numpy as np
        import threadpoolctl
        import bprop  # loads libgomp, so that threadpoolctl can limit it
        with threadpoolctl.threadpool_limits(limits=1, user_api="openmp"):
            bprop.ops.matmul(np.ones((256, 256)), np.ones((256, 256)))  # first use
            bprop.ops.relu(np.ones(1 << 20))
        print(bprop.get_num_threads())
    """)
    assert int(out) == 2, "the count stayed at the temporary limit: %s" % out


def test_numpy_blas_and_bprop_in_one_process():
    out = run_python("""
        import numpy as np
        import bprop
        rng = np.random.default_rng(0)
        a, b = rng.standard_normal((300, 200)), rng.standard_normal((200, 100))
        want = a @ b                      # NumPy's BLAS thread pool
        got = bprop.ops.matmul(a, b)      # bprop's OpenMP pool
        np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(bprop.ops.matmul(a, b), a @ b, rtol=1e-12, atol=1e-12)
        print("ok")
    """)
    assert out.strip() == "ok"


def test_pytorch_numpy_and_bprop_in_one_process():
    pytest.importorskip("torch")
    out = run_python("""
        import numpy as np
        import torch
        import bprop
        rng = np.random.default_rng(0)
        a = rng.standard_normal((128, 64)).astype(np.float32)
        b = rng.standard_normal((64, 32)).astype(np.float32)
        t = (torch.from_numpy(a) @ torch.from_numpy(b)).numpy()
        got = bprop.ops.matmul(a, b)
        np.testing.assert_allclose(got, t, rtol=1e-4, atol=1e-4)
        np.testing.assert_allclose(got, a @ b, rtol=1e-4, atol=1e-4)
        try:
            import threadpoolctl
        except ImportError:
            pass
        else:
            with threadpoolctl.threadpool_limits(limits=1):
                assert bprop.get_num_threads() == 1
                assert torch.get_num_threads() == 1
        print("ok")
    """)
    assert out.strip() == "ok"


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
def test_fork_after_parallel_kernels_does_not_hang():
    # The parent runs parallel regions (2 threads) first; the child then runs
    # parallel kernels of its own.  GNU libgomp is documented as not
    # fork-safe after a parallel region; this pins down what bprop does.
    out = run_python("""
        import os, sys
        import numpy as np
        import bprop
        bprop.set_num_threads(2)
        a = np.random.default_rng(0).standard_normal((256, 256))
        want = a @ a
        for _ in range(3):
            np.testing.assert_allclose(bprop.ops.matmul(a, a), want, rtol=1e-12, atol=1e-10)
        pid = os.fork()
        if pid == 0:
            try:
                ok = np.allclose(bprop.ops.matmul(a, a), want, rtol=1e-12, atol=1e-10)
                ok = ok and np.allclose(bprop.ops.softmax(a).sum(axis=1), 1.0)
            except BaseException:
                ok = False
            os._exit(0 if ok else 3)
        import signal, time
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            done, status = os.waitpid(pid, os.WNOHANG)
            if done:
                print(os.WEXITSTATUS(status) if os.WIFEXITED(status) else -os.WTERMSIG(status))
                break
            time.sleep(0.05)
        else:  # the child hangs: kill it ourselves, leave no orphan behind
            os.kill(pid, signal.SIGKILL)
            os.waitpid(pid, 0)
            print("hang")
    """, timeout=60)
    assert out.strip() != "hang", "the forked child hung in its first parallel kernel"
    assert int(out) == 0, "the forked child's kernels failed (exit %s)" % out
