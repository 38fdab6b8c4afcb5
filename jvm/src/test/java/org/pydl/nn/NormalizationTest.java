package org.pydl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.pydl.testing.GradCheck;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;

/**
 * Normalisation layers: float64 gradient checks of the forward pass (training mode, and BatchNormalization's
 * inference mode) w.r.t. the input, gamma and beta by central finite differences (eps 1e-6, rtol 1e-6 + atol 1e-7,
 * the pattern of {@code org.pydl.ops.GradientCheckTest}), the moving-statistics update, parameter flags and
 * config round trips.
 */
class NormalizationTest {

    // ---- helpers (copied from GradientCheckTest: tests cannot share code across packages) ---------------------
    static NDArray rand(long seed, double lo, double hi, long... shape) {
        return GradCheck.uniform(seed, lo, hi, shape);
    }



    /** Autodiff gradient of sum(f(inputs) * W), W fixed random, vs central differences, for every input. */
    static void checkGradient(Function<NDArray[], NDArray> f, NDArray... inputs) {
        GradCheck.checkGradient(f, inputs);
    }

    /** Builds {@code l} for float64 input {@code inShape} (no batch axis) with random gamma and beta. */
    static Layer built(Layer l, long... inShape) {
        l.setName("norm");
        l.build(inShape, DType.FLOAT64, 7);
        long seed = 100;
        for (Parameter p : l.parameters()) {
            String n = p.name.substring(p.name.indexOf('/') + 1);
            if (n.equals("gamma")) p.set(rand(seed++, 0.5, 1.5, p.value().shape()));
            if (n.equals("beta")) p.set(rand(seed++, -1, 1, p.value().shape()));
            if (n.equals("moving_mean")) p.set(rand(seed++, -1, 1, p.value().shape()));
            if (n.equals("moving_variance")) p.set(rand(seed++, 0.5, 2, p.value().shape()));
        }
        return l;
    }

    /** Checks the layer's forward (training or inference) w.r.t. a random input and its trainable parameters. */
    static void checkLayer(Layer l, boolean training, long... batchShape) {
        NDArray x = rand(42, -2, 2, batchShape);
        List<NDArray> inputs = new ArrayList<>();
        inputs.add(x);
        for (Parameter p : l.parameters()) if (!p.state) inputs.add(p.value());
        Layer.Context ctx = new Layer.Context(training, 0);
        try {
            checkGradient(in -> l.forward(in[0], ctx), inputs.toArray(new NDArray[0]));
        } finally {
            x.close();
        }
    }

    // ---- gradient checks ---------------------------------------------------------------------------------------
    @Test
    void batchNormTrainingGradients() {
        checkLayer(built(new BatchNormalization(), 3), true, 5, 3);
        checkLayer(built(new BatchNormalization(), 4, 3), true, 2, 4, 3);
        checkLayer(built(new BatchNormalization(1, 0.9, 1e-3, true, true), 3, 4), true, 2, 3, 4);
        checkLayer(built(new BatchNormalization(-1, 0.99, 1e-2, false, true), 2, 2, 3), true, 2, 2, 2, 3);
        checkLayer(built(new BatchNormalization(-1, 0.99, 1e-3, true, false), 3), true, 4, 3);
    }

    @Test
    void batchNormInferenceGradients() {
        checkLayer(built(new BatchNormalization(), 3), false, 5, 3);
        checkLayer(built(new BatchNormalization(1, 0.9, 1e-3, true, true), 3, 2), false, 2, 3, 2);
    }

    @Test
    void layerNormGradients() {
        checkLayer(built(new LayerNormalization(), 5), true, 3, 5);
        checkLayer(built(new LayerNormalization(), 3, 4), true, 2, 3, 4);
        checkLayer(built(new LayerNormalization(new int[] {1, 2}, true, 1e-3, true, true, Initializer.ZEROS,
                Initializer.ONES), 3, 4), true, 2, 3, 4);
        checkLayer(built(new LayerNormalization(1, 1e-3, false, true), 3, 2), true, 2, 3, 2);
    }

    @Test
    void rmsNormGradients() {
        checkLayer(built(new RMSNormalization(new int[] {-1}, false, 1e-6), 5), true, 3, 5);
        checkLayer(built(new RMSNormalization(new int[] {1, 2}, true, 1e-3), 3, 4), true, 2, 3, 4);
    }

    @Test
    void groupNormGradients() {
        checkLayer(built(new GroupNormalization(2), 6), true, 3, 6);
        checkLayer(built(new GroupNormalization(2), 3, 4), true, 2, 3, 4);
        checkLayer(built(new GroupNormalization(-1), 2, 3), true, 2, 2, 3);
        checkLayer(built(new GroupNormalization(3, 1, 1e-3, true, true, Initializer.ZEROS, Initializer.ONES), 6, 2),
                true, 2, 6, 2);
        checkLayer(built(new GroupNormalization(2, 2, 1e-3, true, true, Initializer.ZEROS, Initializer.ONES), 2, 2, 4),
                true, 2, 2, 2, 4);
    }

