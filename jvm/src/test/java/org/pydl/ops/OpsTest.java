package org.pydl.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;
import java.util.function.Function;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.pydl.jni.NativeOps;
import org.pydl.nd.DType;
import org.pydl.nd.DTypeException;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;

/** Forward values against plain Java references, error messages, views and reference-mode agreement. */
class OpsTest {
    static {
        org.pydl.jni.NativeLoader.load();
    }

    private MemoryScope scope;

    @BeforeEach
    void open() {
        scope = MemoryScope.open();
    }

    @AfterEach
    void close() {
        scope.close();
    }

    private static NDArray d(double[] v, long... shape) {
        return NDArray.of(v, shape);
    }

    private static double[] randArr(long seed, int n, double lo, double hi) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * r.nextDouble();
        return v;
    }

    private static float[] toF(double[] v) {
        float[] f = new float[v.length];
        for (int i = 0; i < v.length; i++) f[i] = (float) v[i];
        return f;
    }

    private static void assertClose(double[] expected, double[] actual, double rtol, double atol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double tol = atol + rtol * Math.abs(expected[i]);
            if (!(Math.abs(expected[i] - actual[i]) <= tol)
                    && !(Double.isNaN(expected[i]) && Double.isNaN(actual[i]))
                    && !(expected[i] == actual[i])) {
                throw new org.opentest4j.AssertionFailedError(what + ": element " + i + " expected " + expected[i]
                        + " but was " + actual[i] + " (tol " + tol + ")");
            }
        }
    }

    // ---- unary forward values ------------------------------------------------------------------------------
    private static double sig(double x) {
        return 1 / (1 + Math.exp(-x));
    }

    private static double erf(double x) {
        // Abramowitz-Stegun 7.1.26 is too coarse; use a series/continued fraction good to ~1e-15
        double t = Math.abs(x);
        double r;
        if (t < 3) {
            double sum = 0, term = t;
            for (int n = 0; n < 200; n++) {
                sum += term / (2 * n + 1);
                term *= -t * t / (n + 1);
            }
            r = 2 / Math.sqrt(Math.PI) * sum;
        } else {
            // continued fraction for erfc
            double f = 0;
            for (int n = 60; n >= 1; n--) f = n / 2.0 / (t + f);
            r = 1 - Math.exp(-t * t) / Math.sqrt(Math.PI) / (t + f);
        }
        return x < 0 ? -r : r;
    }

    private static final double SELU_A = 1.6732632423543772848170429916717;
    private static final double SELU_S = 1.0507009873554804934193349852946;

    private void checkUnary(String name, Function<NDArray, NDArray> op, DoubleUnaryOperator ref, double[] xs) {
        double[] expected = Arrays.stream(xs).map(ref).toArray();
        assertClose(expected, op.apply(d(xs, xs.length)).toDoubleArray(), 1e-13, 1e-15, name + " float64");
        float[] xf = toF(xs);
        double[] expF = new double[xs.length];
        for (int i = 0; i < xs.length; i++) expF[i] = ref.applyAsDouble(xf[i]);
        NDArray yf = op.apply(NDArray.of(xf));
        assertEquals(DType.FLOAT32, yf.dtype(), name + " keeps float32");
        assertClose(expF, yf.toDoubleArray(), 2e-6, 1e-7, name + " float32");
    }

    @Test
    void unaryForwardValues() {
        double[] xs = {-7.5, -3, -2.5, -1, -0.3, 0, 0.25, 1, 2, 3.5, 6, 8};
        double[] pos = {0.01, 0.3, 1, 2.5, 100};
        checkUnary("neg", Ops::neg, x -> -x, xs);
        checkUnary("exp", Ops::exp, Math::exp, xs);
        checkUnary("log", Ops::log, Math::log, pos);
        checkUnary("sqrt", Ops::sqrt, Math::sqrt, pos);
        checkUnary("tanh", Ops::tanh, Math::tanh, xs);
        checkUnary("sigmoid", Ops::sigmoid, OpsTest::sig, xs);
        checkUnary("relu", Ops::relu, x -> Math.max(x, 0), xs);
        checkUnary("leaky_relu", x -> Ops.leakyRelu(x, 0.3), x -> x > 0 ? x : 0.3 * x, xs);
        checkUnary("elu", x -> Ops.elu(x, 0.5), x -> x > 0 ? x : 0.5 * Math.expm1(x), xs);
        checkUnary("gelu", x -> Ops.gelu(x, false), x -> 0.5 * x * (1 + erf(x / Math.sqrt(2))), xs);
        checkUnary("gelu_tanh", x -> Ops.gelu(x, true),
                x -> 0.5 * x * (1 + Math.tanh(Math.sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x))), xs);
        checkUnary("softplus", Ops::softplus, x -> Math.log1p(Math.exp(x)), xs);
        checkUnary("abs", Ops::abs, Math::abs, xs);
        checkUnary("square", Ops::square, x -> x * x, xs);
        checkUnary("reciprocal", Ops::reciprocal, x -> 1 / x, pos);
        checkUnary("selu", Ops::selu, x -> x > 0 ? SELU_S * x : SELU_S * SELU_A * Math.expm1(x), xs);
        checkUnary("swish", Ops::swish, x -> x * sig(x), xs);
        checkUnary("softsign", Ops::softsign, x -> x / (1 + Math.abs(x)), xs);
        checkUnary("hard_sigmoid", Ops::hardSigmoid, x -> Math.min(Math.max(x + 3, 0), 6) / 6, xs);
        checkUnary("relu6", Ops::relu6, x -> Math.min(Math.max(x, 0), 6), xs);
        checkUnary("affine", x -> Ops.affine(x, 2, -1), x -> 2 * x - 1, xs);
        checkUnary("mul_scalar", x -> Ops.mul(x, -0.5), x -> -0.5 * x, xs);
        checkUnary("add_scalar", x -> Ops.add(x, 3), x -> x + 3, xs);
    }

    @Test
    void unaryExtremeValuesAreStable() {
        double[] big = {-1000, -100, 100, 1000};
        for (double v : Ops.sigmoid(d(big, 4)).toDoubleArray()) assertTrue(Double.isFinite(v));
        assertArrayEquals(new double[] {0, 0, 100, 1000}, Ops.softplus(d(big, 4)).toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {-1, -1, 1, 1}, Ops.tanh(d(big, 4)).toDoubleArray(), 0);
        assertEquals(1.0, Ops.sigmoid(NDArray.of(new float[] {200f})).getDouble(0), 0);
    }

    @Test
    void unaryOnViewUsesViewElements() {
        NDArray x = d(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        assertArrayEquals(new double[] {-1, -4, -2, -5, -3, -6}, Ops.neg(Ops.transpose(x)).toDoubleArray());
        assertArrayEquals(new double[] {4, 9, 25, 36}, Ops.square(Ops.slice(x, 1, 1, 3)).toDoubleArray());
    }

    // ---- binary --------------------------------------------------------------------------------------------
    @Test
    void binaryBroadcastValues() {
        NDArray a = d(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        NDArray row = d(new double[] {10, 20, 30}, 3);
        NDArray col = d(new double[] {100, 200}, 2, 1);
        assertArrayEquals(new double[] {11, 22, 33, 14, 25, 36}, Ops.add(a, row).toDoubleArray());
        assertArrayEquals(new double[] {9, 18, 27, 6, 15, 24}, Ops.sub(row, a).toDoubleArray());
        assertArrayEquals(new double[] {100, 200, 300, 800, 1000, 1200}, Ops.mul(a, col).toDoubleArray());
        assertArrayEquals(new long[] {2, 3}, Ops.mul(a, col).shape());
        NDArray outer = Ops.mul(col, d(new double[] {1, 2, 3}, 1, 3));
        assertArrayEquals(new long[] {2, 3}, outer.shape());
        assertArrayEquals(new double[] {100, 200, 300, 200, 400, 600}, outer.toDoubleArray());
        NDArray s = NDArray.scalar(2, DType.FLOAT64);
        assertArrayEquals(new double[] {0.5, 1, 1.5, 2, 2.5, 3}, Ops.div(a, s).toDoubleArray());
        assertArrayEquals(new double[] {2, 1, 2.0 / 3, 0.5, 0.4, 2.0 / 6}, Ops.div(s, a).toDoubleArray(), 1e-15);
        assertArrayEquals(new double[] {1, 4, 9, 16, 25, 36}, Ops.pow(a, 2).toDoubleArray(), 1e-12);
        assertArrayEquals(new double[] {2, 4, 8}, Ops.pow(s, d(new double[] {1, 2, 3}, 3)).toDoubleArray(), 1e-12);
        NDArray b = d(new double[] {3, 3, 3, 3, 3, 3}, 2, 3);
        assertArrayEquals(new double[] {3, 3, 3, 4, 5, 6}, Ops.maximum(a, b).toDoubleArray());
        assertArrayEquals(new double[] {1, 2, 3, 3, 3, 3}, Ops.minimum(a, b).toDoubleArray());
        assertArrayEquals(new double[] {2, 2, 3, 4, 4.5, 4.5}, Ops.clip(a, 2, 4.5).toDoubleArray());
        // 3-D with a [3,1] operand
        NDArray c = d(new double[] {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}, 2, 3, 2);
        NDArray k = d(new double[] {0, 10, 100}, 3, 1);
        assertArrayEquals(new double[] {1, 2, 13, 14, 105, 106, 7, 8, 19, 20, 111, 112}, Ops.add(c, k).toDoubleArray());
        // float32 too
        NDArray af = NDArray.of(new float[] {1, 2, 3, 4}, 2, 2);
        NDArray rf = NDArray.of(new float[] {0.5f, -1f}, 2);
        assertEquals(DType.FLOAT32, Ops.mul(af, rf).dtype());
        assertArrayEquals(new float[] {0.5f, -2f, 1.5f, -4f}, Ops.mul(af, rf).toFloatArray());
    }

    @Test
    void binaryOnStridedViews() {
        NDArray a = d(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        NDArray at = Ops.transpose(a); // [[1,4],[2,5],[3,6]]
        NDArray b = d(new double[] {1, 1, 2, 2, 3, 3}, 3, 2);
        assertArrayEquals(new double[] {2, 5, 4, 7, 6, 9}, Ops.add(at, b).toDoubleArray());
        NDArray sl = Ops.slice(a, 1, 1, 3); // [[2,3],[5,6]]
        assertArrayEquals(new double[] {4, 9, 25, 36}, Ops.mul(sl, sl).toDoubleArray());
    }

    @Test
    void broadcastToValues() {
        NDArray r = Ops.broadcastTo(d(new double[] {1, 2}, 2, 1), new long[] {2, 2, 3});
        assertArrayEquals(new long[] {2, 2, 3}, r.shape());
        assertArrayEquals(new double[] {1, 1, 1, 2, 2, 2, 1, 1, 1, 2, 2, 2}, r.toDoubleArray());
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.broadcastTo(d(new double[] {1, 2, 3}, 3), new long[] {2, 2}));
        assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[2, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ops.broadcastTo(d(new double[] {1, 2}, 2), new long[] {2, 1}));
    }

    // ---- reductions ----------------------------------------------------------------------------------------
    @Test
    void reductionValues() {
        double[] v = new double[24];
        for (int i = 0; i < 24; i++) v[i] = (i * 7) % 11 - 5; // small ints, a few ties
        NDArray x = d(v, 2, 3, 4);
        assertEquals(Arrays.stream(v).sum(), Ops.sum(x).getDouble(), 0);
        assertArrayEquals(new long[] {}, Ops.sum(x).shape());
        double[] s0 = new double[12], s1 = new double[8], s2 = new double[6], s02 = new double[3];
        double[] mx2 = new double[6], mn1 = new double[8];
        Arrays.fill(mx2, Double.NEGATIVE_INFINITY);
        Arrays.fill(mn1, Double.POSITIVE_INFINITY);
        for (int i = 0; i < 2; i++) for (int j = 0; j < 3; j++) for (int k = 0; k < 4; k++) {
            double e = v[i * 12 + j * 4 + k];
            s0[j * 4 + k] += e;
            s1[i * 4 + k] += e;
            s2[i * 3 + j] += e;
            s02[j] += e;
            mx2[i * 3 + j] = Math.max(mx2[i * 3 + j], e);
            mn1[i * 4 + k] = Math.min(mn1[i * 4 + k], e);
        }
        assertArrayEquals(s0, Ops.sum(x, 0, false).toDoubleArray());
        assertArrayEquals(new long[] {3, 4}, Ops.sum(x, 0, false).shape());
        assertArrayEquals(s1, Ops.sum(x, 1, true).toDoubleArray());
        assertArrayEquals(new long[] {2, 1, 4}, Ops.sum(x, 1, true).shape());
        assertArrayEquals(s2, Ops.sum(x, -1, false).toDoubleArray());
        assertArrayEquals(s02, Ops.sum(x, new int[] {2, 0}, false).toDoubleArray());
        assertArrayEquals(new long[] {1, 3, 1}, Ops.sum(x, new int[] {0, 2}, true).shape());
        assertArrayEquals(new long[] {1, 1, 1}, Ops.sum(x, null, true).shape());
        double[] m02 = Arrays.stream(s02).map(a -> a / 8).toArray();
        assertArrayEquals(m02, Ops.mean(x, new int[] {0, 2}, false).toDoubleArray(), 1e-15);
        assertEquals(Arrays.stream(v).average().getAsDouble(), Ops.mean(x).getDouble(), 1e-15);
        assertArrayEquals(mx2, Ops.max(x, 2, false).toDoubleArray());
        assertArrayEquals(mn1, Ops.min(x, 1, false).toDoubleArray());
        assertArrayEquals(new long[] {2, 1, 4}, Ops.min(x, 1, true).shape());
        assertEquals(Arrays.stream(v).max().getAsDouble(), Ops.max(x, new int[0], false).getDouble(), 0);
        // sum of a transposed view
        assertArrayEquals(transposeArr(s2, 2, 3), Ops.sum(Ops.transpose(x), 0, false).toDoubleArray());
        // argmax: first maximum
        NDArray am = Ops.argmax(d(new double[] {1, 5, 5, 2, 7, 7, 7, 0}, 2, 4), -1);
        assertEquals(DType.INT32, am.dtype());
        assertArrayEquals(new int[] {1, 0}, am.toIntArray());
        assertArrayEquals(new int[] {1, 1, 1, 0}, Ops.argmax(d(new double[] {1, 5, 5, 2, 7, 7, 7, 0}, 2, 4), 0).toIntArray());
        // empty
        assertEquals(0.0, Ops.sum(NDArray.zeros(DType.FLOAT64, 0, 3)).getDouble(), 0);
        assertThrows(IllegalArgumentException.class, () -> Ops.max(NDArray.zeros(DType.FLOAT64, 0, 3), 0, false));
        assertThrows(IllegalArgumentException.class, () -> Ops.mean(NDArray.zeros(DType.FLOAT64, 0)));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.sum(x, 3, false));
        assertTrue(e.getMessage().contains("axis 3") && e.getMessage().contains("rank 3"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ops.sum(x, new int[] {1, -2}, false));
    }

    @Test
    void softmaxValues() {
        double[] v = {1, 2, 3, -1, 0, 1000};
        NDArray x = d(v, 2, 3);
        double[] sm = Ops.softmax(x, -1).toDoubleArray();
        double[] lsm = Ops.logSoftmax(x, -1).toDoubleArray();
        for (int r = 0; r < 2; r++) {
            double m = Math.max(v[3 * r], Math.max(v[3 * r + 1], v[3 * r + 2]));
            double z = 0;
            for (int c = 0; c < 3; c++) z += Math.exp(v[3 * r + c] - m);
            for (int c = 0; c < 3; c++) {
                assertEquals(Math.exp(v[3 * r + c] - m) / z, sm[3 * r + c], 1e-15);
                assertEquals(v[3 * r + c] - m - Math.log(z), lsm[3 * r + c], 1e-12);
            }
        }
        // axis 0
        double[] s0 = Ops.softmax(x, 0).toDoubleArray();
        for (int c = 0; c < 3; c++) {
            double m = Math.max(v[c], v[3 + c]);
            double z = Math.exp(v[c] - m) + Math.exp(v[3 + c] - m);
            assertEquals(Math.exp(v[c] - m) / z, s0[c], 1e-15);
            assertEquals(Math.exp(v[3 + c] - m) / z, s0[3 + c], 1e-15);
        }
        assertEquals(DType.FLOAT32, Ops.softmax(NDArray.of(new float[] {1, 2}), 0).dtype());
    }

    // ---- matmul --------------------------------------------------------------------------------------------
    private static double[] naiveMatmul(double[] a, double[] b, int m, int k, int n) {
        double[] c = new double[m * n];
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) {
            double s = 0;
            for (int p = 0; p < k; p++) s += a[i * k + p] * b[p * n + j];
            c[i * n + j] = s;
        }
        return c;
    }

    private static double[] transposeArr(double[] a, int rows, int cols) {
        double[] t = new double[a.length];
        for (int i = 0; i < rows; i++) for (int j = 0; j < cols; j++) t[j * rows + i] = a[i * cols + j];
        return t;
    }

    @Test
    void matmulValues() {
        assertArrayEquals(new double[] {58, 64, 139, 154},
                Ops.matmul(d(new double[] {1, 2, 3, 4, 5, 6}, 2, 3), d(new double[] {7, 8, 9, 10, 11, 12}, 3, 2)).toDoubleArray());
        int m = 5, k = 7, n = 4;
        double[] a = randArr(1, m * k, -1, 1), b = randArr(2, k * n, -1, 1);
        double[] ref = naiveMatmul(a, b, m, k, n);
        assertClose(ref, Ops.matmul(d(a, m, k), d(b, k, n)).toDoubleArray(), 1e-13, 1e-14, "matmul");
        // transposed views as operands
        NDArray at = Ops.transpose(d(transposeArr(a, m, k), k, m));
        NDArray bt = Ops.transpose(d(transposeArr(b, k, n), n, k));
        assertFalse(at.isContiguous());
        assertClose(ref, Ops.matmul(at, d(b, k, n)).toDoubleArray(), 1e-13, 1e-14, "matmul A^T");
        assertClose(ref, Ops.matmul(d(a, m, k), bt).toDoubleArray(), 1e-13, 1e-14, "matmul B^T");
        assertClose(ref, Ops.matmul(at, bt).toDoubleArray(), 1e-13, 1e-14, "matmul A^T B^T");
        // column slice of a wider matrix (leading dimension > cols)
        double[] wide = new double[m * (k + 3)];
        for (int i = 0; i < m; i++) System.arraycopy(a, i * k, wide, i * (k + 3) + 2, k);
        assertClose(ref, Ops.matmul(Ops.slice(d(wide, m, k + 3), 1, 2, k + 2), d(b, k, n)).toDoubleArray(), 1e-13, 1e-14,
                "matmul of a column slice");
        // float32
        NDArray cf = Ops.matmul(NDArray.of(toF(a), m, k), NDArray.of(toF(b), k, n));
        assertEquals(DType.FLOAT32, cf.dtype());
        assertClose(ref, cf.toDoubleArray(), 1e-5, 1e-5, "matmul float32");
        // [b, m, k] @ [k, n]
        double[] a3 = randArr(3, 2 * m * k, -1, 1);
        NDArray r3 = Ops.matmul(d(a3, 2, m, k), d(b, k, n));
        assertArrayEquals(new long[] {2, m, n}, r3.shape());
        double[] ref3 = naiveMatmul(a3, b, 2 * m, k, n);
        assertClose(ref3, r3.toDoubleArray(), 1e-13, 1e-14, "matmul 3d @ 2d");
        // batched [2, m, k] @ [2, k, n]
        double[] b3 = randArr(4, 2 * k * n, -1, 1);
        NDArray rb = Ops.matmul(d(a3, 2, m, k), d(b3, 2, k, n));
        assertArrayEquals(new long[] {2, m, n}, rb.shape());
        double[] refb = new double[2 * m * n];
        for (int bi = 0; bi < 2; bi++) {
            double[] c = naiveMatmul(Arrays.copyOfRange(a3, bi * m * k, (bi + 1) * m * k),
                    Arrays.copyOfRange(b3, bi * k * n, (bi + 1) * k * n), m, k, n);
            System.arraycopy(c, 0, refb, bi * m * n, m * n);
        }
        assertClose(refb, rb.toDoubleArray(), 1e-13, 1e-14, "batched matmul");
        // k = 0 gives zeros
        assertArrayEquals(new double[] {0, 0, 0, 0}, Ops.matmul(NDArray.zeros(DType.FLOAT64, 2, 0),
                NDArray.zeros(DType.FLOAT64, 0, 2)).toDoubleArray());
    }

    @Test
    void linearValues() {
        int m = 4, k = 3, n = 5;
        double[] x = randArr(5, m * k, -1, 1), w = randArr(6, k * n, -1, 1), b = randArr(7, n, -1, 1);
        double[] ref = naiveMatmul(x, w, m, k, n);
        double[] refNoBias = ref.clone();
        for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) ref[i * n + j] += b[j];
        assertClose(ref, Ops.linear(d(x, m, k), d(w, k, n), d(b, n)).toDoubleArray(), 1e-13, 1e-14, "linear");
        assertClose(refNoBias, Ops.linear(d(x, m, k), d(w, k, n), null).toDoubleArray(), 1e-13, 1e-14, "linear no bias");
        NDArray l3 = Ops.linear(d(x, 2, 2, k), d(w, k, n), d(b, n));
        assertArrayEquals(new long[] {2, 2, n}, l3.shape());
        assertClose(ref, l3.toDoubleArray(), 1e-13, 1e-14, "linear 3-D input");
        NDArray xt = Ops.transpose(d(transposeArr(x, m, k), k, m));
        assertClose(ref, Ops.linear(xt, d(w, k, n), d(b, n)).toDoubleArray(), 1e-13, 1e-14, "linear transposed x");
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.linear(d(x, m, k), d(w, k, n), d(new double[] {1, 2}, 2)));
        assertTrue(e.getMessage().contains("[2]") && e.getMessage().contains("[" + k + ", " + n + "]"), e.getMessage());
    }

    // ---- shape ops -----------------------------------------------------------------------------------------
    @Test
    void shapeOpValues() {
        double[] v = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11};
        NDArray x = d(v, 2, 3, 2);
        NDArray r = Ops.reshape(x, 3, -1);
        assertArrayEquals(new long[] {3, 4}, r.shape());
        assertArrayEquals(v, r.toDoubleArray());
        assertSame(x.storage(), r.storage(), "reshape of contiguous data is a view");
        NDArray t = Ops.transpose(x, 2, 0, 1);
        assertArrayEquals(new long[] {2, 2, 3}, t.shape());
        assertArrayEquals(new double[] {0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11}, t.toDoubleArray());
        NDArray rt = Ops.reshape(t, -1);
        assertArrayEquals(new double[] {0, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11}, rt.toDoubleArray());
        assertArrayEquals(new long[] {2, 3, 2}, Ops.transpose(x, 0, 1, 2).shape());
        assertArrayEquals(new long[] {2, 2, 3}, Ops.transpose(x, 1, 2).shape(), "two axes swap them");
        assertArrayEquals(new long[] {2, 3, 2}, Ops.transpose(x).shape());
        assertArrayEquals(new double[] {0, 6, 2, 8, 4, 10, 1, 7, 3, 9, 5, 11}, Ops.transpose(x).toDoubleArray());
        NDArray s = Ops.slice(x, 1, 1, 3);
        assertArrayEquals(new long[] {2, 2, 2}, s.shape());
        assertArrayEquals(new double[] {2, 3, 4, 5, 8, 9, 10, 11}, s.toDoubleArray());
        assertArrayEquals(new long[] {2, 0, 2}, Ops.slice(x, 1, 2, 2).shape());
        NDArray c = Ops.concat(List.of(d(new double[] {1, 2, 3, 4}, 2, 2), d(new double[] {5, 6}, 2, 1)), 1);
        assertArrayEquals(new double[] {1, 2, 5, 3, 4, 6}, c.toDoubleArray());
        NDArray c0 = Ops.concat(List.of(d(new double[] {1, 2}, 1, 2), Ops.transpose(d(new double[] {3, 4, 5, 6}, 2, 2))), 0);
        assertArrayEquals(new double[] {1, 2, 3, 5, 4, 6}, c0.toDoubleArray());
        NDArray cc = Ops.contiguous(t);
        assertTrue(cc.isContiguous());
        assertNotEquals(t.storage(), cc.storage());
        assertArrayEquals(t.toDoubleArray(), cc.toDoubleArray());
        // cast
        NDArray f = Ops.cast(d(new double[] {1.5, -2.7, 3e9, Double.NaN}, 4), DType.INT32);
        assertArrayEquals(new int[] {1, -2, Integer.MAX_VALUE, 0}, f.toIntArray());
        assertArrayEquals(new float[] {1.5f, -2.75f}, Ops.cast(d(new double[] {1.5, -2.75}, 2), DType.FLOAT32).toFloatArray());
        NDArray same = Ops.cast(x, DType.FLOAT64);
        assertNotEquals(x.storage(), same.storage(), "cast always copies");
    }

    @Test
    void shapeOpErrors() {
        NDArray x = d(new double[] {0, 1, 2, 3, 4, 5}, 2, 3);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Ops.reshape(x, 4, 2));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ops.reshape(x, -1, -1));
        assertThrows(IllegalArgumentException.class, () -> Ops.reshape(x, 4, -1));
        assertThrows(IllegalArgumentException.class, () -> Ops.transpose(x, 0, 0));
        assertThrows(IllegalArgumentException.class, () -> Ops.transpose(d(new double[8], 2, 2, 2), 0, 1, 1));
        assertThrows(IllegalArgumentException.class, () -> Ops.transpose(d(new double[8], 2, 2, 2), 0, 1, 2, 3));
        e = assertThrows(IllegalArgumentException.class, () -> Ops.slice(x, 1, 2, 4));
        assertTrue(e.getMessage().contains("[2, 4)") && e.getMessage().contains("[2, 3]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ops.slice(x, 0, 2, 1));
        assertThrows(IllegalArgumentException.class, () -> Ops.slice(x, 2, 0, 1));
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.concat(List.of(x, d(new double[] {1, 2, 3, 4}, 2, 2)), 0));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[2, 2]"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Ops.concat(List.of(), 0));
    }

    // ---- errors: shapes and dtypes -------------------------------------------------------------------------
    @Test
    void broadcastErrorNamesBothShapes() {
        NDArray a = NDArray.zeros(DType.FLOAT64, 2, 3);
        NDArray b = NDArray.zeros(DType.FLOAT64, 4);
        for (Runnable r : List.<Runnable>of(() -> Ops.add(a, b), () -> Ops.sub(a, b), () -> Ops.mul(a, b),
                () -> Ops.div(a, b), () -> Ops.pow(a, b), () -> Ops.maximum(a, b), () -> Ops.minimum(a, b))) {
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
            assertFalse(e instanceof DTypeException);
            assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4]"), e.getMessage());
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.add(NDArray.zeros(DType.FLOAT64, 2, 3, 4), NDArray.zeros(DType.FLOAT64, 2, 1, 3)));
        assertTrue(e.getMessage().contains("[2, 3, 4]") && e.getMessage().contains("[2, 1, 3]"), e.getMessage());
    }

    @Test
    void matmulShapeErrors() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.matmul(NDArray.zeros(DType.FLOAT64, 2, 3), NDArray.zeros(DType.FLOAT64, 4, 5)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[4, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.matmul(NDArray.zeros(DType.FLOAT64, 3), NDArray.zeros(DType.FLOAT64, 3, 5)));
        assertTrue(e.getMessage().contains("[3]") && e.getMessage().contains("[3, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.matmul(NDArray.zeros(DType.FLOAT64, 2, 2, 3), NDArray.zeros(DType.FLOAT64, 3, 3, 5)));
        assertTrue(e.getMessage().contains("[2, 2, 3]") && e.getMessage().contains("[3, 3, 5]"), e.getMessage());
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.matmul(NDArray.zeros(DType.FLOAT64, 2, 3), NDArray.zeros(DType.FLOAT64, 2, 3, 5)));
        assertTrue(e.getMessage().contains("[2, 3]") && e.getMessage().contains("[2, 3, 5]"), e.getMessage());
    }

    @Test
    void dtypeErrors() {
        NDArray f32 = NDArray.zeros(DType.FLOAT32, 2, 2);
        NDArray f64 = NDArray.zeros(DType.FLOAT64, 2, 2);
        NDArray i32 = NDArray.zeros(DType.INT32, 2, 2);
        DTypeException e = assertThrows(DTypeException.class, () -> Ops.add(f32, f64));
        assertTrue(e.getMessage().contains("float32") && e.getMessage().contains("float64"), e.getMessage());
        assertThrows(DTypeException.class, () -> Ops.matmul(f32, f64));
        assertThrows(DTypeException.class, () -> Ops.linear(f32, f32, NDArray.zeros(DType.FLOAT64, 2)));
        assertThrows(DTypeException.class, () -> Ops.concat(List.of(f32, f64), 0));
        e = assertThrows(DTypeException.class, () -> Ops.relu(i32));
        assertTrue(e.getMessage().contains("int32") && e.getMessage().contains("relu"), e.getMessage());
        assertThrows(DTypeException.class, () -> Ops.add(i32, i32));
        assertThrows(DTypeException.class, () -> Ops.sum(i32));
        assertThrows(DTypeException.class, () -> Ops.softmax(i32, 0));
        assertThrows(DTypeException.class, () -> Ops.matmul(i32, i32));
        assertThrows(DTypeException.class, () -> Ops.affine(i32, 1, 1));
        assertThrows(DTypeException.class, () -> Ops.max(i32, 0, false));
        assertThrows(DTypeException.class, () -> Ops.argmax(i32, 0));
        assertThrows(DTypeException.class, () -> Ops.dropout(i32, 0.5, 1));
        assertThrows(DTypeException.class, () -> Ops.sparseSoftmaxCrossEntropy(f32, NDArray.zeros(DType.FLOAT32, 2)));
        assertThrows(DTypeException.class, () -> Ops.gather(f32, NDArray.zeros(DType.FLOAT32, 2)));
        assertThrows(IllegalArgumentException.class, () -> i32.setRequiresGrad(true));
    }

    // ---- views ---------------------------------------------------------------------------------------------
    @Test
    void viewsShareStorageAndSeeWrites() {
        NDArray x = d(new double[] {0, 1, 2, 3, 4, 5}, 2, 3);
        NDArray t = Ops.transpose(x);
        NDArray s = Ops.slice(x, 0, 1, 2);
        NDArray sc = Ops.slice(x, 1, 1, 2);
        assertSame(x.storage(), t.storage());
        assertSame(x.storage(), s.storage());
        assertSame(x.storage(), sc.storage());
        assertEquals(3, s.offset());
        assertEquals(1, sc.offset());
        // write through the row slice (contiguous view)
        s.buffer().asDoubleBuffer().put(0, 30.0);
        assertEquals(30.0, x.getDouble(1, 0));
        assertEquals(30.0, t.getDouble(0, 1));
        // write into a transposed (strided) view via a strided copy
        NDArray src = d(new double[] {10, 11, 12, 13, 14, 15}, 3, 2);
        x.device().backend().copy(src, t);
        assertArrayEquals(new double[] {10, 12, 14, 11, 13, 15}, x.toDoubleArray());
        // write into a column slice
        x.device().backend().copy(d(new double[] {-1, -2}, 2, 1), sc);
        assertArrayEquals(new double[] {10, -1, 14, 11, -2, 15}, x.toDoubleArray());
        assertArrayEquals(new double[] {-1, -2}, sc.toDoubleArray());
        // writing to the base is visible in the views
        x.buffer().asDoubleBuffer().put(5, 99.0);
        assertEquals(99.0, t.getDouble(2, 1));
        assertFalse(t.isContiguous());
        assertFalse(sc.isContiguous());
        assertThrows(IllegalStateException.class, t::buffer);
    }

    // ---- dropout, losses, indexing -------------------------------------------------------------------------
    @Test
    void dropoutMaskProperties() {
        NDArray x = NDArray.ones(DType.FLOAT64, 100, 100);
        double[] m1 = Ops.dropout(x, 0.3, 42).toDoubleArray();
        double[] m2 = Ops.dropout(x, 0.3, 42).toDoubleArray();
        double[] m3 = Ops.dropout(x, 0.3, 43).toDoubleArray();
        assertArrayEquals(m1, m2, "same seed, same mask");
        assertFalse(Arrays.equals(m1, m3), "different seed, different mask");
        int zeros = 0;
        for (double v : m1) {
            if (v == 0) zeros++;
            else assertEquals(1 / 0.7, v, 1e-15);
        }
        assertEquals(0.3, zeros / 10000.0, 0.03);
        assertSame(x, Ops.dropout(x, 0, 1));
        assertThrows(IllegalArgumentException.class, () -> Ops.dropout(x, 1.0, 1));
        assertThrows(IllegalArgumentException.class, () -> Ops.dropout(x, -0.1, 1));
        assertThrows(IllegalArgumentException.class, () -> Ops.dropout(x, Double.NaN, 1));
        // float32 mask values
        float[] mf = Ops.dropout(NDArray.ones(DType.FLOAT32, 1000), 0.5, 7).toFloatArray();
        for (float v : mf) assertTrue(v == 0f || v == 2f, "mask value " + v);
    }

    @Test
    void sparseSoftmaxCrossEntropyValues() {
        double[] lg = {1, 2, 3, 0, 0, 0, -5, 10, 2};
        int[] lab = {2, 1, 0};
        double[] loss = Ops.sparseSoftmaxCrossEntropy(d(lg, 3, 3), NDArray.of(lab)).toDoubleArray();
        for (int i = 0; i < 3; i++) {
            double m = Math.max(lg[3 * i], Math.max(lg[3 * i + 1], lg[3 * i + 2]));
            double z = 0;
            for (int c = 0; c < 3; c++) z += Math.exp(lg[3 * i + c] - m);
            assertEquals(m + Math.log(z) - lg[3 * i + lab[i]], loss[i], 1e-12);
        }
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.sparseSoftmaxCrossEntropy(d(lg, 3, 3), NDArray.of(new int[] {0, 3, 1})));
        assertTrue(e.getMessage().contains("3"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Ops.sparseSoftmaxCrossEntropy(d(lg, 3, 3), NDArray.of(new int[] {0, -1, 1})));
        e = assertThrows(IllegalArgumentException.class,
                () -> Ops.sparseSoftmaxCrossEntropy(d(lg, 3, 3), NDArray.of(new int[] {0, 1})));
        assertTrue(e.getMessage().contains("[3, 3]") && e.getMessage().contains("[2]"), e.getMessage());
    }

    @Test
    void gatherValues() {
        NDArray x = d(new double[] {1, 2, 3, 4, 5, 6}, 3, 2);
        assertArrayEquals(new double[] {2, 3, 6}, Ops.gather(x, NDArray.of(new int[] {1, 0, 1})).toDoubleArray());
        assertThrows(IllegalArgumentException.class, () -> Ops.gather(x, NDArray.of(new int[] {1, 2, 0})));
    }

    @Test
    void countNonFinite() {
        assertEquals(3, Ops.countNonFinite(d(new double[] {1, Double.NaN, Double.POSITIVE_INFINITY, 0,
            Double.NEGATIVE_INFINITY}, 5)));
        assertEquals(1, Ops.countNonFinite(NDArray.of(new float[] {Float.NaN, 1f})));
        assertEquals(0, Ops.countNonFinite(NDArray.of(new int[] {1, 2})));
        assertEquals(1, Ops.countNonFinite(Ops.transpose(d(new double[] {0, 1, Double.NaN, 3}, 2, 2))));
    }

    // ---- reference mode ------------------------------------------------------------------------------------
    private interface Computation {
        double[] run();
    }

    /** Runs c with reference mode off and on (restoring the flag) and returns {optimised, reference}. */
    private static double[][] bothModes(Computation c) {
        boolean was = NativeOps.isReference();
        try {
            NativeOps.setReference(false);
            double[] opt = c.run();
            NativeOps.setReference(true);
            assertTrue(NativeOps.isReference());
            double[] ref = c.run();
            return new double[][] {opt, ref};
        } finally {
            NativeOps.setReference(was);
        }
    }

    @Test
    void referenceModeAgreesWithOptimisedKernels() {
        boolean before = NativeOps.isReference();
        int m = 67, k = 129, n = 45;
        double[] a = randArr(21, m * k, -1, 1), b = randArr(22, k * n, -1, 1);
        // float64 matmul: rtol 1e-12 (different summation order only)
        double[][] r = bothModes(() -> Ops.matmul(d(a, m, k), d(b, k, n)).toDoubleArray());
        assertClose(r[1], r[0], 1e-12, 1e-12, "matmul f64 opt vs reference");
        assertClose(naiveMatmul(a, b, m, k, n), r[1], 1e-12, 1e-12, "reference matmul vs Java");
        // float32 matmul with transposed operand: |diff| <= 1e-4 (k = 129 products of |x| < 1)
        r = bothModes(() -> Ops.matmul(Ops.transpose(NDArray.of(toF(transposeArr(a, m, k)), k, m)),
                NDArray.of(toF(b), k, n)).toDoubleArray());
        assertClose(r[1], r[0], 0, 1e-4, "matmul f32 opt vs reference");
        // batched
        r = bothModes(() -> Ops.matmul(d(a, 3, m * k / 3 / 43, 43), d(randArr(23, 3 * 43 * 5, -1, 1), 3, 43, 5)).toDoubleArray());
        assertClose(r[1], r[0], 1e-12, 1e-12, "batched matmul opt vs reference");
        // softmax / log-softmax over both axes, float32 and float64: rtol 1e-12 (f64), 1e-5 (f32)
        double[] big = randArr(24, 4096, -20, 20);
        for (int axis : new int[] {0, -1}) {
            r = bothModes(() -> Ops.softmax(d(big, 64, 64), axis).toDoubleArray());
            assertClose(r[1], r[0], 1e-12, 1e-300, "softmax f64 axis " + axis);
            r = bothModes(() -> Ops.logSoftmax(d(big, 64, 64), axis).toDoubleArray());
            assertClose(r[1], r[0], 1e-12, 1e-12, "log_softmax f64 axis " + axis);
            r = bothModes(() -> Ops.softmax(NDArray.of(toF(big), 64, 64), axis).toDoubleArray());
            assertClose(r[1], r[0], 1e-5, 1e-30, "softmax f32 axis " + axis);
        }
        // unary ops (vectorised vs scalar): rtol 1e-12 for float64, 1e-5 (+1e-6 abs) for float32
        double[] xs = randArr(25, 3001, -8, 8);
        List<Function<NDArray, NDArray>> unary = List.of(Ops::exp, Ops::tanh, Ops::sigmoid, Ops::relu,
                x -> Ops.gelu(x, false), x -> Ops.gelu(x, true), Ops::softplus, Ops::swish, Ops::selu,
                x -> Ops.elu(x, 1.0), Ops::softsign, Ops::hardSigmoid, Ops::relu6);
        for (int i = 0; i < unary.size(); i++) {
            Function<NDArray, NDArray> f = unary.get(i);
            r = bothModes(() -> f.apply(d(xs, xs.length)).toDoubleArray());
            assertClose(r[1], r[0], 1e-12, 1e-14, "unary #" + i + " f64");
            r = bothModes(() -> f.apply(NDArray.of(toF(xs))).toDoubleArray());
            assertClose(r[1], r[0], 1e-5, 1e-6, "unary #" + i + " f32");
        }
        // reductions and loss
        r = bothModes(() -> Ops.sum(d(big, 64, 64), 0, false).toDoubleArray());
        assertClose(r[1], r[0], 1e-12, 1e-12, "sum");
        int[] labels = new int[64];
        for (int i = 0; i < 64; i++) labels[i] = (i * 13) % 64;
        r = bothModes(() -> Ops.sparseSoftmaxCrossEntropy(d(big, 64, 64), NDArray.of(labels)).toDoubleArray());
        assertClose(r[1], r[0], 1e-12, 1e-12, "softmax cross-entropy");
        assertEquals(before, NativeOps.isReference(), "reference flag restored");
    }

    /**
     * batchNormInference: optimised and reference kernels against a plain Java formula (every activation form the
     * inference fusion uses, gamma/beta absent), into a window of a wider array and in place; with a gradient it is
     * the differentiable composition, same values.
     */
    @Test
    void batchNormInferenceMatchesFormula() {
        int rows = 13, c = 7;
        double[] xv = randArr(1, rows * c, -3, 3), mv = randArr(2, c, -1, 1), vv = randArr(3, c, 0.1, 2);
        double[] gv = randArr(4, c, -2, 2), bv = randArr(5, c, -1, 1);
        double eps = 1e-3;
        UnaryOp[] acts = {null, UnaryOp.RELU, UnaryOp.RELU6, UnaryOp.SWISH, UnaryOp.LEAKY_RELU};
        for (DType dt : new DType[] {DType.FLOAT64, DType.FLOAT32}) {
            double tol = dt == DType.FLOAT32 ? 2e-6 : 1e-12;
            for (UnaryOp act : acts) {
                for (boolean affine : new boolean[] {true, false}) {
                    double[] want = new double[rows * c];
                    for (int r = 0; r < rows; r++) {
                        for (int k = 0; k < c; k++) {
                            double v = (xv[r * c + k] - mv[k]) / Math.sqrt(vv[k] + eps);
                            if (affine) v = v * gv[k] + bv[k];
                            if (act == UnaryOp.RELU) v = Math.max(v, 0);
                            if (act == UnaryOp.RELU6) v = Math.min(Math.max(v, 0), 6);
                            if (act == UnaryOp.SWISH) v = v / (1 + Math.exp(-v));
                            if (act == UnaryOp.LEAKY_RELU) v = v > 0 ? v : 0.2 * v;
                            want[r * c + k] = v;
                        }
                    }
                    NDArray g = affine ? d(gv, c).cast(dt) : null, b = affine ? d(bv, c).cast(dt) : null;
                    NDArray m = d(mv, c).cast(dt), var = d(vv, c).cast(dt);
                    String what = dt + " " + act + (affine ? " affine" : "");
                    double[][] r = bothModes(() -> Ops.batchNormInference(d(xv, rows, 1, c).cast(dt), m, var, g, b,
                            eps, act, 0.2).toDoubleArray());
                    assertClose(want, r[0], tol, tol, "optimised " + what);
                    assertClose(want, r[1], tol, tol, "reference " + what);
                    // into channels [2, 2 + c) of a wider [rows, c + 3] array, then in place
                    NDArray wide = NDArray.zeros(dt, rows, c + 3);
                    NDArray window = wide.view(new long[] {rows, c}, wide.strides(), 2);
                    Ops.batchNormInferenceInto(d(xv, rows, c).cast(dt), window, m, var, g, b, eps, act, 0.2);
                    assertClose(want, window.contiguous().toDoubleArray(), tol, tol, "window " + what);
                    assertEquals(0.0, wide.getDouble(rows - 1, c + 2), "outside the window untouched");
                    NDArray x = d(xv, rows, c).cast(dt);
                    assertSame(x, Ops.batchNormInferenceInto(x, x, m, var, g, b, eps, act, 0.2));
                    assertClose(want, x.toDoubleArray(), tol, tol, "in place " + what);
                    NDArray xg = d(xv, rows, c).cast(dt).setRequiresGrad(true);
                    NDArray composed = Ops.batchNormInference(xg, m, var, g, b, eps, act, 0.2);
                    assertNotEquals(null, composed.gradFn(), "a gradient is recorded");
                    assertClose(want, composed.toDoubleArray(), tol, tol, "composed " + what);
                }
            }
        }
        NDArray x = d(xv, rows, c);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Ops.batchNormInference(x, d(mv, c), d(Arrays.copyOf(vv, c - 1), c - 1), null, null, eps, null,
                        0));
        assertTrue(e.getMessage().contains("must have shape [7]"), e.getMessage());
        NDArray strided = Ops.transpose(d(xv, c, rows), 1, 0);   // last axis not contiguous
        assertThrows(IllegalArgumentException.class,
                () -> Ops.batchNormInferenceInto(strided, strided, d(mv, c), d(vv, c), null, null, eps, null, 0));
        assertClose(Ops.batchNormInference(strided.contiguous(), d(mv, c), d(vv, c), null, null, eps, null, 0)
                        .toDoubleArray(),
                Ops.batchNormInference(strided, d(mv, c), d(vv, c), null, null, eps, null, 0).toDoubleArray(),
                0, 0, "a strided input is made contiguous");
    }
}
