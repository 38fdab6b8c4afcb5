package org.pydl.jni;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.File;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.function.DoubleUnaryOperator;

import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.function.Executable;

/**
 * Tests of the native kernel library (libpydl.so) through {@link NativeOps} only. The library is loaded from the
 * system property {@code pydl.native.lib} (path of libpydl.so), without any other pydl class.
 */
class NativeOpsTest {
    static final int F32 = 0, F64 = 1, I32 = 2;
    static final int[] FLOATS = {F32, F64};
    static final int BIG = 100_003; // above the OpenMP threshold (32768), odd so SIMD tails are exercised

    static final String[] UNARY = {"neg", "exp", "log", "sqrt", "tanh", "sigmoid", "relu", "leaky_relu", "elu",
        "gelu", "softplus", "abs", "square", "reciprocal", "gelu_tanh", "selu", "swish", "softsign", "hard_sigmoid",
        "relu6"};
    static final String[] BINARY = {"add", "sub", "mul", "div", "pow", "maximum", "minimum"};
    static final String[] REDUCE = {"sum", "max", "min"};
    static final int SUM = 0, MAX = 1, MIN = 2;

    static int defaultThreads;
    final List<Long> blocks = new ArrayList<>();

    @BeforeAll
    static void load() {
        String path = System.getProperty("pydl.native.lib");
        if (path == null) throw new IllegalStateException("set -Dpydl.native.lib=/path/to/libpydl.so");
        File lib = new File(path).getAbsoluteFile();
        try {
            System.load(lib.getPath());
        } catch (UnsatisfiedLinkError e) { // RPATH $ORIGIN should find OpenBLAS next to it; load it explicitly if not
            File blas = new File(lib.getParentFile(), "libscipy_openblas.so");
            if (!blas.exists()) throw e;
            System.load(blas.getPath());
            System.load(lib.getPath());
        }
        defaultThreads = NativeOps.getNumThreads();
    }

    @AfterEach
    void cleanup() {
        NativeOps.setReference(false);
        NativeOps.setNumThreads(defaultThreads);
        for (long b : blocks) NativeOps.free(b);
        blocks.clear();
    }

    // ---- helpers ------------------------------------------------------------------------------------------------

    static int esize(int dtype) {
        return dtype == F64 ? 8 : 4;
    }

    long alloc(int dtype, long n) {
        long a = NativeOps.malloc(n * esize(dtype));
        blocks.add(a);
        return a;
    }

    void release(long a) {
        blocks.remove(Long.valueOf(a));
        NativeOps.free(a);
    }

    static ByteBuffer buf(long addr, long bytes) {
        return NativeOps.wrap(addr, bytes).order(ByteOrder.nativeOrder());
    }

    static void write(int dtype, long addr, double[] v) {
        ByteBuffer b = buf(addr, (long) v.length * esize(dtype));
        for (int i = 0; i < v.length; i++) {
            if (dtype == F32) b.putFloat(i * 4, (float) v[i]);
            else if (dtype == F64) b.putDouble(i * 8, v[i]);
            else b.putInt(i * 4, (int) v[i]);
        }
    }

    static double[] read(int dtype, long addr, int n) {
        ByteBuffer b = buf(addr, (long) n * esize(dtype));
        double[] out = new double[n];
        for (int i = 0; i < n; i++) {
            out[i] = dtype == F32 ? b.getFloat(i * 4) : dtype == F64 ? b.getDouble(i * 8) : b.getInt(i * 4);
        }
        return out;
    }

    long put(int dtype, double[] v) {
        long a = alloc(dtype, Math.max(1, v.length));
        write(dtype, a, v);
        return a;
    }

    long putInts(int[] v) {
        double[] d = new double[v.length];
        for (int i = 0; i < v.length; i++) d[i] = v[i];
        return put(I32, d);
    }

    /** Values rounded to the dtype (what the kernel actually sees). */
    static double[] rounded(int dtype, double[] v) {
        double[] r = v.clone();
        if (dtype == F32) for (int i = 0; i < r.length; i++) r[i] = (float) r[i];
        return r;
    }

