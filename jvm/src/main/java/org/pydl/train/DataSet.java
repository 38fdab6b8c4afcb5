package org.pydl.train;

import org.pydl.jni.NativeOps;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;

/** Features [n, ...] and labels [n] (int32 class ids) or [n, ...] (float targets), row-aligned. */
public final class DataSet {
    private final NDArray features;
    private final NDArray labels;

    public DataSet(NDArray features, NDArray labels) {
        if (features.rank() < 1 || labels.rank() < 1) {
            throw new IllegalArgumentException("DataSet: features and labels need a leading sample axis, received "
                    + Shapes.str(features.shape()) + " and " + Shapes.str(labels.shape()));
        }
        if (features.shape(0) != labels.shape(0)) {
            throw new IllegalArgumentException("DataSet: x has " + features.shape(0) + " samples but y has "
                    + labels.shape(0) + "; they must have the same length");
        }
        this.features = features.contiguous();
        this.labels = labels.contiguous();
    }

    public NDArray features() {
        return features;
    }

    public NDArray labels() {
        return labels;
    }

    public long size() {
        return features.shape(0);
    }

    /** Rows [from, to) as views. */
    public DataSet slice(long from, long to) {
        return new DataSet(org.pydl.ops.Ops.slice(features, 0, from, to), org.pydl.ops.Ops.slice(labels, 0, from, to));
    }

    /** Copies rows order[from..to) of {@code a} into a new contiguous array. */
    public static NDArray gatherRows(NDArray a, int[] order, int from, int to) {
        long[] s = a.shape();
        s[0] = to - from;
        NDArray out = NDArray.empty(a.device(), a.dtype(), s);
        long rowBytes = a.size() == 0 ? 0 : a.byteSize() / a.shape(0);
        long src = a.address(), dst = out.address();
        for (int i = from; i < to; i++) {
            NativeOps.copyBytes(src + order[i] * rowBytes, dst + (i - from) * rowBytes, rowBytes);
        }
        return out;
    }
}
