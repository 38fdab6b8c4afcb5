package org.pydl.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;
import org.pydl.ops.UnaryOp;

/**
 * Registers the activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax) and the noise/regularisation layers
 * (GaussianNoise, GaussianDropout, AlphaDropout, SpatialDropout1D/2D/3D); holds the helpers they share: the
 * activations composed from other ops (hard_swish, mish) and noise masks seeded from {@link Layer.Context#seed}.
 */
final class ActivationLayers {
    private ActivationLayers() {}

    static void register() {
        Layers.register("ReLU", ReLU::fromConfig);
        Layers.register("LeakyReLU", LeakyReLU::fromConfig);
        Layers.register("PReLU", PReLU::fromConfig);
        Layers.register("ELU", ELU::fromConfig);
        Layers.register("Softmax", Softmax::fromConfig);
        Layers.register("GaussianNoise", GaussianNoise::fromConfig);
        Layers.register("GaussianDropout", GaussianDropout::fromConfig);
        Layers.register("AlphaDropout", AlphaDropout::fromConfig);
        Layers.register("SpatialDropout1D", c -> SpatialDropout.fromConfig(1, c));
        Layers.register("SpatialDropout2D", c -> SpatialDropout.fromConfig(2, c));
        Layers.register("SpatialDropout3D", c -> SpatialDropout.fromConfig(3, c));
    }

    // ---- activations composed from ops (gradients by autodiff) --------------------------------------------
    /** Keras 3's hard_silu / hard_swish: x * relu6(x + 3) / 6 = x * hard_sigmoid(x). */
    static NDArray hardSwish(NDArray x) {
        return Ops.mul(x, Ops.hardSigmoid(x));
    }

    /** Keras's mish: x * tanh(softplus(x)). */
    static NDArray mish(NDArray x) {
        return Ops.mul(x, Ops.tanh(Ops.softplus(x)));
    }

    // ---- masks (constants: no gradient) --------------------------------------------------------------------
    /** 1 where x > t, else 0 (x's dtype and shape); a constant, like Keras's cast(greater(x, t)). */
    static NDArray greaterMask(NDArray x, double t) {
        try (Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
            NDArray d = Ops.affine(x, 1.0, -t); // contiguous; > 0 exactly where x > t
            NDArray ones = Ops.onesLike(d);
            NDArray m = NDArray.empty(d.device(), d.dtype(), d.shape());
            // relu'(d) = 1 where d > 0, else 0 (the rule Ops uses for maximum/minimum)
            d.device().backend().unaryBackward(UnaryOp.RELU, d, d, ones, m, 0);
            ones.close();
            d.close();
            return m;
        }
    }

    /** An inverted-dropout mask of {@code shape} (0 with probability rate, else 1/(1-rate)) with x's dtype. */
    static NDArray dropoutMask(NDArray x, long[] shape, double rate, long seed) {
        NDArray m = NDArray.empty(x.device(), x.dtype(), shape);
        x.device().backend().dropoutMask(m, rate, seed);
        return m;
    }

    /** Standard-normal noise scaled to N(mean, std) of x's shape and dtype. */
    static NDArray normal(NDArray x, double mean, double std, long seed) {
        NDArray n = NDArray.empty(x.device(), x.dtype(), x.shape());
        x.device().backend().normal(n, mean, std, seed);
        return n;
    }

    // ---- config helpers ------------------------------------------------------------------------------------
    /** A list of integers (or nulls) from a config, or null when absent; a bare integer becomes a list of one. */
    static List<Long> longList(Map<String, Object> c, String key) {
        Object v = c.get(key);
        if (v == null) return null;
        List<Long> out = new ArrayList<>();
        if (v instanceof List) {
            for (Object e : (List<?>) v) out.add(e == null ? null : toLong(key, e, v));
        } else if (v instanceof long[]) {
            for (long e : (long[]) v) out.add(e);
        } else {
            out.add(toLong(key, v, v));
        }
        return out;
    }

    private static Long toLong(String key, Object e, Object whole) {
        if (e instanceof Number n && n.doubleValue() == Math.rint(n.doubleValue()) && !(e instanceof Double d
                && Double.isInfinite(d))) {
            return n.longValue();
        }
        throw new IllegalArgumentException("config key '" + key + "' must be an integer or a list of integers, "
                + "received " + Json.write(whole));
    }

    /** Rates of the dropout family: a float in [0, 1). */
    static void checkRate(Layer l, double rate) {
        if (!(rate >= 0 && rate < 1)) {
            throw l.configError("`rate` must be a float in [0, 1), received rate=" + rate);
        }
    }
}
