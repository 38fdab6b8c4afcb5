package org.pydl.ops;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.DoubleBuffer;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import org.junit.jupiter.api.Test;
import org.opentest4j.AssertionFailedError;
import org.pydl.testing.GradCheck;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;

/**
 * Float64 gradient checks of every op in {@link Ops}: the autodiff gradient of {@code sum(f(inputs) * W)}, W a
 * fixed random array, against central finite differences (eps 1e-6), relative tolerance 1e-6 (+1e-7 absolute
 * for components near zero).
 */
class GradientCheckTest {

    // ---- helpers -------------------------------------------------------------------------------------------
    /** Uniform float64 values in [lo, hi), detached from any scope. */
    static NDArray rand(long seed, double lo, double hi, long... shape) {
        return GradCheck.uniform(seed, lo, hi, shape);
    }

    /** Values in [-hi, -lo] U [lo, hi] with random signs: away from the kink at 0. */
    static NDArray awayFromZero(long seed, double lo, double hi, long... shape) {
        Random r = new Random(seed);
        int n = 1;
        for (long d : shape) n *= (int) d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = (r.nextBoolean() ? 1 : -1) * (lo + (hi - lo) * r.nextDouble());
        return MemoryScope.detach(NDArray.of(v, shape));
    }

    static NDArray d(double[] v, long... shape) {
        return MemoryScope.detach(NDArray.of(v, shape));
    }

    static NDArray ints(int[] v, long... shape) {
        return MemoryScope.detach(NDArray.of(v, shape));
    }



    /**
     * Checks the autodiff gradient of every float input of {@code f} against central differences. Integer inputs
     * (labels, indices) are passed through unchanged. Float inputs must be contiguous float64 leaves.
     */
    static void checkGradient(Function<NDArray[], NDArray> f, NDArray... inputs) {
        GradCheck.checkGradient(f, inputs);
    }

    // ---- the checker itself can fail -----------------------------------------------------------------------
    @Test
    void checkerDetectsAWrongGradient() {
        // y = x^2 with a deliberately wrong gradient rule (g * x instead of 2 * g * x)
        Function<NDArray[], NDArray> wrong = in -> {
            NDArray x = in[0];
            NDArray y;
            try (Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
                y = Ops.square(x);
            }
            return Autograd.record("wrong_square", y, g -> new NDArray[] {Ops.mul(g, x)}, x);
        };
        AssertionFailedError e = assertThrows(AssertionFailedError.class,
                () -> checkGradient(wrong, rand(1, 0.5, 1.5, 2, 3)));
        assertTrue(e.getMessage().contains("gradient mismatch"), e.getMessage());
        // and a gradient that is right only up to 1e-4 relative error is still caught
        Function<NDArray[], NDArray> almost = in -> {
            NDArray x = in[0];
            NDArray y;
            try (Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
                y = Ops.square(x);
            }
            return Autograd.record("almost_square", y, g -> new NDArray[] {Ops.mul(Ops.mul(g, x), 2.0002)}, x);
        };
        assertThrows(AssertionFailedError.class, () -> checkGradient(almost, rand(2, 0.5, 1.5, 4)));
        // the correct rule passes
        checkGradient(in -> Ops.square(in[0]), rand(3, 0.5, 1.5, 4));
    }

    // ---- unary ops -----------------------------------------------------------------------------------------
    private static NDArray smooth() {
        return rand(11, -2, 2, 3, 4);
    }

    private static NDArray kinked() {
        return awayFromZero(12, 0.1, 2.5, 3, 4);
    }

    private static NDArray positive() {
        return rand(13, 0.5, 2.0, 3, 4);
    }

