package org.pydl.train;

import java.io.InvalidObjectException;
import java.io.ObjectInputStream;
import java.io.Serializable;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;

import org.pydl.jni.NativeOps;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;
import org.pydl.ops.Ops;

/**
 * Inputs [n, ...] and targets — labels [n] (int32 class ids) or [n, ...] (float targets) — row-aligned. A model
 * with several inputs or outputs takes lists ({@link #DataSet(List, List)}); {@link #features()} and
 * {@link #labels()} are the first of each.
 *
 * <p>Java-serializable (e.g. {@code sc.parallelize(dataSets)} in Spark): it travels as dtype, shape and bytes of each
 * array ({@link Serial}), never as off-heap addresses.
 */
public final class DataSet implements Serializable {
    private static final long serialVersionUID = 1L;
    private final transient List<NDArray> features;
    private final transient List<NDArray> labels;

    public DataSet(NDArray features, NDArray labels) {
        this(List.of(features), List.of(labels));
    }

    public DataSet(List<NDArray> features, List<NDArray> labels) {
        if (features.isEmpty() || labels.isEmpty()) throw new IllegalArgumentException("DataSet: no inputs or targets");
        long n = -1;
        List<NDArray> fs = new ArrayList<>(), ls = new ArrayList<>();
        for (List<NDArray> group : List.of(features, labels)) {
            for (NDArray a : group) {
                if (a.rank() < 1) {
                    throw new IllegalArgumentException("DataSet: features and labels need a leading sample axis, "
                            + "received " + Shapes.str(a.shape()));
                }
                if (n >= 0 && a.shape(0) != n) {
                    throw new IllegalArgumentException("DataSet: x has " + n + " samples but " + (group == labels
                            ? "y" : "another input") + " has " + a.shape(0) + "; they must have the same length");
                }
                n = a.shape(0);
                (group == features ? fs : ls).add(a.contiguous());
            }
        }
        this.features = List.copyOf(fs);
        this.labels = List.copyOf(ls);
    }

    public NDArray features() {
        return features.get(0);
    }

    public NDArray labels() {
        return labels.get(0);
    }

    public List<NDArray> featureList() {
        return features;
    }

    public List<NDArray> labelList() {
        return labels;
    }

    public long size() {
        return features.get(0).shape(0);
    }

    /** Rows [from, to) as views. */
    public DataSet slice(long from, long to) {
        List<NDArray> fs = new ArrayList<>(), ls = new ArrayList<>();
        for (NDArray a : features) fs.add(Ops.slice(a, 0, from, to));
        for (NDArray a : labels) ls.add(Ops.slice(a, 0, from, to));
        return new DataSet(fs, ls);
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

    private Object writeReplace() {
        return new Serial(this);
    }

    private void readObject(ObjectInputStream in) throws InvalidObjectException {
        throw new InvalidObjectException("DataSet is serialized through DataSet.Serial");
    }

    /** The serialized form: per array its dtype, shape and bytes (features first, then labels). */
    private static final class Serial implements Serializable {
        private static final long serialVersionUID = 1L;
        private final int nFeatures;
        private final String[] dtypes;
        private final long[][] shapes;
        private final byte[][] data;

        Serial(DataSet d) {
            List<NDArray> all = new ArrayList<>(d.features);
            all.addAll(d.labels);
            nFeatures = d.features.size();
            dtypes = new String[all.size()];
            shapes = new long[all.size()][];
            data = new byte[all.size()][];
            for (int i = 0; i < all.size(); i++) {
                NDArray a = all.get(i).contiguous();
                if (a.byteSize() > Integer.MAX_VALUE - 8) {
                    throw new IllegalArgumentException("DataSet: an array of " + a.byteSize() + " bytes is too large "
                            + "to serialize; split the DataSet");
                }
                dtypes[i] = a.dtype().pyName;
                shapes[i] = a.shape();
                data[i] = new byte[(int) a.byteSize()];
                a.buffer().get(data[i]);
            }
        }

        private Object readResolve() throws InvalidObjectException {
            if (dtypes == null || shapes == null || data == null || dtypes.length != shapes.length
                    || dtypes.length != data.length || nFeatures < 1 || nFeatures >= dtypes.length) {
                throw new InvalidObjectException("DataSet: corrupt serialized form");
            }
            List<NDArray> fs = new ArrayList<>(), ls = new ArrayList<>();
            for (int i = 0; i < dtypes.length; i++) {
                NDArray a = NDArray.empty(DType.of(dtypes[i]), shapes[i]);
                if (a.byteSize() != data[i].length) {
                    throw new InvalidObjectException("DataSet: array " + i + " has " + data[i].length + " bytes for "
                            + "shape " + org.pydl.nd.Shapes.str(shapes[i]) + " " + dtypes[i]);
                }
                ByteBuffer b = a.buffer();
                b.put(data[i]);
                (i < nFeatures ? fs : ls).add(a);
            }
            return new DataSet(fs, ls);
        }
    }
}
