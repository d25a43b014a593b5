"""ops.matmul / ops.gemm against bprop.reference: values, layouts, flags, zero sizes, out=.

GEMM tolerance: a sum of k products errs by at most ~k ulp of sum(|a_i||b_i|),
so results are compared elementwise against ``rtol * (|a| @ |b|)`` (the
error scale of each element) rather than against the possibly cancelled
value itself; rtol is the dtype's value tolerance (see conftest.TOLERANCES).
"""
from __future__ import annotations

import os
import subprocess
import sys

import numpy as np
import pytest

import bprop
from bprop import ops
from bprop import reference as ref

# (m, k, n): tiny, odd (micro-kernel edges), and past typical MC/KC/NC block edges
# KC = 256, MC <= 144, NC >= 2040 in every kernel table: (3, 600, 2) spans three K
# blocks, (1000, 3, 2) many M blocks, (2, 3, 4500) more than one N block
SHAPES = [(1, 1, 1), (2, 3, 4), (7, 13, 5), (33, 65, 17), (64, 64, 64), (97, 300, 71),
          (130, 70, 129), (3, 600, 2), (1000, 3, 2), (2, 3, 4500)]
ZERO_SHAPES = [(0, 3, 4), (3, 0, 4), (3, 4, 0), (0, 0, 0), (0, 5, 0)]


def assert_gemm_close(got, want, scale, tol):
    """|got - want| <= rtol * scale + atol, elementwise, with a useful message."""
    assert got.shape == want.shape, (got.shape, want.shape)
    err = np.abs(got.astype(np.float64) - want.astype(np.float64))
    bound = tol["rtol"] * scale.astype(np.float64) + tol["atol"]
    if not np.all(err <= bound):
        worst = np.unravel_index(np.argmax(err - bound), err.shape)
        raise AssertionError("gemm mismatch at %s: got %r, want %r (err %.3e > bound %.3e)"
                             % (worst, got[worst], want[worst], err[worst], bound[worst]))


def rand(rng, shape, dtype):
    return rng.standard_normal(shape).astype(dtype)


# ----------------------------------------------------------------- matmul
@pytest.mark.parametrize("mkn", SHAPES, ids=str)
def test_matmul_matches_reference(rng, dtype, tol, mkn):
    m, k, n = mkn
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    got = ops.matmul(a, b)
    assert isinstance(got, np.ndarray) and got.dtype == dtype and got.shape == (m, n)
    assert got.flags.c_contiguous
    assert_gemm_close(got, ref.matmul(a, b), np.abs(a) @ np.abs(b), tol)


def test_matmul_layouts(rng, dtype, tol, relayout, layout_a, layout_b):
    # transposed (Fortran-ordered), row-strided, column-offset and reversed views
    a, b = rand(rng, (37, 45), dtype), rand(rng, (45, 29), dtype)
    va, vb = relayout(a, layout_a), relayout(b, layout_b)
    got = ops.matmul(va, vb)
    assert_gemm_close(got, ref.matmul(a, b), np.abs(a) @ np.abs(b), tol)
    # inputs untouched (the NaN padding of strided views is never read either)
    np.testing.assert_array_equal(va, a)
    np.testing.assert_array_equal(vb, b)


def test_matmul_of_a_transpose_view(rng, dtype, tol):
    x = rand(rng, (50, 40), dtype)
    # x.T @ x and x @ x.T: the everyday uses of a transposed view (dense backward)
    assert_gemm_close(ops.matmul(x.T, x), ref.matmul(x.T, x), np.abs(x.T) @ np.abs(x), tol)
    assert_gemm_close(ops.matmul(x, x.T), ref.matmul(x, x.T), np.abs(x) @ np.abs(x.T), tol)


@pytest.mark.parametrize("mkn", ZERO_SHAPES, ids=str)
def test_matmul_zero_size(rng, dtype, mkn):
    m, k, n = mkn
    a, b = rand(rng, (m, k), dtype), rand(rng, (k, n), dtype)
    got = ops.matmul(a, b)
    assert got.shape == (m, n) and got.dtype == dtype
    # k == 0: an empty sum is 0, even into an out= buffer full of NaN
    out = np.full((m, n), np.nan, dtype=dtype)
    assert ops.matmul(a, b, out=out) is out
    np.testing.assert_array_equal(out, np.zeros((m, n), dtype))
    np.testing.assert_array_equal(got, np.zeros((m, n), dtype))


