"""Every op of pydl.ops: forward vs NumPy (float32 and float64) and gradient (float64) vs finite differences.

Tolerances: float32 rtol 1e-5 / atol 1e-6 against a float64 reference (the kernels compute in float32, so
a few ulps); float64 rtol 1e-12 / atol 1e-13 (matmul and reductions get atol scaled by the reduction length).
Gradients: central differences, eps 1e-6, rtol 1e-6 / atol 1e-7 * max(1, |grad|).
"""
import math

import numpy as np
import pytest

import pydl.ops as ops
from helpers import away_from, check, check_grad, erf, numeric_grad

DTYPES = [np.float32, np.float64]
SELU_ALPHA = 1.6732632423543772
SELU_SCALE = 1.0507009873554805


def rng(seed=0):
    return np.random.default_rng(seed)


def _sigmoid(x):
    return np.where(x >= 0, 1 / (1 + np.exp(-np.abs(x))), np.exp(-np.abs(x)) / (1 + np.exp(-np.abs(x))))


def _relu6(x):
    return np.clip(x, 0, 6)


# name -> (numpy reference, input generator (float64), kwargs, kinks to keep FD away from)
def _std(shape=(3, 5), scale=2.0):
    return lambda r: r.standard_normal(shape) * scale


def _pos(shape=(3, 5)):
    return lambda r: r.uniform(0.2, 4.0, shape)


def _wide(shape=(4, 6)):
    return lambda r: r.uniform(-8.0, 8.0, shape)


UNARY = {
    "neg": (lambda x: -x, _std(), {}, []),
    "exp": (np.exp, _std(), {}, []),
    "log": (np.log, _pos(), {}, []),
    "sqrt": (np.sqrt, _pos(), {}, []),
    "tanh": (np.tanh, _std(), {}, []),
    "sigmoid": (_sigmoid, _std(scale=4.0), {}, []),
    "relu": (lambda x: np.maximum(x, 0), _std(), {}, [0.0]),
    "leaky_relu": (lambda x: np.where(x > 0, x, 0.2 * x), _std(), {}, [0.0]),
    "elu": (lambda x: np.where(x > 0, x, np.expm1(x)), _std(), {}, [0.0]),
    "gelu": (lambda x: 0.5 * x * (1 + erf(x / math.sqrt(2))), _std(), {}, []),
    "softplus": (lambda x: np.logaddexp(0, x), _std(scale=4.0), {}, []),
    "abs": (np.abs, _std(), {}, [0.0]),
    "square": (np.square, _std(), {}, []),
    "selu": (lambda x: SELU_SCALE * np.where(x > 0, x, SELU_ALPHA * np.expm1(x)), _std(), {}, [0.0]),
    "swish": (lambda x: x * _sigmoid(x), _std(), {}, []),
    "softsign": (lambda x: x / (1 + np.abs(x)), _std(), {}, [0.0]),
    "hard_sigmoid": (lambda x: _relu6(x + 3) / 6, _wide(), {}, [-3.0, 3.0]),
    "relu6": (_relu6, _wide(), {}, [0.0, 6.0]),
}

# the same ops with non-default options
UNARY_OPTIONS = [
    ("leaky_relu", {"negative_slope": 0.05}, lambda x: np.where(x > 0, x, 0.05 * x), [0.0]),
    ("elu", {"alpha": 0.5}, lambda x: np.where(x > 0, x, 0.5 * np.expm1(x)), [0.0]),
    ("gelu", {"approximate": True},
     lambda x: 0.5 * x * (1 + np.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * x ** 3))), []),
]


def _unary_input(name, seed=0):
    ref, gen, kw, kinks = UNARY[name]
    x = gen(rng(seed))
    return away_from(x, kinks, 0.05) if kinks else x


# ---------------------------------------------------------------------------------------------------------
# coverage guard: a new op in pydl.ops._TABLE must get a test here
TESTED = set(UNARY) | {"add", "sub", "mul", "div", "pow", "maximum", "minimum", "matmul", "sum", "mean", "max",
                       "softmax", "log_softmax", "reshape", "transpose", "slice", "dropout"}


def test_every_op_is_tested():
    assert set(ops._TABLE) == TESTED, f"untested: {set(ops._TABLE) - TESTED}, stale: {TESTED - set(ops._TABLE)}"
    for extra in ("cross_entropy", "argmax", "concat", "grad", "call"):
        assert callable(getattr(ops, extra))


