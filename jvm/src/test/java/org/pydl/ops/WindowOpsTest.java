package org.pydl.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.pydl.jni.NativeOps;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.testing.GradCheck;

/**
 * The window ops (native/cpu/conv.cpp): {@link Ops#patches}, {@link Ops#conv}, {@link Ops#depthwiseConv},
 * {@link Ops#convTranspose} and {@link Ops#pool}. Float64 gradient checks by central differences ({@link GradCheck}) with padding, strides,
 * dilation and groups; the optimised kernels against the plain reference kernels (setReference) on the forward
 * values and every gradient, exactly or to 1e-12 (sums in another order); a convolution against its definition.
 */
class WindowOpsTest {
    static NDArray rand(long seed, DType dtype, long... shape) {
        NDArray a = GradCheck.uniform(seed, -1, 1, shape);
        return dtype == DType.FLOAT64 ? a : MemoryScope.detach(a.cast(dtype));
    }

    static long[] l(long... v) {
        return v;
    }

    static final Window W2 = new Window(l(3, 2), l(2, 1), l(1, 2), l(1, 0), l(1, 1));  // padded, strided, dilated

    @Test
    void gradientsOfEveryWindowOp() {
        NDArray x = rand(1, DType.FLOAT64, 2, 7, 6, 4);
        GradCheck.checkGradient(a -> Ops.patches(a[0], W2), x);
        // grouped convolution (2 groups) with bias; and a 1-D causal-style one (padding before only)
        NDArray k = rand(2, DType.FLOAT64, 3, 2, 2, 6), b = rand(3, DType.FLOAT64, 6), b4 = rand(35, DType.FLOAT64, 4);
        GradCheck.checkGradient(a -> Ops.conv(a[0], a[1], a[2], W2, 2), x, k, b);
        Window same = new Window(l(3, 3), l(1, 2), l(1, 1), l(1, 0), l(1, 1));  // the 2-D fast path, 2 groups
        GradCheck.checkGradient(a -> Ops.conv(a[0], a[1], a[2], same, 2), x, rand(34, DType.FLOAT64, 3, 3, 2, 4), b4);
        NDArray x1 = rand(4, DType.FLOAT64, 2, 5, 3), k1 = rand(5, DType.FLOAT64, 3, 3, 2);
        GradCheck.checkGradient(a -> Ops.conv(a[0], a[1], null, new Window(l(3), l(1), l(2), l(4), l(0)), 1), x1, k1);
        // transposed convolution: stride 2, cropped output (padBefore 1) and an output longer than the windows reach
        NDArray xt = rand(6, DType.FLOAT64, 2, 3, 4, 3), kt = rand(7, DType.FLOAT64, 3, 2, 5, 3);
        NDArray bt = rand(8, DType.FLOAT64, 5);
        Window wt = new Window(l(3, 2), l(2, 2), l(1, 1), l(1, 0), l(0, 0));
        GradCheck.checkGradient(a -> Ops.convTranspose(a[0], a[1], a[2], wt, l(6, 9)), xt, kt, bt);
        // depthwise (depth multiplier 1 and 2), and a grouped conv with one channel per group (routed to it)
        NDArray kd = rand(9, DType.FLOAT64, 3, 2, 4, 2), bd = rand(10, DType.FLOAT64, 8);
        GradCheck.checkGradient(a -> Ops.depthwiseConv(a[0], a[1], a[2], W2), x, kd, bd);
        GradCheck.checkGradient(a -> Ops.depthwiseConv(a[0], a[1], null, W2), x, rand(22, DType.FLOAT64, 3, 2, 4, 1));
        GradCheck.checkGradient(a -> Ops.conv(a[0], a[1], null, W2, 4), x, rand(23, DType.FLOAT64, 3, 2, 1, 8));
        // 1x1, stride 1, no padding: the input is the patch matrix (no im2col); equals x @ kernel + bias
        Window one = new Window(l(1, 1), l(1, 1), l(1, 1), l(0, 0), l(0, 0));
        NDArray k11 = rand(36, DType.FLOAT64, 1, 1, 4, 5), b11 = rand(37, DType.FLOAT64, 5);
        GradCheck.checkGradient(a -> Ops.conv(a[0], a[1], a[2], one, 1), x, k11, b11);
        double[] want = Ops.add(Ops.matmul(Ops.reshape(x, 84, 4), Ops.reshape(k11, 4, 5)), b11).toDoubleArray();
        double[] got = Ops.conv(x, k11, b11, one, 1).toDoubleArray();
        for (int i = 0; i < want.length; i++) assertEquals(want[i], got[i], 1e-12, "pointwise conv element " + i);
        // pooling with "same"-style padding (max: distinct values, so the argmax is stable under eps)
        Window wp = new Window(l(3, 2), l(2, 2), l(1, 1), l(1, 0), l(1, 1));
        GradCheck.checkGradient(a -> Ops.pool(a[0], false, wp), x);
        GradCheck.checkGradient(a -> Ops.pool(a[0], true, wp), x);
    }

