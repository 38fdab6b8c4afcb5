package org.pydl.ops;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.pydl.nd.DType;
import org.pydl.nd.DTypeException;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;

/**
 * Every op of pydl, each defined once: its shape/dtype rule, the kernel it runs on its inputs' device
 * ({@link Backend}) and its gradient rule ({@link Autograd#record}). Python's {@code pydl.ops.relu} and the C++
 * kernel {@code relu} carry the same name as {@link #relu}.
 *
 * <p>Ops return new arrays (some are views: reshape of contiguous data, transpose, slice). Gradient rules are
 * written with Ops themselves and run with recording off.
 */
public final class Ops {
    private Ops() {}

    private static Backend be(NDArray x) {
        return x.device().backend();
    }

    private static void requireFloat(String op, NDArray x) {
        if (!x.dtype().isFloat()) {
            throw new DTypeException(op + ": expected a float32 or float64 array, received " + x.dtype().pyName
                    + " with shape " + Shapes.str(x.shape()));
        }
    }

    private static void requireSameDtype(String op, NDArray a, NDArray b) {
        if (a.dtype() != b.dtype()) {
            throw new DTypeException(op + ": dtypes differ (" + a.dtype().pyName + " vs " + b.dtype().pyName
                    + "); cast one operand with .cast(...)");
        }
        if (a.device() != b.device()) {
            throw new IllegalArgumentException(op + ": arrays live on different devices (" + a.device() + " vs "
                    + b.device() + ")");
        }
    }

    private static NDArray emptyLike(NDArray x) {
        return NDArray.empty(x.device(), x.dtype(), x.shape());
    }

    // ---- creation and copies -------------------------------------------------------------------------------
    public static NDArray onesLike(NDArray x) {
        NDArray o = emptyLike(x);
        be(x).fill(o, 1.0);
        return o;
    }

    public static NDArray zerosLike(NDArray x) {
        NDArray o = emptyLike(x);
        be(x).fill(o, 0.0);
        return o;
    }

    /** A contiguous copy. Gradient: identity. */
    public static NDArray contiguous(NDArray x) {
        NDArray out = emptyLike(x);
        be(x).copy(x, out);
        return Autograd.record("contiguous", out, g -> new NDArray[] {g}, x);
    }

    /** Contiguous copy converted to {@code dtype}. Gradient: cast back (float to float only). */
    public static NDArray cast(NDArray x, DType dtype) {
        NDArray c = x.contiguous();
        NDArray out = NDArray.empty(x.device(), dtype, x.shape());
        try {
            be(x).cast(c, out);
        } catch (RuntimeException e) {
            out.close(); // e.g. x was closed: do not leave the output to the GC
            throw e;
        }
        if (c != x) c.close(); // the temporary copy of a strided view (toDoubleArray() etc. run outside scopes)
        if (!dtype.isFloat()) return out;
        DType back = x.dtype();
        return Autograd.record("cast", out, g -> new NDArray[] {cast(g, back)}, x);
    }

    // ---- unary elementwise ---------------------------------------------------------------------------------
    /** y = op(x, alpha); gradient dy/dx from the op's native backward kernel. */
    public static NDArray unary(UnaryOp op, NDArray x, double alpha) {
        requireFloat(op.opName(), x);
        NDArray c = x.contiguous();
        NDArray y = emptyLike(c);
        be(c).unary(op, c, y, alpha);
        return Autograd.record(op.opName(), y, g -> {
            NDArray gc = g.contiguous();
            NDArray gx = emptyLike(c);
            be(c).unaryBackward(op, c, y, gc, gx, alpha);
            return new NDArray[] {gx};
        }, x);
    }

    /**
     * In place: x = op(x, alpha), returning x (ND4J's "i" suffix). Records no gradient, so x must not require one;
     * used by inference paths on arrays they own.
     */
    public static NDArray unaryi(UnaryOp op, NDArray x, double alpha) {
        requireFloat(op.opName(), x);
        if (x.requiresGrad() && Autograd.isRecording()) {
            throw new IllegalStateException(op.opName() + "i: in-place ops cannot be used on arrays that require a "
                    + "gradient; use " + op.opName() + "(x)");
        }
        if (!x.isContiguous()) throw new IllegalArgumentException(op.opName() + "i needs a contiguous array");
        be(x).unary(op, x, x, alpha);
        return x;
    }

    public static NDArray neg(NDArray x) { return unary(UnaryOp.NEG, x, 0); }
    public static NDArray exp(NDArray x) { return unary(UnaryOp.EXP, x, 0); }
    public static NDArray log(NDArray x) { return unary(UnaryOp.LOG, x, 0); }
    public static NDArray sqrt(NDArray x) { return unary(UnaryOp.SQRT, x, 0); }
    public static NDArray tanh(NDArray x) { return unary(UnaryOp.TANH, x, 0); }
    public static NDArray sigmoid(NDArray x) { return unary(UnaryOp.SIGMOID, x, 0); }
    public static NDArray relu(NDArray x) { return unary(UnaryOp.RELU, x, 0); }
    /** max(x, 0) + negativeSlope * min(x, 0). Keras's LeakyReLU layer default slope is 0.3. */
    public static NDArray leakyRelu(NDArray x, double negativeSlope) { return unary(UnaryOp.LEAKY_RELU, x, negativeSlope); }
    public static NDArray elu(NDArray x, double alpha) { return unary(UnaryOp.ELU, x, alpha); }
    /** Exact GELU x*Phi(x); {@code approximate} selects the tanh form. */
    public static NDArray gelu(NDArray x, boolean approximate) {
        return unary(approximate ? UnaryOp.GELU_TANH : UnaryOp.GELU, x, 0);
    }
    public static NDArray softplus(NDArray x) { return unary(UnaryOp.SOFTPLUS, x, 0); }
    public static NDArray abs(NDArray x) { return unary(UnaryOp.ABS, x, 0); }
    public static NDArray square(NDArray x) { return unary(UnaryOp.SQUARE, x, 0); }
    public static NDArray reciprocal(NDArray x) { return unary(UnaryOp.RECIPROCAL, x, 0); }
    public static NDArray selu(NDArray x) { return unary(UnaryOp.SELU, x, 0); }
    public static NDArray swish(NDArray x) { return unary(UnaryOp.SWISH, x, 0); }
    public static NDArray softsign(NDArray x) { return unary(UnaryOp.SOFTSIGN, x, 0); }
    public static NDArray hardSigmoid(NDArray x) { return unary(UnaryOp.HARD_SIGMOID, x, 0); }
    public static NDArray relu6(NDArray x) { return unary(UnaryOp.RELU6, x, 0); }

    /** y = x * scale + shift. Gradient: g * scale. */
    public static NDArray affine(NDArray x, double scale, double shift) {
        requireFloat("affine", x);
        NDArray c = x.contiguous();
        NDArray y = emptyLike(c);
        be(c).affine(c, y, scale, shift);
        return Autograd.record("affine", y, g -> new NDArray[] {affine(g, scale, 0.0)}, x);
    }

    public static NDArray mul(NDArray x, double s) { return affine(x, s, 0.0); }
    public static NDArray add(NDArray x, double s) { return affine(x, 1.0, s); }

    // ---- binary elementwise with broadcasting --------------------------------------------------------------
    public static NDArray binary(BinaryOp op, NDArray a, NDArray b) {
        String name = op.opName();
        requireSameDtype(name, a, b);
        requireFloat(name, a);
        long[] shape = Shapes.broadcast(a.shape(), b.shape());
        long[] as = Shapes.broadcastStrides(a.shape(), a.strides(), shape);
        long[] bs = Shapes.broadcastStrides(b.shape(), b.strides(), shape);
        NDArray out = NDArray.empty(a.device(), a.dtype(), shape);
        be(a).binary(op, a, as, b, bs, out);
        return Autograd.record(name, out, g -> binaryGrad(op, a, b, out, g), a, b);
    }

