package org.pydl.ops;

import java.util.Arrays;

/**
 * Where the sliding windows of a convolution or pooling op lie along each spatial axis of a channels-last array:
 * window (kernel) size, stride, dilation and explicit padding before/after. Along axis i, window o and kernel offset
 * k read position {@code o * strides[i] + k * dilation[i] - padBefore[i]}; positions outside the array are padding.
 * Keras's "valid"/"same"/"causal" rules become these numbers in {@code org.pydl.nn.Spatial.window}.
 */
public record Window(long[] kernel, long[] strides, long[] dilation, long[] padBefore, long[] padAfter) {
    public Window {
        int r = kernel.length;
        if (r < 1 || r > 3 || strides.length != r || dilation.length != r || padBefore.length != r
                || padAfter.length != r) {
            throw new IllegalArgumentException("window: 1 to 3 spatial axes with one kernel size, stride, dilation and "
                    + "padding each; received kernel " + Arrays.toString(kernel) + ", strides "
                    + Arrays.toString(strides) + ", dilation " + Arrays.toString(dilation) + ", padding "
                    + Arrays.toString(padBefore) + " / " + Arrays.toString(padAfter));
        }
        for (int i = 0; i < r; i++) {
            if (kernel[i] < 1 || strides[i] < 1 || dilation[i] < 1 || padBefore[i] < 0 || padAfter[i] < 0) {
                throw new IllegalArgumentException("window: kernel sizes, strides and dilations must be >= 1 and padding "
                        + ">= 0; received kernel " + Arrays.toString(kernel) + ", strides " + Arrays.toString(strides)
                        + ", dilation " + Arrays.toString(dilation) + ", padding " + Arrays.toString(padBefore) + " / "
                        + Arrays.toString(padAfter));
            }
        }
        kernel = kernel.clone();
        strides = strides.clone();
        dilation = dilation.clone();
        padBefore = padBefore.clone();
        padAfter = padAfter.clone();
    }

    /** No padding, no dilation. */
    public static Window of(long[] kernel, long[] strides) {
        long[] ones = new long[kernel.length], zeros = new long[kernel.length];
        Arrays.fill(ones, 1);
        return new Window(kernel, strides, ones, zeros, zeros);
    }

    public int rank() {
        return kernel.length;
    }

    /** Number of kernel offsets (product of the kernel sizes). */
    public long kernelSize() {
        long k = 1;
        for (long v : kernel) k *= v;
        return k;
    }

    /** Windows along each axis for spatial input sizes {@code in}: (in + pads - extent) / stride + 1, at least 0. */
    public long[] out(long[] in) {
        long[] o = new long[in.length];
        for (int i = 0; i < in.length; i++) {
            long span = in[i] + padBefore[i] + padAfter[i] - ((kernel[i] - 1) * dilation[i] + 1);
            o[i] = span < 0 ? 0 : span / strides[i] + 1;
        }
        return o;
    }
}