    @Test void neg() { checkGradient(in -> Ops.neg(in[0]), smooth()); }
    @Test void exp() { checkGradient(in -> Ops.exp(in[0]), smooth()); }
    @Test void log() { checkGradient(in -> Ops.log(in[0]), positive()); }
    @Test void sqrt() { checkGradient(in -> Ops.sqrt(in[0]), positive()); }
    @Test void tanh() { checkGradient(in -> Ops.tanh(in[0]), smooth()); }
    @Test void sigmoid() { checkGradient(in -> Ops.sigmoid(in[0]), rand(14, -6, 6, 3, 4)); }
    @Test void relu() { checkGradient(in -> Ops.relu(in[0]), kinked()); }
    @Test void leakyRelu() { checkGradient(in -> Ops.leakyRelu(in[0], 0.3), kinked()); }
    @Test void elu() { checkGradient(in -> Ops.elu(in[0], 0.7), kinked()); }
    @Test void geluExact() { checkGradient(in -> Ops.gelu(in[0], false), rand(15, -4, 4, 3, 4)); }
    @Test void geluTanh() { checkGradient(in -> Ops.gelu(in[0], true), rand(16, -4, 4, 3, 4)); }
    @Test void softplus() { checkGradient(in -> Ops.softplus(in[0]), d(new double[] {-30, -5, -1, -0.2, 0.3, 2, 8, 25}, 8)); }
    @Test void abs() { checkGradient(in -> Ops.abs(in[0]), kinked()); }
    @Test void square() { checkGradient(in -> Ops.square(in[0]), smooth()); }
    @Test void reciprocal() { checkGradient(in -> Ops.reciprocal(in[0]), kinked()); }
    @Test void selu() { checkGradient(in -> Ops.selu(in[0]), kinked()); }
    @Test void swish() { checkGradient(in -> Ops.swish(in[0]), rand(17, -5, 5, 3, 4)); }
    @Test void softsign() { checkGradient(in -> Ops.softsign(in[0]), kinked()); }

    @Test
    void hardSigmoid() {
        checkGradient(in -> Ops.hardSigmoid(in[0]), d(new double[] {-5, -3.5, -2.9, -1, -0.1, 0.4, 2.5, 2.9, 3.2, 7}, 10));
    }

    @Test
    void relu6() {
        checkGradient(in -> Ops.relu6(in[0]), d(new double[] {-3, -0.5, 0.2, 1, 3, 5.5, 5.9, 6.1, 6.5, 9}, 10));
    }

    @Test
    void unaryOnNonContiguousInput() {
        checkGradient(in -> Ops.tanh(Ops.transpose(in[0])), rand(18, -2, 2, 3, 4));
    }

    // ---- affine / scalar -----------------------------------------------------------------------------------
    @Test void affine() { checkGradient(in -> Ops.affine(in[0], -1.7, 0.4), smooth()); }
    @Test void mulScalar() { checkGradient(in -> Ops.mul(in[0], 3.25), smooth()); }
    @Test void addScalar() { checkGradient(in -> Ops.add(in[0], -2.5), smooth()); }

    // ---- binary with broadcasting --------------------------------------------------------------------------
    @Test void addSame() { checkGradient(in -> Ops.add(in[0], in[1]), rand(20, -1, 1, 3, 4), rand(21, -1, 1, 3, 4)); }
    @Test void addRowBroadcast() { checkGradient(in -> Ops.add(in[0], in[1]), rand(22, -1, 1, 3, 4), rand(23, -1, 1, 4)); }
    @Test void addRowBroadcastReversed() { checkGradient(in -> Ops.add(in[0], in[1]), rand(24, -1, 1, 4), rand(25, -1, 1, 3, 4)); }
    @Test void subColumnBroadcast() { checkGradient(in -> Ops.sub(in[0], in[1]), rand(26, -1, 1, 3, 4), rand(27, -1, 1, 3, 1)); }
    @Test void subScalarArray() { checkGradient(in -> Ops.sub(in[0], in[1]), rand(28, -1, 1), rand(29, -1, 1, 2, 3)); }
    @Test void mulOuter() { checkGradient(in -> Ops.mul(in[0], in[1]), rand(30, -1, 1, 3, 1), rand(31, -1, 1, 1, 4)); }
    @Test void mulScalarArray() { checkGradient(in -> Ops.mul(in[0], in[1]), rand(32, -1, 1, 2, 3), rand(33, -1, 1)); }
    @Test void mul3dBroadcast() { checkGradient(in -> Ops.mul(in[0], in[1]), rand(34, -1, 1, 2, 3, 4), rand(35, -1, 1, 3, 1)); }
    @Test void divBroadcast() { checkGradient(in -> Ops.div(in[0], in[1]), rand(36, -1, 1, 3, 4), rand(37, 0.5, 2, 4)); }
    @Test void divColumn() { checkGradient(in -> Ops.div(in[0], in[1]), rand(38, 0.5, 2, 3, 1), awayFromZero(39, 0.5, 2, 3, 4)); }
    @Test void powBoth() { checkGradient(in -> Ops.pow(in[0], in[1]), rand(40, 0.5, 2, 3, 4), rand(41, -2, 2, 3, 4)); }
    @Test void powBroadcastExponent() { checkGradient(in -> Ops.pow(in[0], in[1]), rand(42, 0.5, 2, 3, 4), rand(43, -1, 3, 4)); }
    @Test void powScalar() { checkGradient(in -> Ops.pow(in[0], 3.0), rand(44, -2, 2, 3, 4)); }
    @Test void powScalarFractional() { checkGradient(in -> Ops.pow(in[0], 0.5), positive()); }

