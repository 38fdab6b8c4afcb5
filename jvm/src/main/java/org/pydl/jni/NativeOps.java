package org.pydl.jni;

import java.nio.ByteBuffer;

/**
 * The one class that declares every native entry point of pydl (C++ in {@code native/cpu/}).
 *
 * <p>Conventions shared by every method:
 * <ul>
 *   <li>Pointers are raw addresses ({@code long}) of blocks returned by {@link #malloc}; an address may point
 *       inside a block (views). Before touching memory the native side checks that every range it will read or
 *       write lies inside one live block and throws {@link IllegalArgumentException} otherwise.</li>
 *   <li>{@code dtype} is {@link org.pydl.nd.DType#code}: 0 = float32, 1 = float64, 2 = int32.
 *       Float kernels accept 0 and 1 only.</li>
 *   <li>Sizes and strides are counted in elements, not bytes. Arrays of strides have the length of
 *       {@code shape}; a stride of 0 broadcasts.</li>
 *   <li>A C++ exception never crosses JNI: bad arguments become {@code IllegalArgumentException},
 *       allocation failure {@code OutOfMemoryError}, anything else {@code RuntimeException}.</li>
 *   <li>Op tables ({@link #unaryOpNames()}, ...) list op names in the order of their integer ids; the Java enums
 *       check at load time that they agree, so an id can never mean two different ops.</li>
 * </ul>
 * Only {@link NativeLoader} loads the library; call {@link NativeLoader#load()} before using this class.
 */
public final class NativeOps {
    static {
        NativeLoader.load();   // the first use of any native method loads the library (once; NativeLoader decides how)
    }

    private NativeOps() {}

    // ---- library -------------------------------------------------------------------------------------------
    /** Version string of the native library, e.g. "pydl-native 0.1.0 (openblas 0.3.x, avx2)". */
    public static native String version();
    /** When true every kernel (GEMM included) runs its plain scalar reference implementation. */
    public static native void setReference(boolean reference);
    public static native boolean isReference();
    /** Threads used by elementwise/reduction kernels and by BLAS. */
    public static native void setNumThreads(int n);
    public static native int getNumThreads();

    // ---- memory (native/cpu/memory.cpp) --------------------------------------------------------------------
    /** 64-byte aligned block of {@code bytes} bytes (bytes may be 0: a valid 64-byte block is returned). */
    public static native long malloc(long bytes);
    /** Frees a block returned by malloc; freeing an unknown address throws IllegalArgumentException. */
    public static native void free(long address);
    /** Bytes currently allocated through malloc and not freed. */
    public static native long allocatedBytes();
    /**
     * Bytes of freed blocks the allocator keeps for reuse (bounded by PYDL_ALLOC_CACHE_MB, default min(256 MiB,
     * RAM / 8)); not part of {@link #allocatedBytes}.
     */
    public static native long cachedBytes();
    /** Returns every cached freed block to the C library; returns the bytes released. */
    public static native long trimCache();
    /** A direct ByteBuffer (native byte order set by the caller) over [address, address+bytes). */
    public static native ByteBuffer wrap(long address, long bytes);
    /** dst[i] = value for n elements. */
    public static native void fill(int dtype, long dst, long n, double value);
    /** Plain byte copy of n bytes between (possibly the same) blocks; ranges may overlap. */
    public static native void copyBytes(long src, long dst, long bytes);
    /** N-d strided copy: dst[idx] = src[idx] over {@code shape}, element strides per side (may be 0 on src). */
    public static native void copyStrided(int dtype, long src, long[] srcStrides, long dst, long[] dstStrides,
                                          long[] shape);
    /** Converts n contiguous elements between dtypes (float32/float64/int32, any pair). */
    public static native void cast(int srcDtype, long src, int dstDtype, long dst, long n);

