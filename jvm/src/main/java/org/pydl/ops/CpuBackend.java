package org.pydl.ops;

import java.util.Arrays;

import org.pydl.jni.NativeLoader;
import org.pydl.jni.NativeOps;
import org.pydl.nd.Device;
import org.pydl.nd.NDArray;
import org.pydl.nd.Storage;

/** CPU kernels: thin calls into native/cpu through {@link NativeOps}. */
public final class CpuBackend implements Backend {
    public static final CpuBackend INSTANCE = new CpuBackend();

    /** Native bytes above which an allocation first asks the GC to run Cleaners of forgotten arrays. */
    private static final long MIN_GC_THRESHOLD = 256L << 20;
    private static volatile long gcThreshold = MIN_GC_THRESHOLD;

    private CpuBackend() {
        NativeLoader.load();
        checkTable("unary", NativeOps.unaryOpNames(), UnaryOp.values());
        checkTable("binary", NativeOps.binaryOpNames(), BinaryOp.values());
        checkTable("reduce", NativeOps.reduceOpNames(), ReduceOp.values());
        checkTable("rnn cell", NativeOps.rnnCellNames(), RnnCell.values());
    }

    private static void checkTable(String what, String[] nativeNames, Enum<?>[] javaOps) {
        String[] javaNames = Arrays.stream(javaOps).map(e -> e.name().toLowerCase()).toArray(String[]::new);
        if (!Arrays.equals(nativeNames, javaNames)) {
            throw new IllegalStateException("native " + what + " op table " + Arrays.toString(nativeNames)
                    + " does not match Java's " + Arrays.toString(javaNames) + ": rebuild the native library");
        }
    }

    @Override
    public Storage allocate(long bytes) {
        if (NativeOps.allocatedBytes() + bytes > gcThreshold) {
            reclaim(bytes);
        }
        long addr = NativeOps.malloc(bytes);
        return new Storage(addr, bytes, Device.CPU, NativeOps::free);
    }

