package org.pydl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.pydl.io.Json;
import org.pydl.testing.GradCheck;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;

/**
 * Attention layers: float64 gradient checks (central differences, eps 1e-6, rtol 1e-6 + atol 1e-7, the pattern of
 * {@code org.pydl.ops.GradientCheckTest}) of MultiHeadAttention, Attention and AdditiveAttention w.r.t. every input and
 * every weight on tiny sizes (self- and cross-attention, causal masks, no bias, output_shape, dropout in training with
 * a fixed seed), Keras weight names and shapes, the causal mask, config round trips and invalid configs.
 */
class AttentionTest {

    // ---- helpers ----------------------------------------------------------------------------------------------
    static NDArray rand(long seed, double lo, double hi, long... shape) {
        return GradCheck.uniform(seed, lo, hi, shape);
    }



    /** Autodiff gradient of sum(f(inputs) * W), W fixed random, vs central differences, for every input. */
    static void checkGradient(Function<NDArray[], NDArray> f, NDArray... inputs) {
        GradCheck.checkGradient(f, inputs);
    }

    /** Builds {@code l} for float64 inputs of the given shapes (no batch axis) with random weights. */
    static Layer built(Layer l, long[]... shapes) {
        l.setName("att");
        l.buildMulti(Arrays.asList(shapes), DType.FLOAT64, 7);
        long seed = 100;
        for (Parameter p : l.parameters()) p.set(rand(seed++, -0.8, 0.8, p.value().shape()));
        return l;
    }

    /** Checks the layer's forward w.r.t. random inputs of {@code batchShapes} and its weights. */
    static void checkLayer(Layer l, boolean training, long[]... batchShapes) {
        List<NDArray> inputs = new ArrayList<>();
        for (int i = 0; i < batchShapes.length; i++) inputs.add(rand(42 + i, -1.5, 1.5, batchShapes[i]));
        int nx = inputs.size();
        for (Parameter p : l.parameters()) inputs.add(p.value());
        Layer.Context ctx = new Layer.Context(training, 5);
        try {
            checkGradient(in -> l.forwardMulti(Arrays.asList(in).subList(0, nx), ctx), inputs.toArray(new NDArray[0]));
        } finally {
            for (int i = 0; i < nx; i++) inputs.get(i).close();
        }
    }

    static long[] s(long... d) {
        return d;
    }

    static List<String> names(Layer l) {
        List<String> r = new ArrayList<>();
        for (Parameter p : l.parameters()) r.add(p.name.substring(p.name.indexOf('/') + 1));
        return r;
    }

    // ---- gradient checks ---------------------------------------------------------------------------------------
    @Test
    void multiHeadSelfAttentionGradients() {
        checkLayer(built(new MultiHeadAttention(2, 3), s(4, 5), s(4, 5)), false, s(2, 4, 5), s(2, 4, 5));
        checkLayer(built(new MultiHeadAttention(2, 2, null, 0, true, null, true), s(4, 3), s(4, 3)), false,
                s(2, 4, 3), s(2, 4, 3));
    }

    @Test
    void multiHeadCrossAttentionGradients() {
        // query, value, key of different lengths/dims; value_dim != key_dim; output_shape; causal with T != S
        checkLayer(built(new MultiHeadAttention(2, 3, 2L, 0, true, new long[] {4}, false), s(3, 4), s(5, 2), s(5, 3)),
                false, s(2, 3, 4), s(2, 5, 2), s(2, 5, 3));
        checkLayer(built(new MultiHeadAttention(3, 2, 1L, 0, false, new long[] {2, 2}, true), s(4, 2), s(3, 3)),
                false, s(2, 4, 2), s(2, 3, 3));
    }

    @Test
    void multiHeadAttentionAxesGradients() {
        // rank-4 inputs: attention over axis 2 (axis 1 acts as a batch axis), over (1, 2) jointly (the default), and
        // cross-attention over a negative axis with other key lengths and a 2-D output_shape
        checkLayer(built(new MultiHeadAttention(2, 2, null, 0, true, null, List.of(2), false,
                Initializer.GLOROT_UNIFORM, Initializer.ZEROS), s(2, 3, 4), s(2, 3, 4)), false, s(2, 2, 3, 4),
                s(2, 2, 3, 4));
        checkLayer(built(new MultiHeadAttention(2, 2), s(2, 3, 4), s(2, 3, 4)), false, s(2, 2, 3, 4), s(2, 2, 3, 4));
        checkLayer(built(new MultiHeadAttention(2, 2, 3L, 0, false, new long[] {2, 2}, List.of(-2), false,
                Initializer.GLOROT_UNIFORM, Initializer.ZEROS), s(2, 3, 4), s(2, 5, 3)), false, s(2, 2, 3, 4),
                s(2, 2, 5, 3));
    }

