package org.pydl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;

import org.junit.jupiter.api.Test;
import org.pydl.io.ModelFile;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.testing.GradCheck;
import org.pydl.train.DataSet;
import org.pydl.train.History;

/**
 * Dot, bilinear UpSampling2D, regularizers and constraints on any layer, and the builder shortcuts, from Java:
 * float64 gradient checks, hand-checked values, Keras's formulas, training through the builder, model files.
 */
class LayerGapsTest {
    private static NDArray random(long seed, long... shape) {
        Random r = new Random(seed);
        long n = 1;
        for (long d : shape) n *= d;
        double[] v = new double[(int) n];
        for (int i = 0; i < v.length; i++) v[i] = r.nextGaussian();
        return NDArray.of(v, shape);
    }

    @Test
    void dotShapesValuesAndGradient() {
        Dot d = new Dot(1, 2, false);
        d.setName("dot");
        assertArrayEquals(new long[] {5, 10}, d.buildMulti(List.of(new long[] {3, 5}, new long[] {10, 3}),
                DType.FLOAT64, 0));
        try (MemoryScope s = MemoryScope.open()) {
            // hand-checked: x [1, 2, 1] . y [1, 1, 2] along x axis 1 and y axis 2 -> outer sums
            Dot small = new Dot(-1, false);
            small.setName("small");
            assertArrayEquals(new long[] {1}, small.buildMulti(List.of(new long[] {3}, new long[] {3}), DType.FLOAT64, 0));
            NDArray out = small.forwardMulti(List.of(NDArray.of(new double[] {1, 2, 3}, 1, 3),
                    NDArray.of(new double[] {4, 5, 6}, 1, 3)), new Layer.Context(false, 0));
            assertArrayEquals(new long[] {1, 1}, out.shape());
            assertEquals(32.0, out.toDoubleArray()[0], 0.0);
            GradCheck.checkGradient(in -> d.forwardMulti(List.of(in[0], in[1]), new Layer.Context(false, 0)),
                    random(1, 2, 3, 5), random(2, 2, 10, 3));
            Dot cos = new Dot(2, 2, true);
            cos.setName("cos");
            cos.buildMulti(List.of(new long[] {3, 4}, new long[] {5, 4}), DType.FLOAT64, 0);
            GradCheck.checkGradient(in -> cos.forwardMulti(List.of(in[0], in[1]), new Layer.Context(false, 0)),
                    random(3, 2, 3, 4), random(4, 2, 5, 4));
        }
        Dot bad = new Dot(0, false);
        bad.setName("bad");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bad.buildMulti(List.of(new long[] {3}, new long[] {3}), DType.FLOAT64, 0));
        assertTrue(e.getMessage().contains("Dot layer 'bad'") && e.getMessage().contains("batch axis"), e.getMessage());
    }

    @Test
    void bilinearValuesAndGradient() {
        try (MemoryScope s = MemoryScope.open()) {
            // [0, 4] upsampled by 2 with half-pixel centres: [0, 1, 3, 4]
            NDArray y = SpatialResize.bilinear(NDArray.of(new double[] {0, 4}, 1, 2, 1), 1, 2);
            assertArrayEquals(new double[] {0, 1, 3, 4}, y.toDoubleArray(), 1e-15);
            SpatialResize up = new SpatialResize(SpatialResize.Kind.UP_SAMPLING, 2, new long[][] {{2}, {3}},
                    "channels_last", "bilinear");
            up.setName("up");
            assertArrayEquals(new long[] {6, 6, 2}, up.build(new long[] {3, 2, 2}, DType.FLOAT64, 0));
            GradCheck.checkGradient(in -> up.forward(in[0], new Layer.Context(false, 0)), random(5, 2, 3, 2, 2));
        }
        SpatialResize bad = new SpatialResize(SpatialResize.Kind.UP_SAMPLING, 1, new long[][] {{2}}, "channels_last",
                "bilinear");
        bad.setName("up1");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> bad.build(new long[] {4, 2}, DType.FLOAT64, 0));
        assertTrue(e.getMessage().contains("UpSampling1D layer 'up1'") && e.getMessage().contains("\"bilinear\""),
                e.getMessage());
    }

    @Test
    void regularizerPenaltyGradientAndConfig() {
        Regularizer r = Regularizer.l1l2(0.3, 0.2);
        try (MemoryScope s = MemoryScope.open()) {
            NDArray w = NDArray.of(new double[] {1, -2, 0.5}, 3);
            assertEquals(0.3 * 3.5 + 0.2 * 5.25, r.penalty(w).getDouble(), 1e-15);
            GradCheck.checkGradient(in -> r.penalty(in[0]), random(6, 4, 3));
        }
        assertEquals(Map.of("class_name", "L1L2", "config", Map.of("l1", 0.3, "l2", 0.2)), r.toConfig());
        assertEquals(0.01, Regularizer.fromConfig("l2", "kernel_regularizer").l2, 0.0);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Regularizer.fromConfig("l3", "kernel_regularizer"));
        assertTrue(e.getMessage().contains("kernel_regularizer='l3'"), e.getMessage());
    }

    @Test
    void constraintsFollowKerasFormulas() {
        try (MemoryScope s = MemoryScope.open()) {
            // columns of norm 5 and 0.5: MaxNorm(2) scales the first to norm 2, keeps the second
            NDArray w = NDArray.of(new double[] {3, 0.3, 4, 0.4}, 2, 2);
            double[] got = Constraint.maxNorm(2).apply(w).toDoubleArray();
            double k = 2 / (1e-7 + 5), k2 = 0.5 / (1e-7 + 0.5);
            assertArrayEquals(new double[] {3 * k, 0.3 * k2, 4 * k, 0.4 * k2}, got, 1e-15);
            double[] unit = Constraint.unitNorm(1).apply(w).toDoubleArray();
            assertEquals(1.0, Math.hypot(unit[0], unit[1]), 1e-6);
            assertArrayEquals(new double[] {0, 2, 0}, Constraint.nonNeg().apply(NDArray.of(new double[] {-1, 2, 0}, 3))
                    .toDoubleArray(), 0.0);
            // rate 0.5 moves a norm of 5 half-way to the bound 1: 3
            double[] mm = Constraint.minMaxNorm(0, 1, 0.5, 0).apply(NDArray.of(new double[] {3, 4}, 2, 1)).toDoubleArray();
            assertEquals(3.0, Math.hypot(mm[0], mm[1]), 1e-6);
        }
        assertEquals(Constraint.Kind.MIN_MAX_NORM, Constraint.fromConfig(Constraint.minMaxNorm(0.5, 2, 0.3, 0, 1)
                .toConfig(), "c").kind);
    }

    @Test
    void constraintAndRegularizerThroughTraining(@org.junit.jupiter.api.io.TempDir Path dir) throws Exception {
        DataSet d = SequentialTest.blobs(3, 120);
        Dense hidden = new Dense(8, Activation.RELU);
        hidden.setConstraint("kernel", Constraint.maxNorm(0.5)).setRegularizer("kernel", Regularizer.l1(1e-3))
                .setActivityRegularizer(Regularizer.l2(1e-4));
        Sequential m = Sequential.builder().input(4).add(hidden).dense(3, Activation.SOFTMAX).seed(1).build();
        m.compile(new Optimizer.Adam(0.05), Loss.of("sparse_categorical_crossentropy"), List.of());
        m.fit(d, SequentialTest.quiet(2, 20));
        double[] k = hidden.parameters().get(0).value().toDoubleArray();
        for (int j = 0; j < 8; j++) {
            double n = 0;
            for (int i = 0; i < 4; i++) n += k[i * 8 + j] * k[i * 8 + j];
            assertTrue(Math.sqrt(n) <= 0.5 + 1e-5, "column " + j + " norm " + Math.sqrt(n));
        }
        Path f = dir.resolve("m.pydl");
        ModelFile.save(m, f);
        Sequential back = ModelFile.load(f);
        Layer h = back.layers().get(0);
        assertEquals(Constraint.Kind.MAX_NORM, h.parameters().get(0).constraint.kind);
        assertEquals(1e-3, h.parameters().get(0).regularizer.l1, 0.0);
        assertEquals(1e-4, h.activityRegularizer().l2, 0.0);
        assertTrue(Files.size(f) > 0);
    }

    @Test
    void builderShortcutsBuildAndTrain() {
        // sequences of 6 ids from 0..9; class = whether id 7 occurs
        Random r = new Random(4);
        int n = 96;
        int[] ids = new int[n * 6], y = new int[n];
        for (int i = 0; i < n; i++) {
            for (int t = 0; t < 6; t++) ids[i * 6 + t] = r.nextInt(7);
            if (i % 2 == 0) {
                ids[i * 6 + r.nextInt(6)] = 7;
                y[i] = 1;
            }
        }
        DataSet d = new DataSet(MemoryScope.detach(NDArray.of(ids, n, 6).cast(DType.FLOAT32)),
                MemoryScope.detach(NDArray.of(y)));
        Sequential text = Sequential.builder().input(6).embedding(10, 8).lstm(8, true).gru(8, true)
                .layerNormalization().simpleRnn(8, false).dropout(0.1).dense(2, Activation.SOFTMAX).seed(2).build();
        assertEquals(List.of("Embedding", "LSTM", "GRU", "LayerNormalization", "SimpleRNN", "Dropout", "Dense"),
                text.layers().stream().map(Layer::type).toList());
        text.compile(new Optimizer.Adam(0.02), Loss.of("sparse_categorical_crossentropy"), List.of("accuracy"));
        History h = text.fit(d, SequentialTest.quiet(8, 16));
        List<Double> loss = h.history().get("loss");
        assertTrue(loss.get(loss.size() - 1) < 0.6 * loss.get(0), "loss " + loss);

        NDArray img = MemoryScope.detach(random(7, 32, 6, 6, 1).cast(DType.FLOAT32));
        int[] cls = new int[32];
        float[] pix = img.toFloatArray();
        for (int i = 0; i < 32; i++) cls[i] = pix[i * 36] > 0 ? 1 : 0;
        DataSet images = new DataSet(img, MemoryScope.detach(NDArray.of(cls)));
        Sequential conv = Sequential.builder().input(6, 6, 1).conv2d(4, 3, Activation.RELU, true).batchNormalization()
                .averagePooling2d(2).globalAveragePooling2d().dense(2, Activation.SOFTMAX).seed(3).build();
        Sequential conv1 = Sequential.builder().input(6, 6, 1).reshape(36, 1).conv1d(4, 3, Activation.RELU, false)
                .maxPooling1d(2).globalAveragePooling1d().dense(2, Activation.SOFTMAX).seed(3).build();
        Sequential convMax = Sequential.builder().input(6, 6, 1).conv2d(2, 3, Activation.RELU, false)
                .globalMaxPooling2d().dense(2, Activation.SOFTMAX).seed(3).build();
        assertArrayEquals(new long[] {17, 4}, conv1.layers().get(2).outputShape());   // (36 - 3 + 1) / 2
        for (Sequential c : List.of(conv, conv1, convMax)) {
            c.compile(new Optimizer.Adam(0.01), Loss.of("sparse_categorical_crossentropy"), List.of());
            List<Double> l = c.fit(images, SequentialTest.quiet(6, 8)).history().get("loss");
            assertTrue(l.get(5) < l.get(0), "loss " + l);
            assertArrayEquals(new long[] {2}, c.outputShape());
        }
    }
}
