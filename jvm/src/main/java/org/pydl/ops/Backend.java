package org.pydl.ops;

import org.pydl.nd.NDArray;
import org.pydl.nd.Storage;

/**
 * The kernels of one device. {@link Ops} checks shapes and dtypes, allocates outputs and records gradients;
 * a Backend only runs kernels on arrays that are already valid. Contiguity: arguments documented as
 * "contiguous" are; {@code x} in {@link #copy} and the operands of {@link #binary} may be strided views.
 * A CUDA backend implements this interface next to {@link CpuBackend}; nothing above it changes.
 */
public interface Backend {
    Storage allocate(long bytes);

    void fill(NDArray dst, double value);

    /** dst (any strides) = src (any strides), same shape and dtype. */
    void copy(NDArray src, NDArray dst);

    /** Contiguous dtype conversion. */
    void cast(NDArray src, NDArray dst);

    void unary(UnaryOp op, NDArray x, NDArray y, double alpha);

    void unaryBackward(UnaryOp op, NDArray x, NDArray y, NDArray gy, NDArray gx, double alpha);

    /** out (contiguous) = a op b, reading a and b through element strides already broadcast to out's shape. */
    void binary(BinaryOp op, NDArray a, long[] aStrides, NDArray b, long[] bStrides, NDArray out);

    void affine(NDArray x, NDArray y, double scale, double shift);

    /**
     * Inference batch normalization of x viewed as [rows, channels] with row stride ldx into y (row stride ldy; may
     * be x): y = act(gamma * (x - mean) / sqrt(var + epsilon) + beta); gamma, beta may be null, act null = none.
     */
    void batchNormInference(NDArray x, long ldx, NDArray y, long ldy, long rows, long channels, NDArray mean,
                            NDArray var, NDArray gamma, NDArray beta, double epsilon, UnaryOp act, double alpha);

    void reduce(ReduceOp op, NDArray x, NDArray out, long outer, long n, long inner);

    void argmax(NDArray x, NDArray out, long outer, long n, long inner);

    void softmax(NDArray x, NDArray y, long outer, long n, long inner, boolean log);

    void softmaxBackward(NDArray y, NDArray gy, NDArray gx, long outer, long n, long inner, boolean log);

    /** Row-major batched GEMM on raw element offsets of a, b, c (see NativeOps.gemm). */
    void gemm(boolean transA, boolean transB, long m, long n, long k, double alpha, NDArray a, long lda, long strideA,
              NDArray b, long ldb, long strideB, double beta, NDArray c, long ldc, long strideC, long batch);

    /** Workspace elements of {@link #rnnForward} (see NativeOps.rnnWorkspaceSize). */
    long rnnWorkspaceSize(RnnCell cell, long batch, long time, long units);

    /** A fused recurrent layer over a sequence (see NativeOps.rnnForward); absent optionals are null. */
    void rnnForward(RnnCell cell, NDArray x, NDArray kernel, NDArray recurrentKernel, NDArray bias, NDArray h0,
                    NDArray c0, NDArray mask, boolean goBackwards, boolean zeroOutputForMask, boolean reverseOutput,
                    NDArray out, NDArray hT, NDArray cT, NDArray work);

    /** Backpropagation through time of {@link #rnnForward} (see NativeOps.rnnBackward); null = absent/not wanted. */
    void rnnBackward(RnnCell cell, NDArray x, NDArray kernel, NDArray recurrentKernel, NDArray mask,
                     boolean goBackwards, boolean zeroOutputForMask, boolean reverseOutput, NDArray work,
                     NDArray gOut, NDArray ghT, NDArray gcT, NDArray gx, NDArray gKernel, NDArray gRecurrentKernel,
                     NDArray gBias, NDArray gh0, NDArray gc0);

    void softmaxCrossEntropy(NDArray logits, NDArray labels, NDArray loss, NDArray probs);

    void softmaxCrossEntropyBackward(NDArray probs, NDArray labels, NDArray gy, NDArray gx);

    void gather(NDArray x, NDArray idx, NDArray out);

    void scatterAdd(NDArray gy, NDArray idx, NDArray gx);

    /** out [n, d] = rows idx [n] of table [rows, d]. */
    void gatherRows(NDArray table, NDArray idx, NDArray out);

    /** table [rows, d] += g [n, d] scattered to rows idx [n]. */
    void scatterAddRows(NDArray g, NDArray idx, NDArray table);

    /** cols [b, o.., groups, k.., c/groups] = windows of contiguous channels-last x (see NativeOps.im2col). */
    void im2col(NDArray x, NDArray cols, Window w, long[] out, long groups);

    /** gx (contiguous, overwritten) = col2im(cols), the gradient of {@link #im2col}. */
    void col2im(NDArray cols, NDArray gx, Window w, long[] out, long groups);

    /** y = max or mean pooling of contiguous x; idx (int32, may be null) = argmax positions (see NativeOps.pool). */
    void pool(boolean max, NDArray x, NDArray y, NDArray idx, Window w);

    /** gx (overwritten) = gradient of {@link #pool} for upstream gy. */
    void poolBackward(boolean max, NDArray gy, NDArray idx, NDArray gx, Window w);

    /** y = depthwise convolution of contiguous x with kernel [k.., c, dm] (+ bias, may be null; NativeOps.depthwiseConv). */
    void depthwiseConv(NDArray x, NDArray kernel, NDArray bias, NDArray y, Window w);

    /** gx and gkernel (either may be null; overwritten) = gradients of {@link #depthwiseConv} for upstream gy. */
    void depthwiseConvBackward(NDArray x, NDArray kernel, NDArray gy, NDArray gx, NDArray gkernel, Window w);

    long countNonFinite(NDArray x);

    void dropoutMask(NDArray mask, double rate, long seed);

    void uniform(NDArray out, double low, double high, long seed);

    void normal(NDArray out, double mean, double std, long seed);

    void sgdUpdate(NDArray param, NDArray grad, NDArray velocity, double lr, double momentum, boolean nesterov,
                   double weightDecay);

    void adamUpdate(NDArray param, NDArray grad, NDArray m, NDArray v, double lr, double beta1, double beta2,
                    double eps, long step, double decoupledWeightDecay);

    void rmspropUpdate(NDArray param, NDArray grad, NDArray sq, NDArray mom, double lr, double rho, double eps,
                       double momentum);
}