# ---- unary -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward(name, dtype):
    ref, gen, kw, kinks = UNARY[name]
    x = _unary_input(name).astype(dtype)
    out = getattr(ops, name)(x, **kw)
    check(out, ref(x.astype(np.float64)).astype(dtype), what=name)


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_3d(name):
    ref, gen, kw, kinks = UNARY[name]
    x = away_from(gen(rng(5)).reshape(-1)[:12].reshape(2, 3, 2) * 1.0, kinks, 0.05)
    if name in ("log", "sqrt"):
        x = np.abs(x) + 0.1
    check(getattr(ops, name)(x), ref(x), what=name)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name,kw,ref,kinks", UNARY_OPTIONS, ids=[f"{n}-{list(k)[0]}" for n, k, _, _ in UNARY_OPTIONS])
def test_unary_options_forward(name, kw, ref, kinks, dtype):
    x = away_from(rng(1).standard_normal((4, 5)) * 2, kinks).astype(dtype)
    check(getattr(ops, name)(x, **kw), ref(x.astype(np.float64)).astype(dtype), what=f"{name}{kw}")


@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_grad(name):
    ref, gen, kw, kinks = UNARY[name]
    check_grad(name, _unary_input(name, seed=2), **kw)


@pytest.mark.parametrize("name,kw,ref,kinks", UNARY_OPTIONS, ids=[f"{n}-{list(k)[0]}" for n, k, _, _ in UNARY_OPTIONS])
def test_unary_options_grad(name, kw, ref, kinks):
    check_grad(name, away_from(rng(3).standard_normal((3, 4)) * 2, kinks), **kw)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("name", sorted(UNARY))
def test_unary_forward_large(name, dtype):
    # big enough for the threaded / vectorised kernels, odd sizes for the remainder loops
    ref, gen, kw, kinks = UNARY[name]
    x = gen(rng(11)).reshape(-1)
    x = np.resize(x, (131, 257)) * rng(12).uniform(0.5, 1.5, (131, 257))
    if name in ("log", "sqrt"):
        x = np.abs(x) + 1e-3
    x = x.astype(dtype)
    check(getattr(ops, name)(x, **kw), ref(x.astype(np.float64)).astype(dtype), what=name)


def test_keras_defaults():
    x = np.array([-2.0, -0.5, 0.5, 2.0])
    # leaky_relu default slope 0.2 (Keras's activation), not 0.01 (PyTorch) nor 0.3 (Keras LeakyReLU layer)
    check(ops.leaky_relu(x), np.array([-0.4, -0.1, 0.5, 2.0]))
    # hard_sigmoid = relu6(x + 3) / 6 (Keras 3), not 0.2 x + 0.5
    check(ops.hard_sigmoid(np.array([-4.0, -1.5, 0.0, 1.5, 4.0])), np.array([0.0, 0.25, 0.5, 0.75, 1.0]))
    check(ops.selu(np.array([-1.0, 1.0])), np.array([1.05070098 * 1.67326324 * math.expm1(-1), 1.05070098]),
          rtol=1e-8)
    # exact (erf) gelu by default; the tanh form differs from it by ~1e-4 near |x| = 2
    assert abs(ops.gelu(np.array([2.0]))[0] - 2.0 * 0.5 * (1 + math.erf(2 / math.sqrt(2)))) < 1e-14
    assert abs(ops.gelu(np.array([2.0]), approximate=True)[0] - ops.gelu(np.array([2.0]))[0]) > 1e-5


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_unary_extreme_values_are_stable(dtype):
    x = np.array([-100.0, -30.0, 30.0, 100.0], dtype=dtype)
    check(ops.sigmoid(x), _sigmoid(x.astype(np.float64)).astype(dtype), what="sigmoid")
    check(ops.softplus(x), np.logaddexp(0, x.astype(np.float64)).astype(dtype), what="softplus")
    check(ops.tanh(x), np.tanh(x.astype(np.float64)).astype(dtype), what="tanh")
    check(ops.swish(x), (x * _sigmoid(x.astype(np.float64))).astype(dtype), what="swish")
    check(ops.elu(x), np.where(x > 0, x, np.expm1(x.astype(np.float64))).astype(dtype), what="elu")
    for g in ops.grad("sigmoid", x), ops.grad("softplus", x), ops.grad("tanh", x):
        assert np.all(np.isfinite(g[0]))


def test_unary_int_arrays_are_converted_to_float32():
    out = ops.relu(np.array([[-1, 2]], dtype=np.int64))
    check(out, np.array([[0.0, 2.0]], dtype=np.float32))