    /** a and b differ by at least 0.1 everywhere (no ties). */
    private static NDArray[] apart() {
        NDArray a = rand(45, -1, 1, 3, 4);
        double[] av = a.toDoubleArray();
        double[] bv = new double[av.length];
        Random r = new Random(46);
        for (int i = 0; i < av.length; i++) bv[i] = av[i] + (r.nextBoolean() ? 1 : -1) * (0.1 + r.nextDouble());
        return new NDArray[] {a, d(bv, 3, 4)};
    }

    @Test void maximum() { checkGradient(in -> Ops.maximum(in[0], in[1]), apart()); }
    @Test void minimum() { checkGradient(in -> Ops.minimum(in[0], in[1]), apart()); }
    @Test void maximumBroadcast() { checkGradient(in -> Ops.maximum(in[0], in[1]), kinked(), d(new double[] {0.05, -0.03, 0.01, 0.02}, 4)); }
    @Test void minimumBroadcastColumn() { checkGradient(in -> Ops.minimum(in[0], in[1]), kinked(), d(new double[] {0.05, -0.03, 0.04}, 3, 1)); }
    @Test void clip() { checkGradient(in -> Ops.clip(in[0], -0.7, 1.3), d(new double[] {-2, -1, -0.5, 0, 0.4, 1.2, 1.5, 3}, 2, 4)); }
    @Test void broadcastTo() { checkGradient(in -> Ops.broadcastTo(in[0], new long[] {2, 3, 4}), rand(47, -1, 1, 3, 1)); }
    @Test void broadcastToFromScalar() { checkGradient(in -> Ops.broadcastTo(in[0], new long[] {2, 3}), rand(48, -1, 1)); }

    // ---- reductions ----------------------------------------------------------------------------------------
    private static NDArray cube() {
        return rand(50, -1, 1, 2, 3, 4);
    }

    @Test void sumAll() { checkGradient(in -> Ops.sum(in[0]), cube()); }
    @Test void sumAxis0() { checkGradient(in -> Ops.sum(in[0], 0, false), cube()); }
    @Test void sumAxis1Keep() { checkGradient(in -> Ops.sum(in[0], 1, true), cube()); }
    @Test void sumAxisLast() { checkGradient(in -> Ops.sum(in[0], -1, false), cube()); }
    @Test void sumAxes02() { checkGradient(in -> Ops.sum(in[0], new int[] {0, 2}, false), cube()); }
    @Test void sumAxes12Keep() { checkGradient(in -> Ops.sum(in[0], new int[] {1, 2}, true), cube()); }
    @Test void sumAllKeep() { checkGradient(in -> Ops.sum(in[0], null, true), cube()); }
    @Test void sumOfTransposedView() { checkGradient(in -> Ops.sum(Ops.transpose(in[0]), 0, false), cube()); }
    @Test void meanAll() { checkGradient(in -> Ops.mean(in[0]), cube()); }
    @Test void meanAxes() { checkGradient(in -> Ops.mean(in[0], new int[] {0, -1}, true), cube()); }
    @Test void meanAxis1() { checkGradient(in -> Ops.mean(in[0], new int[] {1}, false), cube()); }