    // ---- elementwise (native/cpu/elementwise.cpp) ----------------------------------------------------------
    /** Names of unary ops in id order (see org.pydl.ops.UnaryOp). */
    public static native String[] unaryOpNames();
    /** y = f(x) over n contiguous elements; alpha is the op's parameter (leaky_relu slope, elu alpha, ...). */
    public static native void unary(int op, int dtype, long x, long y, long n, double alpha);
    /** gx = gy * f'(x) over n contiguous elements; y = f(x) is passed too (kernels use whichever is cheaper). */
    public static native void unaryBackward(int op, int dtype, long x, long y, long gy, long gx, long n, double alpha);
    /** Names of binary ops in id order (see org.pydl.ops.BinaryOp). */
    public static native String[] binaryOpNames();
    /** out[idx] = a[idx] (op) b[idx] over {@code shape}; out is contiguous, a and b strided (0 = broadcast). */
    public static native void binary(int op, int dtype, long a, long[] aStrides, long b, long[] bStrides, long out,
                                     long[] shape);
    /** y = x * scale + shift over n contiguous elements (x and y may be the same). */
    public static native void affine(int dtype, long x, long y, long n, double scale, double shift);
    /**
     * Inference batch normalization over rows x channels (row strides ldx, ldy; x and y may be the same):
     * y = act(gamma * (x - mean) / sqrt(var + epsilon) + beta); gamma, beta 0 = absent; act -1 = none, else a
     * unary op id with its alpha.
     */
    public static native void batchNormInference(int dtype, long x, long ldx, long y, long ldy, long rows,
                                                 long channels, long mean, long var, long gamma, long beta,
                                                 double epsilon, int act, double alpha);

    // ---- reductions (native/cpu/reduce.cpp) ----------------------------------------------------------------
    /** Names of reduce ops in id order (see org.pydl.ops.ReduceOp): sum, max, min. */
    public static native String[] reduceOpNames();
    /** x viewed as contiguous [outer, n, inner]; out[outer, inner] = reduce over the middle axis. n >= 1 for max/min. */
    public static native void reduce(int op, int dtype, long x, long out, long outer, long n, long inner);
    /** Index (int32) of the first maximum over the middle axis of contiguous [outer, n, inner]. n >= 1. */
    public static native void argmax(int dtype, long x, long outIdx, long outer, long n, long inner);
    /** Softmax (or log-softmax when log) over the middle axis of contiguous [outer, n, inner]. */
    public static native void softmax(int dtype, long x, long y, long outer, long n, long inner, boolean log);
    /** Gradient of softmax / log-softmax given its output y and upstream gy. */
    public static native void softmaxBackward(int dtype, long y, long gy, long gx, long outer, long n, long inner,
                                              boolean log);

    // ---- BLAS (native/cpu/blas.cpp) ------------------------------------------------------------------------
    /**
     * Row-major batched GEMM: for each b in [0, batch): C_b = alpha * op(A_b) * op(B_b) + beta * C_b, where
     * A_b = a + b*strideA (elements) etc. op(A) is m x k, op(B) is k x n, C is m x n with leading dimension ldc.
     * A stride of 0 reuses one matrix for every batch entry.
     */
    public static native void gemm(int dtype, boolean transA, boolean transB, long m, long n, long k, double alpha,
                                   long a, long lda, long strideA, long b, long ldb, long strideB, double beta,
                                   long c, long ldc, long strideC, long batch);

    // ---- losses and indexing (native/cpu/loss.cpp) ---------------------------------------------------------
    /**
     * Fused softmax + sparse cross-entropy over logits [n, c] and int32 labels [n]:
     * loss[i] = logsumexp(x_i) - x_i[label_i]; probs = softmax(x) (written, used by the backward).
     * A label outside [0, c) throws IllegalArgumentException naming the row and the value.
     */
    public static native void softmaxCrossEntropy(int dtype, long logits, long labels, long loss, long probs, long n,
                                                  long c);
    /** gx[i, j] = (probs[i, j] - (j == label_i)) * gy[i]. */
    public static native void softmaxCrossEntropyBackward(int dtype, long probs, long labels, long gy, long gx, long n,
                                                          long c);
    /** out[i] = x[i, idx[i]] for x [n, c] and int32 idx [n]; index checked. */
    public static native void gather(int dtype, long x, long idx, long out, long n, long c);
    /** gx[i, idx[i]] += gy[i]; gx [n, c] must be zeroed by the caller. */
    public static native void scatterAdd(int dtype, long gy, long idx, long gx, long n, long c);
    /** out[i, :] = table[idx[i], :] for table [rows, d], int32 idx [n], out [n, d] (embedding lookup); idx checked. */
    public static native void gatherRows(int dtype, long table, long rows, long d, long idx, long n, long out);
    /** table[idx[i], :] += g[i, :] (indices may repeat; the gradient of gatherRows). */
    public static native void scatterAddRows(int dtype, long g, long idx, long n, long table, long rows, long d);
    /** Count of NaN or infinite values among n elements (float dtypes). */
    public static native long countNonFinite(int dtype, long x, long n);