    /**
     * Arrays nobody closed are freed by Cleaners after a GC: run one and wait (bounded) for native memory to drop,
     * then set the next threshold from what is really live, so it follows usage down as well as up.
     */
    private static synchronized void reclaim(long bytes) {
        long before = NativeOps.allocatedBytes();
        if (before + bytes <= gcThreshold) return;
        NativeOps.trimCache();   // memory is tight: cached freed blocks go back to the system too
        System.gc();
        long after = before;
        for (int wait = 1; wait <= 16; wait *= 2) {
            try {
                Thread.sleep(wait);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
            after = NativeOps.allocatedBytes();
            if (after < before) break;
        }
        gcThreshold = Math.max(MIN_GC_THRESHOLD, 2 * (after + bytes));
    }

    @Override
    public void fill(NDArray dst, double value) {
        if (dst.isContiguous()) {
            NativeOps.fill(dst.dtype().code, dst.address(), dst.size(), value);
        } else {
            throw new IllegalArgumentException("fill needs a contiguous array");
        }
    }

    @Override
    public void copy(NDArray src, NDArray dst) {
        if (src.isContiguous() && dst.isContiguous()) {
            NativeOps.copyBytes(src.address(), dst.address(), dst.byteSize());
        } else {
            NativeOps.copyStrided(src.dtype().code, src.address(), src.strides(), dst.address(), dst.strides(),
                    dst.shape());
        }
    }

    @Override
    public void cast(NDArray src, NDArray dst) {
        NativeOps.cast(src.dtype().code, src.address(), dst.dtype().code, dst.address(), src.size());
    }

    @Override
    public void unary(UnaryOp op, NDArray x, NDArray y, double alpha) {
        NativeOps.unary(op.ordinal(), x.dtype().code, x.address(), y.address(), x.size(), alpha);
    }

    @Override
    public void unaryBackward(UnaryOp op, NDArray x, NDArray y, NDArray gy, NDArray gx, double alpha) {
        NativeOps.unaryBackward(op.ordinal(), x.dtype().code, x.address(), y.address(), gy.address(), gx.address(),
                x.size(), alpha);
    }

    @Override
    public void binary(BinaryOp op, NDArray a, long[] aStrides, NDArray b, long[] bStrides, NDArray out) {
        NativeOps.binary(op.ordinal(), out.dtype().code, a.address(), aStrides, b.address(), bStrides,
                out.address(), out.shape());
    }

    @Override
    public void affine(NDArray x, NDArray y, double scale, double shift) {
        NativeOps.affine(x.dtype().code, x.address(), y.address(), x.size(), scale, shift);
    }

    @Override
    public void batchNormInference(NDArray x, long ldx, NDArray y, long ldy, long rows, long channels, NDArray mean,
                                   NDArray var, NDArray gamma, NDArray beta, double epsilon, UnaryOp act,
                                   double alpha) {
        NativeOps.batchNormInference(x.dtype().code, x.address(), ldx, y.address(), ldy, rows, channels,
                mean.address(), var.address(), gamma == null ? 0 : gamma.address(),
                beta == null ? 0 : beta.address(), epsilon, act == null ? -1 : act.ordinal(), alpha);
    }

    @Override
    public void reduce(ReduceOp op, NDArray x, NDArray out, long outer, long n, long inner) {
        NativeOps.reduce(op.ordinal(), x.dtype().code, x.address(), out.address(), outer, n, inner);
    }

    @Override
    public void argmax(NDArray x, NDArray out, long outer, long n, long inner) {
        NativeOps.argmax(x.dtype().code, x.address(), out.address(), outer, n, inner);
    }

    @Override
    public void softmax(NDArray x, NDArray y, long outer, long n, long inner, boolean log) {
        NativeOps.softmax(x.dtype().code, x.address(), y.address(), outer, n, inner, log);
    }

    @Override
    public void softmaxBackward(NDArray y, NDArray gy, NDArray gx, long outer, long n, long inner, boolean log) {
        NativeOps.softmaxBackward(y.dtype().code, y.address(), gy.address(), gx.address(), outer, n, inner, log);
    }

    @Override
    public void gemm(boolean transA, boolean transB, long m, long n, long k, double alpha, NDArray a, long lda,
                     long strideA, NDArray b, long ldb, long strideB, double beta, NDArray c, long ldc, long strideC,
                     long batch) {
        NativeOps.gemm(c.dtype().code, transA, transB, m, n, k, alpha, a.address(), lda, strideA, b.address(), ldb,
                strideB, beta, c.address(), ldc, strideC, batch);
    }

    @Override
    public long rnnWorkspaceSize(RnnCell cell, long batch, long time, long units) {
        return NativeOps.rnnWorkspaceSize(cell.ordinal(), batch, time, units);
    }

    private static long addr(NDArray a) {
        return a == null ? 0 : a.address();
    }

    @Override
    public void rnnForward(RnnCell cell, NDArray x, NDArray kernel, NDArray recurrentKernel, NDArray bias, NDArray h0,
                           NDArray c0, NDArray mask, boolean goBackwards, boolean zeroOutputForMask,
                           boolean reverseOutput, NDArray out, NDArray hT, NDArray cT, NDArray work) {
        NativeOps.rnnForward(cell.ordinal(), x.dtype().code, x.shape(0), x.shape(1), x.shape(2),
                recurrentKernel.shape(0), x.address(), kernel.address(), recurrentKernel.address(), addr(bias),
                addr(h0), addr(c0), addr(mask), goBackwards, zeroOutputForMask, reverseOutput, out.address(),
                hT.address(), addr(cT), work.address());
    }

    @Override
    public void rnnBackward(RnnCell cell, NDArray x, NDArray kernel, NDArray recurrentKernel, NDArray mask,
                            boolean goBackwards, boolean zeroOutputForMask, boolean reverseOutput, NDArray work,
                            NDArray gOut, NDArray ghT, NDArray gcT, NDArray gx, NDArray gKernel,
                            NDArray gRecurrentKernel, NDArray gBias, NDArray gh0, NDArray gc0) {
        NativeOps.rnnBackward(cell.ordinal(), x.dtype().code, x.shape(0), x.shape(1), x.shape(2),
                recurrentKernel.shape(0), x.address(), kernel.address(), recurrentKernel.address(), addr(mask),
                goBackwards, zeroOutputForMask, reverseOutput, work.address(), addr(gOut), addr(ghT), addr(gcT),
                addr(gx), addr(gKernel), addr(gRecurrentKernel), addr(gBias), addr(gh0), addr(gc0));
    }

    @Override
    public void softmaxCrossEntropy(NDArray logits, NDArray labels, NDArray loss, NDArray probs) {
        NativeOps.softmaxCrossEntropy(logits.dtype().code, logits.address(), labels.address(), loss.address(),
                probs.address(), logits.shape(0), logits.shape(1));
    }

    @Override
    public void softmaxCrossEntropyBackward(NDArray probs, NDArray labels, NDArray gy, NDArray gx) {
        NativeOps.softmaxCrossEntropyBackward(probs.dtype().code, probs.address(), labels.address(), gy.address(),
                gx.address(), probs.shape(0), probs.shape(1));
    }

    @Override
    public void gather(NDArray x, NDArray idx, NDArray out) {
        NativeOps.gather(x.dtype().code, x.address(), idx.address(), out.address(), x.shape(0), x.shape(1));
    }

    @Override
    public void scatterAdd(NDArray gy, NDArray idx, NDArray gx) {
        NativeOps.scatterAdd(gx.dtype().code, gy.address(), idx.address(), gx.address(), gx.shape(0), gx.shape(1));
    }

    @Override
    public void gatherRows(NDArray table, NDArray idx, NDArray out) {
        NativeOps.gatherRows(table.dtype().code, table.address(), table.shape(0), table.shape(1), idx.address(),
                idx.size(), out.address());
    }

    @Override
    public void scatterAddRows(NDArray g, NDArray idx, NDArray table) {
        NativeOps.scatterAddRows(table.dtype().code, g.address(), idx.address(), idx.size(), table.address(),
                table.shape(0), table.shape(1));
    }

    @Override
    public void im2col(NDArray x, NDArray cols, Window w, long[] out, long groups) {
        NativeOps.im2col(x.dtype().code, x.address(), x.shape(), cols.address(), w.kernel(), w.strides(), w.dilation(),
                w.padBefore(), w.padAfter(), out, groups);
    }

    @Override
    public void col2im(NDArray cols, NDArray gx, Window w, long[] out, long groups) {
        NativeOps.col2im(gx.dtype().code, cols.address(), gx.address(), gx.shape(), w.kernel(), w.strides(),
                w.dilation(), w.padBefore(), w.padAfter(), out, groups);
    }

    @Override
    public void pool(boolean max, NDArray x, NDArray y, NDArray idx, Window w) {
        NativeOps.pool(x.dtype().code, max, x.address(), x.shape(), y.address(), idx == null ? 0 : idx.address(),
                w.kernel(), w.strides(), w.padBefore(), w.padAfter(), spatialOut(y));
    }

    @Override
    public void poolBackward(boolean max, NDArray gy, NDArray idx, NDArray gx, Window w) {
        NativeOps.poolBackward(gx.dtype().code, max, gy.address(), idx == null ? 0 : idx.address(), gx.address(),
                gx.shape(), w.kernel(), w.strides(), w.padBefore(), w.padAfter(), spatialOut(gy));
    }

    @Override
    public void depthwiseConv(NDArray x, NDArray kernel, NDArray bias, NDArray y, Window w) {
        NativeOps.depthwiseConv(x.dtype().code, x.address(), x.shape(), kernel.address(),
                bias == null ? 0 : bias.address(), y.address(), w.kernel(), w.strides(), w.dilation(), w.padBefore(),
                w.padAfter(), spatialOut(y), kernel.shape(-1));
    }

    @Override
    public void depthwiseConvBackward(NDArray x, NDArray kernel, NDArray gy, NDArray gx, NDArray gkernel, Window w) {
        NativeOps.depthwiseConvBackward(x.dtype().code, x.address(), x.shape(), kernel.address(), gy.address(),
                gx == null ? 0 : gx.address(), gkernel == null ? 0 : gkernel.address(), w.kernel(), w.strides(),
                w.dilation(), w.padBefore(), w.padAfter(), spatialOut(gy), kernel.shape(-1));
    }

    /** The spatial sizes of a channels-last [b, s.., c] array. */
    private static long[] spatialOut(NDArray y) {
        long[] s = y.shape();
        return Arrays.copyOfRange(s, 1, s.length - 1);
    }

    @Override
    public long countNonFinite(NDArray x) {
        return NativeOps.countNonFinite(x.dtype().code, x.address(), x.size());
    }

    @Override
    public void dropoutMask(NDArray mask, double rate, long seed) {
        NativeOps.dropoutMask(mask.dtype().code, mask.address(), mask.size(), rate, seed);
    }

    @Override
    public void uniform(NDArray out, double low, double high, long seed) {
        NativeOps.uniform(out.dtype().code, out.address(), out.size(), low, high, seed);
    }

    @Override
    public void normal(NDArray out, double mean, double std, long seed) {
        NativeOps.normal(out.dtype().code, out.address(), out.size(), mean, std, seed);
    }

    @Override
    public void sgdUpdate(NDArray param, NDArray grad, NDArray velocity, double lr, double momentum, boolean nesterov,
                          double weightDecay) {
        NativeOps.sgdUpdate(param.dtype().code, param.address(), grad.address(),
                velocity == null ? 0L : velocity.address(), param.size(), lr, momentum, nesterov, weightDecay);
    }

    @Override
    public void adamUpdate(NDArray param, NDArray grad, NDArray m, NDArray v, double lr, double beta1, double beta2,
                           double eps, long step, double decoupledWeightDecay) {
        NativeOps.adamUpdate(param.dtype().code, param.address(), grad.address(), m.address(), v.address(),
                param.size(), lr, beta1, beta2, eps, step, decoupledWeightDecay);
    }

    @Override
    public void rmspropUpdate(NDArray param, NDArray grad, NDArray sq, NDArray mom, double lr, double rho, double eps,
                              double momentum) {
        NativeOps.rmspropUpdate(param.dtype().code, param.address(), grad.address(), sq.address(),
                mom == null ? 0L : mom.address(), param.size(), lr, rho, eps, momentum);
    }
}