    /** forward value and the gradients of sum(f * w) for every input, as double arrays. */
    static double[][] run(Function<NDArray[], NDArray> f, NDArray... in) {
        try (MemoryScope s = MemoryScope.open()) {
            for (NDArray a : in) {
                a.setRequiresGrad(true);
                a.setGrad(null);
            }
            NDArray y = f.apply(in);
            NDArray w = rand(99, y.dtype(), y.shape());
            Ops.sum(Ops.mul(y, w)).backward();
            double[][] out = new double[in.length + 1][];
            out[0] = y.toDoubleArray();
            for (int i = 0; i < in.length; i++) out[i + 1] = in[i].grad().toDoubleArray();
            return out;
        }
    }

    static void optimisedEqualsReference(Function<NDArray[], NDArray> f, NDArray... in) {
        double[][] opt = run(f, in);
        NativeOps.setReference(true);
        double[][] ref;
        try {
            ref = run(f, in);
        } finally {
            NativeOps.setReference(false);
        }
        for (int i = 0; i < opt.length; i++) {
            for (int j = 0; j < opt[i].length; j++) {
                double tol = 1e-12 * Math.max(1, Math.abs(ref[i][j]));
                if (in[0].dtype() == DType.FLOAT32) tol = 2e-5 * Math.max(1, Math.abs(ref[i][j]));
                assertTrue(Math.abs(opt[i][j] - ref[i][j]) <= tol,
                        "output " + i + " element " + j + ": optimised " + opt[i][j] + " vs reference " + ref[i][j]);
            }
        }
    }