def test_matmul_accepts_array_likes():
    got = ops.matmul([[1.0, 2.0], [3.0, 4.0]], [[5.0], [6.0]])
    assert got.dtype == np.float64
    np.testing.assert_array_equal(got, [[17.0], [39.0]])


def test_matmul_small_integers_exact(dtype):
    # integer-valued floats: every partial sum is exact, so results are exact
    a = (np.arange(12).reshape(3, 4) - 5).astype(dtype)
    b = (np.arange(8).reshape(4, 2) % 3).astype(dtype)
    np.testing.assert_array_equal(ops.matmul(a, b), a.astype(np.int64) @ b.astype(np.int64))


def test_matmul_out_is_filled_and_returned(rng, dtype, tol):
    a, b = rand(rng, (9, 11), dtype), rand(rng, (11, 6), dtype)
    out = np.full((9, 6), np.nan, dtype=dtype)
    assert ops.matmul(a, b, out=out) is out
    assert_gemm_close(out, ref.matmul(a, b), np.abs(a) @ np.abs(b), tol)


def test_matmul_out_aliasing_an_input_is_refused_or_correct(rng, dtype, tol):
    # out= sharing memory with an input is a hazard: refuse it or compute correctly
    a = rand(rng, (8, 8), dtype)
    b = rand(rng, (8, 8), dtype)
    want = ref.matmul(a, b)
    scale = np.abs(a) @ np.abs(b)
    try:
        got = ops.matmul(a, b, out=a)
    except ValueError as exc:
        assert "out" in str(exc)
    else:
        assert got is a
        assert_gemm_close(got, want, scale, tol)


# ----------------------------------------------------------------- gemm
@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
@pytest.mark.parametrize("alpha,beta", [(1.0, 0.0), (-0.5, 0.0), (1.0, 1.0), (2.0, -1.5),
                                        (0.0, 2.0)])