    // ---- convolution and pooling windows (native/cpu/conv.cpp) ---------------------------------------------
    // x is a contiguous channels-last array [batch, s1..sr, c] (r = 1..3). Along axis i, output o and kernel offset
    // k read position o*strides[i] + k*dilation[i] - padBefore[i]; positions outside x are padding (padBefore[i]
    // before, padAfter[i] after, all >= 0) and every window must end inside the padded axis. out = windows per axis.
    /**
     * im2col: cols [batch, o1..or, groups, k1..kr, c/groups] with cols[b, o.., g, k.., cc] = x[b, pos.., g*cg + cc]
     * (0 in the padding). groups = 1 gives Keras's kernel order [k.., c].
     */
    public static native void im2col(int dtype, long x, long[] xShape, long cols, long[] kernel, long[] strides,
                                     long[] dilation, long[] padBefore, long[] padAfter, long[] out, long groups);
    /** col2im, the gradient of im2col: gx (zeroed here) [batch, s.., c] accumulates cols; padding is dropped. */
    public static native void col2im(int dtype, long cols, long gx, long[] xShape, long[] kernel, long[] strides,
                                     long[] dilation, long[] padBefore, long[] padAfter, long[] out, long groups);
    /**
     * Pooling y [batch, o.., c] = max (max = true) or mean of each window's real elements (padding ignored; the
     * mean divides by their count, as TensorFlow does). For max, idx (int32, y's shape; 0 = not wanted) receives the
     * flat spatial index within the batch item of each window's first maximum. Padding must be narrower than the
     * window.
     */
    public static native void pool(int dtype, boolean max, long x, long[] xShape, long y, long idx, long[] window,
                                   long[] strides, long[] padBefore, long[] padAfter, long[] out);
    /** Gradient of pool: gx (zeroed here) receives gy at idx (max) or gy / count over each window (mean). */
    public static native void poolBackward(int dtype, boolean max, long gy, long idx, long gx, long[] xShape,
                                           long[] window, long[] strides, long[] padBefore, long[] padAfter,
                                           long[] out);
    /**
     * Depthwise convolution: y [batch, o.., c*dm] with y[b, o, ch*dm + m] = bias[ch*dm + m] (bias 0: none) + sum over
     * kernel offsets k of x[b, pos(o, k), ch] * w[k, ch, m]; w is [k.., c, dm] (Keras's depthwise kernel).
     */
    public static native void depthwiseConv(int dtype, long x, long[] xShape, long w, long bias, long y, long[] kernel,
                                            long[] strides, long[] dilation, long[] padBefore, long[] padAfter,
                                            long[] out, long dm);
    /** Gradients of depthwiseConv for upstream gy: gx and gw (each 0 when not wanted; overwritten). */
    public static native void depthwiseConvBackward(int dtype, long x, long[] xShape, long w, long gy, long gx, long gw,
                                                    long[] kernel, long[] strides, long[] dilation, long[] padBefore,
                                                    long[] padAfter, long[] out, long dm);

