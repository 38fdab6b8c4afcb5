"""UpSampling2D(interpolation="bilinear"): values vs PyTorch's interpolate(mode="bilinear", align_corners=False)
(the half-pixel resize Keras 3 uses), both data formats and dtypes; gradients by central differences (float64);
model-file round trip; invalid interpolation names."""
import numpy as np
import pytest
import torch

import pydl
from pydl import layers

from helpers import fd_check_kernel


def torch_bilinear(x_nhwc, size):
    t = torch.from_numpy(np.ascontiguousarray(x_nhwc.transpose(0, 3, 1, 2)))
    y = torch.nn.functional.interpolate(t, scale_factor=size, mode="bilinear", align_corners=False)
    return y.numpy().transpose(0, 2, 3, 1)


@pytest.mark.parametrize("size", [(2, 2), (3, 2), (1, 4), (5, 1)])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_matches_torch(size, dtype):
    r = np.random.default_rng(0)
    x = r.standard_normal((2, 4, 3, 5)).astype(dtype)
    m = pydl.Sequential([layers.Input((4, 3, 5)), layers.UpSampling2D(size, interpolation="bilinear")], dtype=dtype)
    out = m.predict(x)
    ref = torch_bilinear(x.astype(np.float64), [float(s) for s in size])
    assert out.shape == ref.shape and out.dtype == np.dtype(dtype)
    tol = dict(rtol=1e-12, atol=1e-12) if dtype == "float64" else dict(rtol=1e-5, atol=1e-6)
    np.testing.assert_allclose(out, ref, **tol)


def test_channels_first_matches_torch():
    r = np.random.default_rng(1)
    x = r.standard_normal((2, 3, 4, 5))                      # (batch, channels, h, w)
    m = pydl.Sequential([layers.Input((3, 4, 5)),
                         layers.UpSampling2D((2, 3), data_format="channels_first", interpolation="bilinear")],
                        dtype="float64")
    ref = torch.nn.functional.interpolate(torch.from_numpy(x), scale_factor=(2.0, 3.0), mode="bilinear",
                                          align_corners=False).numpy()
    np.testing.assert_allclose(m.predict(x), ref, rtol=1e-12, atol=1e-12)


def test_hand_checked_1d_row():
    # one row [0, 4] upsampled by 2: half-pixel centres give [0, 1, 3, 4]
    x = np.array([0.0, 4.0]).reshape(1, 1, 2, 1)
    m = pydl.Sequential([layers.Input((1, 2, 1)), layers.UpSampling2D((1, 2), interpolation="bilinear")],
                        dtype="float64")
    np.testing.assert_allclose(m.predict(x).ravel(), [0.0, 1.0, 3.0, 4.0])


def test_gradient_by_central_differences_and_vs_torch():
    r = np.random.default_rng(2)
    m = pydl.Sequential([layers.Input((3, 4, 2)), layers.Dense(3, name="d"),
                         layers.UpSampling2D((2, 3), interpolation="bilinear"), layers.Flatten()],
                        dtype="float64", seed=0)
    x, y = r.standard_normal((4, 3, 4, 2)), r.standard_normal((4, 6 * 12 * 3))
    m.build()
    k, b = m.get_layer("d").get_weights()
    grad = fd_check_kernel(m, x, y, "d", [(0, 0), (1, 2), (0, 1)])
    # the full kernel gradient equals PyTorch's autograd through interpolate
    kt = torch.from_numpy(k).requires_grad_(True)
    h = torch.from_numpy(x) @ kt + torch.from_numpy(b)
    up = torch.nn.functional.interpolate(h.permute(0, 3, 1, 2), scale_factor=(2.0, 3.0), mode="bilinear",
                                         align_corners=False).permute(0, 2, 3, 1).reshape(4, -1)
    ((up - torch.from_numpy(y)) ** 2).mean().backward()
    np.testing.assert_allclose(grad, kt.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_round_trip(tmp_path):
    r = np.random.default_rng(3)
    m = pydl.Sequential([layers.Input((3, 3, 2)), layers.UpSampling2D(2, interpolation="bilinear", name="up")],
                        dtype="float64")
    x = r.standard_normal((2, 3, 3, 2))
    m.save(tmp_path / "up.pydl")
    m2 = pydl.load(tmp_path / "up.pydl")
    assert m2.get_layer("up").get_config()["interpolation"] == "bilinear"
    np.testing.assert_array_equal(m2.predict(x), m.predict(x))


@pytest.mark.parametrize("make, exc, text", [
    (lambda: layers.UpSampling2D(2, interpolation="bicubic"), ValueError, "UpSampling2D.*bilinear.*'bicubic'"),
    (lambda: layers.UpSampling2D(2, interpolation=3), ValueError, "interpolation=3"),
    (lambda: layers.UpSampling1D(2, interpolation="bilinear"), TypeError, "UpSampling1D.*interpolation"),
])
def test_invalid_interpolation(make, exc, text):
    with pytest.raises(exc, match=text):
        make()