# ---- binary with broadcasting ------------------------------------------------------------------------------
BINARY = {
    "add": np.add, "sub": np.subtract, "mul": np.multiply, "div": np.divide, "pow": np.power,
    "maximum": np.maximum, "minimum": np.minimum,
}
SHAPES = [((3, 4), (3, 4)), ((3, 4), (4,)), ((4,), (3, 4)), ((3, 4), (3, 1)), ((1, 4), (3, 1)), ((3, 4), ()),
          ((), (3, 4)), ((2, 1, 4), (3, 1)), ((2, 3, 4), (1, 3, 1))]


def _binary_inputs(name, sa, sb, seed=0):
    r = rng(seed)
    a = r.standard_normal(sa) * 2
    b = r.standard_normal(sb) * 2
    if name == "div":
        b = np.where(np.abs(b) < 0.3, 0.3 * np.sign(b) + (b == 0) * 0.3, b)
    if name == "pow":
        a = r.uniform(0.3, 3.0, sa)
        b = r.uniform(-2.0, 2.5, sb)
    if name in ("maximum", "minimum"):
        # no ties, and |a - b| >= 0.05 everywhere so finite differences stay on one side: redraw until so
        while np.min(np.abs(np.subtract(a, b))) < 0.05:
            a, b = r.standard_normal(sa) * 2, r.standard_normal(sb) * 2
    return a, b


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("sa,sb", SHAPES, ids=[f"{a}-{b}" for a, b in SHAPES])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_forward(name, sa, sb, dtype):
    a, b = _binary_inputs(name, sa, sb)
    a, b = np.asarray(a, dtype=dtype), np.asarray(b, dtype=dtype)
    out = getattr(ops, name)(a, b)
    ref = BINARY[name](a.astype(np.float64), b.astype(np.float64)).astype(dtype)
    check(out, ref, what=f"{name}{sa}{sb}", rtol=2e-5 if (name == "pow" and dtype == np.float32) else None)


@pytest.mark.parametrize("sa,sb", SHAPES, ids=[f"{a}-{b}" for a, b in SHAPES])
@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_grad(name, sa, sb):
    a, b = _binary_inputs(name, sa, sb, seed=7)
    check_grad(name, a, b)


@pytest.mark.parametrize("name", sorted(BINARY))
def test_binary_python_scalar_keeps_dtype(name):
    a = rng(2).uniform(0.5, 2.0, (2, 3)).astype(np.float32)
    check(getattr(ops, name)(a, 1.5), BINARY[name](a.astype(np.float64), 1.5).astype(np.float32), what=name)
    check(getattr(ops, name)(1.5, a), BINARY[name](1.5, a.astype(np.float64)).astype(np.float32), what=name)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("sb", [(257,), (131, 1), (131, 257), ()], ids=str)
@pytest.mark.parametrize("name", ["add", "sub", "mul", "div", "maximum"])
def test_binary_forward_large(name, sb, dtype):
    r = rng(13)
    a = r.standard_normal((131, 257)).astype(dtype)
    b = r.uniform(0.5, 2.0, sb).astype(dtype)
    check(getattr(ops, name)(a, b), BINARY[name](a.astype(np.float64), b.astype(np.float64)).astype(dtype),
          what=f"{name} {sb}")


def test_binary_mixed_dtypes_and_bad_shapes_raise():
    with pytest.raises(TypeError, match="float32 vs float64"):
        ops.add(np.ones(3, np.float32), np.ones(3, np.float64))
    with pytest.raises(ValueError, match=r"3.*4|4.*3"):
        ops.add(np.ones((2, 3)), np.ones((2, 4)))


def test_maximum_minimum_ties_split_no_double_count():
    # at a tie the gradient goes to one side only (sum of the two grads equals the upstream weight)
    a, b = np.array([1.0, 2.0, 3.0]), np.array([1.0, 0.0, 5.0])
    w = np.array([2.0, 3.0, 4.0])
    for name in ("maximum", "minimum"):
        ga, gb = ops.grad(name, a, b, weights=w)
        check(ga + gb, w, what=name)
    ga, gb = ops.grad("maximum", a, b, weights=w)
    check(ga[1:], np.array([3.0, 0.0]))
    check(gb[1:], np.array([0.0, 4.0]))