    /** Distinct values (a permutation) so the arg-extremum is unique and well separated. */
    private static NDArray distinct(long seed, long... shape) {
        int n = 1;
        for (long s : shape) n *= (int) s;
        Random r = new Random(seed);
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = 0.1 * i;
        for (int i = n - 1; i > 0; i--) {
            int j = r.nextInt(i + 1);
            double t = v[i];
            v[i] = v[j];
            v[j] = t;
        }
        return d(v, shape);
    }

    @Test void maxAxis0() { checkGradient(in -> Ops.max(in[0], 0, false), distinct(51, 2, 3, 4)); }
    @Test void maxAxis1Keep() { checkGradient(in -> Ops.max(in[0], 1, true), distinct(52, 2, 3, 4)); }
    @Test void maxAxisLast() { checkGradient(in -> Ops.max(in[0], -1, false), distinct(53, 2, 3, 4)); }
    @Test void maxSeveralAxes() { checkGradient(in -> Ops.max(in[0], new int[] {0, 2}, false), distinct(54, 2, 3, 4)); }
    @Test void minAxis0() { checkGradient(in -> Ops.min(in[0], 0, true), distinct(55, 3, 4)); }
    @Test void minAxisLast() { checkGradient(in -> Ops.min(in[0], -1, false), distinct(56, 2, 3, 4)); }
    @Test void maxOfTransposedView() { checkGradient(in -> Ops.max(Ops.transpose(in[0]), 1, false), distinct(57, 3, 4)); }

    @Test void maxVector() { checkGradient(in -> Ops.max(in[0], 0, false), distinct(58, 6)); }
    @Test void maxAllAxes() { checkGradient(in -> Ops.max(in[0], new int[0], false), distinct(59, 3, 4)); }
    @Test void sumOfScalar() { checkGradient(in -> Ops.sum(Ops.mul(in[0], in[0])), rand(49, -1, 1)); }
    @Test void scalarTimesMatrixKeepDims() { checkGradient(in -> Ops.mul(Ops.sum(in[0], null, true), in[1]), rand(48, -1, 1, 2, 2), rand(47, -1, 1, 2, 3)); }

    // ---- softmax -------------------------------------------------------------------------------------------
    @Test void softmaxLast() { checkGradient(in -> Ops.softmax(in[0], -1), rand(60, -2, 2, 3, 5)); }
    @Test void softmaxAxis0() { checkGradient(in -> Ops.softmax(in[0], 0), rand(61, -2, 2, 3, 5)); }
    @Test void softmaxMiddleAxis3d() { checkGradient(in -> Ops.softmax(in[0], 1), rand(62, -2, 2, 2, 3, 4)); }
    @Test void logSoftmaxLast() { checkGradient(in -> Ops.logSoftmax(in[0], -1), rand(63, -2, 2, 3, 5)); }
    @Test void logSoftmaxAxis0() { checkGradient(in -> Ops.logSoftmax(in[0], 0), rand(64, -2, 2, 3, 5)); }
    @Test void softmaxLargeLogits() { checkGradient(in -> Ops.logSoftmax(in[0], -1), rand(65, 500, 510, 2, 4)); }