    private static NDArray[] binaryGrad(BinaryOp op, NDArray a, NDArray b, NDArray out, NDArray g) {
        boolean ga = a.requiresGrad();
        boolean gb = b.requiresGrad();
        switch (op) {
            case ADD:
                return new NDArray[] {ga ? sumTo(g, a.shape()) : null, gb ? sumTo(g, b.shape()) : null};
            case SUB:
                return new NDArray[] {ga ? sumTo(g, a.shape()) : null, gb ? sumTo(neg(g), b.shape()) : null};
            case MUL:
                return new NDArray[] {ga ? sumTo(mul(g, b), a.shape()) : null, gb ? sumTo(mul(g, a), b.shape()) : null};
            case DIV:
                return new NDArray[] {ga ? sumTo(div(g, b), a.shape()) : null,
                    gb ? sumTo(neg(div(mul(g, out), b)), b.shape()) : null};
            case POW: {
                // d(a^b)/da = b * a^(b-1) = b * out / a ; d/db = out * log(a)
                NDArray da = ga ? sumTo(mul(g, mul(b, pow(a, sub(b, scalarLike(b, 1.0))))), a.shape()) : null;
                // log(max(a, tiny)): where a == 0, out is 0 (b > 0) and the product is 0, as in PyTorch, not NaN
                double tiny = a.dtype() == DType.FLOAT32 ? Float.MIN_NORMAL : Double.MIN_NORMAL;
                NDArray db = gb ? sumTo(mul(g, mul(out, log(maximum(a, scalarLike(a, tiny))))), b.shape()) : null;
                return new NDArray[] {da, db};
            }
            case MAXIMUM:
            case MINIMUM: {
                // The winner gets g: relu'(d) is 1 where d > 0, 0 elsewhere (ties go to b).
                NDArray d = op == BinaryOp.MAXIMUM ? sub(a, b) : sub(b, a);
                NDArray gc = g.contiguous();
                NDArray toA = emptyLike(d);
                be(d).unaryBackward(UnaryOp.RELU, d, d, gc, toA, 0);
                return new NDArray[] {ga ? sumTo(toA, a.shape()) : null, gb ? sumTo(sub(gc, toA), b.shape()) : null};
            }
            default:
                throw new IllegalStateException("no gradient for " + op);
        }
    }

    /** A scalar (shape []) array with x's dtype and device. */
    public static NDArray scalarLike(NDArray x, double value) {
        NDArray s = NDArray.empty(x.device(), x.dtype());
        be(x).fill(s, value);
        return s;
    }

    public static NDArray add(NDArray a, NDArray b) { return binary(BinaryOp.ADD, a, b); }
    public static NDArray sub(NDArray a, NDArray b) { return binary(BinaryOp.SUB, a, b); }
    public static NDArray mul(NDArray a, NDArray b) { return binary(BinaryOp.MUL, a, b); }
    public static NDArray div(NDArray a, NDArray b) { return binary(BinaryOp.DIV, a, b); }
    public static NDArray pow(NDArray a, NDArray b) { return binary(BinaryOp.POW, a, b); }
    public static NDArray pow(NDArray a, double p) { return binary(BinaryOp.POW, a, scalarLike(a, p)); }
    public static NDArray maximum(NDArray a, NDArray b) { return binary(BinaryOp.MAXIMUM, a, b); }
    public static NDArray minimum(NDArray a, NDArray b) { return binary(BinaryOp.MINIMUM, a, b); }

    /** min(max(x, lo), hi). */
    public static NDArray clip(NDArray x, double lo, double hi) {
        return minimum(maximum(x, scalarLike(x, lo)), scalarLike(x, hi));
    }

    /** Materialises x broadcast to {@code shape}. Gradient: sumTo. */
    public static NDArray broadcastTo(NDArray x, long[] shape) {
        long[] target = Shapes.broadcast(x.shape(), shape);
        if (!Arrays.equals(target, shape)) {
            throw new IllegalArgumentException("cannot broadcast " + Shapes.str(x.shape()) + " to " + Shapes.str(shape));
        }
        NDArray out = NDArray.empty(x.device(), x.dtype(), shape);
        try (NDArray src = x.view(shape, Shapes.broadcastStrides(x.shape(), x.strides(), shape), x.offset())) {
            be(x).copy(src, out);
        }
        long[] xs = x.shape();
        return Autograd.record("broadcast_to", out, g -> new NDArray[] {sumTo(g, xs)}, x);
    }

    /** Sums g over the axes along which an array of {@code shape} was broadcast to g's shape. */
    public static NDArray sumTo(NDArray g, long[] shape) {
        long[] gs = g.shape();
        if (Arrays.equals(gs, shape)) return g;
        int lead = gs.length - shape.length;
        List<Integer> axes = new ArrayList<>();
        for (int i = 0; i < gs.length; i++) {
            if (i < lead || (shape[i - lead] == 1 && gs[i] != 1)) axes.add(i);
        }
        NDArray s = sum(g, axes.stream().mapToInt(Integer::intValue).toArray(), true);
        return reshape(s, shape);
    }

    // ---- inference batch normalization ---------------------------------------------------------------------
    /**
     * Batch normalization with fixed statistics over the last axis, then an optional activation (Keras's
     * BatchNormalization in inference, possibly followed by its activation layer):
     * {@code y = act(gamma * (x - mean) / sqrt(variance + epsilon) + beta)}; mean, variance, gamma and beta have shape
     * [channels], gamma and beta may be null, {@code act} null means none ({@code alpha}: its parameter, as in
     * {@link #unary}). Without gradients it is one native pass; when a gradient is needed it is composed of
     * differentiable ops, so every input gets its gradient.
     */
    public static NDArray batchNormInference(NDArray x, NDArray mean, NDArray variance, NDArray gamma, NDArray beta,
                                             double epsilon, UnaryOp act, double alpha) {
        checkBatchNorm(x, mean, variance, gamma, beta);
        if (Autograd.needsGrad(x, mean, variance, gamma, beta)) {
            NDArray y = mul(sub(x, mean), reciprocal(sqrt(add(variance, epsilon))));
            if (gamma != null) y = mul(y, gamma);
            if (beta != null) y = add(y, beta);
            return act == null ? y : unary(act, y, alpha);
        }
        NDArray xc = rowStride(x) < 0 ? x.contiguous() : x;
        return batchNormInferenceInto(xc, NDArray.empty(x.device(), x.dtype(), x.shape()), mean, variance, gamma, beta,
                epsilon, act, alpha);
    }

    /**
     * {@link #batchNormInference} written into {@code out} and returned, recording no gradient (an inference path's
     * in-place or into-a-window variant). {@code out} has x's shape and may be x itself or a window of a larger array
     * (a concatenation buffer); x and out must each have a contiguous last axis and one stride between its rows.
     */
    public static NDArray batchNormInferenceInto(NDArray x, NDArray out, NDArray mean, NDArray variance, NDArray gamma,
                                                 NDArray beta, double epsilon, UnaryOp act, double alpha) {
        checkBatchNorm(x, mean, variance, gamma, beta);
        if (Autograd.isRecording() && Autograd.needsGrad(x, mean, variance, gamma, beta)) {
            throw new IllegalStateException("batchNormInferenceInto records no gradient; use batchNormInference");
        }
        long ldx = rowStride(x), ldy = rowStride(out);
        if (!Arrays.equals(x.shape(), out.shape()) || out.dtype() != x.dtype() || ldx < 0 || ldy < 0) {
            throw new IllegalArgumentException("batchNormInferenceInto: x and out need the same shape and dtype, a "
                    + "contiguous last axis and one row stride; received x " + Shapes.str(x.shape()) + " strides "
                    + Arrays.toString(x.strides()) + ", out " + Shapes.str(out.shape()) + " strides "
                    + Arrays.toString(out.strides()));
        }
        long c = x.shape(-1);
        NDArray m = mean.contiguous(), v = variance.contiguous();
        NDArray gm = gamma == null ? null : gamma.contiguous(), bt = beta == null ? null : beta.contiguous();
        be(x).batchNormInference(x, ldx, out, ldy, c == 0 ? 0 : x.size() / c, c, m, v, gm, bt, epsilon, act, alpha);
        return out;
    }

    private static void checkBatchNorm(NDArray x, NDArray mean, NDArray variance, NDArray gamma, NDArray beta) {
        requireFloat("batchNormInference", x);
        long c = x.rank() == 0 ? -1 : x.shape(-1);
        for (NDArray p : new NDArray[] {mean, variance, gamma, beta}) {
            if (p == null && (p == mean || p == variance)) {
                throw new IllegalArgumentException("batchNormInference: mean and variance are required");
            }
            if (p == null) continue;
            requireSameDtype("batchNormInference", x, p);
            if (p.rank() != 1 || p.shape(0) != c) {
                throw new IllegalArgumentException("batchNormInference: mean, variance, gamma and beta must have shape "
                        + "[" + c + "] (x's last axis), received " + Shapes.str(p.shape()) + " for x "
                        + Shapes.str(x.shape()));
            }
        }
    }

