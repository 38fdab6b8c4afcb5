"""Shared helpers for the numeric tests (tinygrad / PyTorch style).

``check(out, ref)`` compares shape, then dtype, then values with explicit tolerances.
``check_grad(name, *inputs)`` compares pydl's autodiff gradient (float64) with central finite differences of
``sum(op(*inputs) * W)`` for a random weight tensor W, so the check is not a plain sum.
"""
from __future__ import annotations

import math

import numpy as np

import pydl.ops as ops

# float32 results vs a float64 NumPy reference rounded to float32
F32 = dict(rtol=1e-5, atol=1e-6)
# float64 results vs a float64 NumPy reference
F64 = dict(rtol=1e-12, atol=1e-13)


def tol(dtype):
    return F32 if np.dtype(dtype) == np.float32 else F64


def check(out, ref, dtype=None, rtol=None, atol=None, what="op"):
    """Asserts shape, then dtype (``dtype``, default ref's), then values (|out-ref| <= atol + rtol*|ref|)."""
    out = np.asarray(out)
    ref = np.asarray(ref)
    dtype = np.dtype(dtype if dtype is not None else ref.dtype)
    assert out.shape == ref.shape, f"{what}: shape {out.shape}, expected {ref.shape}"
    assert out.dtype == dtype, f"{what}: dtype {out.dtype}, expected {dtype}"
    t = tol(dtype)
    rtol = t["rtol"] if rtol is None else rtol
    atol = t["atol"] if atol is None else atol
    np.testing.assert_allclose(out.astype(np.float64), ref.astype(np.float64), rtol=rtol, atol=atol,
                               err_msg=f"{what}: values differ")


def erf(x):
    return np.vectorize(math.erf, otypes=[np.float64])(x)


def away_from(x, points, margin=0.05):
    """Moves the elements of x that are within ``margin`` of any of ``points`` (kinks) out to ``margin``."""
    x = np.array(x, dtype=np.float64)
    for p in points:
        d = x - p
        near = np.abs(d) < margin
        x[near] = p + np.where(d[near] >= 0, margin, -margin)
    return x


def numeric_grad(f, inputs, weights, eps=1e-6):
    """Central differences of sum(f(*inputs) * weights) w.r.t. each input (float64)."""
    inputs = [np.array(x, dtype=np.float64) for x in inputs]
    grads = []
    for i, x in enumerate(inputs):
        g = np.zeros_like(x)
        flat, gflat = x.reshape(-1), g.reshape(-1)
        for j in range(flat.size):
            orig = flat[j]
            flat[j] = orig + eps
            hi = float(np.sum(np.asarray(f(*inputs), dtype=np.float64) * weights))
            flat[j] = orig - eps
            lo = float(np.sum(np.asarray(f(*inputs), dtype=np.float64) * weights))
            flat[j] = orig
            gflat[j] = (hi - lo) / (2 * eps)
        grads.append(g)
    return grads


def check_grad(name, *inputs, weight_seed=0, eps=1e-6, rtol=1e-6, atol=1e-7, **kwargs):
    """pydl.ops.grad(name, ...) (float64 autodiff) vs central finite differences of pydl's own float64 forward.

    ``inputs`` are arrays; keyword arguments are the op's options. Weights W ~ U(0.5, 1.5) * random sign.
    """
    inputs = [np.asarray(x, dtype=np.float64) for x in inputs]
    out = ops.call(name, *inputs, **kwargs)
    assert out.dtype == np.float64, f"{name}: float64 forward returned {out.dtype}"
    rng = np.random.default_rng(weight_seed + 1234)
    w = rng.uniform(0.5, 1.5, size=out.shape) * rng.choice([-1.0, 1.0], size=out.shape)
    analytic = ops.grad(name, *inputs, weights=w, **kwargs)
    numeric = numeric_grad(lambda *xs: ops.call(name, *xs, **kwargs), inputs, w, eps)
    assert len(analytic) == len(inputs)
    for k, (a, n, x) in enumerate(zip(analytic, numeric, inputs)):
        assert a.shape == x.shape, f"{name}: grad {k} has shape {a.shape}, input has {x.shape}"
        assert a.dtype == np.float64, f"{name}: grad {k} dtype {a.dtype}"
        scale = max(1.0, float(np.max(np.abs(n))))
        np.testing.assert_allclose(a, n, rtol=rtol, atol=atol * scale, err_msg=f"{name}: gradient {k} differs")
    return analytic


def fd_check_kernel(m, x, y, layer, probes, eps=1e-6, rtol=1e-6, atol=1e-9):
    """Gradient check through a whole float64 model: one SGD(lr=1) step moves each probed entry of ``layer``'s
    first weight by its gradient, which must equal central differences of ``evaluate``'s loss (the full training
    objective, penalties included). Restores nothing: the model has taken one step afterwards."""
    import pydl

    m.compile(optimizer=pydl.optimizers.SGD(1.0), loss="mse")
    w0 = m.get_weights()
    ws = m.get_layer(layer).get_weights()
    k = ws[0]
    numeric = []
    for idx in probes:
        for sign in (1, -1):
            kk = k.copy()
            kk[idx] += sign * eps
            m.get_layer(layer).set_weights([kk, *ws[1:]])
            numeric.append(m.evaluate(x, y, batch_size=len(y), verbose=0))
    numeric = [(numeric[2 * i] - numeric[2 * i + 1]) / (2 * eps) for i in range(len(probes))]
    m.set_weights(w0)
    m.fit(x, y, epochs=1, batch_size=len(y), shuffle=False, verbose=0)
    grad = k - m.get_layer(layer).get_weights()[0]
    np.testing.assert_allclose([grad[i] for i in probes], numeric, rtol=rtol, atol=atol)
    return grad
