package org.pydl.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.junit.jupiter.api.Test;
import org.pydl.io.Json;
import org.pydl.jni.NativeOps;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.nn.Layer;
import org.pydl.nn.Layers;
import org.pydl.nn.Parameter;
import org.pydl.nn.Recurrent;
import org.pydl.testing.GradCheck;

/**
 * The fused recurrent sequence op {@link Ops#rnn}: float64 gradient checks of every cell (with initial states,
 * masks, go_backwards, zero_output_for_mask, reversed output), the mask semantics (Keras's: states carried, output
 * repeated or zeros), the layers' fused path against their composed path (forward and gradients, 1e-12), and the
 * optimised native kernels against the reference ones (float32 2e-5, float64 1e-11, relative to the largest value).
 */
class RnnOpTest {
    static final long B = 3, T = 4, F = 2, U = 3;

    static NDArray rand(long seed, double lo, double hi, long... shape) {
        return GradCheck.uniform(seed, lo, hi, shape);
    }

    /** mask [B, T]: row 0 all real, row 1 post-padded (1 1 0 0), row 2 pre-padded with a hole (0 1 0 1). */
    static NDArray mask() {
        return MemoryScope.detach(NDArray.of(new double[] {1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 0, 1}, new long[] {B, T}));
    }

    static NDArray biasFor(RnnCell cell, long seed) {
        return cell == RnnCell.GRU ? rand(seed, -0.5, 0.5, 2, cell.gates * U) : rand(seed, -0.5, 0.5, cell.gates * U);
    }

    /** All outputs of the op as one [B, T*U + states*U] array, so one weighted sum checks every output's gradient. */
    static NDArray flat(NDArray[] outs) {
        List<NDArray> parts = new ArrayList<>();
        parts.add(Ops.reshape(outs[0], B, T * U));
        for (int i = 1; i < outs.length; i++) parts.add(outs[i]);
        return Ops.concat(parts, 1);
    }

    static void gradCheck(RnnCell cell, boolean states, NDArray mask, boolean back, boolean zeroOut, boolean rev) {
        long g = cell.gates * U;
        List<NDArray> in = new ArrayList<>(List.of(rand(1, -1.5, 1.5, B, T, F), rand(2, -0.8, 0.8, F, g),
                rand(3, -0.8, 0.8, U, g), biasFor(cell, 4)));
        if (states) {
            in.add(rand(5, -0.9, 0.9, B, U));
            if (cell == RnnCell.LSTM) in.add(rand(6, -0.9, 0.9, B, U));
        }
        GradCheck.checkGradient(a -> flat(Ops.rnn(cell, a[0], a[1], a[2], a[3], a.length > 4 ? a[4] : null,
                a.length > 5 ? a[5] : null, mask, back, zeroOut, rev)), in.toArray(new NDArray[0]));
        for (NDArray a : in) a.close();
    }

    @Test
    void gradientsOfEveryCell() {
        NDArray m = mask();
        for (RnnCell cell : RnnCell.values()) {
            gradCheck(cell, false, null, false, false, false);
            gradCheck(cell, true, null, true, false, false);
            gradCheck(cell, true, m, false, false, false);
            gradCheck(cell, true, m, true, false, true);
            gradCheck(cell, false, m, true, true, false);
        }
        m.close();
    }

    /** Runs the op in float64 and returns {sequence, h, (c)} as double arrays. */
    static double[][] run(RnnCell cell, NDArray x, NDArray h0, NDArray c0, NDArray mask, boolean back, boolean zeroOut) {
        try (MemoryScope s = MemoryScope.open()) {
            NDArray[] o = Ops.rnn(cell, x, rand(2, -0.8, 0.8, F, cell.gates * U), rand(3, -0.8, 0.8, U, cell.gates * U),
                    biasFor(cell, 4), h0, c0, mask, back, zeroOut, false);
            double[][] r = new double[o.length][];
            for (int i = 0; i < o.length; i++) r[i] = o[i].toDoubleArray();
            return r;
        }
    }