# ---- matmul ------------------------------------------------------------------------------------------------
MATMUL = [((3, 4), (4, 5)), ((1, 4), (4, 1)), ((2, 3, 4), (2, 4, 5)), ((2, 3, 4), (4, 5)),
          ((2, 2, 3, 4), (4, 5)), ((2, 2, 3, 4), (2, 2, 4, 5)), ((5, 1), (1, 3))]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("sa,sb", MATMUL, ids=[f"{a}@{b}" for a, b in MATMUL])
def test_matmul_forward(sa, sb, dtype):
    r = rng(4)
    a, b = r.standard_normal(sa).astype(dtype), r.standard_normal(sb).astype(dtype)
    ref = np.matmul(a.astype(np.float64), b.astype(np.float64))
    k = sa[-1]
    # float32: k products summed in float32 -> |err| <~ k * 2^-24 * sum|a||b|
    atol = 1e-5 * k if dtype == np.float32 else 1e-14 * k
    check(ops.matmul(a, b), ref.astype(dtype), rtol=1e-5 if dtype == np.float32 else 1e-12, atol=atol,
          what=f"matmul{sa}@{sb}")


def test_matmul_large_f32_vs_numpy():
    r = rng(9)
    a, b = r.standard_normal((64, 128)).astype(np.float32), r.standard_normal((128, 32)).astype(np.float32)
    check(ops.matmul(a, b), (a.astype(np.float64) @ b).astype(np.float32), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("sa,sb", MATMUL, ids=[f"{a}@{b}" for a, b in MATMUL])
def test_matmul_grad(sa, sb):
    r = rng(5)
    check_grad("matmul", r.standard_normal(sa), r.standard_normal(sb))


def test_matmul_errors():
    with pytest.raises(ValueError, match="inner dimensions differ"):
        ops.matmul(np.ones((2, 3)), np.ones((4, 2)))
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.matmul(np.ones(3), np.ones((3, 2)))
    with pytest.raises(ValueError, match="batch dimensions differ"):
        ops.matmul(np.ones((2, 3, 4)), np.ones((3, 4, 5)))


# ---- reductions --------------------------------------------------------------------------------------------
AXES = [None, 0, 1, 2, -1, (0, 2), (1, 2), (0, 1, 2), ()]
REDUCE = {"sum": np.sum, "mean": np.mean, "max": np.max}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keep"])
@pytest.mark.parametrize("axis", AXES, ids=[str(a) for a in AXES])
@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reduce_forward(name, axis, keepdims, dtype):
    x = rng(6).standard_normal((2, 3, 4)).astype(dtype)
    out = getattr(ops, name)(x, axis=axis, keepdims=keepdims)
    ref = REDUCE[name](x.astype(np.float64), axis=axis, keepdims=keepdims).astype(dtype)
    check(out, ref, atol=1e-5 if dtype == np.float32 else 1e-13, what=f"{name}(axis={axis}, keepdims={keepdims})")


@pytest.mark.parametrize("keepdims", [False, True], ids=["drop", "keep"])
@pytest.mark.parametrize("axis", AXES, ids=[str(a) for a in AXES])
@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reduce_grad(name, axis, keepdims):
    x = rng(7).permutation(24).reshape(2, 3, 4) * 0.37 - 4.0  # distinct values: max has no ties
    check_grad(name, x, axis=axis, keepdims=keepdims)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("axis", [None, 0, 1, 2, (0, 2)], ids=str)
@pytest.mark.parametrize("name", sorted(REDUCE))
def test_reduce_forward_large(name, axis, dtype):
    x = rng(14).standard_normal((33, 65, 47)).astype(dtype)
    ref = REDUCE[name](x.astype(np.float64), axis=axis)
    n = x.size // np.size(ref)
    # float32 sums of n terms: |err| <~ n * 2^-24 * sum|x|; allow sqrt(n)-ish growth with margin
    atol = 2e-6 * n if dtype == np.float32 else 1e-13 * n
    check(getattr(ops, name)(x, axis=axis), np.asarray(ref).astype(dtype), atol=atol,
          rtol=1e-5 if dtype == np.float32 else 1e-12, what=f"{name}(axis={axis})")


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("axis", [0, 1, -1])
@pytest.mark.parametrize("name", ["log_softmax", "softmax"])
def test_softmax_forward_large(name, axis, dtype):
    x = (rng(15).standard_normal((37, 129, 65)) * 4).astype(dtype)
    check(getattr(ops, name)(x, axis=axis), SOFTMAX[name](x.astype(np.float64), axis).astype(dtype),
          rtol=1e-5, atol=1e-6 if name == "softmax" else 1e-5, what=f"{name}(axis={axis})")


def test_max_grad_goes_to_first_maximum_on_ties():
    x = np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 0.0]])
    (g,) = ops.grad("max", x, axis=1)
    check(g, np.array([[0.0, 1.0, 0.0], [1.0, 0.0, 0.0]]))