def test_gemm_flags_match_reference(rng, dtype, tol, trans_a, trans_b, alpha, beta):
    m, k, n = 23, 41, 19
    a = rand(rng, (k, m) if trans_a else (m, k), dtype)
    b = rand(rng, (n, k) if trans_b else (k, n), dtype)
    c0 = rand(rng, (m, n), dtype)
    c = c0.copy()
    got = ops.gemm(a, b, c, alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    assert got is c
    want = ref.gemm(a, b, c0.copy(), alpha=alpha, beta=beta, trans_a=trans_a, trans_b=trans_b)
    opa = a.T if trans_a else a
    opb = b.T if trans_b else b
    scale = abs(alpha) * (np.abs(opa) @ np.abs(opb)) + abs(beta) * np.abs(c0)
    assert_gemm_close(got, want, scale, tol)


@pytest.mark.parametrize("trans_a", [False, True])
@pytest.mark.parametrize("trans_b", [False, True])
def test_gemm_without_c_returns_new_array_and_ignores_beta(rng, dtype, tol, trans_a, trans_b):
    m, k, n = 12, 30, 7
    a = rand(rng, (k, m) if trans_a else (m, k), dtype)
    b = rand(rng, (n, k) if trans_b else (k, n), dtype)
    got = ops.gemm(a, b, None, alpha=1.5, beta=3.0, trans_a=trans_a, trans_b=trans_b)
    want = ref.gemm(a, b, None, alpha=1.5, beta=3.0, trans_a=trans_a, trans_b=trans_b)
    assert got.shape == (m, n) and got.dtype == dtype
    opa = a.T if trans_a else a
    opb = b.T if trans_b else b
    assert_gemm_close(got, want, 1.5 * (np.abs(opa) @ np.abs(opb)), tol)


def test_gemm_beta_zero_never_reads_c(rng, dtype, tol):
    a, b = rand(rng, (31, 17), dtype), rand(rng, (17, 9), dtype)
    c = np.full((31, 9), np.nan, dtype=dtype)
    got = ops.gemm(a, b, c, alpha=2.0, beta=0.0)
    assert got is c and np.all(np.isfinite(c))
    assert_gemm_close(c, 2.0 * ref.matmul(a, b), 2.0 * (np.abs(a) @ np.abs(b)), tol)


def test_gemm_beta_zero_never_reads_c_when_k_is_zero(dtype):
    a, b = np.ones((4, 0), dtype), np.ones((0, 3), dtype)
    c = np.full((4, 3), np.nan, dtype=dtype)
    ops.gemm(a, b, c, beta=0.0)
    np.testing.assert_array_equal(c, np.zeros((4, 3), dtype))


def test_gemm_k_zero_scales_c_by_beta(dtype):
    a, b = np.ones((4, 0), dtype), np.ones((0, 3), dtype)
    c = np.arange(12, dtype=dtype).reshape(4, 3)
    ops.gemm(a, b, c, alpha=5.0, beta=0.5)
    np.testing.assert_array_equal(c, np.arange(12, dtype=dtype).reshape(4, 3) * dtype.type(0.5))


def test_gemm_accumulates_in_place_like_blas(rng, dtype, tol):
    # c += a @ b twice (beta = 1): the gradient accumulation pattern
    a, b = rand(rng, (20, 33), dtype), rand(rng, (33, 14), dtype)
    c = np.zeros((20, 14), dtype)
    ops.gemm(a, b, c, beta=1.0)
    ops.gemm(a, b, c, beta=1.0)
    assert_gemm_close(c, 2 * ref.matmul(a, b), 2 * (np.abs(a) @ np.abs(b)), tol)


def test_gemm_layouts_with_flags(rng, dtype, tol, relayout, layout_a, layout_b):
    # transposed views combined with transpose flags: op(a.T) etc.
    a, b = rand(rng, (26, 35), dtype), rand(rng, (18, 35), dtype)
    got = ops.gemm(relayout(a, layout_a), relayout(b, layout_b), trans_b=True)
    assert_gemm_close(got, a @ b.T, np.abs(a) @ np.abs(b.T), tol)


@pytest.mark.parametrize("mkn", ZERO_SHAPES, ids=str)
def test_gemm_zero_size(rng, dtype, mkn):
    m, k, n = mkn
    a, b = rand(rng, (k, m), dtype), rand(rng, (n, k), dtype)
    got = ops.gemm(a, b, trans_a=True, trans_b=True)
    assert got.shape == (m, n) and got.dtype == dtype
    np.testing.assert_array_equal(got, np.zeros((m, n), dtype))


# ----------------------------------------------------------------- every SIMD path
@pytest.mark.parametrize("mkn", SHAPES + [(6, 1, 16), (12, 257, 24), (5, 3, 17)], ids=str)
def test_every_simd_path_matches_reference(rng, dtype, tol, isa, mkn):
    m, k, n = mkn
    assert bprop.build_info()["simd"] == isa
    a, b = rand(rng, (m, k), dtype), rand(rng, (n, k), dtype)
    scale = np.abs(a) @ np.abs(b.T)
    rb = b[::-1]
    # (operand, trans_b, the product it must give): packed copy, flag, F-order view, reversed
    cases = [(b.T.copy(), False, a @ b.T), (b, True, a @ b.T), (b.T, False, a @ b.T),
             (rb.T, False, a @ rb.T)]
    for bb, tb, want in cases:
        got = ops.gemm(a, bb, trans_b=tb)
        assert_gemm_close(got, want, np.abs(a) @ np.abs(b.T if want is not cases[3][2] else rb.T),
                          tol)
    # the fused dense kernel runs the same micro-kernel with its epilogue
    bias = rand(rng, n, dtype)
    for act in ("relu", "sigmoid", "tanh", "gelu"):
        got = ops.dense_forward(a, b.T, bias, act)
        assert_gemm_close(got, ref.dense_forward(a, b.T, bias, act), scale + np.abs(bias) + 1, tol)


def test_bprop_cpu_environment_variable_selects_the_path():
    code = "import bprop; print(bprop.build_info()['simd'], bprop.ops.get_isa())"
    env = dict(os.environ, BPROP_CPU="generic")
    proc = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["generic", "generic"]


@pytest.mark.parametrize("layout", ["T", "rows2", "cols1", "rev"])
def test_strided_out_and_c_are_written_in_place(rng, dtype, tol, layout, relayout):
    # matmul/gemm write through the strides of out / c (no hidden copy)
    a, b = rand(rng, (11, 6), dtype), rand(rng, (6, 5), dtype)
    c0 = rand(rng, (11, 5), dtype)
    scale = np.abs(a) @ np.abs(b) + np.abs(c0)
    out = relayout(np.zeros((11, 5), dtype), layout)
    assert ops.matmul(a, b, out=out) is out
    assert_gemm_close(out, ref.matmul(a, b), scale, tol)
    c = relayout(c0, layout)
    base = c.base if c.base is not None else c
    gaps = np.isnan(base).sum()
    assert ops.gemm(a, b, c, beta=1.0) is c
    assert_gemm_close(c, ref.matmul(a, b) + c0, scale, tol)
    assert np.isnan(base).sum() == gaps  # the NaN gaps between strided rows untouched