    static double[] row(double[] a, long b, long from, long to, long width) {
        double[] r = new double[(int) ((to - from) * width)];
        System.arraycopy(a, (int) ((b * (a.length / B / width) + from) * width), r, 0, r.length);
        return r;
    }

    @Test
    void maskCarriesStatesAndRepeatsOutputs() {
        NDArray x = rand(1, -1.5, 1.5, B, T, F), m = mask();
        for (RnnCell cell : RnnCell.values()) {
            double[][] masked = run(cell, x, null, null, m, false, false);
            double[][] zeroed = run(cell, x, null, null, m, false, true);
            double[][] plain = run(cell, x, null, null, null, false, false);
            // row 0: all real -> as without a mask
            assertArrayEquals(row(plain[0], 0, 0, T, U), row(masked[0], 0, 0, T, U), 0, cell + " row 0");
            // row 1 (1 1 0 0): steps 0-1 as unmasked, then the output and the states stay at step 1's
            assertArrayEquals(row(plain[0], 1, 0, 2, U), row(masked[0], 1, 0, 2, U), 0, cell + " row 1 real steps");
            for (long t = 2; t < T; t++) {
                assertArrayEquals(row(plain[0], 1, 1, 2, U), row(masked[0], 1, t, t + 1, U), 0, cell + " repeated");
                assertArrayEquals(new double[(int) U], row(zeroed[0], 1, t, t + 1, U), 0, cell + " zero output");
            }
            assertArrayEquals(row(plain[0], 1, 1, 2, U), row(masked[1], 1, 0, 1, U), 0, cell + " final h");
            assertArrayEquals(masked[1], zeroed[1], 0, cell + " zero_output_for_mask leaves the states alone");
            // row 2 (0 1 0 1): zeros before the first real step; same as running steps 1 and 3 alone
            assertArrayEquals(new double[(int) U], row(masked[0], 2, 0, 1, U), 0, cell + " output before a real step");
            try (MemoryScope s = MemoryScope.open()) {
                NDArray x2 = Ops.contiguous(Ops.concat(List.of(Ops.slice(x, 1, 1, 2), Ops.slice(x, 1, 3, 4)), 1));
                double[][] two = run(cell, x2, null, null, null, false, false);
                assertArrayEquals(row(two[0], 2, 0, 1, U), row(masked[0], 2, 1, 2, U), 1e-15, cell + " step 1");
                assertArrayEquals(row(masked[0], 2, 1, 2, U), row(masked[0], 2, 2, 3, U), 0, cell + " repeat");
                assertArrayEquals(row(two[1], 2, 0, 1, U), row(masked[1], 2, 0, 1, U), 1e-15, cell + " final h");
            }
        }
        x.close();
        m.close();
    }

    @Test
    void initialStatesEqualAPrefix() {
        // running steps 0-1, then steps 2-3 from the states reached, equals running all 4 steps
        NDArray x = rand(1, -1.5, 1.5, B, T, F);
        for (RnnCell cell : RnnCell.values()) {
            try (MemoryScope s = MemoryScope.open()) {
                double[][] all = run(cell, x, null, null, null, false, false);
                NDArray kx = Ops.contiguous(Ops.slice(x, 1, 0, 2)), lx = Ops.contiguous(Ops.slice(x, 1, 2, 4));
                NDArray[] st = new NDArray[2];
                try (MemoryScope s2 = MemoryScope.open()) {
                    NDArray[] o = Ops.rnn(cell, kx, rand(2, -0.8, 0.8, F, cell.gates * U),
                            rand(3, -0.8, 0.8, U, cell.gates * U), biasFor(cell, 4), null, null, null, false, false,
                            false);
                    st[0] = MemoryScope.detach(o[1]);
                    if (o.length > 2) st[1] = MemoryScope.detach(o[2]);
                }
                double[][] rest = run(cell, lx, st[0], st[1], null, false, false);
                for (int i = 1; i < all.length; i++) assertArrayEquals(all[i], rest[i], 1e-14, cell + " state " + i);
                if (st[1] != null) st[1].close();
                st[0].close();
            }
        }
        x.close();
    }