def test_reduce_errors():
    with pytest.raises(ValueError, match="axis"):
        ops.sum(np.ones((2, 3)), axis=2)
    with pytest.raises(ValueError, match="repeated axis"):
        ops.sum(np.ones((2, 3)), axis=(1, -1))
    with pytest.raises(ValueError, match="empty"):
        ops.mean(np.ones((0, 3)), axis=0)
    check(ops.sum(np.ones((0, 3)), axis=0), np.zeros(3))


# ---- softmax -----------------------------------------------------------------------------------------------
def _softmax(x, axis):
    e = np.exp(x - np.max(x, axis=axis, keepdims=True))
    return e / np.sum(e, axis=axis, keepdims=True)


def _log_softmax(x, axis):
    m = np.max(x, axis=axis, keepdims=True)
    return x - m - np.log(np.sum(np.exp(x - m), axis=axis, keepdims=True))


SOFTMAX = {"softmax": _softmax, "log_softmax": _log_softmax}


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1, -2])
@pytest.mark.parametrize("name", sorted(SOFTMAX))
def test_softmax_forward(name, axis, dtype):
    x = (rng(8).standard_normal((2, 3, 4)) * 3).astype(dtype)
    out = getattr(ops, name)(x, axis=axis)
    check(out, SOFTMAX[name](x.astype(np.float64), axis).astype(dtype), what=f"{name}(axis={axis})")
    if name == "softmax":
        check(np.sum(out, axis=axis), np.ones(np.delete(np.array(x.shape), axis)).astype(dtype))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
@pytest.mark.parametrize("name", sorted(SOFTMAX))
def test_softmax_grad(name, axis):
    check_grad(name, rng(9).standard_normal((2, 3, 4)) * 2, axis=axis)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_softmax_large_logits_stable(dtype):
    x = np.array([[1000.0, 0.0, -1000.0], [-5e3, -5e3, -5e3], [88.0, 89.0, 90.0]], dtype=dtype)
    check(ops.softmax(x), _softmax(x.astype(np.float64), -1).astype(dtype))
    check(ops.log_softmax(x[:1]), _log_softmax(x[:1].astype(np.float64), -1).astype(dtype))
    assert np.all(np.isfinite(ops.log_softmax(x)))


# Native bug (native/cpu/reduce.cpp, opt::softmax, log=true): it computes x - (max + log(sum)) in T, so for
# float32 logits of magnitude ~5000 the constant max + log(sum) is rounded to 2^-11 and log_softmax is off by
# ~2e-5 (150 ulps of the result). Fix: q = (x - max) - log(sum). Same in loss.cpp softmax_cross_entropy:
# loss = (max - x[label]) + log(sum) instead of max + log(sum) - x[label].
# log_softmax and cross-entropy must compute (x - max) - log(sum), not x - (max + log(sum)), to stay precise in
# float32 for large logits.
@pytest.mark.parametrize("axis", [0, -1])
def test_log_softmax_large_offset_f32_precision(axis):
    x = np.array([[-5e3, -5e3, -5e3], [4000.0, 4001.0, 4002.0], [-3e3, -3e3 + 0.5, -3e3 - 0.5]], np.float32)
    x = x if axis == -1 else np.ascontiguousarray(x.T)
    check(ops.log_softmax(x, axis=axis), _log_softmax(x.astype(np.float64), axis).astype(np.float32),
          rtol=2e-6, atol=1e-6)


# ---- shape ops ---------------------------------------------------------------------------------------------
RESHAPES = [(6, 4), (-1,), (4, -1, 2), (24,), (1, 2, 12), (2, 3, 4)]
TRANSPOSES = [(), (1, 0, 2), (2, 0, 1), (0, 2), (-1, 0)]
SLICES = [(0, 0, 1), (1, 1, 3), (-1, 1, 4), (2, 0, 0), (1, 0, 3)]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("shape", RESHAPES, ids=str)
def test_reshape(shape, dtype):
    x = rng(1).standard_normal((2, 3, 4)).astype(dtype)
    check(ops.reshape(x, shape), x.reshape(shape), what=f"reshape{shape}", rtol=0, atol=0)


