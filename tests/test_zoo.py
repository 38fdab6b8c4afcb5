"""Model zoo (pydl.zoo): every model builds, prints a summary, has the expected parameter count (by hand for LeNet-5
and the autoencoder, Keras's per-layer formulas for the others, Keras's published totals for VGG16, ResNet50 and MobileNetV2) and
takes one training step with a finite loss.
Widths and inputs are small so the whole file runs in seconds."""
from __future__ import annotations

import math

import numpy as np
import pytest

import pydl
from pydl import zoo


# --- Keras's parameter formulas, per layer ---------------------------------------------------------------------
def conv(k, cin, cout, bias=True):
    return k * k * cin * cout + (cout if bias else 0)


def dense(n_in, n_out):
    return n_in * n_out + n_out


def lstm(n_in, units):
    return 4 * (units * (n_in + units) + units)


def embedding(vocab, dim):
    return vocab * dim


def layer_params(model):
    return {layer.name: sum(int(w.size) for w in layer.get_weights()) for layer in model.layers}


def summary_text(model):
    lines = []
    model.summary(print_fn=lines.append)
    return "\n".join(lines)


def one_step(model, x, y, loss="sparse_categorical_crossentropy"):
    model.compile(optimizer=pydl.optimizers.Adam(1e-3), loss=loss, metrics=["accuracy"])
    h = model.fit(x, y, epochs=1, batch_size=len(x), verbose=0)
    assert math.isfinite(h.history["loss"][0]), h.history
    return h


def images(n, shape, seed=0):
    r = np.random.default_rng(seed)
    return r.random((n,) + tuple(shape), dtype=np.float32), r.integers(0, 10, n).astype(np.int32)


def check_summary_and_count(model, expected_per_layer, total):
    assert sum(expected_per_layer.values()) == total  # the hand count adds up
    assert layer_params(model) == expected_per_layer
    assert model.count_params() == total
    text = summary_text(model)
    assert f'Model: "{model.name}"' in text
    assert f"Total params: {total:,}" in text
    for name in expected_per_layer:
        assert name in text


# --- convolutional ---------------------------------------------------------------------------------------------
def test_lenet5_parameter_count_by_hand_and_one_step():
    m = zoo.lenet5(seed=0)
    # conv1: 5*5*1*6 + 6 = 156; conv2: 5*5*6*16 + 16 = 2,416; flatten 5*5*16 = 400;
    # fc1: 400*120 + 120 = 48,120; fc2: 120*84 + 84 = 10,164; predictions: 84*10 + 10 = 850
    expected = {"conv1": 156, "pool1": 0, "conv2": 2416, "pool2": 0, "flatten": 0, "fc1": 48120, "fc2": 10164,
                "predictions": 850}
    check_summary_and_count(m, expected, 61706)  # LeNet-5's classic 61,706
    x, y = images(8, (28, 28, 1))
    one_step(m, x, y)
    assert m.predict(x).shape == (8, 10)


def test_lenet5_other_shapes_and_activation():
    m = zoo.lenet5(input_shape=(32, 32, 3), classes=4, activation="relu", seed=0)
    # 32 -same-> 32 -pool-> 16 -conv5-> 12 -pool-> 6: flatten 6*6*16 = 576
    assert layer_params(m)["conv1"] == conv(5, 3, 6) and layer_params(m)["fc1"] == dense(576, 120)
    assert m.count_params() == conv(5, 3, 6) + conv(5, 6, 16) + dense(576, 120) + dense(120, 84) + dense(84, 4)
    assert m.layers[0].activation == "relu"