    /**
     * The one element stride between the rows of x viewed as [rows, last axis] (its last axis contiguous), or -1
     * when the leading axes do not collapse into equally spaced rows.
     */
    private static long rowStride(NDArray x) {
        int r = x.rank();
        if (r == 0) return -1;
        long[] s = x.shape(), st = x.strides();
        if (s[r - 1] > 1 && st[r - 1] != 1) return -1;
        long ld = -1, expect = -1;
        for (int i = r - 2; i >= 0; i--) {
            if (s[i] == 1) continue;
            if (ld < 0) {
                ld = st[i];
                expect = st[i] * s[i];
            } else {
                if (st[i] != expect) return -1;
                expect *= s[i];
            }
        }
        if (ld < 0) return s[r - 1];
        return ld >= s[r - 1] ? ld : -1;
    }

    // ---- reductions ----------------------------------------------------------------------------------------
    private static int[] normAxes(int[] axes, int rank) {
        if (axes == null || axes.length == 0) {
            int[] all = new int[rank];
            for (int i = 0; i < rank; i++) all[i] = i;
            return all;
        }
        int[] a = new int[axes.length];
        for (int i = 0; i < axes.length; i++) a[i] = Shapes.axis(axes[i], rank);
        Arrays.sort(a);
        for (int i = 1; i < a.length; i++) {
            if (a[i] == a[i - 1]) throw new IllegalArgumentException("repeated axis " + a[i] + " in reduction");
        }
        return a;
    }

