package org.pydl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
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
 * DepthwiseConv1D/2D, SeparableConv1D/2D and Conv1D/2D/3DTranspose: float64 gradient checks of the forward pass
 * w.r.t. the input and every weight by central finite differences (eps 1e-6, rtol 1e-6 + atol 1e-7, the pattern of
 * {@code org.pydl.ops.GradientCheckTest}), a direct-definition forward check of the transposed convolution, weight
 * shapes, config round trips and invalid configurations.
 */
class ConvVariantsTest {

    // ---- helpers (copied from GradientCheckTest: tests cannot share code across packages) ---------------------
    static NDArray rand(long seed, double lo, double hi, long... shape) {
        return GradCheck.uniform(seed, lo, hi, shape);
    }



    /** Autodiff gradient of sum(f(inputs) * W), W fixed random, vs central differences, for every input. */
    static void checkGradient(Function<NDArray[], NDArray> f, NDArray... inputs) {
        GradCheck.checkGradient(f, inputs);
    }

    /** Builds {@code l} for float64 input {@code inShape} (no batch axis) with random weights (biases included). */
    static Layer built(Layer l, long... inShape) {
        l.setName("cv");
        l.build(inShape, DType.FLOAT64, 7);
        long seed = 100;
        for (Parameter p : l.parameters()) p.set(rand(seed++, -1, 1, p.value().shape()));
        return l;
    }

    /** Checks the layer's forward w.r.t. a random input (batch 2) and all its weights. */
    static void checkLayer(Layer l) {
        long[] in = l.inputShape();
        long[] batchShape = new long[in.length + 1];
        batchShape[0] = 2;
        System.arraycopy(in, 0, batchShape, 1, in.length);
        NDArray x = rand(42, -2, 2, batchShape);
        List<NDArray> inputs = new ArrayList<>();
        inputs.add(x);
        for (Parameter p : l.parameters()) inputs.add(p.value());
        Layer.Context ctx = new Layer.Context(true, 0);
        try {
            checkGradient(a -> l.forward(a[0], ctx), inputs.toArray(new NDArray[0]));
        } finally {
            x.close();
        }
    }

    static Map<String, Object> cfg(Object... kv) {
        Map<String, Object> c = new LinkedHashMap<>();
        for (int i = 0; i < kv.length; i += 2) c.put((String) kv[i], kv[i + 1]);
        return c;
    }

    static Layer make(String type, Object... kv) {
        return Layers.fromConfig(type, cfg(kv));
    }

    static long[] l(long... v) {
        return v;
    }

    // ---- gradient checks ---------------------------------------------------------------------------------------
    @Test
    void depthwiseGradients() {
        checkLayer(built(make("DepthwiseConv2D", "kernel_size", 3L, "padding", "same", "strides", l(2, 1),
                "depth_multiplier", 2L), 5, 4, 2));
        checkLayer(built(make("DepthwiseConv2D", "kernel_size", 2L, "dilation_rate", 2L, "activation", "tanh"),
                5, 5, 2));
        checkLayer(built(make("DepthwiseConv2D", "kernel_size", l(2, 3), "data_format", "channels_first",
                "use_bias", false), 2, 4, 4));
        checkLayer(built(make("DepthwiseConv1D", "kernel_size", 3L, "strides", 2L, "padding", "same",
                "depth_multiplier", 3L), 6, 2));
    }

    @Test
    void separableGradients() {
        checkLayer(built(make("SeparableConv2D", "filters", 3L, "kernel_size", 3L, "padding", "same",
                "depth_multiplier", 2L), 4, 4, 2));
        checkLayer(built(make("SeparableConv2D", "filters", 2L, "kernel_size", l(2, 2), "strides", 2L,
                "data_format", "channels_first", "use_bias", false), 2, 5, 4));
        checkLayer(built(make("SeparableConv1D", "filters", 2L, "kernel_size", 2L, "dilation_rate", 2L,
                "activation", "sigmoid"), 6, 3));
    }

    @Test
    void transposeGradients() {
        checkLayer(built(make("Conv1DTranspose", "filters", 2L, "kernel_size", 3L, "strides", 2L, "padding", "same",
                "output_padding", 1L), 4, 2));
        checkLayer(built(make("Conv1DTranspose", "filters", 2L, "kernel_size", 2L, "dilation_rate", 2L,
                "padding", "same"), 5, 2));
        checkLayer(built(make("Conv2DTranspose", "filters", 2L, "kernel_size", l(3, 2), "strides", l(2, 3),
                "output_padding", l(1, 2)), 3, 2, 2));
        checkLayer(built(make("Conv2DTranspose", "filters", 3L, "kernel_size", 3L, "strides", 2L, "padding", "same",
                "data_format", "channels_first", "activation", "tanh"), 2, 3, 3));
        checkLayer(built(make("Conv3DTranspose", "filters", 2L, "kernel_size", 2L, "strides", l(2, 1, 2),
                "padding", "same"), 2, 2, 2, 2));
    }