    @SuppressWarnings("unchecked")
    static Layer layer(String type, String json) {
        Layer l = Layers.fromConfig(type, (Map<String, Object>) Json.parse(json));
        l.setName(type.toLowerCase());
        l.build(new long[] {T, F}, DType.FLOAT64, 7);
        long seed = 10;
        for (Parameter p : l.parameters()) p.set(rand(seed++, -0.8, 0.8, p.value().shape()));
        return l;
    }

    /** Output and gradients (input, then each parameter) of sum(layer(x) * w) with the fused or composed path. */
    static double[][] outputAndGrads(Layer l, NDArray x, boolean fused) {
        boolean before = Recurrent.fusedKernels();
        Recurrent.setFusedKernels(fused);
        try (MemoryScope s = MemoryScope.open()) {
            x.setRequiresGrad(true);
            NDArray y = l.forward(x, new Layer.Context(true, 0));
            NDArray w = rand(99, -1, 1, y.shape());
            Ops.sum(Ops.mul(y, w)).backward();
            List<double[]> r = new ArrayList<>(List.of(y.toDoubleArray(), x.grad().toDoubleArray()));
            x.setGrad(null);
            for (Parameter p : l.parameters()) {
                r.add(p.value().grad().toDoubleArray());
                p.value().setGrad(null);
            }
            return r.toArray(new double[0][]);
        } finally {
            x.setRequiresGrad(false);
            Recurrent.setFusedKernels(before);
        }
    }

    @Test
    void fusedPathEqualsComposedPath() {
        NDArray x = rand(1, -1.5, 1.5, B, T, F);
        String[][] cases = {
            {"SimpleRNN", "{\"units\": 3}"}, {"SimpleRNN", "{\"units\": 3, \"return_sequences\": true}"},
            {"LSTM", "{\"units\": 3}"}, {"LSTM", "{\"units\": 3, \"go_backwards\": true, \"return_sequences\": true}"},
            {"LSTM", "{\"units\": 3, \"use_bias\": false}"},
            {"GRU", "{\"units\": 3, \"return_sequences\": true}"}, {"GRU", "{\"units\": 3, \"go_backwards\": true}"},
            {"GRU", "{\"units\": 3, \"reset_after\": false, \"return_sequences\": true}"},
            {"GRU", "{\"units\": 3, \"reset_after\": false, \"use_bias\": false}"},
            {"Bidirectional", "{\"layer\": {\"class\": \"LSTM\", \"config\": {\"units\": 3, \"return_sequences\": true}}}"},
            {"Bidirectional", "{\"layer\": {\"class\": \"GRU\", \"config\": {\"units\": 3, \"reset_after\": false}}}"},
        };
        for (String[] c : cases) {
            Layer l = layer(c[0], c[1]);
            double[][] fused = outputAndGrads(l, x, true), composed = outputAndGrads(l, x, false);
            assertEquals(composed.length, fused.length);
            for (int i = 0; i < fused.length; i++) {
                assertArrayEquals(composed[i], fused[i], 1e-12, c[0] + " " + c[1] + (i == 0 ? " output" : " grad " + i));
            }
        }
        x.close();
    }

    /**
     * units 32: the packed per-step products (units a multiple of 16 floats / 8 doubles); 33: the OpenBLAS fallback and
     * SIMD tails of the gate kernels. Batch 7: a full and a partial row block of the per-step kernel.
     */
    @Test
    void optimisedKernelsMatchReference() {
        for (long u : new long[] {32, 33}) {
            for (RnnCell cell : RnnCell.values()) {
                optimisedMatchesReference(cell, u, DType.FLOAT32, 2e-5);
                optimisedMatchesReference(cell, u, DType.FLOAT64, 1e-11);
            }
        }
    }