    @Test
    void multiHeadDropoutGradientInTraining() {
        // the mask depends only on the context's seed, so the training forward is a fixed function
        Layer l = built(new MultiHeadAttention(2, 2, null, 0.3, true, null, false), s(3, 4), s(3, 4));
        checkLayer(l, true, s(2, 3, 4), s(2, 3, 4));
        NDArray x = rand(1, -1, 1, 2, 3, 4);
        try (MemoryScope sc = MemoryScope.open(); Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
            double[] inf = l.forwardMulti(List.of(x, x), new Layer.Context(false, 5)).toDoubleArray();
            double[] tr = l.forwardMulti(List.of(x, x), new Layer.Context(true, 5)).toDoubleArray();
            assertTrue(!Arrays.equals(inf, tr), "dropout changes the training output");
        } finally {
            x.close();
        }
    }

    @Test
    void attentionGradients() {
        checkLayer(built(new Attention(), s(3, 4), s(5, 2), s(5, 4)), false, s(2, 3, 4), s(2, 5, 2), s(2, 5, 4));
        checkLayer(built(new Attention(true, "dot", 0, true), s(4, 3), s(4, 3)), false, s(2, 4, 3), s(2, 4, 3));
        checkLayer(built(new Attention(true, "concat", 0, false), s(3, 2), s(4, 3), s(4, 2)), false,
                s(2, 3, 2), s(2, 4, 3), s(2, 4, 2));
        checkLayer(built(new Attention(false, "concat", 0.25, true), s(3, 2), s(4, 2)), true, s(2, 3, 2), s(2, 4, 2));
    }

    @Test
    void additiveAttentionGradients() {
        checkLayer(built(new AdditiveAttention(), s(3, 4), s(5, 2), s(5, 4)), false, s(2, 3, 4), s(2, 5, 2), s(2, 5, 4));
        checkLayer(built(new AdditiveAttention(false, 0, true), s(4, 3), s(4, 3)), false, s(2, 4, 3), s(2, 4, 3));
        checkLayer(built(new AdditiveAttention(true, 0.2, false), s(3, 2), s(3, 2)), true, s(2, 3, 2), s(2, 3, 2));
    }

    /** A [batch, len] 0/1 mask with some padding at the end of each row (row 1 fully padded when {@code empty}). */
    static NDArray padMask(long batch, long len, boolean empty) {
        double[] m = new double[(int) (batch * len)];
        for (int b = 0; b < batch; b++) {
            long keep = empty && b == 1 ? 0 : len - b;
            for (int t = 0; t < keep; t++) m[(int) (b * len + t)] = 1;
        }
        return MemoryScope.detach(NDArray.of(m, batch, len));
    }

    /** Gradient check of output {@code out} of a call with input masks and call arguments. */
    static void checkMasked(Layer l, Map<String, Object> args, List<NDArray> masks, int out, long[]... batchShapes) {
        List<NDArray> inputs = new ArrayList<>();
        for (int i = 0; i < batchShapes.length; i++) inputs.add(rand(42 + i, -1.5, 1.5, batchShapes[i]));
        int nx = inputs.size();
        // the scores output (out 1) does not depend on the value projection and output weights: inputs only
        if (out == 0) for (Parameter p : l.parameters()) inputs.add(p.value());
        Layer.Context ctx = new Layer.Context(false, 5, masks, args);
        try {
            checkGradient(in -> l.forwardOutputs(Arrays.asList(in).subList(0, nx), ctx).get(out),
                    inputs.toArray(new NDArray[0]));
        } finally {
            for (int i = 0; i < nx; i++) inputs.get(i).close();
        }
    }

    @Test
    void maskedAttentionGradients() {
        NDArray qm = padMask(2, 4, true), vm = padMask(2, 5, false);
        try {
            Map<String, Object> scores = Map.of("return_attention_scores", true, "use_causal_mask", true);
            MultiHeadAttention mha = new MultiHeadAttention(2, 3);
            mha.setName("att");
            mha.buildCall(List.of(s(4, 5), s(5, 5)), scores, DType.FLOAT64, 7);
            long seed = 100;
            for (Parameter p : mha.parameters()) p.set(rand(seed++, -0.8, 0.8, p.value().shape()));
            for (int out = 0; out < 2; out++) {
                checkMasked(mha, scores, Arrays.asList(qm, vm), out, s(2, 4, 5), s(2, 5, 5));
            }
            // an explicit attention_mask input (its values are not differentiated: 0/1 data)
            MultiHeadAttention m2 = new MultiHeadAttention(2, 2);
            m2.setName("att");
            Map<String, Object> roles = Map.of("inputs", List.of("query", "value", "attention_mask"));
            m2.buildCall(List.of(s(3, 4), s(5, 4), s(3, 5)), roles, DType.FLOAT64, 7);
            NDArray am = MemoryScope.detach(NDArray.of(new double[] {1, 1, 0, 0, 1, 0, 1, 1, 1, 0, 0, 0, 0, 0, 0,
                    1, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 1, 0, 1, 0}, 2, 3, 5));
            try {
                NDArray q = rand(1, -1, 1, 2, 3, 4), v = rand(2, -1, 1, 2, 5, 4);
                Layer.Context ctx = new Layer.Context(false, 5, null, roles);
                checkGradient(in -> m2.forwardOutputs(List.of(in[0], in[1], am), ctx).get(0), q, v);
                q.close();
                v.close();
            } finally {
                am.close();
            }
            Attention att = new Attention(true, "dot", 0, false);
            att.setName("att");
            att.buildCall(List.of(s(4, 3), s(5, 3)), Map.of("return_attention_scores", true), DType.FLOAT64, 7);
            for (Parameter p : att.parameters()) p.set(rand(3, 0.5, 1.5, p.value().shape()));
            for (int out = 0; out < 2; out++) {
                checkMasked(att, Map.of("return_attention_scores", true), Arrays.asList(qm, vm), out, s(2, 4, 3),
                        s(2, 5, 3));
            }
        } finally {
            qm.close();
            vm.close();
        }
    }