    private static long[] reducedShape(long[] shape, int[] axes, boolean keepDims) {
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < shape.length; i++) {
            boolean r = Arrays.binarySearch(axes, i) >= 0;
            if (!r) out.add(shape[i]);
            else if (keepDims) out.add(1L);
        }
        return out.stream().mapToLong(Long::longValue).toArray();
    }

    /** Runs a native reduction over a run of consecutive axes [first, last] of contiguous x (keepDims shape). */
    private static NDArray reduceRun(ReduceOp op, NDArray x, int first, int last) {
        long[] s = x.shape();
        long outer = 1, n = 1, inner = 1;
        for (int i = 0; i < first; i++) outer *= s[i];
        for (int i = first; i <= last; i++) n *= s[i];
        for (int i = last + 1; i < s.length; i++) inner *= s[i];
        long[] os = s.clone();
        for (int i = first; i <= last; i++) os[i] = 1;
        if (n == 0 && op != ReduceOp.SUM) {
            throw new IllegalArgumentException(op.opName() + ": cannot reduce over an empty axis (shape "
                    + Shapes.str(s) + ")");
        }
        NDArray out = NDArray.empty(x.device(), x.dtype(), os);
        be(x).reduce(op, x, out, outer, n, inner);
        return out;
    }

    /** Sum over {@code axes} (all when empty). Gradient: g broadcast back. */
    public static NDArray sum(NDArray x, int[] axes, boolean keepDims) {
        requireFloat("sum", x);
        int[] ax = normAxes(axes, x.rank());
        NDArray c = x.contiguous();
        NDArray r = c;
        // consecutive runs of axes, last run first so earlier axis numbers stay valid
        int i = ax.length - 1;
        while (i >= 0) {
            int j = i;
            while (j > 0 && ax[j - 1] == ax[j] - 1) j--;
            r = reduceRun(ReduceOp.SUM, r, ax[j], ax[i]);
            i = j - 1;
        }
        if (ax.length == 0) r = contiguous(c);
        NDArray out = reshapeView(r, reducedShape(x.shape(), ax, keepDims));
        long[] xs = x.shape();
        long[] kept = reducedShape(xs, ax, true);
        return Autograd.record("sum", out, g -> new NDArray[] {broadcastTo(reshape(g, kept), xs)}, x);
    }

    public static NDArray sum(NDArray x) {
        return sum(x, null, false);
    }

    public static NDArray sum(NDArray x, int axis, boolean keepDims) {
        return sum(x, new int[] {axis}, keepDims);
    }

    public static NDArray mean(NDArray x, int[] axes, boolean keepDims) {
        int[] ax = normAxes(axes, x.rank());
        long n = 1;
        for (int a : ax) n *= x.shape(a);
        if (n == 0) throw new IllegalArgumentException("mean of an empty array (shape " + Shapes.str(x.shape()) + ")");
        return mul(sum(x, ax, keepDims), 1.0 / n);
    }

    public static NDArray mean(NDArray x) {
        return mean(x, null, false);
    }

    /** Maximum over one axis. Gradient goes to the first maximal element of each slice. */
    public static NDArray max(NDArray x, int axis, boolean keepDims) {
        return extremum(ReduceOp.MAX, x, axis, keepDims);
    }

    public static NDArray min(NDArray x, int axis, boolean keepDims) {
        return extremum(ReduceOp.MIN, x, axis, keepDims);
    }

    /** Maximum over several axes (all when empty), one axis at a time. */
    public static NDArray max(NDArray x, int[] axes, boolean keepDims) {
        int[] ax = normAxes(axes, x.rank());
        NDArray r = x;
        for (int i = ax.length - 1; i >= 0; i--) r = max(r, ax[i], true);
        return keepDims ? r : reshape(r, reducedShape(x.shape(), ax, false));
    }

    private static NDArray extremum(ReduceOp op, NDArray x, int axis, boolean keepDims) {
        requireFloat(op.opName(), x);
        int a = Shapes.axis(axis, x.rank());
        NDArray c = x.contiguous();
        NDArray r = reduceRun(op, c, a, a);
        NDArray out = reshapeView(r, reducedShape(x.shape(), new int[] {a}, keepDims));
        long[] xs = x.shape();
        return Autograd.record(op.opName(), out, g -> {
            // route g to the arg-extremum: work in [rows, n] layout with the reduced axis last
            int rank = xs.length;
            int[] perm = new int[rank];
            int p = 0;
            for (int i = 0; i < rank; i++) if (i != a) perm[p++] = i;
            perm[rank - 1] = a;
            NDArray moved = contiguous(transpose(c, perm));
            long n = xs[a];
            long rows = moved.size() / Math.max(n, 1);
            NDArray m2 = reshape(moved, rows, n);
            NDArray sel = op == ReduceOp.MAX ? m2 : neg(m2);
            NDArray idx = argmax(sel, 1);
            NDArray gx2 = zerosLike(m2);
            be(c).scatterAdd(reshape(g.contiguous(), rows), idx, gx2);
            long[] movedShape = moved.shape();
            int[] inv = new int[rank];
            for (int i = 0; i < rank; i++) inv[perm[i]] = i;
            return new NDArray[] {contiguous(transpose(reshape(gx2, movedShape), inv))};
        }, x);
    }

    /** Index of the first maximum along {@code axis}, as int32 (no gradient). */
    public static NDArray argmax(NDArray x, int axis) {
        requireFloat("argmax", x);
        int a = Shapes.axis(axis, x.rank());
        long[] s = x.shape();
        if (s[a] == 0) throw new IllegalArgumentException("argmax over an empty axis (shape " + Shapes.str(s) + ")");
        long outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= s[i];
        for (int i = a + 1; i < s.length; i++) inner *= s[i];
        NDArray c = x.contiguous();
        NDArray out = NDArray.empty(x.device(), DType.INT32, reducedShape(s, new int[] {a}, false));
        be(x).argmax(c, out, outer, s[a], inner);
        return out;
    }

    // ---- softmax -------------------------------------------------------------------------------------------
    public static NDArray softmax(NDArray x, int axis) {
        return softmax(x, axis, false);
    }

    public static NDArray logSoftmax(NDArray x, int axis) {
        return softmax(x, axis, true);
    }

    private static NDArray softmax(NDArray x, int axis, boolean log) {
        String name = log ? "log_softmax" : "softmax";
        requireFloat(name, x);
        int a = Shapes.axis(axis, x.rank());
        long[] s = x.shape();
        long outer = 1, inner = 1;
        for (int i = 0; i < a; i++) outer *= s[i];
        for (int i = a + 1; i < s.length; i++) inner *= s[i];
        long n = s[a];
        long o = outer, in = inner;
        NDArray c = x.contiguous();
        NDArray y = emptyLike(c);
        be(c).softmax(c, y, outer, n, inner, log);
        return Autograd.record(name, y, g -> {
            NDArray gx = emptyLike(y);
            be(y).softmaxBackward(y, g.contiguous(), gx, o, n, in, log);
            return new NDArray[] {gx};
        }, x);
    }

    // ---- matmul --------------------------------------------------------------------------------------------
    /** How BLAS reads a matrix view: transposed or not, and its leading dimension; null if it needs a copy. */
    private static long[] blasLayout(NDArray m2) {
        long rows = m2.shape(0), cols = m2.shape(1);
        long[] st = m2.strides();
        if (st[1] == 1 && st[0] >= Math.max(cols, 1)) return new long[] {0, st[0]};
        if (st[0] == 1 && st[1] >= Math.max(rows, 1)) return new long[] {1, st[1]};
        if (rows <= 1 && st[1] == 1) return new long[] {0, Math.max(cols, 1)};
        if (cols <= 1 && st[0] == 1) return new long[] {1, Math.max(rows, 1)};
        return null;
    }

    /** out2 [m, n] = a2 [m, k] @ b2 [k, n] + beta * out2; operands BLAS cannot read as they are get copied. */
    private static void gemmInto(NDArray a2, NDArray b2, NDArray out2, double beta) {
        long[] la = blasLayout(a2);
        NDArray ac = la == null ? contiguous(a2) : a2;
        if (la == null) la = blasLayout(ac);
        long[] lb = blasLayout(b2);
        NDArray bc = lb == null ? contiguous(b2) : b2;
        if (lb == null) lb = blasLayout(bc);
        long m = a2.shape(0), k = a2.shape(1), n = b2.shape(1);
        be(out2).gemm(la[0] == 1, lb[0] == 1, m, n, k, 1.0, ac, la[1], 0, bc, lb[1], 0, beta, out2, Math.max(n, 1), 0, 1);
    }

    /** Matrix product. a: [..., m, k]; b: [k, n], or [..., k, n] with the same leading (batch) dimensions. */
    public static NDArray matmul(NDArray a, NDArray b) {
        requireSameDtype("matmul", a, b);
        requireFloat("matmul", a);
        if (a.rank() < 2 || b.rank() < 2) {
            throw new IllegalArgumentException("matmul needs arrays of rank >= 2, received " + Shapes.str(a.shape())
                    + " and " + Shapes.str(b.shape()) + "; reshape vectors to [1, n] or [n, 1]");
        }
        long k = a.shape(-1);
        if (b.shape(-2) != k) {
            throw new IllegalArgumentException("matmul: inner dimensions differ: " + Shapes.str(a.shape()) + " @ "
                    + Shapes.str(b.shape()) + " (" + k + " vs " + b.shape(-2) + ")");
        }
        if (b.rank() == 2) return matmul2d(a, b);
        return matmulBatched(a, b);
    }

    private static NDArray matmul2d(NDArray a, NDArray b) {
        long[] as = a.shape();
        long k = as[as.length - 1];
        long n = b.shape(1);
        NDArray a2 = a.rank() == 2 ? a : reshape(a, -1, k);
        long m = a2.shape(0);
        NDArray out2 = NDArray.empty(a.device(), a.dtype(), m, n);
        gemmInto(a2, b, out2, 0.0);
        long[] os = as.clone();
        os[os.length - 1] = n;
        NDArray out = a.rank() == 2 ? out2 : reshapeView(out2, os);
        return Autograd.record("matmul", out, g -> {
            NDArray g2 = reshape(g, m, n);
            NDArray ga = a.requiresGrad() ? reshape(matmul(g2, transpose(b, 1, 0)), as) : null;
            NDArray gb = b.requiresGrad() ? matmul(transpose(a2, 1, 0), g2) : null;
            return new NDArray[] {ga, gb};
        }, a, b);
    }

    private static NDArray matmulBatched(NDArray a, NDArray b) {
        long[] as = a.shape(), bs = b.shape();
        long[] batchA = Arrays.copyOf(as, as.length - 2), batchB = Arrays.copyOf(bs, bs.length - 2);
        if (!Arrays.equals(batchA, batchB)) {
            throw new IllegalArgumentException("matmul: batch dimensions differ: " + Shapes.str(as) + " @ "
                    + Shapes.str(bs) + "; both operands need the same leading dimensions");
        }
        long m = as[as.length - 2], k = as[as.length - 1], n = bs[bs.length - 1];
        long batch = Shapes.size(batchA);
        NDArray ac = a.contiguous(), bc = b.contiguous();
        long[] os = as.clone();
        os[os.length - 1] = n;
        NDArray out = NDArray.empty(a.device(), a.dtype(), os);
        be(a).gemm(false, false, m, n, k, 1.0, ac, Math.max(k, 1), m * k, bc, Math.max(n, 1), k * n, 0.0, out,
                Math.max(n, 1), m * n, batch);
        int r = as.length;
        return Autograd.record("matmul", out, g -> {
            NDArray ga = a.requiresGrad() ? matmul(g, contiguous(transpose(bc, r - 1, r - 2))) : null;
            NDArray gb = b.requiresGrad() ? matmul(contiguous(transpose(ac, r - 1, r - 2)), g) : null;
            return new NDArray[] {ga, gb};
        }, a, b);
    }

    /** A new [m, n] array whose every row is the bias b [n] (the C operand of a GEMM with beta = 1). */
    private static NDArray biasRows(NDArray b, long m) {
        long n = b.shape(0);
        NDArray rows = NDArray.empty(b.device(), b.dtype(), m, n);
        try (NDArray brow = b.view(new long[] {m, n}, new long[] {0, b.strides()[0]}, b.offset())) {
            be(b).copy(brow, rows);
        }
        return rows;
    }

    /** x @ w + b for x [..., in], w [in, out], b [out] (b may be null): one GEMM with the bias as C. */
    public static NDArray linear(NDArray x, NDArray w, NDArray b) {
        if (b == null) return matmul(x, w);
        requireSameDtype("linear", x, w);
        requireSameDtype("linear", x, b);
        requireFloat("linear", x);
        if (w.rank() != 2 || b.rank() != 1 || b.shape(0) != w.shape(1) || x.rank() < 1 || x.shape(-1) != w.shape(0)) {
            throw new IllegalArgumentException("linear: expected x [..., " + w.shape(0) + "] for kernel "
                    + Shapes.str(w.shape()) + " and bias " + Shapes.str(b.shape()) + ", received x "
                    + Shapes.str(x.shape()));
        }
        long[] xs = x.shape();
        long in = w.shape(0), outF = w.shape(1);
        NDArray x2 = x.rank() == 2 ? x : reshape(x, -1, in);
        long m = x2.shape(0);
        NDArray out2 = biasRows(b, m);
        gemmInto(x2, w, out2, 1.0);
        long[] os = xs.clone();
        os[os.length - 1] = outF;
        NDArray out = x.rank() == 2 ? out2 : reshapeView(out2, os);
        return Autograd.record("linear", out, g -> {
            NDArray g2 = reshape(g, m, outF);
            NDArray gx = x.requiresGrad() ? reshape(matmul(g2, transpose(w, 1, 0)), xs) : null;
            NDArray gw = w.requiresGrad() ? matmul(transpose(x2, 1, 0), g2) : null;
            NDArray gb = b.requiresGrad() ? sum(g2, 0, false) : null;
            return new NDArray[] {gx, gw, gb};
        }, x, w, b);
    }

    // ---- recurrent sequences ---------------------------------------------------------------------------------
    /**
     * A whole recurrent layer over a sequence as one op (Keras's equations and gate order; activation tanh,
     * recurrent activation sigmoid; {@link RnnCell}): native kernels do the input projection of all steps in one GEMM,
     * per step one GEMM {@code h @ recurrentKernel} and one fused gate kernel, and backpropagation through time.
     *
     * @param x               [batch, time, features]
     * @param kernel          [features, G], G = cell.gates * units
     * @param recurrentKernel [units, G]
     * @param bias            [G] ({@link RnnCell#GRU}: [2, G], input bias then recurrent bias), or null
     * @param h0              initial h [batch, units], or null (zeros)
     * @param c0              initial c [batch, units] (LSTM only), or null (zeros)
     * @param mask            [batch, time] of x's dtype, nonzero = real step, or null (all real). At a masked step the
     *                        states are carried over unchanged and the output repeats the previous output (zeros
     *                        before the first real step), or is zeros when {@code zeroOutputForMask}.
     * @param goBackwards     process the steps from the last to the first
     * @param reverseOutput   return the sequence in input time order instead of processing order (differs only with
     *                        goBackwards: what Keras's Bidirectional does to its backward layer's output)
     * @return {sequence [batch, time, units], h_last [batch, units]} and, for LSTM, c_last [batch, units]; the
     *         final states are those after the last processed step. One gradient rule for all outputs: gradients to
     *         x, kernel, recurrentKernel, bias, h0 and c0 (not mask).
     */
    public static NDArray[] rnn(RnnCell cell, NDArray x, NDArray kernel, NDArray recurrentKernel, NDArray bias,
                                NDArray h0, NDArray c0, NDArray mask, boolean goBackwards, boolean zeroOutputForMask,
                                boolean reverseOutput) {
        requireFloat("rnn", x);
        for (NDArray a : new NDArray[] {kernel, recurrentKernel, bias, h0, c0, mask}) {
            if (a != null) requireSameDtype("rnn", x, a);
        }
        if (x.rank() != 3 || recurrentKernel.rank() != 2) {
            throw new IllegalArgumentException("rnn: expected x [batch, time, features] and recurrent_kernel [units, "
                    + cell.gates + "*units], received x " + Shapes.str(x.shape()) + " and recurrent_kernel "
                    + Shapes.str(recurrentKernel.shape()));
        }
        long n = x.shape(0), t = x.shape(1), f = x.shape(2), u = recurrentKernel.shape(0), g = cell.gates * u;
        String what = "rnn (" + cell.name().toLowerCase() + ", x " + Shapes.str(x.shape()) + ", units " + u + "): ";
        requireShape(what, "kernel", kernel, f, g);
        requireShape(what, "recurrent_kernel", recurrentKernel, u, g);
        if (bias != null) {
            if (cell == RnnCell.GRU) requireShape(what, "bias", bias, 2, g);
            else requireShape(what, "bias", bias, g);
        }
        if (h0 != null) requireShape(what, "initial h", h0, n, u);
        if (c0 != null) {
            if (cell != RnnCell.LSTM) throw new IllegalArgumentException(what + "only LSTM has an initial c state");
            requireShape(what, "initial c", c0, n, u);
        }
        if (mask != null) requireShape(what, "mask", mask, n, t);
        NDArray out = NDArray.empty(x.device(), x.dtype(), n, t, u);
        NDArray hT = NDArray.empty(x.device(), x.dtype(), n, u);
        NDArray cT = cell == RnnCell.LSTM ? NDArray.empty(x.device(), x.dtype(), n, u) : null;
        if (n == 0 || t == 0) {  // nothing to compute (an empty batch; or no steps: the states are the initial ones)
            if (t == 0 && n > 0) throw new IllegalArgumentException(what + "needs at least one time step");
            return cT == null ? new NDArray[] {out, hT} : new NDArray[] {out, hT, cT};
        }
        NDArray xc = x.contiguous(), kc = kernel.contiguous(), rc = recurrentKernel.contiguous();
        NDArray bc = bias == null ? null : bias.contiguous(), mc = mask == null ? null : mask.contiguous();
        Backend be = be(x);
        NDArray work = NDArray.empty(x.device(), x.dtype(), be.rnnWorkspaceSize(cell, n, t, u));
        be.rnnForward(cell, xc, kc, rc, bc, h0 == null ? null : h0.contiguous(), c0 == null ? null : c0.contiguous(),
                mc, goBackwards, zeroOutputForMask, reverseOutput, out, hT, cT, work);
        NDArray[] outs = cT == null ? new NDArray[] {out, hT} : new NDArray[] {out, hT, cT};
        if (!Autograd.needsGrad(x, kernel, recurrentKernel, bias, h0, c0)) {
            work.close();
            return outs;
        }
        return Autograd.recordMulti("rnn", outs, gs -> {
            NDArray gx = x.requiresGrad() ? emptyLike(xc) : null;
            NDArray gk = kernel.requiresGrad() ? emptyLike(kc) : null;
            NDArray gr = recurrentKernel.requiresGrad() ? emptyLike(rc) : null;
            NDArray gb = bias != null && bias.requiresGrad() ? emptyLike(bc) : null;
            NDArray gh0 = h0 != null && h0.requiresGrad() ? emptyLike(h0) : null;
            NDArray gc0 = c0 != null && c0.requiresGrad() ? emptyLike(c0) : null;
            be.rnnBackward(cell, xc, kc, rc, mc, goBackwards, zeroOutputForMask, reverseOutput, work,
                    contiguousOrNull(gs[0]), contiguousOrNull(gs[1]), gs.length > 2 ? contiguousOrNull(gs[2]) : null,
                    gx, gk, gr, gb, gh0, gc0);
            return new NDArray[] {gx, gk, gr, gb, gh0, gc0, null};
        }, x, kernel, recurrentKernel, bias, h0, c0, mask);
    }

    private static NDArray contiguousOrNull(NDArray a) {
        return a == null ? null : a.contiguous();
    }

    private static void requireShape(String what, String name, NDArray a, long... shape) {
        if (!Arrays.equals(a.shape(), shape)) {
            throw new IllegalArgumentException(what + name + " must be " + Shapes.str(shape) + ", received "
                    + Shapes.str(a.shape()));
        }
    }

    // ---- shape ---------------------------------------------------------------------------------------------
    private static long[] resolveShape(long[] shape, long size, long[] from) {
        long[] s = shape.clone();
        int unknown = -1;
        long known = 1;
        for (int i = 0; i < s.length; i++) {
            if (s[i] == -1) {
                if (unknown >= 0) throw new IllegalArgumentException("reshape: only one dimension may be -1, received "
                        + Shapes.str(shape));
                unknown = i;
            } else if (s[i] < 0) {
                throw new IllegalArgumentException("reshape: negative dimension in " + Shapes.str(shape));
            } else {
                known *= s[i];
            }
        }
        if (unknown >= 0) {
            if (known == 0 || size % known != 0) {
                throw new IllegalArgumentException("cannot reshape " + Shapes.str(from) + " (" + size + " elements) to "
                        + Shapes.str(shape));
            }
            s[unknown] = size / known;
        } else if (known != size) {
            throw new IllegalArgumentException("cannot reshape " + Shapes.str(from) + " (" + size + " elements) to "
                    + Shapes.str(shape) + " (" + known + " elements)");
        }
        return s;
    }

    /** A view of contiguous x with another shape (no gradient recorded: internal use). */
    /** Bytes of patch gradient {@link #conv}'s backward computes per block of samples (about an L2 cache). */
    private static final long CONV_GRAD_CHUNK_BYTES = 1L << 20;

    /** A view of n elements of the leading dimension of a contiguous x, from index `from`. */
    private static NDArray leadingRows(NDArray x, long from, long n) {
        long[] shape = x.shape();
        long[] strides = x.strides();
        shape[0] = n;
        return x.view(shape, strides, x.offset() + from * strides[0]);
    }

    private static NDArray reshapeView(NDArray x, long[] shape) {
        return x.view(shape, Shapes.contiguousStrides(shape), x.offset());
    }

    /** Reshape (one dimension may be -1). A view when x is contiguous, else a copy. */
    public static NDArray reshape(NDArray x, long... shape) {
        long[] s = resolveShape(shape, x.size(), x.shape());
        if (Arrays.equals(s, x.shape())) return x;
        NDArray c = x.isContiguous() ? x : contiguous(x);
        NDArray out = reshapeView(c, s);
        long[] xs = x.shape();
        return Autograd.record("reshape", out, g -> new NDArray[] {reshape(g, xs)}, c);
    }

    /** Permutes axes (a view). With no arguments, reverses them. With two, swaps those two. */
    public static NDArray transpose(NDArray x, int... perm) {
        int r = x.rank();
        int[] p;
        if (perm.length == 0) {
            p = new int[r];
            for (int i = 0; i < r; i++) p[i] = r - 1 - i;
        } else if (perm.length == 2 && r != 2) {
            p = new int[r];
            for (int i = 0; i < r; i++) p[i] = i;
            int i0 = Shapes.axis(perm[0], r), i1 = Shapes.axis(perm[1], r);
            p[i0] = i1;
            p[i1] = i0;
        } else {
            if (perm.length != r) {
                throw new IllegalArgumentException("transpose: permutation " + Arrays.toString(perm)
                        + " does not match rank " + r);
            }
            p = new int[r];
            boolean[] seen = new boolean[r];
            for (int i = 0; i < r; i++) {
                p[i] = Shapes.axis(perm[i], r);
                if (seen[p[i]]) throw new IllegalArgumentException("transpose: repeated axis in " + Arrays.toString(perm));
                seen[p[i]] = true;
            }
        }
        long[] s = x.shape(), st = x.strides();
        long[] ns = new long[r], nst = new long[r];
        for (int i = 0; i < r; i++) {
            ns[i] = s[p[i]];
            nst[i] = st[p[i]];
        }
        NDArray out = x.view(ns, nst, x.offset());
        int[] inv = new int[r];
        for (int i = 0; i < r; i++) inv[p[i]] = i;
        return Autograd.record("transpose", out, g -> new NDArray[] {transpose(g, inv)}, x);
    }

    /** Elements [start, end) along axis (a view). */
    public static NDArray slice(NDArray x, int axis, long start, long end) {
        return slice(x, axis, start, end, 1);
    }

    /** Elements start, start+step, ... below end along axis (a view; step >= 1). Gradient: scatter into zeros. */
    public static NDArray slice(NDArray x, int axis, long start, long end, long step) {
        int a = Shapes.axis(axis, x.rank());
        long d = x.shape(a);
        if (start < 0 || end > d || start > end || step < 1) {
            throw new IllegalArgumentException("slice [" + start + ", " + end + ") step " + step + " is out of range "
                    + "for axis " + a + " of size " + d + " (shape " + Shapes.str(x.shape()) + ")");
        }
        long[] s = x.shape();
        s[a] = (end - start + step - 1) / step;
        long[] st = x.strides();
        long offset = x.offset() + (s[a] == 0 ? 0 : start * st[a]);
        st[a] *= step;
        NDArray out = x.view(s, st, offset);
        long[] xs = x.shape();
        return Autograd.record("slice", out, g -> {
            NDArray gx = NDArray.zeros(x.dtype(), xs);
            try (NDArray window = slice(gx, a, start, end, step)) {
                be(gx).copy(g, window);
            }
            return new NDArray[] {gx};
        }, x);
    }

    /**
     * Pads every axis with {@code before[i]} and {@code after[i]} elements of {@code value} (NumPy's
     * {@code np.pad(constant)}). Gradient: the slice of g that covers x.
     */
    public static NDArray pad(NDArray x, long[] before, long[] after, double value) {
        int r = x.rank();
        if (before.length != r || after.length != r) {
            throw new IllegalArgumentException("pad: need " + r + " before/after amounts for shape "
                    + Shapes.str(x.shape()) + ", received " + before.length + " and " + after.length);
        }
        long[] xs = x.shape();
        long[] s = new long[r];
        for (int i = 0; i < r; i++) {
            if (before[i] < 0 || after[i] < 0) throw new IllegalArgumentException("pad: amounts must be >= 0");
            s[i] = xs[i] + before[i] + after[i];
        }
        NDArray out = NDArray.empty(x.device(), x.dtype(), s);
        be(x).fill(out, value);
        NDArray window = out;
        for (int i = 0; i < r; i++) window = slice(window, i, before[i], before[i] + xs[i]);
        be(x).copy(x, window);
        return Autograd.record("pad", out, g -> {
            NDArray gw = g;
            for (int i = 0; i < r; i++) gw = slice(gw, i, before[i], before[i] + xs[i]);
            return new NDArray[] {contiguous(gw)};
        }, x);
    }

    /** Concatenation along axis; all other dimensions must agree. */
    public static NDArray concat(List<NDArray> xs, int axis) {
        if (xs.isEmpty()) throw new IllegalArgumentException("concat of an empty list");
        NDArray first = xs.get(0);
        int a = Shapes.axis(axis, first.rank());
        long[] s = first.shape();
        long total = 0;
        for (NDArray x : xs) {
            requireSameDtype("concat", first, x);
            long[] xsh = x.shape();
            boolean ok = xsh.length == s.length;
            for (int i = 0; ok && i < s.length; i++) ok = i == a || xsh[i] == s[i];
            if (!ok) {
                throw new IllegalArgumentException("concat along axis " + a + ": shapes " + Shapes.str(s) + " and "
                        + Shapes.str(xsh) + " differ outside that axis");
            }
            total += xsh[a];
        }
        s[a] = total;
        NDArray out = NDArray.empty(first.device(), first.dtype(), s);
        long[] starts = new long[xs.size() + 1];
        for (int i = 0; i < xs.size(); i++) {
            NDArray x = xs.get(i);
            starts[i + 1] = starts[i] + x.shape(a);
            try (NDArray window = out.view(x.shape(), out.strides(), starts[i] * out.strides()[a])) {
                be(x).copy(x, window);
            }
        }
        NDArray[] inputs = xs.toArray(new NDArray[0]);
        return Autograd.record("concat", out, g -> {
            NDArray[] gs = new NDArray[inputs.length];
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i].requiresGrad()) gs[i] = slice(g, a, starts[i], starts[i + 1]);
            }
            return gs;
        }, inputs);
    }

    // ---- convolution and pooling (windows: native/cpu/conv.cpp) ----------------------------------------------
    private static long[] checkWindowInput(String op, NDArray x, Window w) {
        requireFloat(op, x);
        int r = x.rank() - 2;
        if (r != w.rank()) {
            throw new IllegalArgumentException(op + ": x must be [batch, " + w.rank() + " spatial axes, channels] for a "
                    + w.rank() + "-d window, received x " + Shapes.str(x.shape()));
        }
        long[] out = w.out(Arrays.copyOfRange(x.shape(), 1, r + 1));
        for (long o : out) {
            if (o <= 0) {
                throw new IllegalArgumentException(op + ": the window " + Arrays.toString(w.kernel()) + " (dilation "
                        + Arrays.toString(w.dilation()) + ", padding " + Arrays.toString(w.padBefore()) + " / "
                        + Arrays.toString(w.padAfter()) + ") does not fit in x " + Shapes.str(x.shape()));
            }
        }
        return out;
    }

    /** [b, o.., c] for x [b, s.., _] and spatial sizes out. */
    private static long[] spatialShape(long batch, long[] out, long c) {
        long[] s = new long[out.length + 2];
        s[0] = batch;
        System.arraycopy(out, 0, s, 1, out.length);
        s[out.length + 1] = c;
        return s;
    }

    /**
     * Sliding windows of a channels-last x [batch, s1..sr, c] (r = 1..3): result [batch, o1..or, k1*..*kr*c] (o from
     * {@link Window#out}), each window's kernel offsets row-major with channels innermost (Keras's kernel layout, so a
     * convolution is one matmul with the kernel reshaped to [k*c, filters]); padded positions read 0. Gradient:
     * col2im (overlapping windows accumulate).
     */
    public static NDArray patches(NDArray x, Window w) {
        long[] out = checkWindowInput("patches", x, w);
        NDArray c = x.contiguous();
        NDArray cols = NDArray.empty(x.device(), x.dtype(),
                spatialShape(c.shape(0), out, Math.multiplyExact(w.kernelSize(), c.shape(-1))));
        be(c).im2col(c, cols, w, out, 1);
        return Autograd.record("patches", cols, g -> {
            NDArray gx = emptyLike(c);
            be(c).col2im(g.contiguous(), gx, w, out, 1);
            return new NDArray[] {gx};
        }, x);
    }

    /**
     * N-d convolution (Keras's Conv1D/2D/3D): x [b, s.., in], kernel [k.., in/groups, filters], bias [filters] or
     * null; result [b, o.., filters] with y[b, o, f] = bias[f] + sum over k, ci of x[b, pos(o, k), g*cg + ci] *
     * kernel[k, ci, f] for f in group g = f / (filters/groups). Computed as im2col (group-major patches) and one GEMM
     * per group straight into the output, the bias as the GEMM's C. Gradients: two GEMMs per group + col2im for x.
     */
    public static NDArray conv(NDArray x, NDArray kernel, NDArray bias, Window w, long groups) {
        requireSameDtype("conv", x, kernel);
        if (bias != null) requireSameDtype("conv", x, bias);
        long[] out = checkWindowInput("conv", x, w);
        int r = w.rank();
        long[] ks = kernel.shape();
        long cin = x.shape(-1);
        long f = ks.length == r + 2 ? ks[r + 1] : -1;
        if (ks.length != r + 2 || !Arrays.equals(Arrays.copyOf(ks, r), w.kernel()) || groups < 1 || cin % groups != 0
                || ks[r] * groups != cin || f % groups != 0 || (bias != null && (bias.rank() != 1 || bias.shape(0) != f))) {
            throw new IllegalArgumentException("conv: expected kernel " + Arrays.toString(w.kernel()) + " + [in/groups, "
                    + "filters] with filters divisible by groups, and bias [filters]; received x " + Shapes.str(x.shape())
                    + ", kernel " + Shapes.str(ks) + (bias == null ? "" : ", bias " + Shapes.str(bias.shape()))
                    + ", groups=" + groups);
        }
        if (groups > 1 && groups == cin) {
            // one input channel per group is a depthwise convolution: kernel [k.., 1, c * fg] is [k.., c, fg]
            long[] dk = ks.clone();
            dk[r] = cin;
            dk[r + 1] = f / groups;
            return depthwiseConv(x, reshape(kernel, dk), bias, w);
        }
        NDArray xc = x.contiguous(), kc = kernel.contiguous();
        long batch = xc.shape(0), kk = w.kernelSize(), cg = cin / groups, fg = f / groups;
        long rows = batch * Shapes.size(out);
        long patch = kk * cin, kg = kk * cg;
        // a 1x1 window with stride 1 and no padding reads each input row as its patch: x itself is the patch matrix
        boolean pointwise = groups == 1 && kk == 1 && Arrays.stream(w.strides()).allMatch(v -> v == 1)
                && Arrays.stream(w.padBefore()).allMatch(v -> v == 0) && Arrays.stream(w.padAfter()).allMatch(v -> v == 0);
        NDArray cols = pointwise ? reshapeView(xc, new long[] {rows, patch})
                : NDArray.empty(x.device(), x.dtype(), rows, patch);
        if (!pointwise) be(xc).im2col(xc, cols, w, out, groups);
        NDArray y2 = bias == null ? NDArray.empty(x.device(), x.dtype(), rows, f) : biasRows(bias, rows);
        be(xc).gemm(false, false, rows, fg, kg, 1.0, cols, patch, kg, kc, f, fg, bias == null ? 0.0 : 1.0, y2, f, fg,
                groups);
        NDArray y = reshapeView(y2, spatialShape(batch, out, f));
        if (!Autograd.needsGrad(x, kernel, bias)) {
            cols.close(); // only the gradient reads the patches (a view of x when pointwise: x stays open)
            return y;
        }
        return Autograd.record("conv", y, g -> {
            NDArray g2 = reshapeView(g.contiguous(), new long[] {rows, f});
            NDArray gx = null, gk = null;
            if (x.requiresGrad()) {
                // d patches = g @ kernel^T, then col2im, a few samples at a time: the patch gradient block (written
                // twice by the GEMM, zeroed then accumulated, and read by col2im) stays in cache instead of
                // making three passes over a [rows, patch] array in memory
                gx = emptyLike(xc);
                long perSample = batch == 0 ? 0 : rows / batch;
                long chunk = Math.max(1, Math.min(batch, CONV_GRAD_CHUNK_BYTES
                        / Math.max(1, perSample * patch * x.dtype().size)));
                try (NDArray gcols = NDArray.empty(x.device(), x.dtype(), Math.min(chunk, batch) * perSample, patch)) {
                    for (long b0 = 0; b0 < batch; b0 += chunk) {
                        long nb = Math.min(chunk, batch - b0), nr = nb * perSample;
                        try (NDArray gRows = leadingRows(g2, b0 * perSample, nr);
                             NDArray gcRows = leadingRows(gcols, 0, nr);
                             NDArray gxPart = leadingRows(gx, b0, nb)) {
                            be(g2).gemm(false, true, nr, kg, fg, 1.0, gRows, f, fg, kc, f, fg, 0.0, gcRows, patch, kg,
                                    groups);
                            be(xc).col2im(gcRows, gxPart, w, out, groups);
                        }
                    }
                }
            }
            if (kernel.requiresGrad()) {
                // per group gk^T [fg, kg] = g^T @ patches (measured faster in OpenBLAS than patches^T @ g, whose n is
                // only fg), then one strided copy into the kernel layout [kg, groups * fg]
                try (NDArray gkt = NDArray.empty(x.device(), x.dtype(), groups, fg, kg);
                     NDArray view = gkt.view(new long[] {kg, groups, fg}, new long[] {1, fg * kg, kg}, gkt.offset())) {
                    be(g2).gemm(true, false, fg, kg, rows, 1.0, g2, f, fg, cols, patch, kg, 0.0, gkt, kg, fg * kg,
                            groups);
                    gk = NDArray.empty(x.device(), x.dtype(), ks);
                    try (NDArray dst = reshapeView(gk, new long[] {kg, groups, fg})) {
                        be(gk).copy(view, dst);
                    }
                }
            }
            NDArray gb = bias != null && bias.requiresGrad() ? sum(g2, 0, false) : null;
            return new NDArray[] {gx, gk, gb};
        }, x, kernel, bias);
    }

    /**
     * Depthwise convolution (Keras's DepthwiseConv1D/2D): x [b, s.., c], kernel [k.., c, dm], bias [c * dm] or null;
     * result [b, o.., c * dm] with y[b, o, ch * dm + m] = bias[ch * dm + m] + sum over k of x[b, pos(o, k), ch] *
     * kernel[k, ch, m] (TensorFlow's channel order). A direct native kernel (a GEMM per channel would have n = dm);
     * gradients: one native kernel for x and the kernel, a sum for the bias.
     */
    public static NDArray depthwiseConv(NDArray x, NDArray kernel, NDArray bias, Window w) {
        requireSameDtype("depthwise_conv", x, kernel);
        if (bias != null) requireSameDtype("depthwise_conv", x, bias);
        long[] out = checkWindowInput("depthwise_conv", x, w);
        int r = w.rank();
        long[] ks = kernel.shape();
        long c = x.shape(-1), dm = ks.length == r + 2 ? ks[r + 1] : -1;
        if (ks.length != r + 2 || !Arrays.equals(Arrays.copyOf(ks, r), w.kernel()) || ks[r] != c
                || (bias != null && (bias.rank() != 1 || bias.shape(0) != c * dm))) {
            throw new IllegalArgumentException("depthwise_conv: expected kernel " + Arrays.toString(w.kernel()) + " + ["
                    + c + ", depth_multiplier] and bias [" + c + " * depth_multiplier]; received x "
                    + Shapes.str(x.shape()) + ", kernel " + Shapes.str(ks) + (bias == null ? "" : ", bias "
                    + Shapes.str(bias.shape())));
        }
        NDArray xc = x.contiguous(), kc = kernel.contiguous(), bc = bias == null ? null : bias.contiguous();
        NDArray y = NDArray.empty(x.device(), x.dtype(), spatialShape(xc.shape(0), out, c * dm));
        be(xc).depthwiseConv(xc, kc, bc, y, w);
        return Autograd.record("depthwise_conv", y, g -> {
            NDArray gc = g.contiguous();
            NDArray gx = x.requiresGrad() ? emptyLike(xc) : null;
            NDArray gk = kernel.requiresGrad() ? emptyLike(kc) : null;
            if (gx != null || gk != null) be(xc).depthwiseConvBackward(xc, kc, gc, gx, gk, w);
            NDArray gb = null;
            if (bias != null && bias.requiresGrad()) gb = sum(reshapeView(gc, new long[] {gc.size() / (c * dm), c * dm}), 0, false);
            return new NDArray[] {gx, gk, gb};
        }, x, kernel, bias);
    }

    /**
     * Transposed convolution (Keras's Conv1D/2D/3DTranspose; the input-gradient of {@link #conv}): x [b, n.., in],
     * kernel [k.., filters, in] (Keras's transposed layout), bias [filters] or null, output [b, out.., filters] with
     * y[b, pos(i, k), f] += sum over ci of x[b, i, ci] * kernel[k, f, ci] at the positions pos(i, k) = i * stride +
     * k * dilation - padBefore that fall inside the output (the window's padAfter is ignored: it follows from out).
     * Computed as one GEMM (x @ kernel^T as patches) and col2im; gradients: im2col of g and two GEMMs.
     */
    public static NDArray convTranspose(NDArray x, NDArray kernel, NDArray bias, Window w, long[] out) {
        requireFloat("conv_transpose", x);
        requireSameDtype("conv_transpose", x, kernel);
        if (bias != null) requireSameDtype("conv_transpose", x, bias);
        int r = w.rank();
        long[] ks = kernel.shape(), xs = x.shape();
        long cin = xs[xs.length - 1];
        long f = ks.length == r + 2 ? ks[r] : -1;
        if (x.rank() != r + 2 || out.length != r || ks.length != r + 2 || ks[r + 1] != cin
                || !Arrays.equals(Arrays.copyOf(ks, r), w.kernel()) || (bias != null && (bias.rank() != 1
                || bias.shape(0) != f))) {
            throw new IllegalArgumentException("conv_transpose: expected x [batch, " + r + " spatial axes, in], kernel "
                    + Arrays.toString(w.kernel()) + " + [filters, in], bias [filters] and " + r + " output sizes; received"
                    + " x " + Shapes.str(xs) + ", kernel " + Shapes.str(ks) + (bias == null ? "" : ", bias "
                    + Shapes.str(bias.shape())) + ", out " + Arrays.toString(out));
        }
        long[] n = Arrays.copyOfRange(xs, 1, r + 1);
        long[] after = new long[r];
        for (int i = 0; i < r; i++) {
            long reach = (n[i] - 1) * w.strides()[i] + (w.kernel()[i] - 1) * w.dilation()[i];
            after[i] = Math.max(0, reach + 1 - out[i] - w.padBefore()[i]);
        }
        Window wy = new Window(w.kernel(), w.strides(), w.dilation(), w.padBefore(), after); // windows over y
        NDArray xc = x.contiguous(), kc = kernel.contiguous();
        long rows = x.size() / Math.max(cin, 1), kf = w.kernelSize() * f;
        NDArray y = NDArray.empty(x.device(), x.dtype(), spatialShape(xs[0], out, f));
        try (NDArray cols = NDArray.empty(x.device(), x.dtype(), rows, kf)) {
            be(xc).gemm(false, true, rows, kf, cin, 1.0, xc, cin, 0, kc, cin, 0, 0.0, cols, kf, 0, 1);
            be(xc).col2im(cols, y, wy, n, 1);
        }
        if (bias != null) {
            long[] bs = new long[r + 2];
            bs[r + 1] = bias.strides()[0];
            be(y).binary(BinaryOp.ADD, y, y.strides(), bias, bs, y); // in place, element by element
        }
        return Autograd.record("conv_transpose", y, g -> {
            NDArray gc = g.contiguous();
            NDArray gx = null, gk = null;
            try (NDArray gcols = NDArray.empty(x.device(), x.dtype(), rows, kf)) {
                be(gc).im2col(gc, gcols, wy, n, 1);
                if (x.requiresGrad()) {
                    gx = NDArray.empty(x.device(), x.dtype(), xs);
                    be(gc).gemm(false, false, rows, cin, kf, 1.0, gcols, kf, 0, kc, cin, 0, 0.0, gx, cin, 0, 1);
                }
                if (kernel.requiresGrad()) {
                    gk = NDArray.empty(x.device(), x.dtype(), ks);
                    be(gc).gemm(true, false, kf, cin, rows, 1.0, gcols, kf, 0, xc, cin, 0, 0.0, gk, cin, 0, 1);
                }
            }
            NDArray gb = null;
            if (bias != null && bias.requiresGrad()) gb = sum(reshapeView(gc, new long[] {gc.size() / f, f}), 0, false);
            return new NDArray[] {gx, gk, gb};
        }, x, kernel, bias);
    }

    /**
     * Max (or average) pooling of a channels-last x [b, s.., c] over the windows of w (dilation must be 1): the
     * maximum (mean) of each window's real elements; padding is ignored and the mean divides by the number of real
     * elements (TensorFlow's rule for "same"). Gradient: g to each window's first maximum (spread evenly).
     */
    public static NDArray pool(NDArray x, boolean max, Window w) {
        String name = max ? "max_pool" : "avg_pool";
        long[] out = checkWindowInput(name, x, w);
        if (Arrays.stream(w.dilation()).anyMatch(v -> v != 1)) {
            throw new IllegalArgumentException(name + ": pooling windows have no dilation, received "
                    + Arrays.toString(w.dilation()));
        }
        NDArray c = x.contiguous();
        NDArray y = NDArray.empty(x.device(), x.dtype(), spatialShape(c.shape(0), out, c.shape(-1)));
        boolean grad = Autograd.needsGrad(x);
        NDArray idx = max && grad ? NDArray.empty(x.device(), DType.INT32, y.shape()) : null;
        be(c).pool(max, c, y, idx, w);
        if (!grad) return y;
        return Autograd.record(name, y, g -> {
            NDArray gx = emptyLike(c);
            be(c).poolBackward(max, g.contiguous(), idx, gx, w);
            return new NDArray[] {gx};
        }, x);
    }

    // ---- regularisation ------------------------------------------------------------------------------------
    /** Inverted-dropout mask of x's shape: 0 with probability rate, else 1/(1-rate); same seed, same mask. */
    public static NDArray dropoutMask(NDArray x, double rate, long seed) {
        if (!(rate >= 0 && rate < 1)) {
            throw new IllegalArgumentException("dropout rate must be in [0, 1), received rate=" + rate);
        }
        NDArray mask = emptyLike(x);
        be(x).dropoutMask(mask, rate, seed);
        return mask;
    }

    /** x * dropoutMask(x, rate, seed). Gradient: g * mask (through mul). */
    public static NDArray dropout(NDArray x, double rate, long seed) {
        requireFloat("dropout", x);
        if (rate == 0) return x;
        return mul(x, dropoutMask(x, rate, seed));
    }

    // ---- losses and indexing -------------------------------------------------------------------------------
    private static void checkLabels(String op, NDArray x, NDArray labels) {
        if (labels.dtype() != DType.INT32) {
            throw new DTypeException(op + ": labels must be int32 class indices, received " + labels.dtype().pyName);
        }
        if (x.rank() != 2 || labels.rank() != 1 || labels.shape(0) != x.shape(0)) {
            throw new IllegalArgumentException(op + ": expected x [n, classes] and labels [n], received x "
                    + Shapes.str(x.shape()) + " and labels " + Shapes.str(labels.shape()));
        }
    }

    /** Per-row loss log(sum(exp(x_i))) - x_i[label_i] for logits [n, c], int32 labels [n]. */
    public static NDArray sparseSoftmaxCrossEntropy(NDArray logits, NDArray labels) {
        requireFloat("sparse_softmax_cross_entropy", logits);
        checkLabels("sparse_softmax_cross_entropy", logits, labels);
        NDArray x = logits.contiguous();
        NDArray lab = labels.contiguous();
        NDArray loss = NDArray.empty(x.device(), x.dtype(), x.shape(0));
        NDArray probs = emptyLike(x);
        be(x).softmaxCrossEntropy(x, lab, loss, probs);
        return Autograd.record("sparse_softmax_cross_entropy", loss, g -> {
            NDArray gx = emptyLike(probs);
            be(probs).softmaxCrossEntropyBackward(probs, lab, g.contiguous(), gx);
            return new NDArray[] {gx, null};
        }, logits, labels);
    }

    /** out[i] = x[i, idx[i]] for x [n, c] and int32 idx [n]. Gradient: scatter-add into zeros. */
    public static NDArray gather(NDArray x, NDArray idx) {
        requireFloat("gather", x);
        checkLabels("gather", x, idx);
        NDArray c = x.contiguous();
        NDArray ic = idx.contiguous();
        NDArray out = NDArray.empty(x.device(), x.dtype(), x.shape(0));
        be(x).gather(c, ic, out);
        return Autograd.record("gather", out, g -> {
            NDArray gx = zerosLike(c);
            be(c).scatterAdd(g.contiguous(), ic, gx);
            return new NDArray[] {gx, null};
        }, x, idx);
    }

    /**
     * Rows of {@code table} [rows, d] picked by int32 {@code indices} of any shape: result [...indices, d]
     * (embedding lookup). An index outside [0, rows) raises IllegalArgumentException. Gradient: rows of g added into
     * zeros of the table's shape (repeated indices accumulate).
     */
    public static NDArray take(NDArray table, NDArray indices) {
        requireFloat("take", table);
        if (indices.dtype() != DType.INT32) {
            throw new DTypeException("take: indices must be int32, received " + indices.dtype().pyName);
        }
        if (table.rank() != 2) {
            throw new IllegalArgumentException("take: table must be [rows, d], received " + Shapes.str(table.shape()));
        }
        NDArray t = table.contiguous();
        NDArray idx = indices.contiguous();
        long[] is = indices.shape();
        long[] os = Arrays.copyOf(is, is.length + 1);
        os[is.length] = table.shape(1);
        NDArray out = NDArray.empty(table.device(), table.dtype(), os);
        be(t).gatherRows(t, idx, out);
        return Autograd.record("take", out, g -> {
            NDArray gt = zerosLike(t);
            be(gt).scatterAddRows(g.contiguous(), idx, gt);
            return new NDArray[] {gt, null};
        }, table, indices);
    }

    /** Number of NaN or infinite elements. */
    public static long countNonFinite(NDArray x) {
        if (!x.dtype().isFloat()) return 0;
        NDArray c = x.contiguous();
        return be(c).countNonFinite(c);
    }
}
