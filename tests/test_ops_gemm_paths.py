"""The two GEMM drivers: packed (BLIS five loops) and direct (A read in place).

``auto`` picks the direct driver for small single-thread products (the GEMMs
of an MLP step) and the packed one otherwise.  Both block K the same way and
sum in the same order, so they must agree to the bit on every shape, layout,
flag, ISA and epilogue; and each must match the NumPy reference.
"""
from __future__ import annotations

import numpy as np
import pytest

from bprop import _core, ops
from bprop import reference as ref

from test_ops_gemm import assert_gemm_close, rand

# Edges of every tile (MR 6/12, NR 4..32), several K blocks (KC = 256), one row,
# one column, and the MLP step's own shapes.
SHAPES = [(1, 1, 1), (1, 7, 33), (5, 3, 17), (6, 1, 16), (13, 300, 10), (32, 784, 64),
          (32, 64, 10), (37, 513, 41), (64, 32, 10), (130, 20, 129)]


def run_on(path, fn):
    previous = _core._set_gemm_path(path)
    try:
        return fn()
    finally:
        _core._set_gemm_path(previous)


@pytest.fixture(autouse=True)
def _restore_the_automatic_choice():
    yield
    _core._set_gemm_path("auto")


@pytest.mark.parametrize("mkn", SHAPES, ids=str)
@pytest.mark.parametrize("trans_a, trans_b", [(False, False), (False, True), (True, False),
                                              (True, True)], ids=["NN", "NT", "TN", "TT"])
def test_packed_and_direct_agree_to_the_bit_and_match_reference(rng, dtype, tol, mkn, trans_a,
                                                                trans_b):
    m, k, n = mkn
    a = rand(rng, (k, m) if trans_a else (m, k), dtype)
    b = rand(rng, (n, k) if trans_b else (k, n), dtype)
    c0 = rand(rng, (m, n), dtype)
    opa, opb = (a.T if trans_a else a), (b.T if trans_b else b)
    want = ref.gemm(a, b, c0.copy(), alpha=0.5, beta=-2.0, trans_a=trans_a, trans_b=trans_b)
    got = {}
    for path in ("packed", "direct", "auto"):
        c = c0.copy()
        run_on(path, lambda: ops.gemm(a, b, c=c, alpha=0.5, beta=-2.0, trans_a=trans_a,
                                      trans_b=trans_b))
        got[path] = c
    assert got["packed"].tobytes() == got["direct"].tobytes() == got["auto"].tobytes()
    assert_gemm_close(got["direct"], want, 0.5 * np.abs(opa) @ np.abs(opb) + 2 * np.abs(c0), tol)


def test_every_layout_of_a_and_b_on_both_paths(rng, dtype, tol, relayout, layout_a, layout_b):
    a, b = rand(rng, (29, 270), dtype), rand(rng, (270, 23), dtype)
    va, vb = relayout(a, layout_a), relayout(b, layout_b)
    packed = run_on("packed", lambda: ops.matmul(va, vb))
    direct = run_on("direct", lambda: ops.matmul(va, vb))
    assert packed.tobytes() == direct.tobytes()
    assert_gemm_close(direct, ref.matmul(a, b), np.abs(a) @ np.abs(b), tol)


@pytest.mark.parametrize("layout", ["T", "rows2", "rev"])
def test_strided_c_on_both_paths(rng, dtype, tol, relayout, layout):
    a, b, c0 = rand(rng, (14, 9), dtype), rand(rng, (9, 19), dtype), rand(rng, (14, 19), dtype)
    results = []
    for path in ("packed", "direct"):
        c = relayout(c0.copy(), layout)
        run_on(path, lambda: ops.gemm(a, b, c=c, beta=1.0))
        results.append(np.array(c))
    assert results[0].tobytes() == results[1].tobytes()
    assert_gemm_close(results[1], a @ b + c0, np.abs(a) @ np.abs(b) + np.abs(c0), tol)


def test_beta_zero_never_reads_c_on_the_direct_path(rng, dtype):
    a, b = rand(rng, (8, 5), dtype), rand(rng, (5, 21), dtype)
    c = np.full((8, 21), np.nan, dtype)
    run_on("direct", lambda: ops.gemm(a, b, c=c, beta=0.0))
    assert np.all(np.isfinite(c))


@pytest.mark.parametrize("mkn", [(5, 3, 17), (32, 784, 64), (33, 300, 10)], ids=str)
@pytest.mark.parametrize("act", ["relu", "sigmoid", "tanh", "gelu", "leaky_relu", None])
def test_dense_epilogue_on_both_paths(rng, dtype, tol, isa, mkn, act):
    m, k, n = mkn
    x, w, bias = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype), rand(rng, n, dtype)
    packed = run_on("packed", lambda: ops.dense_forward(x, w, bias, act))
    direct = run_on("direct", lambda: ops.dense_forward(x, w, bias, act))
    assert packed.tobytes() == direct.tobytes()
    scale = np.abs(x) @ np.abs(w) + np.abs(bias) + 1
    assert_gemm_close(direct, ref.dense_forward(x, w, bias, act), scale, tol)


def test_every_isa_agrees_across_paths(rng, dtype, isa):
    a, b = rand(rng, (27, 40), dtype), rand(rng, (23, 40), dtype)
    packed = run_on("packed", lambda: ops.gemm(a, b, trans_b=True))
    direct = run_on("direct", lambda: ops.gemm(a, b, trans_b=True))
    assert packed.tobytes() == direct.tobytes()


def test_set_gemm_path_validates_and_returns_the_previous_setting():
    assert _core._set_gemm_path("direct") == "auto"
    assert _core._set_gemm_path("packed") == "direct"
    assert _core._set_gemm_path("auto") == "packed"
    with pytest.raises(ValueError, match=r"path: expected 'auto', 'packed' or 'direct', got 'x'"):
        _core._set_gemm_path("x")
