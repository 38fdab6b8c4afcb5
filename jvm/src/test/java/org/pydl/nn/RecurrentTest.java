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

import org.junit.jupiter.api.Test;
import org.pydl.io.Json;
import org.pydl.testing.GradCheck;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;

/**
 * Float64 gradient checks of the recurrent layers (backpropagation through time by autodiff) w.r.t. the input and
 * every weight: the autodiff gradient of {@code sum(layer(x) * W)}, W a fixed random array, against central finite
 * differences (eps 1e-6), relative tolerance 1e-6 (+1e-7 absolute). Tiny sizes: batch 2, time 3, features 2,
 * units 3.
 */
class RecurrentTest {
    static final long BATCH = 2, TIME = 3, FEATURES = 2;

    @SuppressWarnings("unchecked")
    static Layer layer(String type, String json) {
        Map<String, Object> c = (Map<String, Object>) Json.parse(json);
        Layer l = Layers.fromConfig(type, c);
        if (l.name() == null) l.setName(type.toLowerCase());
        return l;
    }

    static NDArray rand(long seed, double lo, double hi, long... shape) {
        return GradCheck.uniform(seed, lo, hi, shape);
    }


    /** Builds the layer on [TIME, FEATURES], randomises its weights and checks every gradient. */
    static void checkLayer(Layer l, long[] expectedOut) {
        long[] out = l.build(new long[] {TIME, FEATURES}, DType.FLOAT64, 7);
        assertArrayEquals(expectedOut, out, "output shape");
        NDArray x = rand(1, -1.5, 1.5, BATCH, TIME, FEATURES);
        List<NDArray> params = new ArrayList<>();
        long seed = 10;
        for (Parameter p : l.parameters()) {
            p.set(rand(seed++, -0.8, 0.8, p.value().shape()));
            assertTrue(p.value().requiresGrad(), p.name + " requires a gradient");
            params.add(p.value());
        }
        long[] ys = new long[expectedOut.length + 1];
        ys[0] = BATCH;
        System.arraycopy(expectedOut, 0, ys, 1, expectedOut.length);
        try (MemoryScope s = MemoryScope.open()) {
            assertArrayEquals(ys, l.forward(x, new Layer.Context(true, 0)).shape(), "forward shape");
        }
        GradCheck.checkGradient(in -> l.forward(in[0], new Layer.Context(true, 0)), params.toArray(new NDArray[0]), x);
        // every weight and the input must actually receive a gradient (not a vacuous all-zero match)
        x.setRequiresGrad(true);
        try (MemoryScope s = MemoryScope.open()) {
            Ops.sum(Ops.square(l.forward(x, new Layer.Context(true, 0)))).backward();
            List<NDArray> leaves = new ArrayList<>(params);
            leaves.add(0, x);
            for (int i = 0; i < leaves.size(); i++) {
                String what = i == 0 ? "input" : l.parameters().get(i - 1).name;
                double maxAbs = 0;
                for (double v : leaves.get(i).grad().toDoubleArray()) maxAbs = Math.max(maxAbs, Math.abs(v));
                assertTrue(maxAbs > 1e-6, l.type() + ": gradient of " + what + " is all zeros");
                leaves.get(i).setGrad(null);
            }
        } finally {
            x.close();
        }
    }