    // ---- matmul / linear -----------------------------------------------------------------------------------
    @Test void matmul2d() { checkGradient(in -> Ops.matmul(in[0], in[1]), rand(70, -1, 1, 3, 4), rand(71, -1, 1, 4, 5)); }
    @Test void matmulTransposedA() { checkGradient(in -> Ops.matmul(Ops.transpose(in[0]), in[1]), rand(72, -1, 1, 4, 3), rand(73, -1, 1, 4, 5)); }
    @Test void matmulTransposedB() { checkGradient(in -> Ops.matmul(in[0], Ops.transpose(in[1])), rand(74, -1, 1, 3, 4), rand(75, -1, 1, 5, 4)); }
    @Test void matmulBothTransposed() { checkGradient(in -> Ops.matmul(Ops.transpose(in[0]), Ops.transpose(in[1])), rand(76, -1, 1, 4, 3), rand(77, -1, 1, 5, 4)); }
    @Test void matmulSlicedView() { checkGradient(in -> Ops.matmul(Ops.slice(in[0], 1, 1, 4), in[1]), rand(78, -1, 1, 3, 5), rand(79, -1, 1, 3, 2)); }
    @Test void matmulVectorShapes() { checkGradient(in -> Ops.matmul(in[0], in[1]), rand(80, -1, 1, 1, 4), rand(81, -1, 1, 4, 1)); }
    @Test void matmul3dBy2d() { checkGradient(in -> Ops.matmul(in[0], in[1]), rand(82, -1, 1, 2, 3, 4), rand(83, -1, 1, 4, 2)); }
    @Test void matmul3dTransposedBy2d() { checkGradient(in -> Ops.matmul(Ops.transpose(in[0], 1, 2), in[1]), rand(84, -1, 1, 2, 4, 3), rand(85, -1, 1, 4, 2)); }
    @Test void matmulBatched() { checkGradient(in -> Ops.matmul(in[0], in[1]), rand(86, -1, 1, 2, 3, 4), rand(87, -1, 1, 2, 4, 2)); }
    @Test void matmulBatchedTransposed() { checkGradient(in -> Ops.matmul(in[0], Ops.transpose(in[1], 1, 2)), rand(88, -1, 1, 2, 3, 4), rand(89, -1, 1, 2, 2, 4)); }
    @Test void matmulBatched4d() { checkGradient(in -> Ops.matmul(in[0], in[1]), rand(90, -1, 1, 2, 2, 2, 3), rand(91, -1, 1, 2, 2, 3, 2)); }
    @Test void linearWithBias() { checkGradient(in -> Ops.linear(in[0], in[1], in[2]), rand(92, -1, 1, 3, 4), rand(93, -1, 1, 4, 5), rand(94, -1, 1, 5)); }
    @Test void linearWithoutBias() { checkGradient(in -> Ops.linear(in[0], in[1], null), rand(95, -1, 1, 3, 4), rand(96, -1, 1, 4, 5)); }
    @Test void linear3dInput() { checkGradient(in -> Ops.linear(in[0], in[1], in[2]), rand(97, -1, 1, 2, 3, 4), rand(98, -1, 1, 4, 2), rand(99, -1, 1, 2)); }
    @Test void linearTransposedInputs() { checkGradient(in -> Ops.linear(Ops.transpose(in[0]), Ops.transpose(in[1]), in[2]), rand(100, -1, 1, 4, 3), rand(101, -1, 1, 5, 4), rand(102, -1, 1, 5)); }

    @Test void matmulSameOperandTwice() { checkGradient(in -> Ops.matmul(in[0], in[0]), rand(103, -1, 1, 3, 3)); }
    @Test void matmulWithOwnTranspose() { checkGradient(in -> Ops.matmul(in[0], Ops.transpose(in[0])), rand(104, -1, 1, 3, 4)); }
    @Test void batchedMatmulSameOperand() { checkGradient(in -> Ops.matmul(in[0], Ops.transpose(in[0], 1, 2)), rand(105, -1, 1, 2, 3, 4)); }