    // ---- weights, masks, configs -------------------------------------------------------------------------------
    @Test
    void kerasWeightNamesAndShapes() {
        Layer m = built(new MultiHeadAttention(2, 4), s(5, 8), s(5, 8));
        assertEquals(List.of("query/kernel", "query/bias", "key/kernel", "key/bias", "value/kernel", "value/bias",
                "attention_output/kernel", "attention_output/bias"), names(m));
        assertEquals(3 * (8 * 2 * 4 + 2 * 4) + (2 * 4 * 8 + 8), m.paramCount());
        assertArrayEquals(new long[] {2, 4, 8}, m.parameters().get(6).value().shape());
        assertArrayEquals(new long[] {5, 8}, m.outputShape());
        Layer c = built(new MultiHeadAttention(3, 2, 5L, 0, true, new long[] {7}, false), s(4, 6), s(9, 3), s(9, 1));
        assertArrayEquals(new long[] {1, 3, 2}, c.parameters().get(2).value().shape());
        assertArrayEquals(new long[] {3, 3, 5}, c.parameters().get(4).value().shape());
        assertArrayEquals(new long[] {3, 5, 7}, c.parameters().get(6).value().shape());
        assertArrayEquals(new long[] {4, 7}, c.outputShape());
        Layer a = built(new Attention(true, "concat", 0, false), s(3, 2), s(4, 2));
        assertEquals(List.of("scale", "concat_score_weight"), names(a));
        assertEquals(0, a.parameters().get(0).value().rank());
        Layer b = built(new AdditiveAttention(), s(3, 2), s(4, 2));
        assertEquals(List.of("scale"), names(b));
        assertArrayEquals(new long[] {2}, b.parameters().get(0).value().shape());
        assertArrayEquals(new long[] {3, 2}, b.outputShape());
    }

    @Test
    void causalMaskIsKerasLowerTriangle() {
        NDArray[] m = MultiHeadAttention.causalMask(DType.FLOAT64, 2, 3);
        try {
            assertArrayEquals(new double[] {1, 0, 0, 1, 1, 0}, m[0].toDoubleArray());
            assertArrayEquals(new double[] {0, -1e9, -1e9, 0, 0, -1e9}, m[1].toDoubleArray());
        } finally {
            m[0].close();
            m[1].close();
        }
    }

    @Test
    void configRoundTrip() {
        Layer[] ls = {new MultiHeadAttention(3, 2, 5L, 0.1, false, new long[] {2, 3}, true),
            new MultiHeadAttention(2, 4), new Attention(true, "concat", 0.2, true), new AdditiveAttention(false, 0, true)};
        for (Layer l : ls) {
            l.setName("x");
            Map<String, Object> c = l.config();
            @SuppressWarnings("unchecked")
            Map<String, Object> parsed = (Map<String, Object>) Json.parse(Json.write(c));
            Layer back = Layers.fromConfig(l.type(), parsed);
            assertEquals(c, back.config());
            assertEquals(l.getClass(), back.getClass());
        }
        assertEquals(4L, ((Number) new MultiHeadAttention(2, 4).config().get("value_dim")).longValue());
    }

    @Test
    void invalidConfigsNameTheLayerAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> built(new MultiHeadAttention(0, 4), s(3, 2), s(3, 2)));
        assertTrue(e.getMessage().contains("MultiHeadAttention layer 'att'") && e.getMessage().contains("num_heads=0"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> built(new MultiHeadAttention(2, 4, null, 1.0, true, null, false), s(3, 2), s(3, 2)));
        assertTrue(e.getMessage().contains("dropout=1.0"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(new MultiHeadAttention(2, 4), s(3, 2)));
        assertTrue(e.getMessage().contains("received 1 input"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> built(new MultiHeadAttention(2, 4), s(3, 2), s(4, 2), s(5, 2)));
        assertTrue(e.getMessage().contains("value_shape=(None, 4, 2)"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> built(new Attention(false, "general", 0, false), s(3, 2), s(4, 2)));
        assertTrue(e.getMessage().contains("Attention layer 'att'") && e.getMessage().contains("score_mode=general"),
                e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(new AdditiveAttention(), s(3, 2), s(4, 3), s(4, 5)));
        assertTrue(e.getMessage().contains("AdditiveAttention layer 'att'"), e.getMessage());
    }
}