    // ---- forward and shapes ------------------------------------------------------------------------------------
    @Test
    void transposeMatchesDefinition() {
        // y[i * s + j - P] += x[i] * w[j, f, c] with TensorFlow's P for Keras's output length, 1-D, several configs
        Object[][] cases = {
            {"valid", 2L, null, 3L, 5L, 11L}, {"same", 2L, null, 3L, 5L, 10L}, {"same", 3L, 1L, 4L, 4L, 10L},
            {"valid", 3L, 2L, 2L, 4L, 13L}, {"same", 1L, null, 2L, 4L, 4L}, {"same", 2L, 0L, 2L, 3L, 4L},
        };
        for (Object[] c : cases) {
            long s = (Long) c[1], k = (Long) c[3], n = (Long) c[4], out = (Long) c[5];
            Layer t = built(make("Conv1DTranspose", "filters", 2L, "kernel_size", k, "strides", s, "padding", c[0],
                    "output_padding", c[2]), n, 3);
            assertArrayEquals(l(out, 2), t.outputShape(), "output shape for " + java.util.Arrays.toString(c));
            try (MemoryScope scope = MemoryScope.open()) {
                NDArray x = rand(5, -1, 1, 1, n, 3);
                double[] xv = x.toDoubleArray();
                double[] wv = t.parameters().get(0).value().toDoubleArray();
                double[] bv = t.parameters().get(1).value().toDoubleArray();
                double[] y = t.forward(x, new Layer.Context(false, 0)).toDoubleArray();
                long pb = Math.max((n - 1) * s + k - out, 0) / 2;
                double[] want = new double[(int) (out * 2)];
                for (int o = 0; o < out; o++) for (int f = 0; f < 2; f++) want[o * 2 + f] = bv[f];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < k; j++) {
                        long o = i * s + j - pb;
                        if (o < 0 || o >= out) continue;
                        for (int f = 0; f < 2; f++) {
                            for (int ch = 0; ch < 3; ch++) {
                                want[(int) (o * 2 + f)] += xv[i * 3 + ch] * wv[(j * 2 + f) * 3 + ch];
                            }
                        }
                    }
                }
                assertArrayEquals(want, y, 1e-12, "values for " + java.util.Arrays.toString(c));
            }
        }
    }

    @Test
    void weightShapesAndNamesAsKeras() {
        Layer d = built(make("DepthwiseConv2D", "kernel_size", 3L, "depth_multiplier", 2L), 6, 6, 3);
        assertArrayEquals(l(3, 3, 3, 2), d.parameters().get(0).value().shape());
        assertArrayEquals(l(6), d.parameters().get(1).value().shape());
        assertArrayEquals(l(4, 4, 6), d.outputShape());
        assertEquals(60, d.paramCount());
        Layer s = built(make("SeparableConv2D", "filters", 5L, "kernel_size", 3L, "depth_multiplier", 2L,
                "padding", "same"), 6, 6, 3);
        assertEquals(List.of("cv/depthwise_kernel", "cv/pointwise_kernel", "cv/bias"),
                s.parameters().stream().map(p -> p.name).toList());
        assertArrayEquals(l(1, 1, 6, 5), s.parameters().get(1).value().shape());
        assertEquals(54 + 30 + 5, s.paramCount());
        Layer t = built(make("Conv2DTranspose", "filters", 4L, "kernel_size", l(3, 2), "strides", 2L), 5, 5, 3);
        assertArrayEquals(l(3, 2, 4, 3), t.parameters().get(0).value().shape());
        assertArrayEquals(l(11, 10, 4), t.outputShape());
        assertEquals("Conv2DTranspose", t.type());
    }

    @Test
    void configRoundTrips() {
        Layer[] ls = {
            built(make("DepthwiseConv1D", "kernel_size", 3L, "depth_multiplier", 2L, "padding", "same"), 5, 2),
            built(make("SeparableConv2D", "filters", 3L, "kernel_size", 2L, "strides", 2L), 4, 4, 2),
            built(make("Conv3DTranspose", "filters", 3L, "kernel_size", 2L, "strides", 2L,
                    "output_padding", l(1, 0, 1)), 2, 2, 2, 1),
            built(make("Conv2DTranspose", "filters", 3L, "kernel_size", 2L), 3, 3, 1),
        };
        for (Layer a : ls) {
            @SuppressWarnings("unchecked")
            Map<String, Object> c = (Map<String, Object>) Json.parse(Json.write(a.config()));
            Layer b = Layers.fromConfig(a.type(), c);
            assertEquals(Json.write(a.config()), Json.write(b.config()));
        }
        assertTrue(Json.write(ls[3].config()).contains("\"output_padding\":null"));
    }

    @Test
    void invalidConfigsNameLayerAndValue() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> built(make("Conv2DTranspose",
                "filters", 2L, "kernel_size", 3L, "strides", 2L, "output_padding", 2L), 5, 5, 1));
        assertTrue(e.getMessage().contains("Conv2DTranspose layer 'cv'")
                && e.getMessage().contains("output_padding=[2, 2]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(make("DepthwiseConv2D", "kernel_size", 3L,
                "depth_multiplier", 0L), 5, 5, 1));
        assertTrue(e.getMessage().contains("DepthwiseConv2D") && e.getMessage().contains("depth_multiplier=0"));
        e = assertThrows(IllegalArgumentException.class, () -> built(make("SeparableConv1D", "filters", 2L,
                "kernel_size", 3L, "padding", "causal"), 5, 1));
        assertTrue(e.getMessage().contains("SeparableConv1D") && e.getMessage().contains("padding=\"causal\""));
        e = assertThrows(IllegalArgumentException.class, () -> built(make("Conv1DTranspose", "filters", 2L,
                "kernel_size", 2L, "padding", "same", "output_padding", 0L), 1, 1));
        assertTrue(e.getMessage().contains("empty"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> built(make("DepthwiseConv2D", "kernel_size", 4L),
                3, 3, 1));
        assertTrue(e.getMessage().contains("larger than the input"), e.getMessage());
    }
}