def test_alexnet_small_keras_formulas_and_one_step():
    w = 0.125
    m = zoo.alexnet_small(input_shape=(32, 32, 3), classes=10, width=w, seed=0)
    c = [8, 24, 48, 32, 32]  # 64, 192, 384, 256, 256 filters * 0.125
    d = 128  # 1024 * 0.125
    # 32 -conv s2 same-> 16 -pool 3/2-> 7 -> 7 -pool-> 3 -> 3 -> 3 -> 3 -pool-> 1: flatten 1*1*32
    expected = {"conv1": conv(5, 3, c[0]), "pool1": 0, "conv2": conv(5, c[0], c[1]), "pool2": 0,
                "conv3": conv(3, c[1], c[2]), "conv4": conv(3, c[2], c[3]), "conv5": conv(3, c[3], c[4]),
                "pool5": 0, "flatten": 0, "drop6": 0, "fc6": dense(1 * 1 * c[4], d), "drop7": 0,
                "fc7": dense(d, d), "predictions": dense(d, 10)}
    check_summary_and_count(m, expected, sum(expected.values()))
    x, y = images(4, (32, 32, 3))
    one_step(m, x, y)


def test_alexnet_small_default_size_count():
    """The full-size default (64x64x3): 3x3x256 features before Flatten; counted without building the weights."""
    c = [64, 192, 384, 256, 256]
    total = (conv(5, 3, 64) + conv(5, 64, 192) + conv(3, 192, 384) + conv(3, 384, 256) + conv(3, 256, 256)
             + dense(3 * 3 * 256, 1024) + dense(1024, 1024) + dense(1024, 10))
    assert zoo._alexnet_side(64) == [32, 15, 7, 3]
    m = zoo.alexnet_small(seed=0)
    assert [l.filters for l in m.layers if l.class_name == "Conv2D"] == c
    assert m.count_params() == total == 5_871_434


def vgg16_expected(shape, classes, width):
    expected, cin, side = {}, shape[2], shape[0]
    for b, filters in enumerate(zoo.VGG16_BLOCKS, start=1):
        for i, f in enumerate(filters, start=1):
            f = max(1, round(f * width))
            expected[f"block{b}_conv{i}"] = conv(3, cin, f)
            cin = f
        expected[f"block{b}_pool"] = 0
        side //= 2
    fc = max(1, round(4096 * width))
    expected.update(flatten=0, fc1=dense(side * side * cin, fc), fc2=dense(fc, fc), predictions=dense(fc, classes))
    return expected


def test_vgg16_layout_keras_formulas_and_one_step():
    m = zoo.vgg16(input_shape=(32, 32, 3), classes=10, width=1 / 16, seed=0)
    convs = [l for l in m.layers if l.class_name == "Conv2D"]
    denses = [l for l in m.layers if l.class_name == "Dense"]
    assert len(convs) == 13 and len(denses) == 3  # the real VGG16: 13 convolutions + 3 dense layers
    assert [l.filters for l in convs] == [4, 4, 8, 8, 16, 16, 16, 32, 32, 32, 32, 32, 32]
    assert all(tuple(l.kernel_size) == (3, 3) and l.padding == "same" for l in convs)
    expected = vgg16_expected((32, 32, 3), 10, 1 / 16)
    check_summary_and_count(m, expected, sum(expected.values()))
    x, y = images(2, (32, 32, 3))
    one_step(m, x, y)


def test_vgg16_full_size_formula_matches_keras_published_count():
    """Keras's VGG16 (224x224x3, 1000 classes) has 138,357,544 parameters; at the default 64x64x3 / 10 classes the
    features before Flatten are 2x2x512. Both from the formula used above (the 138M model is not built)."""
    assert sum(vgg16_expected((224, 224, 3), 1000, 1.0).values()) == 138_357_544
    default = vgg16_expected((64, 64, 3), 10, 1.0)
    assert default["fc1"] == dense(2 * 2 * 512, 4096)
    assert sum(default.values()) == 39_929_674  # zoo.vgg16() (built by hand once: 39,929,674 params, 2 s)