    @Test
    void checkerDetectsAWrongGradient() {
        // the forward of LayerNormalization with its gradient cut at the variance: a wrong gradient for x
        Layer ln = built(new LayerNormalization(), 4);
        NDArray x = rand(3, -2, 2, 3, 4);
        Function<NDArray[], NDArray> wrong = in -> {
            NDArray mean = Ops.mean(in[0], new int[] {1}, true);
            NDArray centered = Ops.sub(in[0], mean);
            NDArray var;
            try (Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
                var = Ops.mean(Ops.square(centered), new int[] {1}, true);
            }
            return Ops.mul(centered, Ops.reciprocal(Ops.sqrt(Ops.add(var, 1e-3))));
        };
        assertThrows(org.opentest4j.AssertionFailedError.class, () -> checkGradient(wrong, x));
        checkLayer(ln, true, 3, 4);  // the real layer passes on the same shapes
        x.close();
    }

    // ---- behaviour ---------------------------------------------------------------------------------------------
    @Test
    void batchNormMovingStatsAreStateAndFollowKeras() {
        BatchNormalization bn = new BatchNormalization(-1, 0.8, 1e-3, true, true);
        bn.setName("bn");
        bn.build(new long[] {2}, DType.FLOAT64, 0);
        List<Parameter> ps = bn.parameters();
        assertEquals(List.of("bn/gamma", "bn/beta", "bn/moving_mean", "bn/moving_variance"),
                ps.stream().map(p -> p.name).toList());
        assertTrue(ps.get(0).trainable && ps.get(1).trainable);
        assertTrue(ps.get(2).state && !ps.get(2).trainable && !ps.get(2).value().requiresGrad());
        assertTrue(ps.get(3).state && !ps.get(3).trainable && !ps.get(3).value().requiresGrad());
        double[] xv = {1, 10, 3, 20, 8, 0};
        NDArray oldMean = ps.get(2).value(), oldVar = ps.get(3).value();
        try (NDArray x = MemoryScope.detach(NDArray.of(xv, 3, 2)); MemoryScope s = MemoryScope.open()) {
            bn.forward(x, new Layer.Context(true, 0));
        }
        // the replaced state arrays are freed at once; the new ones outlive the step's scope
        assertTrue(oldMean.isClosed() && oldVar.isClosed());
        assertFalse(ps.get(2).value().isClosed() || ps.get(3).value().isClosed());
        // column means 4, 10; biased variances 26/3, 200/3
        assertArrayEquals(new double[] {0.2 * 4, 0.2 * 10}, ps.get(2).value().toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {0.8 + 0.2 * 26 / 3.0, 0.8 + 0.2 * 200 / 3.0}, ps.get(3).value().toDoubleArray(),
                1e-12);
        assertFalse(ps.get(2).value().requiresGrad());
        // inference leaves them alone
        try (NDArray x = MemoryScope.detach(NDArray.of(xv, 3, 2)); MemoryScope s = MemoryScope.open()) {
            bn.forward(x, new Layer.Context(false, 0));
        }
        assertArrayEquals(new double[] {0.8, 2.0}, ps.get(2).value().toDoubleArray(), 1e-12);
        bn.setTrainable(false);
        assertTrue(!ps.get(0).trainable && !ps.get(3).trainable);
    }

    @Test
    void configsRoundTripThroughTheRegistry() {
        Layer[] ls = {new BatchNormalization(1, 0.5, 0.01, false, true),
            new LayerNormalization(new int[] {-2, -1}, true, 1e-4, true, false, Initializer.ZEROS, Initializer.ONES),
            new GroupNormalization(4, -1, 1e-5, true, true, Initializer.ZEROS, Initializer.ONES)};
        for (Layer l : ls) {
            l.setName("n");
            Map<String, Object> c = l.config();
            Layer back = Layers.fromConfig(l.type(), c);
            assertEquals(c, back.config(), l.type());
            assertEquals(l.getClass(), back.getClass());
        }
    }

    @Test
    void invalidConfigsNameTheLayerAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> built(new GroupNormalization(4), 6));
        assertTrue(e.getMessage().contains("GroupNormalization layer 'norm'") && e.getMessage().contains("groups=4"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> built(new BatchNormalization(-1, 1.5, 1e-3, true, true), 3));
        assertTrue(e.getMessage().contains("momentum=1.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(new LayerNormalization(3, 1e-3, true, true), 3));
        assertTrue(e.getMessage().contains("axis=3"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(new LayerNormalization(-1, 0, true, true), 3));
        assertTrue(e.getMessage().contains("epsilon=0.0"), e.getMessage());
    }
}
