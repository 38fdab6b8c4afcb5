"""Optimizers and learning-rate schedules: weights after fit() vs a NumPy transcription of Keras's update rules.

Model: Input(3) -> Dense(2), float64, MSE loss, full batch, no shuffle, so each epoch is one optimizer step on
the analytic gradient  dL/dW = 2/(N*U) * x^T (xW + b - y),  dL/db = 2/(N*U) * sum_rows(xW + b - y).
Float64 tolerance: rtol 1e-12 / atol 1e-14 (the kernels follow the same formulas; only rounding differs).
"""
import math

import numpy as np
import pytest

import pydl
from pydl import layers, optimizers
from pydl.optimizers import schedules

RTOL, ATOL = 1e-12, 1e-14


def data(n=8, seed=0):
    r = np.random.default_rng(seed)
    x = r.standard_normal((n, 3))
    y = r.standard_normal((n, 2))
    return x, y


def make_model(opt, dtype="float64", seed=0, **dense):
    m = pydl.Sequential([layers.Input(3), layers.Dense(2, bias_initializer="random_normal", **dense)], seed=seed,
                        dtype=dtype)
    m.compile(optimizer=opt, loss="mse")
    return m


def mse_grads(params, x, y, l2=0.0):
    W, b = params
    d = x @ W + b - y
    c = 2.0 / d.size
    return [c * x.T @ d + 2 * l2 * W, c * d.sum(0)]


def fit_steps(model, x, y, steps):
    model.fit(x, y, epochs=steps, batch_size=len(x), shuffle=False, verbose=0)
    return model.get_weights()


# ---- NumPy transcriptions of the Keras update rules (one parameter) -------------------------------------------
class NpSGD:
    def __init__(self, lr=0.01, momentum=0.0, nesterov=False, weight_decay=0.0):
        self.lr, self.mu, self.nesterov, self.wd = lr, momentum, nesterov, weight_decay

    def init(self, p):
        return {"v": np.zeros_like(p)}

    def update(self, p, g, s, t, lr):
        g = g + self.wd * p  # pydl's documented (coupled, L2-style) weight decay
        if self.mu == 0:
            return p - lr * g
        s["v"] = self.mu * s["v"] - lr * g
        return p + (self.mu * s["v"] - lr * g if self.nesterov else s["v"])


class NpAdam:
    def __init__(self, lr=0.001, beta_1=0.9, beta_2=0.999, epsilon=1e-7, weight_decay=0.0):
        self.b1, self.b2, self.eps, self.wd = beta_1, beta_2, epsilon, weight_decay

    def init(self, p):
        return {"m": np.zeros_like(p), "v": np.zeros_like(p)}

    def update(self, p, g, s, t, lr):
        if self.wd:  # AdamW: decoupled decay before the Adam step
            p = p - lr * self.wd * p
        s["m"] = s["m"] + (g - s["m"]) * (1 - self.b1)
        s["v"] = s["v"] + (g * g - s["v"]) * (1 - self.b2)
        lr_t = lr * math.sqrt(1 - self.b2 ** t) / (1 - self.b1 ** t)
        return p - lr_t * s["m"] / (np.sqrt(s["v"]) + self.eps)


class NpRMSprop:
    def __init__(self, lr=0.001, rho=0.9, momentum=0.0, epsilon=1e-7):
        self.rho, self.mu, self.eps = rho, momentum, epsilon

    def init(self, p):
        return {"sq": np.zeros_like(p), "mom": np.zeros_like(p)}

    def update(self, p, g, s, t, lr):
        s["sq"] = self.rho * s["sq"] + (1 - self.rho) * g * g
        inc = lr * g / np.sqrt(s["sq"] + self.eps)  # Keras: epsilon inside the square root
        if self.mu > 0:
            s["mom"] = self.mu * s["mom"] + inc
            return p - s["mom"]
        return p - inc