# --- recurrent -------------------------------------------------------------------------------------------------
def tokens(n, maxlen, vocab, classes, seed=0):
    r = np.random.default_rng(seed)
    return r.integers(0, vocab, (n, maxlen)), r.integers(0, classes, n).astype(np.int32)


def test_lstm_text_classifier():
    m = zoo.lstm_text_classifier(vocab=50, maxlen=12, classes=3, embed_dim=8, units=16, seed=0)
    expected = {"embedding": embedding(50, 8), "lstm": lstm(8, 16), "predictions": dense(16, 3)}
    check_summary_and_count(m, expected, 400 + 1600 + 51)
    x, y = tokens(8, 12, 50, 3)
    one_step(m, x, y)
    assert m.predict(x).shape == (8, 3)


def test_bilstm_classifier():
    m = zoo.bilstm_classifier(vocab=40, maxlen=10, classes=2, embed_dim=8, units=6, seed=0)
    expected = {"embedding": embedding(40, 8), "bilstm": 2 * lstm(8, 6), "predictions": dense(2 * 6, 2)}
    check_summary_and_count(m, expected, sum(expected.values()))
    x, y = tokens(8, 10, 40, 2)
    one_step(m, x, y)


def test_char_lstm_lm_with_one_hot_targets():
    vocab, T = 20, 10
    m = zoo.char_lstm_lm(vocab, T, embed_dim=8, units=16, seed=0)
    expected = {"embedding": embedding(vocab, 8), "lstm": lstm(8, 16), "next_char": dense(16, vocab)}
    check_summary_and_count(m, expected, sum(expected.values()))
    r = np.random.default_rng(0)
    x = r.integers(0, vocab, (8, T))
    y = np.eye(vocab, dtype=np.float32)[np.roll(x, -1, axis=1)]  # next character, one-hot
    one_step(m, x, y, loss="categorical_crossentropy")
    p = m.predict(x)
    assert p.shape == (8, T, vocab)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)


# Like Keras, sparse labels (batch, T) train sequence outputs (batch, T, classes).
def test_char_lstm_lm_sparse_labels_like_keras():
    vocab, T = 12, 6
    m = zoo.char_lstm_lm(vocab, T, embed_dim=4, units=8, seed=0)
    x = np.random.default_rng(0).integers(0, vocab, (4, T))
    one_step(m, x, np.roll(x, -1, axis=1).astype(np.int32))


# Accuracy on sequence outputs is the fraction of correct steps (a mean per sample, at most 1).
def test_sequence_accuracy_is_mean_over_time_steps():
    vocab, T = 5, 10
    m = zoo.char_lstm_lm(vocab, T, embed_dim=4, units=8, seed=0)
    m.compile(optimizer=pydl.optimizers.SGD(0.0), loss="categorical_crossentropy", metrics=["accuracy"])
    r = np.random.default_rng(0)
    x, labels = r.integers(0, vocab, (64, T)), r.integers(0, vocab, (64, T))
    y = np.eye(vocab, dtype=np.float32)[labels]
    want = float(np.mean(m.predict(x).argmax(-1) == labels))
    _, acc = m.evaluate(x, y, batch_size=64)
    assert abs(acc - want) < 1e-6, (acc, want)


# --- autoencoder -----------------------------------------------------------------------------------------------
def test_autoencoder_parameter_count_by_hand_and_one_step():
    m = zoo.autoencoder(seed=0)
    # 784*128 + 128 = 100,480; 128*32 + 32 = 4,128; 32*128 + 128 = 4,224; 128*784 + 784 = 101,136
    expected = {"encoder_1": 100480, "code": 4128, "decoder_1": 4224, "reconstruction": 101136}
    check_summary_and_count(m, expected, 209968)
    x = np.random.default_rng(0).random((16, 784), dtype=np.float32)
    one_step(m, x, x, loss="binary_crossentropy")
    out = m.predict(x)
    assert out.shape == (16, 784) and np.all((out >= 0) & (out <= 1))