@pytest.mark.parametrize("shape", RESHAPES, ids=str)
def test_reshape_grad(shape):
    check_grad("reshape", rng(2).standard_normal((2, 3, 4)), shape=shape)


def test_reshape_errors():
    with pytest.raises(ValueError, match="cannot reshape"):
        ops.reshape(np.ones((2, 3)), (4, 2))
    with pytest.raises(ValueError, match="only one dimension may be -1"):
        ops.reshape(np.ones((2, 3)), (-1, -1))


def _np_transpose(x, axes):
    if len(axes) == 0:
        return x.T
    if len(axes) == 2 and x.ndim != 2:
        return np.swapaxes(x, *axes)
    return np.transpose(x, axes)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("axes", TRANSPOSES, ids=str)
def test_transpose(axes, dtype):
    x = rng(1).standard_normal((2, 3, 4)).astype(dtype)
    check(ops.transpose(x, axes=axes), _np_transpose(x, axes), rtol=0, atol=0, what=f"transpose{axes}")


@pytest.mark.parametrize("axes", TRANSPOSES, ids=str)
def test_transpose_grad(axes):
    check_grad("transpose", rng(2).standard_normal((2, 3, 4)), axes=axes)


def test_transpose_errors():
    with pytest.raises(ValueError, match="repeated axis"):
        ops.transpose(np.ones((2, 3, 4)), axes=(0, 0, 1))
    with pytest.raises(ValueError, match="does not match rank"):
        ops.transpose(np.ones((2, 3, 4)), axes=(0, 1, 2, 3))


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("axis,start,end", SLICES, ids=str)
def test_slice(axis, start, end, dtype):
    x = rng(1).standard_normal((2, 3, 4)).astype(dtype)
    ref = np.take(x, np.arange(start, end), axis=axis)
    check(ops.slice(x, axis, start, end), ref, rtol=0, atol=0, what=f"slice({axis}, {start}, {end})")


@pytest.mark.parametrize("axis,start,end", SLICES, ids=str)
def test_slice_grad(axis, start, end):
    check_grad("slice", rng(3).standard_normal((2, 3, 4)), axis=axis, start=start, end=end)


def test_slice_errors():
    with pytest.raises(ValueError, match="out of range"):
        ops.slice(np.ones((2, 3)), 1, 2, 4)
    with pytest.raises(ValueError, match="out of range"):
        ops.slice(np.ones((2, 3)), 0, 2, 1)


# ---- dropout -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("rate", [0.1, 0.5, 0.8])
def test_dropout_mask(rate, dtype):
    x = rng(0).uniform(0.5, 1.5, (200, 250)).astype(dtype)
    out = ops.dropout(x, rate, seed=123)
    assert out.shape == x.shape and out.dtype == dtype
    mask = out.astype(np.float64) / x.astype(np.float64)
    keep = 1 / (1 - rate)
    dropped = mask == 0
    assert np.all(dropped | np.isclose(mask, keep, rtol=1e-6, atol=0)), "mask values must be 0 or 1/(1-rate)"
    check(out[~dropped], (x[~dropped].astype(np.float64) * keep).astype(dtype), what="kept values")
    # 50000 Bernoulli draws: std of the fraction <= 0.0023; 5 sigma
    assert abs(dropped.mean() - rate) < 0.012, f"dropped fraction {dropped.mean()} for rate {rate}"
    # no structure: each row and each column drop about rate (loose bound)
    assert abs(dropped.mean(axis=0).mean() - rate) < 0.012
    assert np.std(dropped.mean(axis=1)) < 0.1


def test_dropout_seed():
    x = np.ones((64, 64))
    a, b, c = ops.dropout(x, 0.5, seed=1), ops.dropout(x, 0.5, seed=1), ops.dropout(x, 0.5, seed=2)
    np.testing.assert_array_equal(a, b)
    assert np.mean(a != c) > 0.3, "different seeds must give different masks"
    # the mask does not depend on x's values
    np.testing.assert_array_equal(ops.dropout(x * 3.0, 0.5, seed=1), a * 3.0)


def test_dropout_rate_zero_and_invalid():
    x = rng(1).standard_normal((3, 4))
    check(ops.dropout(x, 0.0, seed=5), x, rtol=0, atol=0)
    for bad in (1.0, -0.1, 1.5, float("nan")):
        with pytest.raises(ValueError, match="rate"):
            ops.dropout(x, bad, seed=5)