    static void optimisedMatchesReference(RnnCell cell, long u, DType dt, double tol) {
        {
            long b = 7, t = 7, f = 6, g = cell.gates * u;
            try (MemoryScope s = MemoryScope.open()) {
                NDArray x = rand(1, -2, 2, b, t, f).cast(dt);
                NDArray k = rand(2, -0.5, 0.5, f, g).cast(dt);
                NDArray r = rand(3, -0.5, 0.5, u, g).cast(dt);
                NDArray bias = (cell == RnnCell.GRU ? rand(4, -0.5, 0.5, 2, g) : rand(4, -0.5, 0.5, g)).cast(dt);
                NDArray h0 = rand(5, -1, 1, b, u).cast(dt);
                double[] mv = new double[(int) (b * t)];
                for (int i = 0; i < mv.length; i++) mv[i] = (i * 7) % 5 == 0 ? 0 : 1;
                NDArray m = NDArray.of(mv, new long[] {b, t}).cast(dt);
                double[][] opt = forwardBackward(cell, x, k, r, bias, h0, m);
                NativeOps.setReference(true);
                double[][] ref;
                try {
                    ref = forwardBackward(cell, x, k, r, bias, h0, m);
                } finally {
                    NativeOps.setReference(false);
                }
                for (int i = 0; i < opt.length; i++) {
                    double scale = 0;
                    for (double v : ref[i]) scale = Math.max(scale, Math.abs(v));
                    assertTrue(scale > 1e-3, cell + " result " + i + " is all zeros");
                    assertArrayEquals(ref[i], opt[i], tol * Math.max(1, scale), cell + " " + dt + " units " + u
                            + " result " + i);
                }
            }
        }
    }

    static double[][] forwardBackward(RnnCell cell, NDArray... a) {
        List<NDArray> leaves = List.of(a[0], a[1], a[2], a[3], a[4]);
        for (NDArray l : leaves) {
            l.setRequiresGrad(true);
            l.setGrad(null);
        }
        try (MemoryScope s = MemoryScope.open()) {
            NDArray[] o = Ops.rnn(cell, a[0], a[1], a[2], a[3], a[4], null, a[5], true, false, false);
            NDArray w = rand(9, -1, 1, o[0].shape()).cast(a[0].dtype());
            Ops.add(Ops.sum(Ops.mul(o[0], w)), Ops.sum(o[1])).backward();
            List<double[]> r = new ArrayList<>(List.of(o[0].toDoubleArray(), o[1].toDoubleArray()));
            for (NDArray l : leaves) r.add(l.grad().toDoubleArray());
            return r.toArray(new double[0][]);
        } finally {
            for (NDArray l : leaves) {
                l.setGrad(null);
                l.setRequiresGrad(false);
            }
        }
    }

    @Test
    void badShapesNameTheOperand() {
        try (MemoryScope s = MemoryScope.open()) {
            NDArray x = rand(1, -1, 1, B, T, F);
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.rnn(RnnCell.LSTM, x,
                    rand(2, 0, 1, F, 4 * U), rand(3, 0, 1, U, 3 * U), null, null, null, null, false, false, false));
            assertTrue(e.getMessage().contains("recurrent_kernel"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.rnn(RnnCell.GRU, x, rand(2, 0, 1, F, 3 * U),
                    rand(3, 0, 1, U, 3 * U), rand(4, 0, 1, 3 * U), null, null, null, false, false, false));
            assertTrue(e.getMessage().contains("bias must be [2, 9]"), e.getMessage());
            e = assertThrows(IllegalArgumentException.class, () -> Ops.rnn(RnnCell.LSTM, x, rand(2, 0, 1, F, 4 * U),
                    rand(3, 0, 1, U, 4 * U), null, null, null, rand(5, 0, 1, B, T + 1), false, false, false));
            assertTrue(e.getMessage().contains("mask"), e.getMessage());
            NDArray[] empty = Ops.rnn(RnnCell.LSTM, rand(1, -1, 1, 0, T, F), rand(2, 0, 1, F, 4 * U),
                    rand(3, 0, 1, U, 4 * U), null, null, null, null, false, false, false);
            assertArrayEquals(new long[] {0, T, U}, empty[0].shape(), "empty batch");
            assertArrayEquals(new long[] {0, U}, empty[2].shape(), "empty batch");
        }
    }
}