    // ---- shape ops -----------------------------------------------------------------------------------------
    @Test void reshape() { checkGradient(in -> Ops.mul(Ops.reshape(in[0], 4, -1), Ops.reshape(in[0], 4, 6)), cube()); }
    @Test void reshapeOfTransposed() { checkGradient(in -> Ops.reshape(Ops.transpose(in[0]), -1), cube()); }
    @Test void transposeReverse() { checkGradient(in -> Ops.transpose(in[0]), cube()); }
    @Test void transposePermutation() { checkGradient(in -> Ops.contiguous(Ops.transpose(in[0], 1, 2, 0)), cube()); }
    @Test void transposeSwap() { checkGradient(in -> Ops.transpose(in[0], 0, 2), cube()); }
    @Test void sliceAxis0() { checkGradient(in -> Ops.slice(in[0], 0, 1, 2), cube()); }
    @Test void sliceLastAxis() { checkGradient(in -> Ops.slice(in[0], -1, 1, 3), cube()); }
    @Test void sliceOfSlice() { checkGradient(in -> Ops.slice(Ops.slice(in[0], 2, 0, 3), 1, 1, 3), cube()); }
    @Test void overlappingSlices() { checkGradient(in -> Ops.mul(Ops.slice(in[0], 1, 0, 3), Ops.slice(in[0], 1, 1, 4)), rand(103, -1, 1, 2, 4)); }
    @Test void concatAxis0() { checkGradient(in -> Ops.concat(List.of(in[0], in[1]), 0), rand(104, -1, 1, 2, 3), rand(105, -1, 1, 1, 3)); }
    @Test void concatAxisLast() { checkGradient(in -> Ops.concat(List.of(in[0], in[1], in[0]), -1), rand(106, -1, 1, 2, 3), rand(107, -1, 1, 2, 2)); }
    @Test void concatOfViews() { checkGradient(in -> Ops.concat(List.of(Ops.transpose(in[0]), in[1]), 1), rand(108, -1, 1, 3, 2), rand(109, -1, 1, 2, 2)); }
    @Test void contiguous() { checkGradient(in -> Ops.contiguous(Ops.transpose(in[0])), rand(110, -1, 1, 3, 4)); }
    @Test void castF64ToF64() { checkGradient(in -> Ops.cast(in[0], DType.FLOAT64), rand(111, -1, 1, 3, 4)); }
    @Test void castThroughFloat32() {
        // round trip through float32: the gradient is the identity (cast back), values lose precision, so only the
        // analytic side is checked here
        try (MemoryScope s = MemoryScope.open()) {
            NDArray x = rand(112, -1, 1, 3, 4).setRequiresGrad(true);
            Ops.sum(Ops.mul(Ops.cast(Ops.cast(x, DType.FLOAT32), DType.FLOAT64), 2.0)).backward();
            for (double g : x.grad().toDoubleArray()) assertEquals(2.0, g, 0.0);
            assertEquals(DType.FLOAT64, x.grad().dtype());
        }
    }

    // ---- dropout, losses, indexing -------------------------------------------------------------------------
    @Test void dropoutFixedSeed() { checkGradient(in -> Ops.dropout(in[0], 0.4, 77L), rand(120, -1, 1, 4, 5)); }
    @Test void dropoutRateZero() { checkGradient(in -> Ops.mul(Ops.dropout(in[0], 0.0, 77L), 1.0), rand(121, -1, 1, 4, 5)); }

    @Test
    void sparseSoftmaxCrossEntropy() {
        checkGradient(in -> Ops.sparseSoftmaxCrossEntropy(in[0], in[1]), rand(122, -2, 2, 4, 3), ints(new int[] {0, 2, 1, 2}, 4));
    }

    @Test
    void sparseSoftmaxCrossEntropyOfTransposedLogits() {
        checkGradient(in -> Ops.sparseSoftmaxCrossEntropy(Ops.transpose(in[0]), in[1]), rand(123, -2, 2, 3, 4), ints(new int[] {1, 0, 2, 2}, 4));
    }

    @Test
    void gather() {
        checkGradient(in -> Ops.gather(in[0], in[1]), rand(124, -2, 2, 4, 3), ints(new int[] {2, 0, 0, 1}, 4));
    }

    // ---- composites: an array used several times -----------------------------------------------------------
    @Test void usedTwiceAdd() { checkGradient(in -> Ops.add(in[0], in[0]), smooth()); }
    @Test void usedTwiceMul() { checkGradient(in -> Ops.mul(in[0], in[0]), smooth()); }
    @Test void usedThreeTimes() { checkGradient(in -> Ops.mul(Ops.add(in[0], Ops.exp(in[0])), Ops.tanh(in[0])), smooth()); }
    @Test void diamond() { checkGradient(in -> { NDArray h = Ops.sigmoid(in[0]); return Ops.div(Ops.mul(h, in[1]), Ops.add(h, 1.0)); }, smooth(), rand(125, -1, 1, 4)); }

