package org.pydl.nn;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.train.DataSet;
import org.pydl.train.History;
import org.pydl.train.TrainingListener;

/** Building, training, evaluating and inference of {@link Sequential} from Java. */
class SequentialTest {
    static final int N = 600;
    static final int FEATURES = 4;

    /** Three well-separated Gaussian blobs in 4-D: [N, 4] float32 features, [N] int32 labels. */
    static DataSet blobs(long seed, int n) {
        Random r = new Random(seed);
        double[][] centers = {{3, 0, 0, 1}, {-3, 2, 0, -1}, {0, -3, 2, 0}};
        float[] x = new float[n * FEATURES];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            int c = r.nextInt(3);
            y[i] = c;
            for (int j = 0; j < FEATURES; j++) x[i * FEATURES + j] = (float) (centers[c][j] + 0.7 * r.nextGaussian());
        }
        return new DataSet(MemoryScope.detach(NDArray.of(x, n, FEATURES)), MemoryScope.detach(NDArray.of(y)));
    }

    static Sequential smallModel(long seed) {
        return Sequential.builder().name("blobs").input(FEATURES).dense(16, Activation.RELU).dropout(0.1)
                .dense(3, Activation.SOFTMAX).seed(seed).build();
    }

    static Sequential compiled(long seed) {
        Sequential m = smallModel(seed);
        m.compile(new Optimizer.Adam(0.02), Loss.of("sparse_categorical_crossentropy"), List.of("accuracy"));
        return m;
    }

    static Sequential.FitOptions quiet(int epochs, int batch) {
        return new Sequential.FitOptions().epochs(epochs).batchSize(batch).seed(5);
    }

    private static float[][] weights(Sequential m) {
        return m.parameters().stream().map(p -> p.value().toFloatArray()).toArray(float[][]::new);
    }

    // ---- building ------------------------------------------------------------------------------------------
    @Test
    void builderAndSummary() {
        Sequential m = Sequential.builder().input(784).dense(512, Activation.RELU).dropout(0.2)
                .dense(10, Activation.SOFTMAX).seed(1).build();
        assertEquals("sequential", m.name());
        assertEquals(3, m.layers().size());
        assertArrayEquals(new long[] {784}, m.inputShape());
        assertArrayEquals(new long[] {10}, m.outputShape());
        assertEquals(784L * 512 + 512 + 512L * 10 + 10, m.paramCount());
        assertEquals(DType.FLOAT32, m.dtype());
        assertFalse(m.isCompiled());
        assertEquals(List.of("dense", "dropout", "dense_1"), m.layers().stream().map(Layer::name).toList());
        assertEquals(List.of("dense/kernel", "dense/bias", "dense_1/kernel", "dense_1/bias"),
                m.parameters().stream().map(p -> p.name).toList());
        assertArrayEquals(new long[] {784, 512}, m.getLayer("dense").parameters().get(0).value().shape());
        String s = m.summary();
        assertTrue(s.contains("Model: \"sequential\""), s);
        assertTrue(s.contains("dense (Dense)") && s.contains("dropout (Dropout)") && s.contains("dense_1 (Dense)"), s);
        assertTrue(s.contains("(None, 512)") && s.contains("(None, 10)"), s);
        assertTrue(s.contains("401,920") && s.contains("5,130"), s);
        assertTrue(s.contains("Total params: 407,050") && s.contains("Trainable params: 407,050")
                && s.contains("Non-trainable params: 0"), s);
        assertTrue(s.contains("1.55 MB"), s);
        // bias zeros, kernel within the Glorot uniform limit sqrt(6 / (784 + 512))
        float[] k = m.parameters().get(0).value().toFloatArray();
        double lim = Math.sqrt(6.0 / (784 + 512));
        for (float v : k) assertTrue(Math.abs(v) <= lim + 1e-7);
        for (float v : m.parameters().get(1).value().toFloatArray()) assertEquals(0f, v);
        assertThrows(IllegalArgumentException.class, () -> m.getLayer("nope"));
        Map<String, Object> cfg = m.config();
        assertEquals("Sequential", cfg.get("class"));
        assertEquals(3, ((List<?>) cfg.get("layers")).size());
    }

    @Test
    void invalidConfigsFailAtBuildNamingTheLayer() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(4).dense(8).dense(0, Activation.RELU).build());
        assertTrue(e.getMessage().contains("dense_1") && e.getMessage().contains("units"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(4).dense(8).dropout(1.5).build());
        assertTrue(e.getMessage().contains("Dropout layer 'dropout'") && e.getMessage().contains("1.5"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(4).dropout(-0.1).build());
        assertTrue(e.getMessage().contains("'dropout'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder().dense(3).build());
        assertTrue(e.getMessage().contains("input shape"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder().input(0).dense(3).build());
        assertTrue(e.getMessage().contains("positive"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder().input(4).build());
        assertTrue(e.getMessage().contains("no layers"), e.getMessage());
        Dense a = new Dense(3, Activation.RELU);
        a.setName("same");
        Dense b = new Dense(3, Activation.RELU);
        b.setName("same");
        e = assertThrows(IllegalArgumentException.class, () -> Sequential.builder().input(4).add(a).add(b).build());
        assertTrue(e.getMessage().contains("'same'"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Sequential.builder().input(4).add(new Dense(3, Activation.RELU, true, Initializer.GLOROT_UNIFORM,
                        Initializer.ZEROS, -1, 0)).build());
        assertTrue(e.getMessage().contains("l2=-1.0"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Activation.of("nope"));
    }

    @Test
    void compileErrors() {
        Sequential m = smallModel(1);
        assertThrows(IllegalArgumentException.class,
                () -> m.compile(new Optimizer.Adam(0.01), Loss.of("sparse_categorical_crossentropy"), List.of("f1")));
        assertThrows(IllegalArgumentException.class, () -> m.compile(null, Loss.of("mse"), List.of()));
        assertThrows(IllegalArgumentException.class, () -> Loss.of("hinge"));
        assertFalse(m.isCompiled());
    }

    @Test
    void fitBeforeCompileThrows() {
        Sequential m = smallModel(1);
        DataSet d = blobs(1, 20);
        IllegalStateException e = assertThrows(IllegalStateException.class, () -> m.fit(d, quiet(1, 8)));
        assertTrue(e.getMessage().contains("compile") && e.getMessage().contains("'blobs'"), e.getMessage());
        assertThrows(IllegalStateException.class, () -> m.evaluate(d, 8));
    }

    @Test
    void wrongInputShapeNamesModelAndShapes() {
        Sequential m = compiled(1);
        try (MemoryScope s = MemoryScope.open()) {
            NDArray bad = NDArray.zeros(DType.FLOAT32, 5, 3);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> m.output(bad));
            assertTrue(e.getMessage().contains("'blobs'") && e.getMessage().contains("(None, 4)")
                    && e.getMessage().contains("[5, 3]"), e.getMessage());
            NDArray noBatch = NDArray.zeros(DType.FLOAT32, 4);
            e = assertThrows(IllegalArgumentException.class, () -> m.output(noBatch));
            assertTrue(e.getMessage().contains("batch"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class,
                    () -> m.fit(new DataSet(bad, NDArray.of(new int[] {0, 1, 2, 0, 1})), quiet(1, 2)));
            assertTrue(e.getMessage().contains("'blobs'") && e.getMessage().contains("[5, 3]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> m.evaluate(new DataSet(bad,
                    NDArray.of(new int[] {0, 1, 2, 0, 1})), 2));
            assertTrue(e.getMessage().contains("[5, 3]"), e.getMessage());
            // labels out of range and bad fit options
            NDArray x = NDArray.zeros(DType.FLOAT32, 3, 4);
            e = assertThrows(IllegalArgumentException.class,
                    () -> m.fit(new DataSet(x, NDArray.of(new int[] {0, 3, 1})), quiet(1, 2)));
            assertTrue(e.getMessage().contains("3"), e.getMessage());
            DataSet ok = new DataSet(x, NDArray.of(new int[] {0, 1, 2}));
            assertThrows(IllegalArgumentException.class, () -> m.fit(ok, quiet(1, 0)));
            assertThrows(IllegalArgumentException.class, () -> m.fit(ok, quiet(-1, 2)));
            assertThrows(IllegalArgumentException.class, () -> m.fit(ok, quiet(1, 2).validationSplit(1.0)));
            NDArray nan = NDArray.of(new float[] {Float.NaN, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0}, 3, 4);
            e = assertThrows(IllegalArgumentException.class,
                    () -> m.fit(new DataSet(nan, NDArray.of(new int[] {0, 1, 2})), quiet(1, 2)));
            assertTrue(e.getMessage().contains("NaN"), e.getMessage());
        }
    }

    // ---- training ------------------------------------------------------------------------------------------
    @Test
    void fitReachesHighAccuracyAndEvaluateAgrees() {
        DataSet train = blobs(11, N);
        DataSet test = blobs(12, 300);
        Sequential m = compiled(3);
        History h = m.fit(train, quiet(15, 32));
        assertEquals(15, h.epochs());
        List<Double> loss = h.get("loss");
        assertTrue(loss.get(loss.size() - 1) < loss.get(0) * 0.5, "loss decreases: " + loss);
        assertTrue(h.get("accuracy").get(14) >= 0.95, "train accuracy " + h.get("accuracy"));
        Map<String, Double> ev = m.evaluate(test, 64);
        assertTrue(ev.get("accuracy") >= 0.95, "test accuracy " + ev);
        assertTrue(ev.get("loss") < 0.3, "test loss " + ev);
        assertEquals(m.globalStep(), 15L * ((N + 31) / 32));
        assertEquals(m.globalStep(), m.optimizer().iterations());
        // evaluate's accuracy equals the argmax of output()
        try (MemoryScope s = MemoryScope.open()) {
            NDArray probs = m.output(test.features());
            assertArrayEquals(new long[] {300, 3}, probs.shape());
            float[] p = probs.toFloatArray();
            int[] y = test.labels().toIntArray();
            int correct = 0;
            double nll = 0;
            for (int i = 0; i < 300; i++) {
                int best = 0;
                for (int c = 1; c < 3; c++) if (p[i * 3 + c] > p[i * 3 + best]) best = c;
                if (best == y[i]) correct++;
                assertEquals(1.0, p[i * 3] + p[i * 3 + 1] + p[i * 3 + 2], 1e-5);
                nll -= Math.log(Math.max(p[i * 3 + y[i]], 1e-7));
            }
            assertEquals(correct / 300.0, ev.get("accuracy"), 1e-12);
            assertEquals(nll / 300, ev.get("loss"), 1e-3);
            probs.close();
        }
    }

    @Test
    void trainingIsDeterministicWithSeed() {
        DataSet d = blobs(21, 200);
        Sequential a = compiled(42), b = compiled(42), c = compiled(43);
        float[][] a0 = weights(a);
        for (int i = 0; i < a0.length; i++) assertArrayEquals(a0[i], weights(b)[i], "same seed, same init");
        assertFalse(Arrays.equals(a0[0], weights(c)[0]), "different seed, different init");
        History ha = a.fit(d, quiet(3, 16));
        History hb = b.fit(d, quiet(3, 16));
        c.fit(d, quiet(3, 16));
        float[][] wa = weights(a), wb = weights(b), wc = weights(c);
        for (int i = 0; i < wa.length; i++) assertArrayEquals(wa[i], wb[i], "bitwise equal weights, param " + i);
        assertEquals(ha.get("loss"), hb.get("loss"));
        assertFalse(Arrays.equals(wa[0], wc[0]));
        assertFalse(Arrays.equals(a0[0], wa[0]), "training changed the weights");
    }

    @Test
    void validationSplitAndValidationData() {
        DataSet d = blobs(31, 200);
        Sequential m = compiled(4);
        AtomicInteger samples = new AtomicInteger();
        History h = m.fit(d, quiet(3, 32).validationSplit(0.25).listener(new TrainingListener() {
            @Override
            public void onTrainBegin(int epochs, long stepsPerEpoch, long n) {
                samples.set((int) n);
                assertEquals(5, stepsPerEpoch);
            }
        }));
        assertEquals(150, samples.get(), "the last 25% are held out");
        assertEquals(3, h.get("val_loss").size());
        assertEquals(3, h.get("val_accuracy").size());
        Map<String, Double> ev = m.evaluate(d.slice(150, 200), 7);
        assertEquals(h.get("val_loss").get(2), ev.get("loss"), 1e-6, "val_loss is evaluate() on the held-out rows");
        assertEquals(h.get("val_accuracy").get(2), ev.get("accuracy"), 1e-12);
        History h2 = m.fit(d, quiet(1, 32).validationData(blobs(32, 50)));
        assertEquals(1, h2.get("val_loss").size());
        assertThrows(IllegalArgumentException.class, () -> m.fit(blobs(33, 3), quiet(1, 32).validationSplit(0.1)));
    }

    @Test
    void outputInBatchesEqualsOneBatch() {
        Sequential m = compiled(5);
        m.fit(blobs(41, 100), quiet(1, 32));
        DataSet d = blobs(42, 203);
        NDArray all = m.output(d.features());
        NDArray batched = m.output(d.features(), 16);
        assertArrayEquals(all.shape(), batched.shape());
        assertArrayEquals(all.toFloatArray(), batched.toFloatArray(), 1e-6f);
        // a strided (non-contiguous) view of the input gives the same result
        NDArray big = MemoryScope.detach(org.pydl.ops.Ops.concat(List.of(d.features(), d.features()), 1));
        NDArray view = org.pydl.ops.Ops.slice(big, 1, 4, 8);
        assertArrayEquals(all.toFloatArray(), m.output(view, 50).toFloatArray(), 1e-6f);
        assertArrayEquals(all.toFloatArray(), m.output(view).toFloatArray(), 1e-6f);
        // float64 input is cast to the model dtype
        NDArray d64 = d.features().cast(DType.FLOAT64);
        NDArray o64 = m.output(d64);
        assertEquals(DType.FLOAT32, o64.dtype());
        assertArrayEquals(all.toFloatArray(), o64.toFloatArray(), 1e-6f);
        // inference is deterministic (no dropout)
        assertArrayEquals(all.toFloatArray(), m.output(d.features()).toFloatArray());
    }

    @Test
    void l2RegularisationShrinksWeights() {
        DataSet d = blobs(51, 200);
        double[] norms = new double[2];
        double[] l2s = {0.0, 0.05};
        for (int i = 0; i < 2; i++) {
            Sequential m = Sequential.builder().input(FEATURES)
                    .add(new Dense(16, Activation.RELU, true, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, l2s[i], 0))
                    .add(new Dense(3, Activation.SOFTMAX, true, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, l2s[i], 0))
                    .seed(7).build();
            m.compile(new Optimizer.SGD(0.1), Loss.of("sparse_categorical_crossentropy"), List.of());
            m.fit(d, quiet(10, 20));
            double s = 0;
            for (Parameter p : m.parameters()) {
                if (p.name.endsWith("kernel")) for (float v : p.value().toFloatArray()) s += v * v;
            }
            norms[i] = s;
        }
        assertTrue(norms[1] < 0.7 * norms[0], "L2 shrinks the kernels: " + Arrays.toString(norms));
    }

    @Test
    void requestStopFromAnotherThreadStopsTraining() throws Exception {
        DataSet d = blobs(61, 64);
        Sequential m = compiled(6);
        CountDownLatch started = new CountDownLatch(1);
        AtomicInteger batches = new AtomicInteger();
        AtomicReference<History> result = new AtomicReference<>();
        AtomicReference<Throwable> failure = new AtomicReference<>();
        Thread t = new Thread(() -> {
            try {
                result.set(m.fit(d, quiet(1_000_000, 8).listener(new TrainingListener() {
                    @Override
                    public void onBatchEnd(int epoch, long step, Map<String, Double> logs) {
                        if (batches.incrementAndGet() == 20) started.countDown();
                    }
                })));
            } catch (Throwable e) {
                failure.set(e);
            }
        });
        t.start();
        assertTrue(started.await(20, TimeUnit.SECONDS), "training did not start");
        m.requestStop();
        t.join(10_000);
        assertFalse(t.isAlive(), "fit did not stop within 10 s of requestStop()");
        if (failure.get() != null) throw new AssertionError("fit failed", failure.get());
        int epochs = result.get().epochs();
        assertTrue(epochs < 1000, "stopped after " + epochs + " epochs");
        int at = batches.get();
        Thread.sleep(50);
        assertEquals(at, batches.get(), "no batches after fit returned");
        // a later fit starts again (the stop flag is reset)
        History h = m.fit(d, quiet(2, 32));
        assertEquals(2, h.epochs());
    }
}