@pytest.mark.parametrize("rate", [0.3, 0.6])
def test_dropout_grad(rate):
    x = rng(4).standard_normal((5, 6))
    g = check_grad("dropout", x, rate=rate, seed=11)[0]
    mask = ops.dropout(np.ones_like(x), rate, seed=11)
    assert np.all((g == 0) == (mask == 0))


# ---- cross_entropy, argmax, concat (outside the op table; gradients through the Java API) ------------------
def _java_grad(fn, inputs, weights):
    """Gradients of sum(fn(*java inputs) * weights) for float64 inputs, through Ops directly."""
    from pydl import _array

    O = ops._Ops()
    js = [_array.to_java(np.asarray(x, dtype=np.float64)).setRequiresGrad(True) for x in inputs]
    out = O.mul(fn(O, js), _array.to_java(np.asarray(weights, dtype=np.float64)))
    O.sum(out).backward()
    return [np.array(_array.to_numpy(j.grad().contiguous())) for j in js]


def _ce_ref(x, y):
    return np.log(np.sum(np.exp(x - x.max(1, keepdims=True)), axis=1)) + x.max(1) - x[np.arange(len(y)), y]


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
def test_cross_entropy_forward(dtype):
    r = rng(3)
    x = (r.standard_normal((6, 5)) * 3).astype(dtype)
    y = r.integers(0, 5, 6)
    check(ops.cross_entropy(x, y), _ce_ref(x.astype(np.float64), y).astype(dtype), what="cross_entropy")
    big = np.array([[1000.0, 0.0], [0.0, 1000.0]], dtype=dtype)
    check(ops.cross_entropy(big, np.array([0, 0])), np.array([0.0, 1000.0], dtype=dtype), what="stable")


def test_cross_entropy_large_offset_f32_precision():
    x = np.array([[-5e3, -5e3, -5e3], [4000.0, 4001.0, 4002.0]], np.float32)
    y = np.array([0, 2])
    check(ops.cross_entropy(x, y), _ce_ref(x.astype(np.float64), y).astype(np.float32), rtol=2e-6, atol=1e-6)


def test_cross_entropy_grad():
    from pydl import _array

    r = rng(4)
    x = r.standard_normal((4, 3)) * 2
    y = np.array([2, 0, 1, 1])
    w = r.uniform(0.5, 1.5, 4)
    (g,) = _java_grad(lambda O, js: O.sparseSoftmaxCrossEntropy(js[0], _array.to_java(y, np.int32)), [x], w)
    num = numeric_grad(lambda xx: _ce_ref(xx, y), [x], w)[0]
    np.testing.assert_allclose(g, num, rtol=1e-6, atol=1e-8)
    # closed form: w * (softmax - onehot)
    check(g, w[:, None] * (_softmax(x, 1) - np.eye(3)[y]))


def test_cross_entropy_errors():
    with pytest.raises(ValueError, match="out of range"):
        ops.cross_entropy(np.zeros((2, 3)), np.array([0, 3]))
    with pytest.raises(ValueError, match="out of range"):
        ops.cross_entropy(np.zeros((2, 3)), np.array([-1, 0]))
    with pytest.raises(ValueError, match="labels"):
        ops.cross_entropy(np.zeros((2, 3)), np.array([0, 1, 2]))


@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_argmax(axis):
    x = rng(5).standard_normal((3, 4, 5)).astype(np.float32)
    out = ops.argmax(x, axis=axis)
    check(out, np.argmax(x, axis=axis).astype(np.int32), what=f"argmax(axis={axis})", rtol=0, atol=0)


def test_argmax_first_on_ties():
    check(ops.argmax(np.array([[1.0, 3.0, 3.0], [2.0, 2.0, 2.0]])), np.array([1, 0], np.int32), rtol=0, atol=0)


@pytest.mark.parametrize("dtype", DTYPES, ids=["f32", "f64"])
@pytest.mark.parametrize("axis", [0, 1, 2, -1])
def test_concat(axis, dtype):
    r = rng(6)
    shapes = [[2, 3, 4], [2, 3, 4], [2, 3, 4]]
    for i, s in enumerate(shapes):
        s[axis] = i + 1
    xs = [r.standard_normal(s).astype(dtype) for s in shapes]
    check(ops.concat(xs, axis=axis), np.concatenate(xs, axis=axis), rtol=0, atol=0, what=f"concat({axis})")