    // ---- recurrent sequences (native/cpu/rnn.cpp) ------------------------------------------------------------
    /** Names of the fused recurrent cells in id order (see org.pydl.ops.RnnCell). */
    public static native String[] rnnCellNames();
    /** Elements of the workspace of {@link #rnnForward} (what {@link #rnnBackward} reads back). */
    public static native long rnnWorkspaceSize(int cell, long batch, long time, long units);
    /**
     * A whole recurrent layer (activation tanh, recurrent activation sigmoid; Keras's equations and gate order) over
     * x [batch, time, features] with kernel [features, G], recurrentKernel [units, G] (G = gates * units) and bias
     * [G] (GRU reset_after: [2, G], input then recurrent bias), all contiguous. Optional (address 0 = absent): bias,
     * initial states h0/c0 [batch, units] (zeros when absent), mask [batch, time] of x's dtype (nonzero = real step;
     * at a masked step the states are carried over and the output repeats the previous one, zeros before the first
     * real step, or is zeros with zeroOutputForMask). Writes out [batch, time, units] (processing order; input order
     * with reverseOutput), the final states hT, cT (LSTM only) and the workspace work.
     */
    public static native void rnnForward(int cell, int dtype, long batch, long time, long features, long units, long x,
                                         long kernel, long recurrentKernel, long bias, long h0, long c0, long mask,
                                         boolean goBackwards, boolean zeroOutputForMask, boolean reverseOutput,
                                         long out, long hT, long cT, long work);
    /**
     * Backpropagation through time of {@link #rnnForward} (same shapes and flags, its workspace): upstream gradients
     * gOut, ghT, gcT (0 = zero) in, gradients gx, gKernel, gRecurrentKernel, gBias, gh0, gc0 out (0 = not wanted;
     * each is overwritten).
     */
    public static native void rnnBackward(int cell, int dtype, long batch, long time, long features, long units,
                                          long x, long kernel, long recurrentKernel, long mask, boolean goBackwards,
                                          boolean zeroOutputForMask, boolean reverseOutput, long work, long gOut,
                                          long ghT, long gcT, long gx, long gKernel, long gRecurrentKernel, long gBias,
                                          long gh0, long gc0);

    // ---- random (native/cpu/random.cpp) --------------------------------------------------------------------
    /**
     * Inverted-dropout mask: mask[i] = (u(seed, i) >= rate) ? 1/(1-rate) : 0 with u a counter-based uniform in
     * [0, 1), so the result depends on (seed, i) only, never on thread count.
     */
    public static native void dropoutMask(int dtype, long mask, long n, double rate, long seed);
    /** out[i] = low + (high-low) * u(seed, i). */
    public static native void uniform(int dtype, long out, long n, double low, double high, long seed);
    /** out[i] = mean + std * z(seed, i), z standard normal (Box-Muller on counter-based uniforms). */
    public static native void normal(int dtype, long out, long n, double mean, double std, long seed);

    // ---- optimizers (native/cpu/optim.cpp) -----------------------------------------------------------------
    /**
     * SGD with optional momentum/Nesterov and L2 weight decay folded into the gradient (g' = g + wd*p):
     * v = momentum*v - lr*g'; p += nesterov ? momentum*v - lr*g' : v (Keras semantics). velocity may be 0 when
     * momentum == 0.
     */
    public static native void sgdUpdate(int dtype, long param, long grad, long velocity, long n, double lr,
                                        double momentum, boolean nesterov, double weightDecay);
    /**
     * Adam / AdamW (Keras semantics): m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
     * lr_t = lr * sqrt(1-b2^t) / (1-b1^t); p -= lr_t * m / (sqrt(v) + eps). When decoupledWeightDecay > 0,
     * p -= lr * decoupledWeightDecay * p is applied first, before the Adam step (as Keras does). step t starts at 1.
     */
    public static native void adamUpdate(int dtype, long param, long grad, long m, long v, long n, double lr,
                                         double beta1, double beta2, double eps, long step,
                                         double decoupledWeightDecay);
    /**
     * RMSProp (Keras semantics, centered=false): s = rho*s + (1-rho)*g^2; increment = lr*g/sqrt(s+eps);
     * with momentum > 0: mom = momentum*mom + increment, p -= mom; else p -= increment (mom may then be 0).
     */
    public static native void rmspropUpdate(int dtype, long param, long grad, long sq, long mom, long n, double lr,
                                            double rho, double eps, double momentum);
}
