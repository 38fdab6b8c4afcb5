package org.pydl.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;

import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Registers the normalisation layers (BatchNormalization, LayerNormalization, GroupNormalization, RMSNormalization)
 * and holds the
 * helpers they share (axis resolution, moments, broadcasting of per-feature parameters).
 */
final class NormalizationLayers {
    private NormalizationLayers() {}

    static void register() {
        Layers.register("BatchNormalization", BatchNormalization::fromConfig);
        Layers.register("LayerNormalization", LayerNormalization::fromConfig);
        Layers.register("GroupNormalization", GroupNormalization::fromConfig);
        Layers.register("RMSNormalization", RMSNormalization::fromConfig);
    }

    /**
     * Resolves a Keras axis (negative counts from the end) against the batch rank {@code rank}; the batch axis 0
     * and out-of-range axes are config errors naming the layer and the received value.
     */
    static int resolveAxis(Layer l, int axis, int rank, long[] in) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 1 || a >= rank) {
            throw l.configError("axis " + axis + " is invalid for input of shape " + Layer.batchShape(in)
                    + " (rank " + rank + "); valid: " + (rank > 1 ? (1 - rank) + ".." + "-1 or 1.." + (rank - 1)
                    : "none") + " (the batch axis 0 cannot be normalised over). Received: axis=" + axis);
        }
        return a;
    }

    /**
     * Resolves a list of Keras axes (see {@link #resolveAxis}) against the batch rank: sorted, at least one, no
     * repeats; config errors name the layer and the received axes.
     */
    static int[] resolveAxes(Layer l, int[] axis, int rank, long[] in) {
        if (axis.length == 0) throw l.configError("axis must name at least one axis, received axis=[]");
        int[] a = new int[axis.length];
        for (int i = 0; i < a.length; i++) a[i] = resolveAxis(l, axis[i], rank, in);
        Arrays.sort(a);
        for (int i = 1; i < a.length; i++) {
            if (a[i] == a[i - 1]) throw l.configError("repeated axis in axis=" + Arrays.toString(axis));
        }
        return a;
    }

    /** The checked epsilon and the resolved, sorted feature axes of a per-sample normalisation of input {@code in}. */
    static int[] featureAxes(Layer l, double epsilon, int[] axis, long[] in) {
        checkEpsilon(l, epsilon);
        return resolveAxes(l, axis, in.length + 1, in);
    }

    /** The shape of a per-feature weight over the given (batch-rank) axes of input {@code in}. */
    static long[] paramShape(long[] in, int[] axes) {
        long[] ps = new long[axes.length];
        for (int i = 0; i < axes.length; i++) ps[i] = in[axes[i] - 1];
        return ps;
    }

    /** Reads "axis" from a config: an integer or a list of integers. */
    static int[] axesFromConfig(Map<String, Object> c, int dflt) {
        Object a = c.get("axis");
        if (a == null) return new int[] {dflt};
        if (a instanceof List) {
            List<?> l = (List<?>) a;
            int[] r = new int[l.size()];
            for (int i = 0; i < r.length; i++) r[i] = toInt(l.get(i));
            return r;
        }
        return new int[] {toInt(a)};
    }

    private static int toInt(Object o) {
        if (o instanceof Number) {
            double d = ((Number) o).doubleValue();
            if (d == Math.rint(d) && Math.abs(d) < Integer.MAX_VALUE) return (int) d;
        }
        throw new IllegalArgumentException("axis must be an integer or a list of integers, received " + o);
    }

    static Object axisConfig(int[] axes, boolean asList) {
        if (!asList && axes.length == 1) return (long) axes[0];
        List<Object> l = new ArrayList<>();
        for (int a : axes) l.add((long) a);
        return l;
    }

    /** All axes of a batch-rank {@code rank} array except those in {@code keep}. */
    static int[] otherAxes(int rank, int... keep) {
        int[] r = new int[rank - keep.length];
        int k = 0;
        for (int i = 0; i < rank; i++) {
            boolean kept = false;
            for (int j : keep) kept |= j == i;
            if (!kept) r[k++] = i;
        }
        return r;
    }

    /** Shape of rank {@code rank} with 1 everywhere except {@code in[a-1]} at each feature axis a. */
    static long[] broadcastShape(int rank, long[] in, int... featureAxes) {
        long[] s = new long[rank];
        Arrays.fill(s, 1);
        for (int a : featureAxes) s[a] = in[a - 1];
        return s;
    }

    /** p reshaped to {@code shape} for broadcasting, or p itself when trailing alignment already broadcasts. */
    static NDArray broadcastable(NDArray p, long[] shape) {
        long[] ps = p.shape();
        int lead = shape.length - ps.length;
        boolean trailing = lead >= 0;
        for (int i = 0; trailing && i < lead; i++) trailing = shape[i] == 1;
        for (int i = 0; trailing && i < ps.length; i++) trailing = shape[lead + i] == ps[i];
        return trailing ? p : Ops.reshape(p, shape);
    }

    /** (x - mean) / sqrt(var + eps) from the given (keepDims) mean and variance. */
    static NDArray normalize(NDArray centered, NDArray var, double epsilon) {
        return Ops.mul(centered, Ops.reciprocal(Ops.sqrt(Ops.add(var, epsilon))));
    }

    /** Applies gamma (scale) and beta (center), each possibly null, broadcast to {@code shape}. */
    static NDArray affine(NDArray y, Parameter gamma, Parameter beta, long[] shape) {
        if (gamma != null) y = Ops.mul(y, broadcastable(gamma.value(), shape));
        if (beta != null) y = Ops.add(y, broadcastable(beta.value(), shape));
        return y;
    }

    static void checkEpsilon(Layer l, double epsilon) {
        if (!(epsilon > 0) || Double.isInfinite(epsilon)) {
            throw l.configError("epsilon must be a positive number, received epsilon=" + epsilon);
        }
    }
}