def test_autoencoder_sizes():
    m = zoo.autoencoder(input_dim=20, code=3, hidden=7, seed=1)
    assert m.count_params() == dense(20, 7) + dense(7, 3) + dense(3, 7) + dense(7, 20)


# --- seeds, stubs, bad arguments -------------------------------------------------------------------------------
def test_seed_gives_reproducible_weights():
    a, b, c = zoo.lenet5(seed=3), zoo.lenet5(seed=3), zoo.lenet5(seed=4)
    wa, wb, wc = a.get_weights(), b.get_weights(), c.get_weights()
    assert all(np.array_equal(u, v) for u, v in zip(wa, wb))
    assert not all(np.array_equal(u, v) for u, v in zip(wa, wc))


def resnet50_expected(width, classes, cin=3):
    """Keras's per-layer counts for ResNet50 (BatchNormalization: gamma, beta, moving mean and variance)."""
    def f(n):
        return max(1, round(n * width))

    def bn(c):
        return 4 * c

    e = {"conv1_pad": 0, "conv1_conv": conv(7, cin, f(64)), "conv1_bn": bn(f(64)), "conv1_relu": 0,
         "pool1_pad": 0, "pool1_pool": 0}
    cin = f(64)
    for stage, (filters, blocks, _) in enumerate(zoo.RESNET50_STAGES, start=2):
        c = f(filters)
        for b in range(1, blocks + 1):
            n = f"conv{stage}_block{b}"
            if b == 1:
                e[f"{n}_0_conv"], e[f"{n}_0_bn"] = conv(1, cin, 4 * c), bn(4 * c)
            e.update({f"{n}_1_conv": conv(1, cin, c), f"{n}_1_bn": bn(c), f"{n}_1_relu": 0,
                      f"{n}_2_conv": conv(3, c, c), f"{n}_2_bn": bn(c), f"{n}_2_relu": 0,
                      f"{n}_3_conv": conv(1, c, 4 * c), f"{n}_3_bn": bn(4 * c), f"{n}_add": 0, f"{n}_out": 0})
            cin = 4 * c
    e.update(avg_pool=0, predictions=dense(cin, classes))
    return e


def test_resnet50_keras_formulas_and_one_step():
    m = zoo.resnet50(input_shape=(32, 32, 3), classes=10, width=1 / 16, seed=0)
    assert isinstance(m, pydl.Model)
    assert sum(l.class_name == "Conv2D" for l in m.layers) == 53  # 49 in the main path + 4 projection shortcuts
    assert sum(l.class_name == "Add" for l in m.layers) == 16
    expected = resnet50_expected(1 / 16, 10)
    check_summary_and_count(m, expected, sum(expected.values()))
    x, y = images(4, (32, 32, 3))
    one_step(m, x, y)
    assert m.predict(x).shape == (4, 10)


def test_resnet50_full_size_matches_keras_count():
    """keras.applications.ResNet50(weights=None, classes=10): 23,608,202 parameters, 53,120 non-trainable."""
    assert sum(resnet50_expected(1.0, 10).values()) == 23_608_202
    m = zoo.resnet50(input_shape=(32, 32, 3), seed=0)
    assert m.count_params() == 23_608_202
    text = summary_text(m)
    assert "Non-trainable params: 53,120" in text