def simulate(np_opt, params, x, y, steps, lr_at, l2=0.0):
    params = [p.copy() for p in params]
    state = [np_opt.init(p) for p in params]
    for it in range(steps):
        grads = mse_grads(params, x, y, l2)
        params = [np_opt.update(p, g, s, it + 1, lr_at(it)) for p, g, s in zip(params, grads, state)]
    return params


CASES = {
    "sgd": (lambda: optimizers.SGD(0.1), lambda: NpSGD(0.1)),
    "sgd_momentum": (lambda: optimizers.SGD(0.1, momentum=0.9), lambda: NpSGD(0.1, 0.9)),
    "sgd_nesterov": (lambda: optimizers.SGD(0.1, momentum=0.8, nesterov=True), lambda: NpSGD(0.1, 0.8, True)),
    "sgd_weight_decay": (lambda: optimizers.SGD(0.1, weight_decay=0.05), lambda: NpSGD(0.1, weight_decay=0.05)),
    "sgd_momentum_weight_decay": (lambda: optimizers.SGD(0.05, momentum=0.7, weight_decay=0.1),
                                  lambda: NpSGD(0.05, 0.7, weight_decay=0.1)),
    "adam": (lambda: optimizers.Adam(0.01), lambda: NpAdam()),
    "adam_betas_eps": (lambda: optimizers.Adam(0.05, beta_1=0.5, beta_2=0.75, epsilon=1e-3),
                       lambda: NpAdam(beta_1=0.5, beta_2=0.75, epsilon=1e-3)),
    "adamw": (lambda: optimizers.AdamW(0.01, weight_decay=0.1), lambda: NpAdam(weight_decay=0.1)),
    "rmsprop": (lambda: optimizers.RMSprop(0.01), lambda: NpRMSprop()),
    "rmsprop_momentum": (lambda: optimizers.RMSprop(0.01, rho=0.8, momentum=0.9, epsilon=1e-4),
                         lambda: NpRMSprop(rho=0.8, momentum=0.9, epsilon=1e-4)),
}


@pytest.mark.parametrize("steps", [1, 3])
@pytest.mark.parametrize("case", sorted(CASES))
def test_update_rule_matches_keras(case, steps):
    make_opt, make_np = CASES[case]
    opt = make_opt()
    x, y = data()
    model = make_model(opt)
    w0 = model.get_weights()
    assert [w.shape for w in w0] == [(3, 2), (2,)] and all(w.dtype == np.float64 for w in w0)
    assert np.any(w0[1] != 0), "bias starts non-zero (random_normal) so its update is not trivial"
    got = fit_steps(model, x, y, steps)
    lr = opt.learning_rate
    want = simulate(make_np(), w0, x, y, steps, lambda it: lr)
    for name, g, w, start in zip(("kernel", "bias"), got, want, w0):
        assert g.shape == w.shape and g.dtype == np.float64
        assert np.max(np.abs(g - start)) > 1e-4, f"{case}: {name} did not move"
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL, err_msg=f"{case}: {name} after {steps} steps")


@pytest.mark.parametrize("case", ["sgd_momentum", "adam", "rmsprop_momentum"])
def test_state_persists_across_fit_calls(case):
    x, y = data()
    a, b = make_model(CASES[case][0]()), make_model(CASES[case][0]())
    wa = fit_steps(a, x, y, 3)
    for _ in range(3):
        wb = fit_steps(b, x, y, 1)
    for u, v in zip(wa, wb):
        np.testing.assert_array_equal(u, v)


def test_sgd_variants_differ():
    # guards against the transcriptions (or kernels) silently ignoring momentum / nesterov / weight decay
    x, y = data()
    results = {c: fit_steps(make_model(CASES[c][0]()), x, y, 3)[0] for c in
               ("sgd", "sgd_momentum", "sgd_nesterov", "sgd_weight_decay")}
    names = sorted(results)
    for i in range(len(names)):
        for j in range(i + 1, len(names)):
            assert np.max(np.abs(results[names[i]] - results[names[j]])) > 1e-4, (names[i], names[j])


