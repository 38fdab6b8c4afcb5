package org.pydl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.pydl.testing.GradCheck;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;

/**
 * Float64 gradient checks of the activation and noise layers (ReLU variants, LeakyReLU, PReLU w.r.t. input and
 * alpha, ELU, Softmax over one and several axes, hard_swish, mish, and the noise layers in training mode with a
 * fixed seed): autodiff gradient of {@code sum(layer(x) * W)}, W fixed random, against central finite
 * differences (eps 1e-6), relative tolerance 1e-6 (+1e-7 absolute). Inputs are chosen away from kinks.
 */
class ActivationLayersTest {

    // ---- helpers -------------------------------------------------------------------------------------------
    /** Uniform values in [lo, hi) that stay at least {@code margin} away from every kink. */
    static NDArray awayFrom(long seed, double lo, double hi, double[] kinks, double margin, long... shape) {
        Random r = new Random(seed);
        int n = 1;
        for (long d : shape) n *= (int) d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) {
            double x;
            boolean ok;
            do {
                x = lo + (hi - lo) * r.nextDouble();
                ok = true;
                for (double k : kinks) ok &= Math.abs(x - k) >= margin;
            } while (!ok);
            v[i] = x;
        }
        return MemoryScope.detach(NDArray.of(v, shape));
    }

    static NDArray smooth(long seed, long... shape) {
        return awayFrom(seed, -3, 3, new double[0], 0, shape);
    }

    static <L extends Layer> L built(L layer, long... inputShape) {
        layer.setName(layer.type().toLowerCase());
        layer.build(inputShape, DType.FLOAT64, 42);
        return layer;
    }

    static Function<NDArray[], NDArray> fwd(Layer l, boolean training, long seed) {
        return in -> l.forward(in[0], new Layer.Context(training, seed));
    }

    static Function<NDArray[], NDArray> fwd(Layer l) {
        return fwd(l, false, 0);
    }



    /**
     * Checks the autodiff gradient of every input of {@code f} (and of {@code params}, which f reads but does not
     * take as arguments) against central differences.
     */
    static void checkGradient(Function<NDArray[], NDArray> f, NDArray[] params, NDArray... inputs) {
        GradCheck.checkGradient(f, params, inputs);
    }

    static void checkGradient(Function<NDArray[], NDArray> f, NDArray... inputs) {
        GradCheck.checkGradient(f, inputs);
    }

    static double[] values(Layer l, NDArray x) {
        try (MemoryScope s = MemoryScope.open()) {
            return l.forward(x, new Layer.Context(false, 0)).toDoubleArray();
        }
    }

    @Test
    void checkerDetectsAWrongGradient() {
        // y = x^2 recorded with the gradient g * x (should be 2 g x)
        Function<NDArray[], NDArray> wrong = in -> {
            NDArray x = in[0];
            NDArray y;
            try (Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
                y = Ops.square(x);
            }
            return Autograd.record("wrong_square", y, g -> new NDArray[] {Ops.mul(g, x)}, x);
        };
        assertThrows(org.opentest4j.AssertionFailedError.class, () -> checkGradient(wrong, smooth(30, 2, 3)));
    }

    // ---- ReLU ----------------------------------------------------------------------------------------------
    @Test
    void reluDefault() {
        ReLU l = built(new ReLU(), 3, 4);
        checkGradient(fwd(l), awayFrom(1, -3, 3, new double[] {0}, 0.05, 2, 3, 4));
    }

    @Test
    void reluNegativeSlopeOnlyIsLeaky() {
        ReLU l = built(new ReLU(Double.NaN, 0.25, 0.0), 5);
        checkGradient(fwd(l), awayFrom(2, -3, 3, new double[] {0}, 0.05, 4, 5));
    }

    @Test
    void reluMaxValueSix() {
        ReLU l = built(new ReLU(6.0, 0.0, 0.0), 10);
        checkGradient(fwd(l), awayFrom(3, -3, 9, new double[] {0, 6}, 0.05, 3, 10));
    }

    @Test
    void reluMaxValueAndSlope() {
        ReLU l = built(new ReLU(4.0, 0.2, 0.0), 10);
        checkGradient(fwd(l), awayFrom(4, -5, 7, new double[] {0, 4}, 0.05, 3, 10));
    }

    @Test
    void reluThresholdSlopeAndMax() {
        ReLU l = built(new ReLU(5.0, 0.3, 1.0), 10);
        checkGradient(fwd(l), awayFrom(5, -4, 8, new double[] {1, 5}, 0.05, 3, 10));
    }

    @Test
    void reluThresholdOnly() {
        ReLU l = built(new ReLU(Double.NaN, 0.0, 0.5), 10);
        checkGradient(fwd(l), awayFrom(6, -3, 3, new double[] {0.5}, 0.05, 3, 10));
    }

    @Test
    void reluMaxBelowThreshold() {
        ReLU l = built(new ReLU(1.0, 0.5, 2.0), 10);
        checkGradient(fwd(l), awayFrom(7, -3, 5, new double[] {1, 2}, 0.05, 3, 10));
    }

    @Test
    void reluValuesFollowKerasDefinition() {
        ReLU l = built(new ReLU(5.0, 0.3, 1.0), 7);
        NDArray x = MemoryScope.detach(NDArray.of(new double[] {-2, 0, 0.5, 1, 1.5, 5, 7}, 1, 7));
        // x > 1: min(x, 5); x <= 1: 0.3 (x - 1)
        assertArrayEquals(new double[] {-0.9, -0.3, -0.15, 0, 1.5, 5, 5}, values(l, x), 1e-15);
        x.close();
    }

    @Test
    void leakyRelu() {
        LeakyReLU l = built(new LeakyReLU(), 6);
        assertEquals(0.3, l.negativeSlope);
        checkGradient(fwd(l), awayFrom(8, -3, 3, new double[] {0}, 0.05, 4, 6));
    }

    // ---- PReLU ---------------------------------------------------------------------------------------------
    static NDArray randomAlpha(PReLU l, long seed) {
        NDArray a = l.alpha().value();
        l.alpha().set(awayFrom(seed, -0.5, 1.5, new double[0], 0, a.shape()));
        return l.alpha().value();
    }

    @Test
    void preluInputAndAlpha() {
        PReLU l = built(new PReLU(), 3, 4);
        assertArrayEquals(new long[] {3, 4}, l.alpha().value().shape());
        NDArray alpha = randomAlpha(l, 9);
        checkGradient(fwd(l), new NDArray[] {alpha}, awayFrom(10, -3, 3, new double[] {0}, 0.05, 2, 3, 4));
    }

    @Test
    void preluSharedAxes() {
        PReLU l = built(new PReLU(Initializer.ZEROS, new long[] {1, 2}, 0.0), 3, 4, 2);
        assertArrayEquals(new long[] {1, 1, 2}, l.alpha().value().shape());
        assertEquals(2, l.paramCount());
        NDArray alpha = randomAlpha(l, 11);
        checkGradient(fwd(l), new NDArray[] {alpha}, awayFrom(12, -3, 3, new double[] {0}, 0.05, 2, 3, 4, 2));
    }

    @Test
    void preluSharedAxisRank3() {
        PReLU l = built(new PReLU(Initializer.ONES, new long[] {1}, 0.0), 5, 3);
        assertArrayEquals(new long[] {1, 3}, l.alpha().value().shape());
        NDArray alpha = randomAlpha(l, 13);
        checkGradient(fwd(l), new NDArray[] {alpha}, awayFrom(14, -3, 3, new double[] {0}, 0.05, 2, 5, 3));
    }

    // ---- ELU, Softmax --------------------------------------------------------------------------------------
    @Test
    void elu() {
        checkGradient(fwd(built(new ELU(), 6)), awayFrom(15, -3, 3, new double[] {0}, 0.05, 4, 6));
        checkGradient(fwd(built(new ELU(0.6), 6)), awayFrom(16, -3, 3, new double[] {0}, 0.05, 4, 6));
    }

    @Test
    void softmaxLastAxis() {
        checkGradient(fwd(built(new Softmax(), 5)), smooth(17, 3, 5));
    }

    @Test
    void softmaxMiddleAxis() {
        checkGradient(fwd(built(new Softmax(1), 4, 3)), smooth(18, 2, 4, 3));
    }

    @Test
    void softmaxSeveralAxes() {
        Softmax l = built(new Softmax(new long[] {1, -1}, true), 3, 2, 4);
        checkGradient(fwd(l), smooth(19, 2, 3, 2, 4));
        // each (batch, :, j, :) slice sums to 1
        NDArray x = smooth(20, 2, 3, 2, 4);
        double[] y = values(l, x);
        for (int b = 0; b < 2; b++) {
            for (int j = 0; j < 2; j++) {
                double s = 0;
                for (int i = 0; i < 3; i++) for (int k = 0; k < 4; k++) s += y[((b * 3 + i) * 2 + j) * 4 + k];
                assertEquals(1.0, s, 1e-12);
            }
        }
        x.close();
    }

    // ---- composed activations ------------------------------------------------------------------------------
    @Test
    void hardSwish() {
        ActivationLayer l = built(new ActivationLayer(Activation.HARD_SWISH), 10);
        checkGradient(fwd(l), awayFrom(21, -5, 5, new double[] {-3, 3}, 0.05, 3, 10));
        ActivationLayer alias = built(new ActivationLayer(Activation.of("hard_silu")), 10);
        checkGradient(fwd(alias), awayFrom(22, -5, 5, new double[] {-3, 3}, 0.05, 3, 10));
        NDArray x = MemoryScope.detach(NDArray.of(new double[] {-4, -3, -1.5, 0, 1.5, 3, 4}, 1, 7));
        double[] y = values(built(new ActivationLayer(Activation.HARD_SWISH), 7), x);
        assertArrayEquals(new double[] {0, 0, -0.375, 0, 1.125, 3, 4}, y, 1e-15);
        x.close();
    }

    @Test
    void mish() {
        ActivationLayer l = built(new ActivationLayer(Activation.of("mish")), 10);
        checkGradient(fwd(l), awayFrom(23, -6, 6, new double[0], 0, 3, 10));
        NDArray x = MemoryScope.detach(NDArray.of(new double[] {-30, -1, 0, 1, 30}, 1, 5));
        double[] y = values(built(new ActivationLayer(Activation.MISH), 5), x);
        for (int i = 0; i < 5; i++) {
            double v = x.getDouble(0, i);
            double ref = v * Math.tanh(Math.log1p(Math.exp(v)));
            assertEquals(ref, y[i], 1e-14 * Math.max(1, Math.abs(ref)));
        }
        x.close();
    }

    // ---- noise layers in training (fixed seed: the same noise on every call) --------------------------------
    @Test
    void noiseLayersGradientsInTraining() {
        checkGradient(fwd(built(new GaussianNoise(0.5), 6), true, 7), smooth(24, 3, 6));
        checkGradient(fwd(built(new GaussianDropout(0.3), 6), true, 8), smooth(25, 3, 6));
        checkGradient(fwd(built(new AlphaDropout(0.3), 6), true, 9), smooth(26, 3, 6));
        checkGradient(fwd(built(new SpatialDropout(1, 0.5, false), 4, 3), true, 10), smooth(27, 2, 4, 3));
        checkGradient(fwd(built(new SpatialDropout(2, 0.5, true), 3, 2, 2), true, 11), smooth(28, 2, 3, 2, 2));
    }

    @Test
    void noiseLayersAreIdentityAtInference() {
        NDArray x = smooth(29, 3, 6);
        for (Layer l : new Layer[] {new GaussianNoise(0.5), new GaussianDropout(0.3), new AlphaDropout(0.3)}) {
            built(l, 6);
            assertArrayEquals(x.toDoubleArray(), values(l, x), 0.0, l.type());
        }
        x.close();
    }

    // ---- registry and configs ------------------------------------------------------------------------------
    @Test
    void configsRoundTripThroughTheRegistry() {
        Layer[] ls = {new ReLU(), new ReLU(6.0, 0.1, 0.5), new LeakyReLU(0.2),
            new PReLU(Initializer.ONES, new long[] {1}, 0.01), new ELU(0.5), new Softmax(new long[] {1, 2}, true),
            new Softmax(-2), new GaussianNoise(0.1), new GaussianDropout(0.2),
            new AlphaDropout(0.3, java.util.Arrays.asList(null, 1L, 3L)),
            new SpatialDropout(1, 0.2, false), new SpatialDropout(2, 0.2, true), new SpatialDropout(3, 0.4, false)};
        for (Layer l : ls) {
            l.setName("x");
            Map<String, Object> c = l.config();
            Layer back = Layers.fromConfig(l.type(), c);
            assertEquals(l.type(), back.type());
            assertEquals(c, back.config());
        }
    }

    @Test
    void invalidConfigsNameTheLayerAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> built(new ReLU(-1.0, 0, 0), 3));
        assertTrue(e.getMessage().contains("ReLU layer 'relu'") && e.getMessage().contains("max_value=-1.0"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(new GaussianDropout(1.0), 3));
        assertTrue(e.getMessage().contains("rate=1.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(new GaussianNoise(-1), 3));
        assertTrue(e.getMessage().contains("stddev=-1.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(new Softmax(2), 3));
        assertTrue(e.getMessage().contains("axis=2"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> built(new PReLU(Initializer.ZEROS, new long[] {0}, 0), 3));
        assertTrue(e.getMessage().contains("shared_axes=[0]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(new SpatialDropout(2, 0.5, false), 3, 3));
        assertTrue(e.getMessage().contains("(None, 3, 3)"), e.getMessage());
    }
}