def test_concat_grad():
    r = rng(7)
    xs = [r.standard_normal((2, k)) for k in (1, 3, 2)]
    w = r.uniform(0.5, 1.5, (2, 6))
    import jpype

    def fn(O, js):
        lst = jpype.JClass("java.util.ArrayList")()
        for j in js:
            lst.add(j)
        return O.concat(lst, 1)

    gs = _java_grad(fn, xs, w)
    num = numeric_grad(lambda *a: np.concatenate(a, axis=1), xs, w)
    for g, n in zip(gs, num):
        np.testing.assert_allclose(g, n, rtol=1e-6, atol=1e-8)
    check(gs[1], w[:, 1:4])


def test_concat_errors():
    with pytest.raises(ValueError, match="differ outside"):
        ops.concat([np.ones((2, 3)), np.ones((3, 3))], axis=1)
    with pytest.raises(TypeError):
        ops.concat([np.ones((2, 3), np.float32), np.ones((2, 3), np.float64)], axis=0)


# ---- the facade ------------------------------------------------------------------------------------------
def test_options_positional_or_keyword():
    x = rng(0).standard_normal((2, 3))
    check(ops.softmax(x, 0), ops.softmax(x, axis=0), rtol=0, atol=0)
    check(ops.sum(x, 1), x.sum(1))
    check(ops.reshape(x, (3, 2)), x.reshape(3, 2), rtol=0, atol=0)
    check(ops.slice(x, 1, 1, 3), x[:, 1:3], rtol=0, atol=0)
    np.testing.assert_array_equal(ops.dropout(x, 0.5, 3), ops.dropout(x, rate=0.5, seed=3))
    (g,) = ops.grad("sum", x, 1, weights=np.array([1.0, 2.0]))
    check(g, np.array([[1.0] * 3, [2.0] * 3]))


def test_unknown_op_and_int_inputs():
    with pytest.raises(ValueError, match="unknown op"):
        ops.call("nope", np.ones(2))
    with pytest.raises(ValueError, match="unknown op"):
        ops.grad("nope", np.ones(2))
    check(ops.add(np.array([1, 2]), np.array([3, 4])), np.array([4.0, 6.0], np.float32))


# ---- edge cases --------------------------------------------------------------------------------------------
def test_empty_and_zero_dim_arrays():
    check(ops.matmul(np.ones((2, 0)), np.ones((0, 3))), np.zeros((2, 3)))
    check(ops.matmul(np.ones((2, 2, 0)), np.ones((2, 0, 3))), np.zeros((2, 2, 3)))
    assert ops.matmul(np.ones((0, 2)), np.ones((2, 3))).shape == (0, 3)
    assert ops.relu(np.ones((0, 3), np.float32)).shape == (0, 3)
    assert ops.add(np.ones((0, 3)), np.ones(3)).shape == (0, 3)
    assert ops.softmax(np.ones((0, 3))).shape == (0, 3)
    check(ops.relu(np.array(-3.0)), np.array(0.0))
    check(ops.sum(np.array(3.0)), np.array(3.0))
    with pytest.raises(ValueError, match="empty"):
        ops.max(np.ones((0, 3)), axis=0)


def test_nan_and_inf_propagate_like_numpy():
    x = np.array([1.0, np.nan, 2.0])
    assert np.isnan(ops.max(x)) and np.isnan(ops.sum(x))
    assert np.all(np.isnan(ops.maximum(np.array([1.0, np.nan]), np.array([np.nan, 1.0]))))
    assert np.isnan(ops.relu(np.array([np.nan]))[0])
    check(ops.div(np.array([1.0, -1.0]), np.array([0.0, 0.0])), np.array([np.inf, -np.inf]))
    check(ops.exp(np.array([100.0, -200.0], np.float32)), np.array([np.inf, 0.0], np.float32))


def test_float32_reductions_accumulate_accurately():
    # naive float32 accumulation of 4e6 values of 0.1 is off by ~1e-2 relative; pairwise/double is ~1e-7
    x = np.full(4_000_000, 0.1, np.float32)
    check(ops.mean(x), np.array(0.1, np.float32), rtol=1e-6)
    check(ops.sum(x), np.array(x.astype(np.float64).sum(), np.float32), rtol=1e-6)


# d(a^b)/db = a^b * log(a) is 0 at a = 0 for b > 0 (PyTorch agrees), not 0 * -inf = NaN.
def test_pow_grad_at_zero_base():
    ga, gb = ops.grad("pow", np.array([0.0, 2.0]), np.array([2.0, 3.0]))
    check(ga, np.array([0.0, 12.0]))
    check(gb, np.array([0.0, 8.0 * math.log(2.0)]))