    static double[] randn(long seed, int n, double scale) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = r.nextGaussian() * scale;
        return v;
    }

    static double[] uniformArr(long seed, int n, double lo, double hi) {
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * r.nextDouble();
        return v;
    }

    static double tol(int dtype) {
        return dtype == F32 ? 2e-5 : 1e-11;
    }

    static void close(double[] expected, double[] actual, double tol, String what) {
        assertEquals(expected.length, actual.length, what + ": length");
        for (int i = 0; i < expected.length; i++) {
            double e = expected[i], a = actual[i];
            if (Double.isNaN(e)) {
                assertTrue(Double.isNaN(a), what + "[" + i + "]: expected NaN, got " + a);
                continue;
            }
            if (Double.isInfinite(e)) {
                assertEquals(e, a, what + "[" + i + "]");
                continue;
            }
            double err = Math.abs(e - a);
            if (!(err <= tol * (1 + Math.abs(e)))) {
                fail(what + "[" + i + "]: expected " + e + ", got " + a + " (err " + err + ", tol " + tol + ")");
            }
        }
    }

    static <T extends Throwable> T throwsJava(Class<T> type, Executable ex, String... fragments) {
        T t = assertThrows(type, ex);
        String msg = String.valueOf(t.getMessage());
        for (String f : fragments) assertTrue(msg.contains(f), "message '" + msg + "' should contain '" + f + "'");
        return t;
    }

    static long[] contiguousStrides(long[] shape) {
        long[] s = new long[shape.length];
        long acc = 1;
        for (int d = shape.length - 1; d >= 0; d--) {
            s[d] = acc;
            acc *= shape[d];
        }
        return s;
    }

    static int numel(long[] shape) {
        long n = 1;
        for (long s : shape) n *= s;
        return (int) n;
    }

    /** Element offset of flat index i of shape under strides. */
    static long offset(long i, long[] shape, long[] strides) {
        long off = 0;
        for (int d = shape.length - 1; d >= 0; d--) {
            off += (i % shape[d]) * strides[d];
            i /= shape[d];
        }
        return off;
    }

    /** Runs body in optimised and in reference mode; returns {optimised, reference} results. */
    interface Kernel {
        double[] run();
    }

    static double[][] bothModes(Kernel k) {
        NativeOps.setReference(false);
        double[] opt = k.run();
        NativeOps.setReference(true);
        double[] ref = k.run();
        NativeOps.setReference(false);
        return new double[][] {opt, ref};
    }

    // ---- Java double references -----------------------------------------------------------------------------

    static double erf(double x) { // Taylor series; accurate to ~1e-14 for |x| <= 3.5, used only there
        if (Math.abs(x) > 5) return Math.signum(x);
        double sum = x, term = x, x2 = x * x;
        for (int n = 1; n < 200; n++) {
            term *= -x2 / n;
            double t = term / (2 * n + 1);
            sum += t;
            if (Math.abs(t) < 1e-17 * Math.abs(sum)) break;
        }
        return 2 / Math.sqrt(Math.PI) * sum;
    }

    static double sigmoid(double x) {
        return x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x));
    }

    static final double SELU_A = 1.6732632423543772848170429916717, SELU_S = 1.0507009873554804934193349852946;
    static final double C = Math.sqrt(2 / Math.PI);

    static double unaryRef(int op, double x, double a) {
        switch (UNARY[op]) {
            case "neg": return -x;
            case "exp": return Math.exp(x);
            case "log": return Math.log(x);
            case "sqrt": return Math.sqrt(x);
            case "tanh": return Math.tanh(x);
            case "sigmoid": return sigmoid(x);
            case "relu": return Math.max(x, 0);
            case "leaky_relu": return x > 0 ? x : a * x;
            case "elu": return x > 0 ? x : a * Math.expm1(x);
            case "gelu": return 0.5 * x * (1 + erf(x / Math.sqrt(2)));
            case "softplus": return Math.max(x, 0) + Math.log1p(Math.exp(-Math.abs(x)));
            case "abs": return Math.abs(x);
            case "square": return x * x;
            case "reciprocal": return 1 / x;
            case "gelu_tanh": return 0.5 * x * (1 + Math.tanh(C * (x + 0.044715 * x * x * x)));
            case "selu": return x > 0 ? SELU_S * x : SELU_S * SELU_A * Math.expm1(x);
            case "swish": return x * sigmoid(x);
            case "softsign": return x / (1 + Math.abs(x));
            case "hard_sigmoid": return Math.min(Math.max(x + 3, 0), 6) / 6;
            case "relu6": return Math.min(Math.max(x, 0), 6);
            default: throw new AssertionError(op);
        }
    }

    static double unaryDeriv(int op, double x, double a) {
        switch (UNARY[op]) {
            case "neg": return -1;
            case "exp": return Math.exp(x);
            case "log": return 1 / x;
            case "sqrt": return 0.5 / Math.sqrt(x);
            case "tanh": return 1 - Math.tanh(x) * Math.tanh(x);
            case "sigmoid": return sigmoid(x) * (1 - sigmoid(x));
            case "relu": return x > 0 ? 1 : 0;
            case "leaky_relu": return x > 0 ? 1 : a;
            case "elu": return x > 0 ? 1 : a * Math.exp(x);
            case "gelu": return 0.5 * (1 + erf(x / Math.sqrt(2))) + x * Math.exp(-x * x / 2) / Math.sqrt(2 * Math.PI);
            case "softplus": return sigmoid(x);
            case "abs": return x > 0 ? 1 : x < 0 ? -1 : 0;
            case "square": return 2 * x;
            case "reciprocal": return -1 / (x * x);
            case "gelu_tanh": {
                double t = Math.tanh(C * (x + 0.044715 * x * x * x));
                return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * C * (1 + 3 * 0.044715 * x * x);
            }
            case "selu": return x > 0 ? SELU_S : SELU_S * SELU_A * Math.exp(x);
            case "swish": return sigmoid(x) * (1 + x * (1 - sigmoid(x)));
            case "softsign": return 1 / ((1 + Math.abs(x)) * (1 + Math.abs(x)));
            case "hard_sigmoid": return x > -3 && x < 3 ? 1.0 / 6 : 0;
            case "relu6": return x > 0 && x < 6 ? 1 : 0;
            default: throw new AssertionError(op);
        }
    }

    static double alphaFor(int op) {
        return UNARY[op].equals("leaky_relu") ? 0.2 : UNARY[op].equals("elu") ? 1.3 : 0.0;
    }

    /** Test inputs for op: positive-only domain for log/sqrt/reciprocal, kinks avoided. */
    static double[] unaryInputs(int op, int n, long seed) {
        String name = UNARY[op];
        double[] x;
        if (name.equals("log") || name.equals("sqrt") || name.equals("reciprocal")) {
            x = uniformArr(seed, n, 0.1, 5);
        } else if (name.equals("gelu")) {
            x = uniformArr(seed, n, -3.4, 3.4);
        } else {
            x = uniformArr(seed, n, -8, 8);
        }
        for (int i = 0; i < n; i++) { // keep away from kinks (0, +-3, 6) for derivative checks
            for (double k : new double[] {0, 3, -3, 6}) {
                if (Math.abs(x[i] - k) < 1e-3) x[i] = k + 0.01;
            }
        }
        return x;
    }

    double[] unaryNative(int op, int dtype, double[] x, double alpha) {
        long px = put(dtype, x), py = alloc(dtype, x.length);
        NativeOps.unary(op, dtype, px, py, x.length, alpha);
        return read(dtype, py, x.length);
    }

    static double[] unaryBackwardNative(NativeOpsTest t, int op, int dtype, double[] x, double[] gy, double alpha) {
        long px = t.put(dtype, x), py = t.alloc(dtype, x.length), pgy = t.put(dtype, gy), pgx = t.alloc(dtype, x.length);
        NativeOps.unary(op, dtype, px, py, x.length, alpha);
        NativeOps.unaryBackward(op, dtype, px, py, pgy, pgx, x.length, alpha);
        return read(dtype, pgx, x.length);
    }

    // ---- library --------------------------------------------------------------------------------------------

    @Test
    void versionAndTables() {
        String v = NativeOps.version();
        assertTrue(v.startsWith("pydl-native "), v);
        assertArrayEquals(UNARY, NativeOps.unaryOpNames());
        assertArrayEquals(BINARY, NativeOps.binaryOpNames());
        assertArrayEquals(REDUCE, NativeOps.reduceOpNames());
        assertFalse(NativeOps.isReference());
        NativeOps.setReference(true);
        assertTrue(NativeOps.isReference());
        NativeOps.setReference(false);
        assertTrue(NativeOps.getNumThreads() >= 1);
        NativeOps.setNumThreads(1);
        assertEquals(1, NativeOps.getNumThreads());
        throwsJava(IllegalArgumentException.class, () -> NativeOps.setNumThreads(0), "setNumThreads");
    }

    // ---- memory ---------------------------------------------------------------------------------------------

    @Test
    void mallocFreeAccounting() {
        long before = NativeOps.allocatedBytes();
        long a = NativeOps.malloc(1000);
        long z = NativeOps.malloc(0);
        assertEquals(0, a % 64, "64-byte aligned");
        assertEquals(0, z % 64, "64-byte aligned");
        assertNotEquals(0, z);
        assertEquals(before + 1000, NativeOps.allocatedBytes());
        NativeOps.fill(F32, a, 250, 1.5);
        NativeOps.fill(F32, z, 0, 1.5);
        NativeOps.free(a);
        NativeOps.free(z);
        assertEquals(before, NativeOps.allocatedBytes());
        throwsJava(IllegalArgumentException.class, () -> NativeOps.free(a), "free");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.malloc(-1), "malloc", "-1");
    }

    @Test
    void fillAllDtypes() {
        for (int dt : new int[] {F32, F64, I32}) {
            for (boolean ref : new boolean[] {false, true}) {
                NativeOps.setReference(ref);
                int n = ref ? 1000 : BIG;
                long p = alloc(dt, n);
                NativeOps.fill(dt, p, n, 3.0);
                double[] v = read(dt, p, n);
                for (double x : v) assertEquals(3.0, x);
            }
        }
    }

    @Test
    void copyBytesOverlapping() {
        long p = put(F32, new double[] {0, 1, 2, 3, 4, 5, 6, 7});
        NativeOps.copyBytes(p, p + 8, 16); // memmove semantics
        assertArrayEquals(new double[] {0, 1, 0, 1, 2, 3, 6, 7}, read(F32, p, 8));
    }

    @Test
    void copyStridedTransposeAndBroadcast() {
        for (int dt : new int[] {F32, F64, I32}) {
            for (boolean ref : new boolean[] {false, true}) {
                NativeOps.setReference(ref);
                // transpose a [3, 4] matrix into [4, 3]
                double[] a = new double[12];
                for (int i = 0; i < 12; i++) a[i] = i;
                long src = put(dt, a), dst = alloc(dt, 12);
                NativeOps.copyStrided(dt, src, new long[] {1, 4}, dst, new long[] {3, 1}, new long[] {4, 3});
                double[] out = read(dt, dst, 12);
                for (int i = 0; i < 4; i++) for (int j = 0; j < 3; j++) assertEquals(a[j * 4 + i], out[i * 3 + j]);
                // broadcast a row (src stride 0)
                long row = put(dt, new double[] {7, 8, 9});
                NativeOps.copyStrided(dt, row, new long[] {0, 1}, dst, new long[] {3, 1}, new long[] {4, 3});
                out = read(dt, dst, 12);
                for (int i = 0; i < 12; i++) assertEquals(7 + i % 3, out[i]);
                // 0-d copy
                NativeOps.copyStrided(dt, row, new long[0], dst, new long[0], new long[0]);
                assertEquals(7, read(dt, dst, 1)[0]);
            }
        }
    }

    @Test
    void copyStridedManyDimsVsReference() {
        long[] shape = {2, 3, 2, 5, 2, 3, 2, 7}; // 8-d permutation
        int n = numel(shape);
        long[] cs = contiguousStrides(shape);
        int[] perm = {7, 2, 5, 0, 3, 1, 6, 4};
        long[] srcStrides = new long[8];
        long[] permShape = new long[8];
        for (int d = 0; d < 8; d++) permShape[d] = shape[perm[d]];
        long[] ps = contiguousStrides(permShape);
        for (int d = 0; d < 8; d++) srcStrides[perm[d]] = ps[d];
        double[] data = randn(5, n, 1);
        for (int dt : FLOATS) {
            long src = put(dt, data), dst = alloc(dt, n);
            double[][] r = bothModes(() -> {
                NativeOps.copyStrided(dt, src, srcStrides, dst, cs, shape);
                return read(dt, dst, n);
            });
            assertArrayEquals(r[1], r[0]);
            double[] rd = rounded(dt, data);
            for (int i = 0; i < n; i++) assertEquals(rd[(int) offset(i, shape, srcStrides)], r[0][i]);
        }
        // large contiguous-in-rows copy above the threshold
        long[] big = {317, 401};
        int bn = numel(big);
        double[] d2 = randn(6, bn, 1);
        long src = put(F32, d2), dst = alloc(F32, bn);
        double[][] r = bothModes(() -> {
            NativeOps.copyStrided(F32, src, new long[] {1, 317}, dst, new long[] {401, 1}, new long[] {317, 401});
            return read(F32, dst, bn);
        });
        assertArrayEquals(r[1], r[0]);
    }

    @Test
    void castAllPairs() {
        double[] v = {0, 1.75, -2.5, 1e6, -7.9, 123456.0};
        int[] all = {F32, F64, I32};
        for (int s : all) {
            for (int d : all) {
                for (boolean ref : new boolean[] {false, true}) {
                    NativeOps.setReference(ref);
                    long src = put(s, v), dst = alloc(d, v.length);
                    NativeOps.cast(s, src, d, dst, v.length);
                    double[] got = read(d, dst, v.length);
                    double[] in = read(s, src, v.length);
                    for (int i = 0; i < v.length; i++) {
                        double e = d == I32 ? (double) (int) in[i] : d == F32 ? (float) in[i] : in[i];
                        assertEquals(e, got[i], "cast " + s + "->" + d + " [" + i + "]");
                    }
                }
            }
        }
        double[] big = randn(9, BIG, 100);
        for (int s : all) {
            for (int d : all) {
                long src = put(s, big), dst = alloc(d, BIG);
                double[][] r = bothModes(() -> {
                    NativeOps.cast(s, src, d, dst, BIG);
                    return read(d, dst, BIG);
                });
                assertArrayEquals(r[1], r[0], "cast " + s + "->" + d);
            }
        }
    }

    // ---- unary ----------------------------------------------------------------------------------------------

    @Test
    void unaryForwardVsJava() {
        for (int op = 0; op < UNARY.length; op++) {
            double a = alphaFor(op);
            for (int dt : FLOATS) {
                for (boolean ref : new boolean[] {false, true}) {
                    NativeOps.setReference(ref);
                    double[] x = rounded(dt, unaryInputs(op, 2001, op));
                    double[] expected = new double[x.length];
                    for (int i = 0; i < x.length; i++) expected[i] = unaryRef(op, x[i], a);
                    close(expected, unaryNative(op, dt, x, a), tol(dt) * 2,
                            UNARY[op] + " dtype " + dt + (ref ? " ref" : " opt"));
                }
            }
        }
    }

    @Test
    void unarySpecialValues() {
        for (int dt : FLOATS) {
            for (boolean ref : new boolean[] {false, true}) {
                NativeOps.setReference(ref);
                String m = (ref ? "ref" : "opt") + " dtype " + dt;
                double[] big = {-1000, -100, -50, 50, 100, 1000};
                double[] sig = unaryNative(op("sigmoid"), dt, big, 0);
                for (int i = 0; i < big.length; i++) {
                    assertFalse(Double.isNaN(sig[i]), "sigmoid stable " + m);
                    assertEquals(big[i] > 0 ? 1.0 : 0.0, sig[i], 1e-15, "sigmoid saturates " + m);
                }
                double[] sp = unaryNative(op("softplus"), dt, big, 0);
                for (int i = 0; i < big.length; i++) {
                    assertEquals(big[i] > 0 ? big[i] : 0.0, sp[i], 1e-9, "softplus stable " + m);
                }
                double[] tanh = unaryNative(op("tanh"), dt, big, 0);
                for (int i = 0; i < big.length; i++) assertEquals(Math.signum(big[i]), tanh[i], 0, "tanh " + m);
                double[] lg = unaryNative(op("log"), dt, new double[] {0, -1}, 0);
                assertEquals(Double.NEGATIVE_INFINITY, lg[0], "log(0) " + m);
                assertTrue(Double.isNaN(lg[1]), "log(-1) " + m);
                double[] ex = unaryNative(op("exp"), dt, new double[] {Double.NaN, -1e4, 1e4}, 0);
                assertTrue(Double.isNaN(ex[0]));
                assertEquals(0.0, ex[1]);
                assertEquals(Double.POSITIVE_INFINITY, ex[2]);
                // kinks: relu'(0) = 0, abs'(0) = 0
                double[] one = {1};
                double[] gx = unaryBackwardNative(this, op("relu"), dt, new double[] {0}, one, 0);
                assertEquals(0.0, gx[0]);
                gx = unaryBackwardNative(this, op("abs"), dt, new double[] {0}, one, 0);
                assertEquals(0.0, gx[0]);
            }
        }
    }

    static int op(String name) {
        return Arrays.asList(UNARY).indexOf(name);
    }

    @Test
    void unaryBackwardVsJavaAndFiniteDifferences() {
        for (int op = 0; op < UNARY.length; op++) {
            double a = alphaFor(op);
            for (int dt : FLOATS) {
                for (boolean ref : new boolean[] {false, true}) {
                    NativeOps.setReference(ref);
                    double[] x = rounded(dt, unaryInputs(op, 1001, 100 + op));
                    double[] gy = rounded(dt, randn(7, x.length, 1));
                    double[] expected = new double[x.length];
                    for (int i = 0; i < x.length; i++) expected[i] = gy[i] * unaryDeriv(op, x[i], a);
                    double[] got = unaryBackwardNative(this, op, dt, x, gy, a);
                    // gx = gy * f'(x): compare relative to |gy| * scale of the derivative
                    close(expected, got, dt == F32 ? 1e-4 : 1e-10, UNARY[op] + " backward dtype " + dt);
                }
            }
            // finite differences through the native forward, float64
            final int o = op;
            double[] x = unaryInputs(op, 200, 200 + op);
            double h = 1e-6;
            double[] xp = x.clone(), xm = x.clone();
            for (int i = 0; i < x.length; i++) {
                xp[i] += h;
                xm[i] -= h;
            }
            double[] fp = unaryNative(o, F64, xp, a), fm = unaryNative(o, F64, xm, a);
            double[] ones = new double[x.length];
            Arrays.fill(ones, 1);
            double[] g = unaryBackwardNative(this, o, F64, x, ones, a);
            for (int i = 0; i < x.length; i++) {
                double fd = (fp[i] - fm[i]) / (2 * h);
                assertEquals(fd, g[i], 1e-5 * (1 + Math.abs(fd)), UNARY[o] + " finite difference at " + x[i]);
            }
        }
    }

    @Test
    void unaryOptimisedMatchesReferenceAboveThreshold() {
        for (int op = 0; op < UNARY.length; op++) {
            double a = alphaFor(op);
            for (int dt : FLOATS) {
                double[] x = unaryInputs(op, BIG, 300 + op);
                double[] gy = randn(8, BIG, 1);
                long px = put(dt, x), py = alloc(dt, BIG), pgy = put(dt, gy), pgx = alloc(dt, BIG);
                final int o = op;
                double[][] f = bothModes(() -> {
                    NativeOps.unary(o, dt, px, py, BIG, a);
                    return read(dt, py, BIG);
                });
                close(f[1], f[0], tol(dt) * 2, UNARY[op] + " opt vs ref dtype " + dt);
                NativeOps.unary(o, dt, px, py, BIG, a);
                double[][] b = bothModes(() -> {
                    NativeOps.unaryBackward(o, dt, px, py, pgy, pgx, BIG, a);
                    return read(dt, pgx, BIG);
                });
                close(b[1], b[0], dt == F32 ? 1e-4 : 1e-10, UNARY[op] + " backward opt vs ref dtype " + dt);
            }
        }
    }

    @Test
    void unaryInPlace() {
        long p = put(F32, new double[] {-1, 2, -3, 4});
        NativeOps.unary(op("relu"), F32, p, p, 4, 0);
        assertArrayEquals(new double[] {0, 2, 0, 4}, read(F32, p, 4));
    }

    // ---- binary ---------------------------------------------------------------------------------------------

    static double binaryRef(int op, double a, double b) {
        switch (BINARY[op]) {
            case "add": return a + b;
            case "sub": return a - b;
            case "mul": return a * b;
            case "div": return a / b;
            case "pow": return Math.pow(a, b);
            case "maximum": return Math.max(a, b);
            case "minimum": return Math.min(a, b);
            default: throw new AssertionError();
        }
    }

    /** Runs binary(op) on a (aShape-sized data, strides) and b and compares with a Java loop. */
    void checkBinary(int op, int dt, long[] shape, double[] a, long[] as, double[] b, long[] bs, String what) {
        int n = numel(shape);
        long pa = put(dt, a), pb = put(dt, b), po = alloc(dt, n);
        double[] ra = rounded(dt, a), rb = rounded(dt, b);
        double[] expected = new double[n];
        for (int i = 0; i < n; i++) {
            double r = binaryRef(op, ra[(int) offset(i, shape, as)], rb[(int) offset(i, shape, bs)]);
            expected[i] = dt == F32 ? (float) r : r;
        }
        double[][] r = bothModes(() -> {
            NativeOps.binary(op, dt, pa, as, pb, bs, po, shape);
            return read(dt, po, n);
        });
        close(expected, r[0], tol(dt), BINARY[op] + " " + what + " opt dtype " + dt);
        close(expected, r[1], tol(dt), BINARY[op] + " " + what + " ref dtype " + dt);
    }

    @Test
    void binaryBroadcasting() {
        for (int op = 0; op < BINARY.length; op++) {
            for (int dt : FLOATS) {
                boolean pow = BINARY[op].equals("pow");
                double[] a = pow ? uniformArr(1, 12, 0.5, 3) : randn(1, 12, 2);
                double[] b = pow ? uniformArr(2, 12, -2, 2) : uniformArr(2, 12, 0.5, 3);
                long[] sh = {3, 4};
                checkBinary(op, dt, sh, a, new long[] {4, 1}, b, new long[] {4, 1}, "same shape");
                checkBinary(op, dt, sh, a, new long[] {4, 1}, b, new long[] {0, 1}, "row broadcast");
                checkBinary(op, dt, sh, a, new long[] {4, 1}, b, new long[] {1, 0}, "column broadcast");
                checkBinary(op, dt, sh, a, new long[] {4, 1}, b, new long[] {0, 0}, "scalar b");
                checkBinary(op, dt, sh, a, new long[] {0, 0}, b, new long[] {4, 1}, "scalar a");
                checkBinary(op, dt, sh, a, new long[] {1, 3}, b, new long[] {0, 1}, "transposed a");
                checkBinary(op, dt, new long[] {2, 3, 2}, a, new long[] {6, 2, 1}, b, new long[] {0, 1, 0}, "3-d");
                checkBinary(op, dt, new long[0], a, new long[0], b, new long[0], "0-d");
            }
        }
    }

    @Test
    void binaryNaNPropagation() {
        long a = put(F64, new double[] {Double.NaN, 1, 2});
        long b = put(F64, new double[] {1, Double.NaN, 1});
        long o = alloc(F64, 3);
        for (String name : new String[] {"maximum", "minimum"}) {
            for (boolean ref : new boolean[] {false, true}) {
                NativeOps.setReference(ref);
                NativeOps.binary(Arrays.asList(BINARY).indexOf(name), F64, a, new long[] {1}, b, new long[] {1}, o,
                        new long[] {3});
                double[] r = read(F64, o, 3);
                assertTrue(Double.isNaN(r[0]) && Double.isNaN(r[1]), name);
                assertEquals(name.equals("maximum") ? 2 : 1, r[2]);
            }
        }
    }

    @Test
    void binaryOptimisedMatchesReferenceAboveThreshold() {
        int rows = 317, cols = 401; // 127117 elements
        long[] sh = {rows, cols};
        int n = rows * cols;
        for (int op = 0; op < BINARY.length; op++) {
            for (int dt : FLOATS) {
                boolean pow = BINARY[op].equals("pow");
                double[] a = pow ? uniformArr(1, n, 0.5, 3) : randn(1, n, 2);
                double[] b = pow ? uniformArr(2, n, -2, 2) : uniformArr(2, n, 0.5, 3);
                long pa = put(dt, a), pb = put(dt, b), po = alloc(dt, n);
                long[][][] cases = {
                    {{cols, 1}, {cols, 1}}, // same shape
                    {{cols, 1}, {0, 1}}, // bias add
                    {{cols, 1}, {0, 0}}, // scalar
                    {{1, rows}, {1, 0}}, // transposed + column
                };
                for (long[][] c : cases) {
                    final int o = op;
                    double[][] r = bothModes(() -> {
                        NativeOps.binary(o, dt, pa, c[0], pb, c[1], po, sh);
                        return read(dt, po, n);
                    });
                    close(r[1], r[0], tol(dt), BINARY[op] + " " + Arrays.deepToString(c) + " dtype " + dt);
                }
            }
        }
    }

    @Test
    void affineWorks() {
        for (int dt : FLOATS) {
            double[] x = randn(3, BIG, 1);
            long px = put(dt, x), py = alloc(dt, BIG);
            double[][] r = bothModes(() -> {
                NativeOps.affine(dt, px, py, BIG, 2.5, -1);
                return read(dt, py, BIG);
            });
            double[] rx = rounded(dt, x);
            double[] e = new double[BIG];
            for (int i = 0; i < BIG; i++) e[i] = rx[i] * 2.5 - 1;
            close(e, r[0], tol(dt), "affine opt");
            close(e, r[1], tol(dt), "affine ref");
            NativeOps.affine(dt, px, px, BIG, 2.5, -1); // in place
            close(e, read(dt, px, BIG), tol(dt), "affine in place");
        }
    }

    // ---- reductions -----------------------------------------------------------------------------------------

    static double[] reduceRef(int op, double[] x, int outer, int n, int inner) {
        double[] out = new double[outer * inner];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double acc = op == SUM ? 0 : x[o * n * inner + i];
                for (int j = 0; j < n; j++) {
                    double v = x[(o * n + j) * inner + i];
                    acc = op == SUM ? acc + v : op == MAX ? Math.max(acc, v) : Math.min(acc, v);
                }
                out[o * inner + i] = acc;
            }
        }
        return out;
    }

    static final int[][] SHAPES3 = {{1, 7, 1}, {4, 5, 1}, {3, 4, 6}, {1, 9, 300}, {2, 1, 3}, {5, 300, 2},
        {1, 40000, 1}, {70000, 3, 1}, {3, 200, 600}, {200, 300, 1}, {1, 3, 40001}};

    @Test
    void reduceVsJavaAndReference() {
        for (int op = 0; op < 3; op++) {
            for (int dt : FLOATS) {
                for (int[] s : SHAPES3) {
                    int outer = s[0], n = s[1], inner = s[2], total = outer * n * inner;
                    double[] x = rounded(dt, randn(11, total, 1));
                    long px = put(dt, x), po = alloc(dt, outer * inner);
                    final int o = op;
                    double[][] r = bothModes(() -> {
                        NativeOps.reduce(o, dt, px, po, outer, n, inner);
                        return read(dt, po, outer * inner);
                    });
                    double[] e = reduceRef(op, x, outer, n, inner);
                    double t = op == SUM ? (dt == F32 ? 1e-5 * Math.sqrt(n) : 1e-11) : 0;
                    String what = REDUCE[op] + " " + Arrays.toString(s) + " dtype " + dt;
                    close(e, r[0], t, what + " opt");
                    close(e, r[1], t, what + " ref");
                    release(px);
                    release(po);
                }
            }
        }
        // sum over an empty axis is 0
        long px = alloc(F32, 1), po = alloc(F32, 3);
        NativeOps.reduce(SUM, F32, px, po, 3, 0, 1);
        assertArrayEquals(new double[] {0, 0, 0}, read(F32, po, 3));
        throwsJava(IllegalArgumentException.class, () -> NativeOps.reduce(MAX, F32, px, po, 3, 0, 1), "reduce");
    }

    @Test
    void reduceMaxPropagatesNaN() {
        for (boolean ref : new boolean[] {false, true}) {
            NativeOps.setReference(ref);
            long px = put(F32, new double[] {1, Double.NaN, 3, 4, 5, 6});
            long po = alloc(F32, 3);
            NativeOps.reduce(MAX, F32, px, po, 1, 6, 1);
            assertTrue(Double.isNaN(read(F32, po, 1)[0]));
            NativeOps.reduce(MIN, F32, px, po, 1, 2, 3); // [2,3] over axis 0
            double[] r = read(F32, po, 3);
            assertTrue(Double.isNaN(r[1]));
            assertEquals(1, r[0]);
            assertEquals(3, r[2]);
        }
    }

    @Test
    void argmaxFirstMaximum() {
        for (int dt : FLOATS) {
            for (boolean ref : new boolean[] {false, true}) {
                NativeOps.setReference(ref);
                long px = put(dt, new double[] {1, 5, 5, 2, 9, 9, 0, 1});
                long po = alloc(I32, 4);
                NativeOps.argmax(dt, px, po, 2, 4, 1);
                assertArrayEquals(new double[] {1, 0}, read(I32, po, 2));
                NativeOps.argmax(dt, px, po, 1, 2, 4); // [2,4] over axis 0
                assertArrayEquals(new double[] {1, 1, 0, 0}, read(I32, po, 4));
            }
        }
        for (int dt : FLOATS) {
            for (int[] s : SHAPES3) {
                int outer = s[0], n = s[1], inner = s[2], total = outer * n * inner;
                double[] x = randn(12, total, 1);
                for (int i = 0; i < total; i += 7) x[i] = 1.0; // ties
                long px = put(dt, x), po = alloc(I32, outer * inner);
                double[][] r = bothModes(() -> {
                    NativeOps.argmax(dt, px, po, outer, n, inner);
                    return read(I32, po, outer * inner);
                });
                assertArrayEquals(r[1], r[0], "argmax " + Arrays.toString(s));
                double[] rx = rounded(dt, x);
                for (int o = 0; o < outer; o++) {
                    for (int i = 0; i < inner; i++) {
                        int best = 0;
                        for (int j = 1; j < n; j++) {
                            if (rx[(o * n + j) * inner + i] > rx[(o * n + best) * inner + i]) best = j;
                        }
                        assertEquals(best, (int) r[0][o * inner + i]);
                    }
                }
                release(px);
                release(po);
            }
        }
    }

    // ---- softmax --------------------------------------------------------------------------------------------

    static double[] softmaxRef(double[] x, int outer, int n, int inner, boolean log) {
        double[] y = new double[x.length];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double m = Double.NEGATIVE_INFINITY;
                for (int j = 0; j < n; j++) m = Math.max(m, x[(o * n + j) * inner + i]);
                double s = 0;
                for (int j = 0; j < n; j++) s += Math.exp(x[(o * n + j) * inner + i] - m);
                for (int j = 0; j < n; j++) {
                    int k = (o * n + j) * inner + i;
                    y[k] = log ? x[k] - m - Math.log(s) : Math.exp(x[k] - m) / s;
                }
            }
        }
        return y;
    }

    static double[] softmaxBackwardRef(double[] y, double[] gy, int outer, int n, int inner, boolean log) {
        double[] gx = new double[y.length];
        for (int o = 0; o < outer; o++) {
            for (int i = 0; i < inner; i++) {
                double s = 0;
                for (int j = 0; j < n; j++) {
                    int k = (o * n + j) * inner + i;
                    s += log ? gy[k] : gy[k] * y[k];
                }
                for (int j = 0; j < n; j++) {
                    int k = (o * n + j) * inner + i;
                    gx[k] = log ? gy[k] - Math.exp(y[k]) * s : y[k] * (gy[k] - s);
                }
            }
        }
        return gx;
    }

    @Test
    void softmaxForwardBackward() {
        for (boolean log : new boolean[] {false, true}) {
            for (int dt : FLOATS) {
                for (int[] s : SHAPES3) {
                    int outer = s[0], n = s[1], inner = s[2], total = outer * n * inner;
                    if (total > 200_000) continue;
                    double[] x = rounded(dt, randn(13, total, 3));
                    x[0] += 500; // stability: large logits
                    double[] gy = rounded(dt, randn(14, total, 1));
                    long px = put(dt, x), py = alloc(dt, total), pgy = put(dt, gy), pgx = alloc(dt, total);
                    double[][] f = bothModes(() -> {
                        NativeOps.softmax(dt, px, py, outer, n, inner, log);
                        return read(dt, py, total);
                    });
                    String what = (log ? "log_softmax " : "softmax ") + Arrays.toString(s) + " dtype " + dt;
                    double[] e = softmaxRef(x, outer, n, inner, log);
                    double t = dt == F32 ? 1e-5 : 1e-11;
                    close(e, f[0], t, what + " opt");
                    close(e, f[1], t, what + " ref");
                    double[] y = read(dt, py, total);
                    double[][] b = bothModes(() -> {
                        NativeOps.softmaxBackward(dt, py, pgy, pgx, outer, n, inner, log);
                        return read(dt, pgx, total);
                    });
                    double[] eb = softmaxBackwardRef(y, gy, outer, n, inner, log);
                    double tb = dt == F32 ? 2e-5 * Math.sqrt(n) : 1e-10;
                    close(eb, b[0], tb, what + " backward opt");
                    close(eb, b[1], tb, what + " backward ref");
                    for (long p : new long[] {px, py, pgy, pgx}) release(p);
                }
            }
        }
    }

    // ---- GEMM -----------------------------------------------------------------------------------------------

    /** C_b = alpha op(A_b) op(B_b) + beta C_b in Java doubles, on dtype-rounded inputs. */
    static double[] gemmRef(boolean ta, boolean tb, int m, int n, int k, double alpha, double[] a, int lda, int sa,
                            double[] b, int ldb, int sb, double beta, double[] c, int ldc, int sc, int batch) {
        double[] out = c.clone();
        for (int bi = 0; bi < batch; bi++) {
            for (int i = 0; i < m; i++) {
                for (int j = 0; j < n; j++) {
                    double acc = 0;
                    for (int p = 0; p < k; p++) {
                        double av = ta ? a[bi * sa + p * lda + i] : a[bi * sa + i * lda + p];
                        double bv = tb ? b[bi * sb + j * ldb + p] : b[bi * sb + p * ldb + j];
                        acc += av * bv;
                    }
                    int ci = bi * sc + i * ldc + j;
                    out[ci] = alpha * acc + (beta == 0 ? 0 : beta * c[ci]);
                }
            }
        }
        return out;
    }

    void checkGemm(int dt, boolean ta, boolean tb, int m, int n, int k, double alpha, double beta, int batch,
                   boolean shareA, int pad) {
        int lda = (ta ? m : k) + pad, ldb = (tb ? k : n) + pad, ldc = n + pad;
        int aRows = ta ? k : m, bRows = tb ? n : k;
        int sa = shareA ? 0 : aRows * lda, sb = bRows * ldb, sc = m * ldc;
        int aLen = Math.max(1, shareA ? aRows * lda : batch * sa);
        int bLen = Math.max(1, batch * sb), cLen = Math.max(1, batch * sc);
        double[] a = rounded(dt, randn(21, aLen, 1)), b = rounded(dt, randn(22, bLen, 1));
        double[] c = rounded(dt, randn(23, cLen, 1));
        long pa = put(dt, a), pb = put(dt, b), pc = alloc(dt, cLen);
        double[][] r = bothModes(() -> {
            write(dt, pc, c);
            NativeOps.gemm(dt, ta, tb, m, n, k, alpha, pa, lda, sa, pb, ldb, sb, beta, pc, ldc, sc, batch);
            return read(dt, pc, cLen);
        });
        double[] e = gemmRef(ta, tb, m, n, k, alpha, a, lda, sa, b, ldb, sb, beta, c, ldc, sc, batch);
        String what = "gemm dt=" + dt + " ta=" + ta + " tb=" + tb + " m,n,k=" + m + "," + n + "," + k + " batch="
                + batch + " shareA=" + shareA;
        double t = dt == F32 ? 1e-5 * Math.sqrt(k + 1) : 1e-11;
        close(e, r[0], t, what + " opt");
        close(e, r[1], t, what + " ref");
        close(r[1], r[0], t, what + " opt vs ref");
        for (long p : new long[] {pa, pb, pc}) release(p);
    }

    @Test
    void gemmTransposesBatchesAndEdgeCases() {
        for (int dt : FLOATS) {
            for (boolean ta : new boolean[] {false, true}) {
                for (boolean tb : new boolean[] {false, true}) {
                    checkGemm(dt, ta, tb, 5, 7, 3, 1.0, 0.0, 1, false, 0);
                    checkGemm(dt, ta, tb, 17, 9, 33, 0.5, 1.5, 3, false, 2);
                    checkGemm(dt, ta, tb, 8, 6, 4, 1.0, 1.0, 4, true, 0); // strideA = 0
                    checkGemm(dt, ta, tb, 130, 140, 150, 1.0, 0.0, 2, false, 1); // above threshold
                }
            }
            checkGemm(dt, false, false, 4, 5, 0, 1.0, 2.0, 2, false, 0); // k = 0: C = beta C
            checkGemm(dt, false, false, 4, 5, 0, 1.0, 0.0, 1, false, 0); // k = 0, beta = 0: C = 0
            checkGemm(dt, false, true, 0, 5, 3, 1.0, 0.0, 1, false, 0); // m = 0
            checkGemm(dt, true, false, 4, 0, 3, 1.0, 0.0, 1, false, 0); // n = 0
            checkGemm(dt, false, false, 3, 3, 3, 1.0, 0.0, 0, false, 0); // batch = 0
        }
        // beta = 0 must ignore NaN in C
        long a = put(F32, new double[] {1, 2, 3, 4}), b = put(F32, new double[] {1, 0, 0, 1});
        long c = put(F32, new double[] {Double.NaN, Double.NaN, Double.NaN, Double.NaN});
        NativeOps.gemm(F32, false, false, 2, 2, 2, 1, a, 2, 0, b, 2, 0, 0, c, 2, 0, 1);
        assertArrayEquals(new double[] {1, 2, 3, 4}, read(F32, c, 4));
    }

    // ---- losses ---------------------------------------------------------------------------------------------

    @Test
    void crossEntropyForwardBackward() {
        int[][] sizes = {{4, 3}, {64, 10}, {5000, 10}, {3, 1}};
        for (int dt : FLOATS) {
            for (int[] s : sizes) {
                int n = s[0], c = s[1];
                double[] x = rounded(dt, randn(31, n * c, 4));
                x[0] = dt == F32 ? 80 : 700; // would overflow a naive exp
                int[] labels = new int[n];
                Random r = new Random(32);
                for (int i = 0; i < n; i++) labels[i] = r.nextInt(c);
                double[] gy = rounded(dt, randn(33, n, 1));
                long px = put(dt, x), pl = putInts(labels), ploss = alloc(dt, n), pp = alloc(dt, n * c);
                long pgy = put(dt, gy), pgx = alloc(dt, n * c);
                double[][] loss = bothModes(() -> {
                    NativeOps.softmaxCrossEntropy(dt, px, pl, ploss, pp, n, c);
                    double[] l = read(dt, ploss, n);
                    double[] p = read(dt, pp, n * c);
                    double[] both = Arrays.copyOf(l, n + n * c);
                    System.arraycopy(p, 0, both, n, n * c);
                    return both;
                });
                double[] probs = softmaxRef(x, n, c, 1, false), logp = softmaxRef(x, n, c, 1, true);
                double[] e = new double[n + n * c];
                for (int i = 0; i < n; i++) e[i] = -logp[i * c + labels[i]];
                System.arraycopy(probs, 0, e, n, n * c);
                String what = "cross-entropy " + Arrays.toString(s) + " dtype " + dt;
                close(e, loss[0], dt == F32 ? 1e-5 : 1e-11, what + " opt");
                close(e, loss[1], dt == F32 ? 1e-5 : 1e-11, what + " ref");
                double[][] g = bothModes(() -> {
                    NativeOps.softmaxCrossEntropyBackward(dt, pp, pl, pgy, pgx, n, c);
                    return read(dt, pgx, n * c);
                });
                double[] p = read(dt, pp, n * c);
                double[] eg = new double[n * c];
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < c; j++) eg[i * c + j] = (p[i * c + j] - (j == labels[i] ? 1 : 0)) * gy[i];
                }
                close(eg, g[0], tol(dt), what + " backward opt");
                close(eg, g[1], tol(dt), what + " backward ref");
            }
        }
    }

    @Test
    void gatherScatterAdd() {
        for (int dt : FLOATS) {
            for (int n : new int[] {5, BIG}) {
                int c = 3;
                double[] x = randn(41, n * c, 1);
                int[] idx = new int[n];
                for (int i = 0; i < n; i++) idx[i] = (i * 7) % c;
                long px = put(dt, x), pi = putInts(idx), po = alloc(dt, n), pg = alloc(dt, n * c);
                double[][] r = bothModes(() -> {
                    NativeOps.gather(dt, px, pi, po, n, c);
                    return read(dt, po, n);
                });
                double[] rx = rounded(dt, x);
                for (int i = 0; i < n; i++) assertEquals(rx[i * c + idx[i]], r[0][i]);
                assertArrayEquals(r[0], r[1]);
                double[][] s = bothModes(() -> {
                    NativeOps.fill(dt, pg, (long) n * c, 1.0);
                    NativeOps.scatterAdd(dt, po, pi, pg, n, c);
                    return read(dt, pg, n * c);
                });
                for (int i = 0; i < n; i++) {
                    for (int j = 0; j < c; j++) {
                        double e = 1 + (j == idx[i] ? r[0][i] : 0);
                        assertEquals(dt == F32 ? (float) e : e, s[0][i * c + j]);
                    }
                }
                assertArrayEquals(s[0], s[1]);
            }
        }
    }

    @Test
    void countNonFiniteCounts() {
        for (int dt : FLOATS) {
            double[] x = randn(51, BIG, 1);
            x[0] = Double.NaN;
            x[100] = Double.POSITIVE_INFINITY;
            x[BIG - 1] = Double.NEGATIVE_INFINITY;
            x[50_000] = Double.NaN;
            long px = put(dt, x);
            NativeOps.setReference(false);
            assertEquals(4, NativeOps.countNonFinite(dt, px, BIG));
            assertEquals(1, NativeOps.countNonFinite(dt, px, 10));
            NativeOps.setReference(true);
            assertEquals(4, NativeOps.countNonFinite(dt, px, BIG));
        }
    }

    // ---- random ---------------------------------------------------------------------------------------------

    @Test
    void dropoutMaskDeterministicRateAndThreadIndependent() {
        int n = 100_000;
        for (int dt : FLOATS) {
            long m1 = alloc(dt, n), m2 = alloc(dt, n);
            double rate = 0.3;
            NativeOps.dropoutMask(dt, m1, n, rate, 42);
            double[] a = read(dt, m1, n);
            NativeOps.setNumThreads(1);
            NativeOps.dropoutMask(dt, m2, n, rate, 42);
            assertArrayEquals(a, read(dt, m2, n), "thread-count independent");
            NativeOps.setNumThreads(Math.max(2, defaultThreads));
            NativeOps.dropoutMask(dt, m2, n, rate, 42);
            assertArrayEquals(a, read(dt, m2, n), "deterministic");
            NativeOps.setReference(true);
            NativeOps.dropoutMask(dt, m2, n, rate, 42);
            assertArrayEquals(a, read(dt, m2, n), "reference mode agrees");
            NativeOps.setReference(false);
            // prefix property: mask[i] depends on (seed, i) only
            NativeOps.dropoutMask(dt, m2, 1000, rate, 42);
            assertArrayEquals(Arrays.copyOf(a, 1000), read(dt, m2, 1000));
            int zeros = 0;
            double keep = dt == F32 ? (float) (1 / (1 - rate)) : 1 / (1 - rate);
            for (double v : a) {
                if (v == 0) zeros++;
                else assertEquals(keep, v);
            }
            assertEquals(rate, zeros / (double) n, 0.01, "fraction of zeros");
            NativeOps.dropoutMask(dt, m2, n, rate, 43);
            assertFalse(Arrays.equals(a, read(dt, m2, n)), "other seed, other mask");
            NativeOps.dropoutMask(dt, m2, n, 0.0, 43);
            for (double v : read(dt, m2, n)) assertEquals(1.0, v);
        }
    }

    @Test
    void uniformAndNormalMoments() {
        int n = 200_000;
        for (int dt : FLOATS) {
            long p = alloc(dt, n), q = alloc(dt, n);
            NativeOps.uniform(dt, p, n, -2, 4, 7);
            double[] u = read(dt, p, n);
            double mean = Arrays.stream(u).average().orElse(0);
            double var = Arrays.stream(u).map(v -> (v - mean) * (v - mean)).sum() / n;
            assertEquals(1.0, mean, 0.02);
            assertEquals(36.0 / 12, var, 0.03);
            for (double v : u) assertTrue(v >= -2 && v < 4);
            NativeOps.setNumThreads(1);
            NativeOps.uniform(dt, q, n, -2, 4, 7);
            assertArrayEquals(u, read(dt, q, n));
            NativeOps.setNumThreads(defaultThreads);

            NativeOps.normal(dt, p, n, 3, 2, 8);
            double[] z = read(dt, p, n);
            double zm = Arrays.stream(z).average().orElse(0);
            double zv = Arrays.stream(z).map(v -> (v - zm) * (v - zm)).sum() / n;
            double skew = Arrays.stream(z).map(v -> Math.pow((v - zm) / Math.sqrt(zv), 3)).sum() / n;
            double kurt = Arrays.stream(z).map(v -> Math.pow((v - zm) / Math.sqrt(zv), 4)).sum() / n;
            assertEquals(3.0, zm, 0.02);
            assertEquals(4.0, zv, 0.05);
            assertEquals(0.0, skew, 0.03);
            assertEquals(3.0, kurt, 0.06);
            double[][] r = bothModes(() -> {
                NativeOps.normal(dt, q, n, 3, 2, 8);
                return read(dt, q, n);
            });
            assertArrayEquals(r[0], r[1]);
            assertArrayEquals(z, r[0]);
        }
    }

    // ---- optimizers -----------------------------------------------------------------------------------------

    interface Step {
        void apply(int step);
    }

    void checkOptimizer(int dt, int n, String name, Step nativeStep, Runnable javaStep, long[] natives,
                        double[][] javaState) {
        for (int t = 1; t <= 3; t++) {
            nativeStep.apply(t);
            javaStep.run();
        }
        for (int s = 0; s < natives.length; s++) {
            close(javaState[s], read(dt, natives[s], n), dt == F32 ? 1e-5 : 1e-12, name + " state " + s);
        }
    }

    @Test
    void optimizersMatchJavadocFormulas() {
        for (boolean ref : new boolean[] {false, true}) {
            for (int dt : FLOATS) {
                NativeOps.setReference(ref);
                int n = 257;
                double[] p0 = rounded(dt, randn(61, n, 1));
                double[][] grads = {rounded(dt, randn(62, n, 1)), rounded(dt, randn(63, n, 1)),
                    rounded(dt, randn(64, n, 1))};
                long pg = alloc(dt, n);
                // SGD: v = mom*v - lr*g'; p += nesterov ? mom*v - lr*g' : v; g' = g + wd*p
                for (double mom : new double[] {0.0, 0.9}) {
                    for (boolean nest : new boolean[] {false, true}) {
                        double lr = 0.1, wd = 0.01;
                        long pp = put(dt, p0), pv = alloc(dt, n);
                        NativeOps.fill(dt, pv, n, 0);
                        double[] p = p0.clone(), v = new double[n];
                        int[] t = {0};
                        checkOptimizer(dt, n, "sgd mom=" + mom + " nesterov=" + nest + " ref=" + ref, step -> {
                            write(dt, pg, grads[step - 1]);
                            NativeOps.sgdUpdate(dt, pp, pg, mom == 0 ? 0 : pv, n, lr, mom, nest, wd);
                        }, () -> {
                            double[] g = grads[t[0]++];
                            for (int i = 0; i < n; i++) {
                                double gi = g[i] + wd * p[i];
                                if (mom == 0) {
                                    p[i] -= lr * gi;
                                } else {
                                    v[i] = mom * v[i] - lr * gi;
                                    p[i] += nest ? mom * v[i] - lr * gi : v[i];
                                }
                            }
                        }, new long[] {pp}, new double[][] {p});
                    }
                }
                // Adam / AdamW
                for (double wd : new double[] {0.0, 0.05}) {
                    double lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7;
                    long pp = put(dt, p0), pm = alloc(dt, n), pv = alloc(dt, n);
                    NativeOps.fill(dt, pm, n, 0);
                    NativeOps.fill(dt, pv, n, 0);
                    double[] p = p0.clone(), m = new double[n], v = new double[n];
                    int[] t = {0};
                    checkOptimizer(dt, n, "adam wd=" + wd + " ref=" + ref, step -> {
                        write(dt, pg, grads[step - 1]);
                        NativeOps.adamUpdate(dt, pp, pg, pm, pv, n, lr, b1, b2, eps, step, wd);
                    }, () -> {
                        int step = ++t[0];
                        double[] g = grads[step - 1];
                        double lrT = lr * Math.sqrt(1 - Math.pow(b2, step)) / (1 - Math.pow(b1, step));
                        for (int i = 0; i < n; i++) {
                            if (wd > 0) p[i] -= lr * wd * p[i];
                            m[i] = b1 * m[i] + (1 - b1) * g[i];
                            v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
                            p[i] -= lrT * m[i] / (Math.sqrt(v[i]) + eps);
                        }
                    }, new long[] {pp, pm, pv}, new double[][] {p, m, v});
                }
                // RMSProp
                for (double mom : new double[] {0.0, 0.8}) {
                    double lr = 0.01, rho = 0.9, eps = 1e-7;
                    long pp = put(dt, p0), ps = alloc(dt, n), pm = alloc(dt, n);
                    NativeOps.fill(dt, ps, n, 0);
                    NativeOps.fill(dt, pm, n, 0);
                    double[] p = p0.clone(), s = new double[n], mo = new double[n];
                    checkOptimizer(dt, n, "rmsprop mom=" + mom + " ref=" + ref, step -> {
                        write(dt, pg, grads[step - 1]);
                        NativeOps.rmspropUpdate(dt, pp, pg, ps, mom > 0 ? pm : 0, n, lr, rho, eps, mom);
                    }, new Runnable() {
                        int t = 0;

                        @Override
                        public void run() {
                            double[] g = grads[t++];
                            for (int i = 0; i < n; i++) {
                                s[i] = rho * s[i] + (1 - rho) * g[i] * g[i];
                                double inc = lr * g[i] / Math.sqrt(s[i] + eps);
                                if (mom > 0) {
                                    mo[i] = mom * mo[i] + inc;
                                    p[i] -= mo[i];
                                } else {
                                    p[i] -= inc;
                                }
                            }
                        }
                    }, new long[] {pp, ps}, new double[][] {p, s});
                }
            }
        }
    }

    @Test
    void optimizersOptimisedMatchReferenceAboveThreshold() {
        int n = BIG;
        for (int dt : FLOATS) {
            double[] p0 = randn(71, n, 1), g = randn(72, n, 1), s0 = uniformArr(73, n, 0, 1);
            long pp = alloc(dt, n), pg = put(dt, g), pa = alloc(dt, n), pb = alloc(dt, n);
            Kernel sgd = () -> {
                write(dt, pp, p0);
                write(dt, pa, s0);
                NativeOps.sgdUpdate(dt, pp, pg, pa, n, 0.1, 0.9, true, 1e-3);
                return concat(read(dt, pp, n), read(dt, pa, n));
            };
            Kernel adam = () -> {
                write(dt, pp, p0);
                write(dt, pa, s0);
                write(dt, pb, s0);
                NativeOps.adamUpdate(dt, pp, pg, pa, pb, n, 1e-3, 0.9, 0.999, 1e-7, 5, 0.01);
                return concat(read(dt, pp, n), read(dt, pa, n), read(dt, pb, n));
            };
            Kernel rms = () -> {
                write(dt, pp, p0);
                write(dt, pa, s0);
                write(dt, pb, s0);
                NativeOps.rmspropUpdate(dt, pp, pg, pa, pb, n, 1e-3, 0.9, 1e-7, 0.5);
                return concat(read(dt, pp, n), read(dt, pa, n), read(dt, pb, n));
            };
            for (Kernel k : new Kernel[] {sgd, adam, rms}) {
                double[][] r = bothModes(k);
                close(r[1], r[0], dt == F32 ? 1e-5 : 1e-12, "optimizer opt vs ref dtype " + dt);
            }
        }
    }

    static double[] concat(double[]... parts) {
        int len = 0;
        for (double[] p : parts) len += p.length;
        double[] out = new double[len];
        int o = 0;
        for (double[] p : parts) {
            System.arraycopy(p, 0, out, o, p.length);
            o += p.length;
        }
        return out;
    }

    @Test
    void threadCountDoesNotChangeResults() {
        int n = BIG;
        double[] x = randn(81, n, 2);
        long px = put(F32, x), py = alloc(F32, n), po = alloc(F32, 1);
        double[][] res = new double[2][];
        int[] threads = {1, Math.max(2, defaultThreads)};
        for (int t = 0; t < 2; t++) {
            NativeOps.setNumThreads(threads[t]);
            NativeOps.unary(op("gelu_tanh"), F32, px, py, n, 0);
            double[] u = read(F32, py, n);
            NativeOps.softmax(F32, px, py, 1, 317, 1, true);
            res[t] = concat(u, read(F32, py, 317));
        }
        assertArrayEquals(res[0], res[1]);
        NativeOps.setNumThreads(1);
        NativeOps.reduce(SUM, F32, px, po, 1, n, 1);
        double s1 = read(F32, po, 1)[0];
        NativeOps.setNumThreads(Math.max(2, defaultThreads));
        NativeOps.reduce(SUM, F32, px, po, 1, n, 1);
        assertEquals(s1, read(F32, po, 1)[0], 1e-3);
    }

    // ---- bad input: every case throws a Java exception, none crashes the JVM ---------------------------------

    @Test
    void badAddressesThrow() {
        long p = alloc(F32, 16);
        long q = alloc(F32, 16);
        long freed = NativeOps.malloc(64);
        NativeOps.free(freed);   // last: the allocator's cache hands a freed block to the next same-sized malloc
        throwsJava(IllegalArgumentException.class, () -> NativeOps.fill(F32, 0, 4, 1), "fill", "null");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.fill(F32, p, 17, 1), "fill", "outside");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.fill(F32, p + 64, 1, 1), "outside");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.fill(F32, p - 4, 1, 1), "outside");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.fill(F64, p, 9, 1), "outside");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.fill(F32, 12345, 1, 1), "outside");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.unary(0, F32, p, q, 17, 0), "unary", "outside");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.unary(0, F32, freed, q, 4, 0), "unary");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.wrap(p, 65), "wrap");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.wrap(0, 1), "wrap");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.copyBytes(p, q, 65), "copyBytes");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.copyBytes(p, freed, 4), "copyBytes");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.cast(F32, p, F64, q, 16), "cast", "dst");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.free(p + 4), "free");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.free(0), "free");
        // GEMM: B too small for its ld
        throwsJava(IllegalArgumentException.class,
                () -> NativeOps.gemm(F32, false, false, 4, 4, 4, 1, p, 4, 0, q, 4, 16, 0, p, 4, 0, 2), "gemm",
                "operand B");
        throwsJava(IllegalArgumentException.class,
                () -> NativeOps.gemm(F32, false, false, 4, 4, 4, 1, p, 3, 0, q, 4, 0, 0, p, 4, 0, 1), "gemm", "lda");
        throwsJava(IllegalArgumentException.class,
                () -> NativeOps.gemm(F32, false, false, 4, 4, 4, 1, p, 4, 0, freed, 4, 0, 0, p, 4, 0, 1), "gemm");
        // strided operand reaching past the block
        throwsJava(IllegalArgumentException.class, () -> NativeOps.binary(0, F32, p, new long[] {4, 1}, q,
                new long[] {5, 1}, q, new long[] {4, 4}), "binary", "b range");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.copyStrided(F32, p, new long[] {1, 8}, q,
                new long[] {4, 1}, new long[] {4, 4}), "copyStrided", "src");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.softmax(F32, p, q, 2, 3, 3, false), "softmax");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.sgdUpdate(F32, p, q, 0, 16, 0.1, 0.9, false, 0),
                "sgdUpdate", "velocity");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.countNonFinite(F32, freed, 1), "countNonFinite");
    }

    @Test
    void badArgumentsThrow() {
        long p = alloc(F32, 16), q = alloc(F32, 16);
        throwsJava(IllegalArgumentException.class, () -> NativeOps.fill(F32, p, -1, 0), "fill", "-1");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.unary(0, F32, p, q, -5, 0), "unary", "-5");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.unary(20, F32, p, q, 4, 0), "unary", "20");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.unary(-1, F32, p, q, 4, 0), "unary op id -1");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.unaryBackward(99, F32, p, q, p, q, 4, 0), "99");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.binary(7, F32, p, new long[] {1}, q,
                new long[] {1}, q, new long[] {4}), "binary", "7");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.reduce(3, F32, p, q, 1, 4, 1), "reduce", "3");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.unary(0, 7, p, q, 4, 0), "dtype", "7");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.unary(0, I32, p, q, 4, 0), "int32");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.fill(3, p, 4, 0), "fill", "dtype");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.cast(F32, p, -1, q, 4), "cast", "dtype");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.gemm(I32, false, false, 2, 2, 2, 1, p, 2, 0, p, 2,
                0, 0, q, 2, 0, 1), "gemm", "int32");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.gemm(F32, false, false, -2, 2, 2, 1, p, 2, 0, p, 2,
                0, 0, q, 2, 0, 1), "gemm", "-2");
        // strides length != shape length, negative strides / sizes, null arrays
        throwsJava(IllegalArgumentException.class, () -> NativeOps.binary(0, F32, p, new long[] {1}, q,
                new long[] {4, 1}, q, new long[] {4, 4}), "binary", "aStrides");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.copyStrided(F32, p, new long[] {4, 1}, q,
                new long[] {1}, new long[] {4, 4}), "dstStrides");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.copyStrided(F32, p + 60, new long[] {-1}, q,
                new long[] {1}, new long[] {4}), "negative");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.copyStrided(F32, p, new long[] {1}, q,
                new long[] {1}, new long[] {-4}), "negative");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.copyStrided(F32, p, null, q, new long[] {1},
                new long[] {4}), "null");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.binary(0, F32, p, new long[17], q, new long[17], q,
                new long[17]), "at most");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.dropoutMask(F32, p, 16, 1.5, 1), "rate");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.adamUpdate(F32, p, q, p, q, 4, 0.1, 0.9, 0.999,
                1e-7, 0, 0), "step");
        throwsJava(IllegalArgumentException.class, () -> NativeOps.argmax(F32, p, q, 2, 0, 2), "argmax");
    }

    @Test
    void labelsOutOfRangeThrow() {
        for (int dt : FLOATS) {
            long x = put(dt, randn(1, 12, 1)), loss = alloc(dt, 4), probs = alloc(dt, 12), gx = alloc(dt, 12);
            long labels = putInts(new int[] {0, 2, 3, 1});
            throwsJava(IllegalArgumentException.class,
                    () -> NativeOps.softmaxCrossEntropy(dt, x, labels, loss, probs, 4, 3), "softmaxCrossEntropy",
                    "label[2] = 3", "3");
            long neg = putInts(new int[] {0, -1, 0, 0});
            throwsJava(IllegalArgumentException.class,
                    () -> NativeOps.softmaxCrossEntropyBackward(dt, probs, neg, loss, gx, 4, 3), "label[1] = -1");
            throwsJava(IllegalArgumentException.class, () -> NativeOps.gather(dt, x, labels, loss, 4, 3), "gather",
                    "idx[2] = 3");
            throwsJava(IllegalArgumentException.class, () -> NativeOps.scatterAdd(dt, loss, neg, gx, 4, 3),
                    "scatterAdd", "idx[1] = -1");
        }
    }

    @Test
    void survivesManyBadCalls() {
        // a burst of bad calls must leave no pending exception behind and keep the library usable
        long p = alloc(F32, 4);
        for (int i = 0; i < 1000; i++) {
            assertThrows(IllegalArgumentException.class, () -> NativeOps.fill(F32, p, 5, 0));
        }
        NativeOps.fill(F32, p, 4, 2);
        assertArrayEquals(new double[] {2, 2, 2, 2}, read(F32, p, 4));
    }
}