def make_divisible(v, d=8):
    """Keras's ``_make_divisible``, written out again."""
    n = max(d, int(v + d / 2) // d * d)
    return n + d if n < 0.9 * v else n


def mobilenet_v2_expected(alpha, classes, cin=3, side=32):
    """Keras's per-layer counts for MobileNetV2 (no biases but the classifier's; depthwise 3x3: 9 per channel;
    BatchNormalization: gamma, beta, moving mean and variance). ``side`` only decides the padding layers' names."""
    def bn(c):
        return 4 * c

    c = make_divisible(32 * alpha)
    e = {"Conv1": conv(3, cin, c, bias=False), "bn_Conv1": bn(c), "Conv1_relu": 0}
    side = (side + 1) // 2
    for block_id, (filters, stride, expansion) in enumerate(zoo.MOBILENET_V2_BLOCKS):
        out = make_divisible(int(filters * alpha))
        p = f"block_{block_id}_" if block_id else "expanded_conv_"
        mid = expansion * c
        if block_id:
            e.update({p + "expand": conv(1, c, mid, bias=False), p + "expand_BN": bn(mid), p + "expand_relu": 0})
        if stride == 2:
            e[p + "pad"] = 0
        e.update({p + "depthwise": 9 * mid, p + "depthwise_BN": bn(mid), p + "depthwise_relu": 0,
                  p + "project": conv(1, mid, out, bias=False), p + "project_BN": bn(out)})
        if stride == 1 and c == out:
            e[p + "add"] = 0
        c = out
    last = make_divisible(1280 * alpha) if alpha > 1 else 1280
    e.update({"Conv_1": conv(1, c, last, bias=False), "Conv_1_bn": bn(last), "out_relu": 0,
              "global_average_pooling2d": 0, "predictions": dense(last, classes)})
    return e


def test_mobilenet_v2_make_divisible_and_correct_pad_as_keras():
    assert [zoo._make_divisible(32 * a, 8) for a in (0.35, 0.5, 0.75, 1.0, 1.3, 1.4)] == [16, 16, 24, 32, 40, 48]
    assert zoo._make_divisible(1280 * 1.4, 8) == 1792 and zoo._make_divisible(int(16 * 0.35), 8) == 8
    assert zoo._make_divisible(int(96 * 0.35), 8) == 32  # int(33.6) = 33 -> 32
    assert zoo._correct_pad(224) == (0, 1) and zoo._correct_pad(7) == (1, 1)


def test_mobilenet_v2_full_size_matches_keras_count():
    """keras.applications.MobileNetV2(weights=None) (224x224x3, 1000 classes): 3,538,984 parameters, 34,112 of
    them non-trainable. The count does not depend on the input size (global pooling), so 32x32 is built."""
    expected = mobilenet_v2_expected(1.0, 1000)
    assert sum(expected.values()) == 3_538_984
    assert sum(v // 2 for k, v in expected.items() if k.endswith(("BN", "bn", "bn_Conv1"))) == 34_112
    m = zoo.mobilenet_v2(input_shape=(32, 32, 3), classes=1000, seed=0)
    assert isinstance(m, pydl.Model) and m.name == "mobilenetv2_1.00_32"
    check_summary_and_count(m, expected, 3_538_984)
    text = summary_text(m)
    assert "Non-trainable params: 34,112" in text
    assert len(m.layers) == 155  # Keras's 156 layers less the input layer
    assert sum(l.class_name == "DepthwiseConv2D" for l in m.layers) == 17
    assert sum(l.class_name == "Conv2D" for l in m.layers) == 35  # Conv1, 16 expansions, 17 projections, Conv_1
    assert sum(l.class_name == "Add" for l in m.layers) == 10
    assert [l.name for l in m.layers if l.class_name == "ZeroPadding2D"] == [
        "block_1_pad", "block_3_pad", "block_6_pad", "block_13_pad"]
    assert not any(l.class_name == "Dropout" for l in m.layers)  # Keras's MobileNetV2 has no dropout
    bns = [l for l in m.layers if l.class_name == "BatchNormalization"]
    assert len(bns) == 52 and all(l.epsilon == 1e-3 and l.momentum == 0.999 for l in bns)
    relus = [l for l in m.layers if l.class_name == "ReLU"]
    assert len(relus) == 35 and all(l.max_value == 6.0 for l in relus)


@pytest.mark.parametrize("alpha", [0.5, 0.75, 1.3, 1.4])
def test_mobilenet_v2_alpha_counts(alpha):
    m = zoo.mobilenet_v2(input_shape=(32, 32, 3), classes=10, alpha=alpha, seed=0)
    expected = mobilenet_v2_expected(alpha, 10)
    assert layer_params(m) == expected
    assert m.count_params() == sum(expected.values())


def test_mobilenet_v2_other_alpha_totals():
    """At 224x224x3 / 1000 classes, alpha 1.4 gives Keras's 6,156,712 parameters (a 1792-filter last
    convolution); alpha 0.35 keeps the 1280-filter last convolution: 1,691,208 by the same formulas."""
    assert sum(mobilenet_v2_expected(1.4, 1000).values()) == 6_156_712
    assert sum(mobilenet_v2_expected(0.35, 1000).values()) == 1_691_208
    assert mobilenet_v2_expected(0.35, 1000)["Conv_1_bn"] == 4 * 1280


def test_mobilenet_v2_tiny_alpha_one_step():
    m = zoo.mobilenet_v2(input_shape=(32, 32, 3), classes=10, alpha=0.35, seed=0)
    expected = mobilenet_v2_expected(0.35, 10)
    check_summary_and_count(m, expected, sum(expected.values()))
    x, y = images(4, (32, 32, 3))
    one_step(m, x, y)
    p = m.predict(x)
    assert p.shape == (4, 10)
    np.testing.assert_allclose(p.sum(-1), 1.0, rtol=1e-5)


def test_mobilenet_v2_odd_input_pads_as_keras():
    """33x47: correct_pad pads (1, 1) on odd sides, (0, 1) on even ones; every stride halves, rounding up."""
    m = zoo.mobilenet_v2(input_shape=(33, 47, 3), classes=3, alpha=0.35, seed=0)
    pads = {l.name: l.get_config()["padding"] for l in m.layers if l.class_name == "ZeroPadding2D"}
    # 33x47 -Conv1-> 17x24 -b1-> 9x12 -b3-> 5x6 -b6-> 3x3 -b13-> 2x2
    want = {"block_1_pad": ((1, 1), (0, 1)), "block_3_pad": ((1, 1), (0, 1)), "block_6_pad": ((1, 1), (0, 1)),
            "block_13_pad": ((1, 1), (1, 1))}
    assert {k: tuple(tuple(p) for p in v) for k, v in pads.items()} == want
    x = np.random.default_rng(0).random((2, 33, 47, 3), dtype=np.float32)
    assert m.predict(x).shape == (2, 3)


@pytest.mark.parametrize("call, text", [
    (lambda: zoo.vgg16(input_shape=(16, 16, 3)), r"at least 32.*input_shape=\(16, 16, 3\)"),
    (lambda: zoo.vgg16(width=0), "width=0"),
    (lambda: zoo.vgg16(input_shape=(64, 64)), r"input_shape=\(64, 64\)"),
    (lambda: zoo.alexnet_small(input_shape=(24, 24, 3)), "at least 29"),
    (lambda: zoo.lenet5(input_shape=(8, 8, 1)), "at least 12"),
    (lambda: zoo.lenet5(classes=0), "classes=0"),
    (lambda: zoo.resnet50(input_shape=(31, 40, 3)), "at least 32"),
    (lambda: zoo.mobilenet_v2(input_shape=(40, 31, 3)), r"mobilenet_v2: .*at least 32"),
    (lambda: zoo.mobilenet_v2(alpha=0), "alpha=0"),
    (lambda: zoo.mobilenet_v2(classes=0), "classes=0"),
    (lambda: zoo.lstm_text_classifier(0, 10, 2), "vocab=0"),
    (lambda: zoo.char_lstm_lm(10, -1), "seq_len=-1"),
    (lambda: zoo.autoencoder(code=2.5), "code=2.5"),
])
def test_bad_arguments_name_the_builder_and_value(call, text):
    with pytest.raises(ValueError, match=text):
        call()
