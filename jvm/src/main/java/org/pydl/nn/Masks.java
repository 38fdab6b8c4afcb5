package org.pydl.nn;

import java.util.List;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras masks: [batch, time] arrays of 1 (a real step) and 0 (padding) in a float dtype, created by Embedding
 * ({@code mask_zero}) and Masking, handed from layer to layer by {@link Layer#computeMasks} and consumed by the
 * recurrent, attention and average-pooling layers. They never carry gradients.
 */
final class Masks {
    private Masks() {}

    /** 1 where {@code x != value}, else 0; same shape as x. */
    static NDArray notEqual(NDArray x, double value, DType dtype) {
        double[] v = x.toDoubleArray();
        double[] m = new double[v.length];
        for (int i = 0; i < v.length; i++) m[i] = v[i] != value ? 1 : 0;
        return of(m, x.shape(), dtype);
    }

    /** 1 where any element along the last axis differs from {@code value} (Keras's Masking), else 0. */
    static NDArray anyNotEqual(NDArray x, double value, DType dtype) {
        double[] v = x.toDoubleArray();
        long[] s = x.shape();
        int last = (int) s[s.length - 1];
        double[] m = new double[v.length / Math.max(1, last)];
        for (int i = 0; i < m.length; i++) {
            for (int j = 0; j < last; j++) {
                if (v[i * last + j] != value) {
                    m[i] = 1;
                    break;
                }
            }
        }
        return of(m, java.util.Arrays.copyOf(s, s.length - 1), dtype);
    }

    /** Logical and of the non-null masks (Keras's merge layers); null when all are null. */
    static NDArray and(List<NDArray> masks) {
        NDArray r = null;
        for (NDArray m : masks) {
            if (m == null) continue;
            r = r == null ? m : Ops.mul(r, m);
        }
        return r;
    }

    /** The mask reshaped to broadcast against a [batch, time, ...] array of rank {@code rank}. */
    static NDArray expand(NDArray mask, int rank) {
        long[] s = new long[rank];
        java.util.Arrays.fill(s, 1);
        s[0] = mask.shape(0);
        s[1] = mask.shape(1);
        return Ops.reshape(mask, s);
    }

    /** Checks that {@code mask} fits a [batch, time, ...] input; names the layer in the error. */
    static void check(Layer layer, NDArray mask, NDArray x) {
        if (mask.rank() != 2 || x.rank() < 2 || mask.shape(0) != x.shape(0) || mask.shape(1) != x.shape(1)) {
            throw new IllegalArgumentException(layer.type() + " layer '" + layer.name() + "': the mask "
                    + org.pydl.nd.Shapes.str(mask.shape()) + " does not fit the input " + org.pydl.nd.Shapes.str(x.shape())
                    + "; a mask is (batch, timesteps)");
        }
    }

    private static NDArray of(double[] m, long[] shape, DType dtype) {
        if (dtype == DType.FLOAT64) return NDArray.of(m, shape);
        float[] f = new float[m.length];
        for (int i = 0; i < m.length; i++) f[i] = (float) m[i];
        NDArray r = NDArray.of(f, shape);
        return dtype == DType.FLOAT32 ? r : r.cast(dtype);
    }
}