    @Test
    void optimisedKernelsEqualReferenceKernels() {
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            NDArray x = rand(11, dt, 3, 9, 8, 5);
            optimisedEqualsReference(a -> Ops.patches(a[0], W2), x);
            // the 2-D fast paths (one group, width dilation 1), the general path (groups), 1-D and 3-D
            Window same = new Window(l(3, 3), l(1, 2), l(1, 1), l(1, 0), l(1, 1));
            optimisedEqualsReference(a -> Ops.conv(a[0], a[1], a[2], same, 1), x, rand(12, dt, 3, 3, 5, 4),
                    rand(13, dt, 4));
            NDArray x6 = rand(28, dt, 2, 7, 6, 6);  // groups with 2 channels each: the grouped GEMMs, 2-D fast path
            optimisedEqualsReference(a -> Ops.conv(a[0], a[1], a[2], same, 3), x6, rand(29, dt, 3, 3, 2, 9),
                    rand(30, dt, 9));
            NDArray k5 = rand(14, dt, 3, 2, 1, 10);
            optimisedEqualsReference(a -> Ops.conv(a[0], a[1], null, W2, 5), x, k5);
            NDArray x1 = rand(15, dt, 2, 11, 3);
            optimisedEqualsReference(a -> Ops.conv(a[0], a[1], null, new Window(l(4), l(3), l(1), l(2), l(2)), 1),
                    x1, rand(16, dt, 4, 3, 2));
            NDArray x3 = rand(17, dt, 2, 4, 5, 3, 2);
            Window w3 = new Window(l(2, 3, 2), l(1, 2, 1), l(1, 1, 1), l(1, 1, 0), l(0, 1, 1));
            optimisedEqualsReference(a -> Ops.conv(a[0], a[1], null, w3, 1), x3, rand(18, dt, 2, 3, 2, 2, 3));
            optimisedEqualsReference(a -> Ops.depthwiseConv(a[0], a[1], a[2], same), x, rand(24, dt, 3, 3, 5, 1),
                    rand(25, dt, 5));
            optimisedEqualsReference(a -> Ops.depthwiseConv(a[0], a[1], null, W2), x, rand(26, dt, 3, 2, 5, 3));
            optimisedEqualsReference(a -> Ops.depthwiseConv(a[0], a[1], null, w3), x3, rand(27, dt, 2, 3, 2, 2, 2));
            optimisedEqualsReference(a -> Ops.pool(a[0], true, same), x);
            optimisedEqualsReference(a -> Ops.pool(a[0], false, same), x);
            optimisedEqualsReference(a -> Ops.pool(a[0], true, w3), x3);
            Window wt = new Window(l(3, 2), l(2, 2), l(1, 1), l(1, 0), l(0, 0));
            optimisedEqualsReference(a -> Ops.convTranspose(a[0], a[1], a[2], wt, l(6, 9)), rand(19, dt, 2, 3, 4, 3),
                    rand(20, dt, 3, 2, 5, 3), rand(21, dt, 5));
        }
    }

    @Test
    void convolutionMatchesItsDefinition() {
        // y[b, o, f] = bias[f] + sum over k, ci of x[b, o*s + k*d - pb, g*cg + ci] * kernel[k, ci, f], zero padding
        long B = 2, N = 7, C = 4, G = 2, F = 6, K = 3, S = 2, D = 1, PB = 2, PA = 1;
        Window w = new Window(l(K), l(S), l(D), l(PB), l(PA));
        NDArray x = rand(31, DType.FLOAT64, B, N, C), k = rand(32, DType.FLOAT64, K, C / G, F);
        NDArray bias = rand(33, DType.FLOAT64, F);
        long[] out = w.out(l(N));
        double[] got = Ops.conv(x, k, bias, w, G).toDoubleArray();
        double[] xv = x.toDoubleArray(), kv = k.toDoubleArray(), bv = bias.toDoubleArray();
        double[] want = new double[(int) (B * out[0] * F)];
        for (int b = 0; b < B; b++) {
            for (int o = 0; o < out[0]; o++) {
                for (int f = 0; f < F; f++) {
                    long g = f / (F / G);
                    double acc = bv[f];
                    for (int kk = 0; kk < K; kk++) {
                        long p = o * S + kk * D - PB;
                        if (p < 0 || p >= N) continue;
                        for (int ci = 0; ci < C / G; ci++) {
                            acc += xv[(int) ((b * N + p) * C + g * (C / G) + ci)] * kv[(int) ((kk * (C / G) + ci) * F + f)];
                        }
                    }
                    want[(int) ((b * out[0] + o) * F + f)] = acc;
                }
            }
        }
        assertArrayEquals(want, got, 1e-12);
    }

    @Test
    void badWindowsAreRejectedWithTheShapes() {
        NDArray x = rand(41, DType.FLOAT64, 1, 5, 2);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.conv(x, rand(42, DType.FLOAT64, 7, 2, 3), null, Window.of(l(7), l(1)), 1));
        assertTrue(e.getMessage().contains("does not fit"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.conv(x, rand(43, DType.FLOAT64, 3, 1, 3), null, Window.of(l(3), l(1)), 2));
        assertTrue(e.getMessage().contains("filters divisible by groups"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> new Window(l(3), l(0), l(1), l(0), l(0)));
        assertTrue(e.getMessage().contains("strides"), e.getMessage());
        // pooling padding as wide as the window: a window of padding only
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.pool(x, true, new Window(l(2), l(1), l(1), l(2), l(0))));
        assertTrue(e.getMessage().contains("padding smaller than the window"), e.getMessage());
    }
    /**
     * A convolution large enough that its backward computes the patch gradient in blocks of samples (about 1 MiB each:
     * here 2, 2 and 1 of 5 samples, 2 groups) gives the input gradient of the one-piece patches path exactly.
     */
    @Test
    void convInputGradientInSampleBlocksMatchesPatchesPath() {
        NDArray x = rand(51, DType.FLOAT64, 5, 20, 20, 8).setRequiresGrad(true);
        NDArray k = rand(52, DType.FLOAT64, 5, 5, 4, 6), r = rand(53, DType.FLOAT64, 5, 16, 16, 6);
        Window w = new Window(l(5, 5), l(1, 1), l(1, 1), l(0, 0), l(0, 0));
        Ops.sum(Ops.mul(Ops.conv(x, k, null, w, 2), r)).backward();
        double[] blocked = x.grad().toDoubleArray();
        x.setGrad(null);
        // the same convolution from patches [5, 16, 16, 25 * 8] (group-major channels per offset: split by group)
        NDArray p = Ops.reshape(Ops.patches(x, w), 5 * 16 * 16, 25, 2, 4);
        NDArray y0 = Ops.matmul(Ops.reshape(Ops.slice(p, 2, 0, 1), -1, 100), Ops.reshape(Ops.slice(k, 3, 0, 3), 100, 3));
        NDArray y1 = Ops.matmul(Ops.reshape(Ops.slice(p, 2, 1, 2), -1, 100), Ops.reshape(Ops.slice(k, 3, 3, 6), 100, 3));
        NDArray y = Ops.reshape(Ops.concat(java.util.List.of(y0, y1), 1), 5, 16, 16, 6);
        Ops.sum(Ops.mul(y, r)).backward();
        assertArrayEquals(x.grad().toDoubleArray(), blocked, 1e-10);
    }
}