def test_adam_float32_model():
    x, y = data()
    model = make_model(optimizers.Adam(0.01), dtype="float32")
    w0 = model.get_weights()
    assert all(w.dtype == np.float32 for w in w0)
    got = fit_steps(model, x, y, 3)
    want = simulate(NpAdam(), [w.astype(np.float64) for w in w0], x.astype(np.float32).astype(np.float64),
                    y.astype(np.float32).astype(np.float64), 3, lambda it: 0.01)
    for g, w in zip(got, want):
        assert g.dtype == np.float32
        # float32 gradients and updates: Adam's normalised step (~lr) is exact to ~1e-6 relative of lr
        np.testing.assert_allclose(g, w, rtol=1e-5, atol=1e-6)


def test_l2_regularizer_enters_the_gradient():
    x, y = data()
    model = make_model(optimizers.SGD(0.1), kernel_regularizer=pydl.regularizers.l2(0.3))
    w0 = model.get_weights()
    got = fit_steps(model, x, y, 2)
    want = simulate(NpSGD(0.1), w0, x, y, 2, lambda it: 0.1, l2=0.3)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)


# ---- schedules ------------------------------------------------------------------------------------------------
def step_decay(initial, step_size, gamma):
    return lambda it: initial * gamma ** (it // step_size)


def cosine_decay(initial, decay_steps, alpha):
    def f(it):
        p = min(it, decay_steps) / decay_steps
        return initial * ((1 - alpha) * 0.5 * (1 + math.cos(math.pi * p)) + alpha)
    return f


SCHEDULES = {
    "step": (lambda: schedules.StepDecay(0.2, step_size=2, gamma=0.5), step_decay(0.2, 2, 0.5)),
    "cosine": (lambda: schedules.CosineDecay(0.2, decay_steps=4, alpha=0.1), cosine_decay(0.2, 4, 0.1)),
}


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_drives_sgd(name):
    make_sched, formula = SCHEDULES[name]
    x, y = data()
    model = make_model(optimizers.SGD(make_sched()))
    w0 = model.get_weights()
    got = fit_steps(model, x, y, 6)  # past the decay points (step 2, 4) and past decay_steps
    want = simulate(NpSGD(), w0, x, y, 6, formula)
    for g, w in zip(got, want):
        np.testing.assert_allclose(g, w, rtol=RTOL, atol=ATOL)
    # and the rate differs from a constant one (the schedule is not ignored)
    const = simulate(NpSGD(), w0, x, y, 6, lambda it: formula(0))
    assert np.max(np.abs(got[0] - const[0])) > 1e-4


@pytest.mark.parametrize("name", sorted(SCHEDULES))
def test_schedule_values(name):
    make_sched, formula = SCHEDULES[name]
    x, y = data()
    model = make_model(optimizers.Adam(make_sched()))
    fit_steps(model, x, y, 1)
    jopt = model._java.optimizer()
    assert int(jopt.iterations()) == 1
    for it in list(range(12)) + [100, 10 ** 6]:
        jopt.setIterations(it)
        assert float(jopt.currentLearningRate()) == pytest.approx(formula(it), rel=1e-14, abs=0)
        assert make_sched()(it) == pytest.approx(formula(it), rel=1e-14, abs=0)


def test_cosine_decay_endpoints():
    s = schedules.CosineDecay(1.0, decay_steps=10, alpha=0.25)
    assert s(0) == 1.0 and s(10) == pytest.approx(0.25) and s(50) == pytest.approx(0.25)
    assert s(5) == pytest.approx(0.25 + 0.75 * 0.5)


def test_step_decay_staircase():
    s = schedules.StepDecay(1.0, step_size=3, gamma=0.1)
    assert [s(i) for i in range(7)] == pytest.approx([1, 1, 1, 0.1, 0.1, 0.1, 0.01], rel=1e-15)


# ---- torch cross-check ----------------------------------------------------------------------------------------
def _torch_run(torch_opt_factory, w0, x, y, steps, per_step=None):
    torch = pytest.importorskip("torch")
    W = torch.tensor(w0[0], dtype=torch.float64, requires_grad=True)
    b = torch.tensor(w0[1], dtype=torch.float64, requires_grad=True)
    xt, yt = torch.tensor(x), torch.tensor(y)
    opt = torch_opt_factory([W, b])
    for t in range(1, steps + 1):
        if per_step:
            per_step(opt, t)
        opt.zero_grad()
        loss = ((xt @ W + b - yt) ** 2).mean()
        loss.backward()
        opt.step()
    return [W.detach().numpy(), b.detach().numpy()]


@pytest.mark.parametrize("eps", [1e-7, 1e-3])
def test_adam_vs_torch(eps):
    """Keras Adam: p -= lr*sqrt(1-b2^t)/(1-b1^t) * m/(sqrt(v)+eps); torch: p -= lr * m_hat/(sqrt(v_hat)+eps').

    They agree exactly when eps' = eps / sqrt(1 - b2^t), a per-step epsilon (set before each torch step).
    """
    torch = pytest.importorskip("torch")
    x, y = data()
    b2, steps = 0.999, 5
    model = make_model(optimizers.Adam(0.01, epsilon=eps))
    w0 = model.get_weights()
    got = fit_steps(model, x, y, steps)

    def adjust(opt, t):
        opt.param_groups[0]["eps"] = eps / math.sqrt(1 - b2 ** t)

    tw = _torch_run(lambda ps: torch.optim.Adam(ps, lr=0.01, betas=(0.9, b2), eps=eps), w0, x, y, steps, adjust)
    for g, w in zip(got, tw):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_adam_constant_eps_vs_torch():
    """With the same constant eps, Keras's eps is effectively eps/sqrt(1-b2^t) in torch's form: ~31.6x larger at
    t=1 (b2=0.999). Per step the updates then differ by at most lr * eps * (1/sqrt(1-b2^t) - 1) / sqrt(v_hat);
    the bound below sums that over the steps with sqrt(v_hat) ~ |g| >= min|g0|/2, times 2 for propagation.
    The difference is real (not below 1e-12) for eps = 1e-3, and within the bound for both eps.
    """
    torch = pytest.importorskip("torch")
    x, y = data()
    lr, b2, steps = 0.01, 0.999, 3
    for eps in (1e-7, 1e-3):
        model = make_model(optimizers.Adam(lr, epsilon=eps))
        w0 = model.get_weights()
        got = fit_steps(model, x, y, steps)
        tw = _torch_run(lambda ps: torch.optim.Adam(ps, lr=lr, betas=(0.9, b2), eps=eps), w0, x, y, steps)
        for g, w, g0 in zip(got, tw, mse_grads(w0, x, y)):
            bound = 2 * sum(lr * eps * (1 / math.sqrt(1 - b2 ** t) - 1) for t in range(1, steps + 1)) \
                / (np.abs(g0) / 2)
            assert np.all(np.abs(g - w) <= bound), (eps, np.abs(g - w), bound)
            if eps == 1e-3:
                assert np.max(np.abs(g - w)) > 1e-6, "a constant eps cannot match Keras's form exactly"


def test_sgd_nesterov_weight_decay_vs_torch():
    torch = pytest.importorskip("torch")
    x, y = data()
    model = make_model(optimizers.SGD(0.05, momentum=0.9, nesterov=True, weight_decay=0.1))
    w0 = model.get_weights()
    got = fit_steps(model, x, y, 4)
    tw = _torch_run(lambda ps: torch.optim.SGD(ps, lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.1),
                    w0, x, y, 4)
    for g, w in zip(got, tw):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


def test_adamw_vs_torch():
    torch = pytest.importorskip("torch")
    x, y = data()
    model = make_model(optimizers.AdamW(0.01, weight_decay=0.2, epsilon=0.0))
    w0 = model.get_weights()
    got = fit_steps(model, x, y, 3)
    tw = _torch_run(lambda ps: torch.optim.AdamW(ps, lr=0.01, weight_decay=0.2, eps=0.0), w0, x, y, 3)
    for g, w in zip(got, tw):
        np.testing.assert_allclose(g, w, rtol=1e-12, atol=1e-14)


# ---- defaults and validation ----------------------------------------------------------------------------------
def test_keras_defaults():
    assert optimizers.SGD().get_config() == {"class": "SGD", "learning_rate": 0.01, "momentum": 0.0,
                                             "nesterov": False, "weight_decay": 0.0}
    assert optimizers.Adam().get_config() == {"class": "Adam", "learning_rate": 0.001, "beta_1": 0.9,
                                              "beta_2": 0.999, "epsilon": 1e-7}
    assert optimizers.AdamW().get_config()["weight_decay"] == 0.004
    assert optimizers.RMSprop().get_config() == {"class": "RMSprop", "learning_rate": 0.001, "rho": 0.9,
                                                 "momentum": 0.0, "epsilon": 1e-7}
    assert isinstance(optimizers.get("adam"), optimizers.Adam)
    assert isinstance(optimizers.get("RMSprop"), optimizers.RMSprop)
    with pytest.raises(ValueError, match="nadam"):
        optimizers.get("nadam")


INVALID = [
    (lambda: optimizers.SGD(learning_rate=-0.1), "learning_rate=-0.1"),
    (lambda: optimizers.SGD(learning_rate=float("nan")), "learning_rate=nan"),
    (lambda: optimizers.Adam(learning_rate=float("inf")), "learning_rate=inf"),
    (lambda: optimizers.Adam(learning_rate="fast"), "learning_rate='fast'"),
    (lambda: optimizers.SGD(momentum=-0.5), "momentum=-0.5"),
    (lambda: optimizers.SGD(momentum=1.5), "momentum=1.5"),
    (lambda: optimizers.SGD(weight_decay=-1.0), "weight_decay=-1.0"),
    (lambda: optimizers.Adam(beta_1=1.5), "beta_1=1.5"),
    (lambda: optimizers.Adam(beta_1=1.0), "beta_1=1.0"),
    (lambda: optimizers.Adam(beta_2=-0.1), "beta_2=-0.1"),
    (lambda: optimizers.Adam(epsilon=-1e-7), "epsilon=-1e-07"),
    (lambda: optimizers.AdamW(weight_decay=-0.1), "weight_decay=-0.1"),
    (lambda: optimizers.RMSprop(rho=1.5), "rho=1.5"),
    (lambda: optimizers.RMSprop(momentum=-0.1), "momentum=-0.1"),
    (lambda: optimizers.RMSprop(epsilon=float("nan")), "epsilon=nan"),
    (lambda: schedules.StepDecay(0.1, step_size=0), "step_size=0"),
    (lambda: schedules.StepDecay(0.1, step_size=10, gamma=-0.5), "gamma=-0.5"),
    (lambda: schedules.StepDecay(-0.1, step_size=10), "initial_learning_rate=-0.1"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=-5), "decay_steps=-5"),
    (lambda: schedules.CosineDecay(0.1, decay_steps=5, alpha=1.5), "alpha=1.5"),
]


@pytest.mark.parametrize("make,received", INVALID, ids=[r for _, r in INVALID])
def test_invalid_hyperparameters_raise(make, received):
    with pytest.raises(ValueError) as e:
        make()
    assert received in str(e.value)


def test_java_side_validates_too():
    # a config that bypasses the Python checks (e.g. from a model file) is rejected by Java
    from pydl import _jvm
    import json

    bridge = _jvm.jclass("org.pydl.py.PyBridge")
    for cfg, what in (({"class": "Adam", "learning_rate": 0.1, "beta_1": 1.0}, "beta_1"),
                      ({"class": "SGD", "learning_rate": 0.1, "weight_decay": -1.0}, "weight_decay"),
                      ({"class": "RMSprop", "learning_rate": 0.1, "epsilon": -1.0}, "epsilon"),
                      ({"class": "SGD", "learning_rate": {"class": "StepDecay", "initial_learning_rate": 0.1,
                                                          "step_size": 5, "gamma": -1.0}}, "gamma")):
        with pytest.raises(Exception, match=what):
            bridge.optimizer(json.dumps(cfg))