    @Test
    void mlpLoss() {
        // 2-layer MLP with a shared weight used twice (tied), softmax cross-entropy and an L2 term
        checkGradient(in -> {
            NDArray x = in[0], w1 = in[1], b1 = in[2], w2 = in[3], b2 = in[4], y = in[5];
            NDArray h = Ops.tanh(Ops.linear(x, w1, b1));
            NDArray h2 = Ops.gelu(Ops.add(Ops.matmul(h, w2), b2), false);
            NDArray logits = Ops.matmul(h2, Ops.transpose(w2));
            NDArray ce = Ops.mean(Ops.sparseSoftmaxCrossEntropy(logits, y));
            NDArray l2 = Ops.mul(Ops.add(Ops.sum(Ops.square(w1)), Ops.sum(Ops.square(w2))), 0.01);
            return Ops.add(ce, l2);
        }, rand(130, -1, 1, 5, 4), rand(131, -1, 1, 4, 3), rand(132, -0.1, 0.1, 3), rand(133, -1, 1, 3, 3),
                rand(134, -0.1, 0.1, 3), ints(new int[] {0, 1, 2, 1, 0}, 5));
    }

    @Test
    void mlpWithSoftmaxAndLogLoss() {
        checkGradient(in -> {
            NDArray p = Ops.softmax(Ops.relu(Ops.linear(in[0], in[1], in[2])), -1);
            NDArray logp = Ops.log(Ops.add(p, 1e-3));
            return Ops.neg(Ops.mean(Ops.gather(logp, in[3])));
        }, awayFromZero(135, 0.3, 1, 4, 3), rand(136, 0.2, 1, 3, 3), rand(137, 0.1, 0.3, 3), ints(new int[] {2, 1, 0, 0}, 4));
    }

    /** The float32 backward kernels agree with float64 autodiff on the MLP loss (rtol 1e-4). */
    @Test
    void float32GradientsMatchFloat64() {
        NDArray[] in64 = {rand(150, -1, 1, 6, 4), rand(151, -1, 1, 4, 5), rand(152, -0.1, 0.1, 5), rand(153, -1, 1, 5, 3)};
        NDArray labels = ints(new int[] {0, 1, 2, 1, 0, 2}, 6);
        double[][] g = new double[2][];
        for (int pass = 0; pass < 2; pass++) {
            DType dt = pass == 0 ? DType.FLOAT64 : DType.FLOAT32;
            try (MemoryScope s = MemoryScope.open()) {
                NDArray[] p = new NDArray[4];
                for (int i = 0; i < 4; i++) p[i] = Ops.cast(in64[i], dt).setRequiresGrad(true);
                NDArray h = Ops.swish(Ops.linear(p[0], p[1], p[2]));
                NDArray logits = Ops.matmul(Ops.softmax(h, -1), p[3]);
                Ops.add(Ops.mean(Ops.sparseSoftmaxCrossEntropy(logits, labels)),
                        Ops.mean(Ops.logSoftmax(logits, 0))).backward();
                double[] all = new double[0];
                for (NDArray x : p) {
                    assertEquals(dt, x.grad().dtype());
                    double[] v = x.grad().toDoubleArray();
                    double[] cat = java.util.Arrays.copyOf(all, all.length + v.length);
                    System.arraycopy(v, 0, cat, all.length, v.length);
                    all = cat;
                }
                g[pass] = all;
            }
        }
        for (int i = 0; i < g[0].length; i++) {
            assertEquals(g[0][i], g[1][i], 1e-4 * Math.abs(g[0][i]) + 1e-6, "gradient element " + i);
        }
    }

    @Test
    void gradientsAccumulateAcrossBackwardCalls() {
        try (MemoryScope s = MemoryScope.open()) {
            NDArray x = rand(140, -1, 1, 2, 3).setRequiresGrad(true);
            Ops.sum(Ops.mul(x, 3.0)).backward();
            Ops.sum(Ops.mul(x, 2.0)).backward();
            for (double g : x.grad().toDoubleArray()) assertEquals(5.0, g, 1e-15);
        }
    }

    @Test
    void noGradRecordsNothing() {
        try (MemoryScope s = MemoryScope.open(); Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
            NDArray x = rand(141, -1, 1, 2, 3).setRequiresGrad(true);
            NDArray y = Ops.exp(x);
            assertTrue(y.gradFn() == null && !y.requiresGrad());
            assertThrows(IllegalStateException.class, y::backward);
        }
    }
}