    /** Masking: zeros where every feature equals mask_value, identity elsewhere; gradient by central differences. */
    @Test
    void maskingForwardAndGradient() {
        Layer m = layer("Masking", "{\"mask_value\": 0.5}");
        m.build(new long[] {TIME, FEATURES}, DType.FLOAT64, 7);
        NDArray x = rand(3, -1, 1, BATCH, TIME, FEATURES);
        try (MemoryScope s = MemoryScope.open()) {
            NDArray masked = NDArray.of(new double[] {0.5, 0.5, 0.2, 0.5, 0.5, 0.5, 1, 2, 3, 4, 0.5, 0.5},
                    BATCH, TIME, FEATURES);
            double[] y = m.forward(masked, new Layer.Context(false, 0)).toDoubleArray();
            org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {0, 0, 0.2, 0.5, 0, 0, 1, 2, 3, 4, 0, 0}, y);
            double[] mask = m.computeMasks(List.of(masked), List.of(masked), new Layer.Context(false, 0)).get(0)
                    .toDoubleArray();
            org.junit.jupiter.api.Assertions.assertArrayEquals(new double[] {0, 1, 0, 1, 1, 0}, mask);
        }
        GradCheck.checkGradient(in -> m.forward(in[0], new Layer.Context(true, 0)), x);
        x.close();
    }

    /**
     * The composed path (also used for recurrent dropout and other activations) with a mask, initial states and
     * recurrent dropout: gradients of the input, the initial states and every weight by central differences.
     */
    @Test
    void composedPathWithMaskStatesAndRecurrentDropout() {
        boolean was = Recurrent.fusedKernels();
        Recurrent.setFusedKernels(false);
        NDArray mask = MemoryScope.detach(NDArray.of(new double[] {1, 0, 1, 0, 1, 1}, BATCH, TIME));
        try {
            for (String type : new String[] {"LSTM", "GRU", "SimpleRNN"}) {
                Recurrent l = (Recurrent) layer(type, "{\"units\": 3, \"return_sequences\": true, \"go_backwards\": true, "
                        + "\"recurrent_dropout\": 0.4, \"dropout\": 0.3}");
                l.build(new long[] {TIME, FEATURES}, DType.FLOAT64, 7);
                List<NDArray> inputs = new ArrayList<>();
                inputs.add(rand(1, -1.5, 1.5, BATCH, TIME, FEATURES));
                int states = type.equals("LSTM") ? 2 : 1;
                for (int i = 0; i < states; i++) inputs.add(rand(20 + i, -1, 1, BATCH, 3));
                long seed = 10;
                for (Parameter p : l.parameters()) p.set(rand(seed++, -0.8, 0.8, p.value().shape()));
                Layer.Context ctx = new Layer.Context(true, 5, List.of(mask), Map.of());
                NDArray[] params = l.parameters().stream().map(Parameter::value).toArray(NDArray[]::new);
                // inputs: the sequence, then the initial states
                GradCheck.checkGradient(in -> l.forwardOutputs(java.util.Arrays.asList(in), ctx).get(0), params,
                        inputs.toArray(new NDArray[0]));
                for (NDArray a : inputs) a.close();
            }
        } finally {
            mask.close();
            Recurrent.setFusedKernels(was);
        }
    }

    @Test
    void simpleRnn() {
        checkLayer(layer("SimpleRNN", "{\"units\": 3}"), new long[] {3});
        checkLayer(layer("SimpleRNN", "{\"units\": 3, \"return_sequences\": true, \"go_backwards\": true}"),
                new long[] {TIME, 3});
    }

    @Test
    void lstm() {
        checkLayer(layer("LSTM", "{\"units\": 3}"), new long[] {3});
        checkLayer(layer("LSTM", "{\"units\": 3, \"return_sequences\": true, \"go_backwards\": true}"),
                new long[] {TIME, 3});
        checkLayer(layer("LSTM", "{\"units\": 3, \"use_bias\": false, \"return_sequences\": true}"),
                new long[] {TIME, 3});
    }

    @Test
    void gruResetAfter() {
        checkLayer(layer("GRU", "{\"units\": 3}"), new long[] {3});
        checkLayer(layer("GRU", "{\"units\": 3, \"return_sequences\": true, \"go_backwards\": true}"),
                new long[] {TIME, 3});
        checkLayer(layer("GRU", "{\"units\": 3, \"use_bias\": false}"), new long[] {3});
    }

    @Test
    void gruResetBefore() {
        checkLayer(layer("GRU", "{\"units\": 3, \"reset_after\": false}"), new long[] {3});
        checkLayer(layer("GRU", "{\"units\": 3, \"reset_after\": false, \"return_sequences\": true, "
                + "\"go_backwards\": true}"), new long[] {TIME, 3});
    }

    @Test
    void bidirectional() {
        checkLayer(layer("Bidirectional", "{\"layer\": {\"class\": \"LSTM\", \"config\": {\"units\": 3, "
                + "\"return_sequences\": true}}}"), new long[] {TIME, 6});
        checkLayer(layer("Bidirectional", "{\"merge_mode\": \"mul\", \"layer\": {\"class\": \"GRU\", \"config\": "
                + "{\"units\": 3}}}"), new long[] {3});
    }

    @Test
    void timeDistributed() {
        checkLayer(layer("TimeDistributed", "{\"layer\": {\"class\": \"Dense\", \"config\": {\"units\": 3, "
                + "\"activation\": \"tanh\"}}}"), new long[] {TIME, 3});
    }

    @Test
    void weightLayoutsAndNames() {
        Layer l = layer("GRU", "{\"units\": 3, \"name\": \"g\"}");
        l.build(new long[] {TIME, FEATURES}, DType.FLOAT64, 1);
        assertEquals(List.of("g/kernel", "g/recurrent_kernel", "g/bias"),
                l.parameters().stream().map(p -> p.name).toList());
        assertArrayEquals(new long[] {2, 9}, l.parameters().get(2).value().shape());
        Layer b = layer("Bidirectional", "{\"name\": \"bi\", \"layer\": {\"class\": \"LSTM\", \"config\": "
                + "{\"units\": 3}}}");
        b.build(new long[] {TIME, FEATURES}, DType.FLOAT64, 1);
        assertEquals("bi/forward_lstm/kernel", b.parameters().get(0).name);
        assertEquals("bi/backward_lstm/bias", b.parameters().get(5).name);
        assertEquals(2 * 4 * (2 * 3 + 3 * 3 + 3), b.paramCount());
    }

    @Test
    void orthogonalInitializer() {
        for (long[] shape : new long[][] {{3, 12}, {5, 5}, {7, 2}}) {
            try (NDArray q = Recurrent.orthogonal(DType.FLOAT64, shape, 3)) {
                double[] v = q.toDoubleArray();
                int r = (int) shape[0], c = (int) shape[1];
                boolean rows = r <= c; // the shorter side is orthonormal
                int n = rows ? r : c, len = rows ? c : r;
                for (int a = 0; a < n; a++) {
                    for (int b = 0; b < n; b++) {
                        double d = 0;
                        for (int k = 0; k < len; k++) {
                            d += rows ? v[a * c + k] * v[b * c + k] : v[k * c + a] * v[k * c + b];
                        }
                        assertEquals(a == b ? 1.0 : 0.0, d, 1e-12);
                    }
                }
            }
        }
    }

    @Test
    void invalidConfigs() {
        Layer l = layer("LSTM", "{\"units\": 0}");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> l.build(new long[] {TIME, FEATURES}, DType.FLOAT64, 1));
        assertTrue(e.getMessage().contains("LSTM layer 'lstm'") && e.getMessage().contains("units=0"), e.getMessage());
        Layer g = layer("GRU", "{\"units\": 2}");
        e = assertThrows(IllegalArgumentException.class, () -> g.build(new long[] {5}, DType.FLOAT64, 1));
        assertTrue(e.getMessage().contains("rank 3") && e.getMessage().contains("(None, 5)"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> layer("SimpleRNN", "{\"units\": 2, \"activation\": \"x\"}"));
    }
}
