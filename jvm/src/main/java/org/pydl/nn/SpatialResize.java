package org.pydl.nn;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * ZeroPadding1D/2D/3D, Cropping1D/2D/3D and UpSampling1D/2D/3D on channels-last (or channels_first) inputs: zeros
 * added or rows removed at both ends of each spatial axis, or each element repeated {@code size} times (nearest).
 * UpSampling2D also takes {@code interpolation="bilinear"}: Keras 3 resizes with {@code ops.image.resize}
 * (antialias off), i.e. half-pixel centres: output index o reads input coordinate max(0, (o + 0.5) / size - 0.5),
 * linearly between its two neighbours (the last row repeated at the edge), as TensorFlow's bilinear resize and
 * PyTorch's {@code interpolate(mode="bilinear", align_corners=False)}. One class serves the nine Keras classes;
 * composed from {@link Ops#pad}, {@link Ops#slice}, {@link Ops#broadcastTo} and {@link Ops#take}, so gradients come
 * from autodiff.
 */
public final class SpatialResize extends Layer {
    public enum Kind { ZERO_PADDING, CROPPING, UP_SAMPLING }

    public final Kind kind;
    public final int rank;
    /** [rank][2] before/after amounts (padding, cropping), or [rank][1] repeat factors (up-sampling). */
    public final long[][] amounts;
    public final String dataFormat;
    /** "nearest", or "bilinear" (UpSampling2D only). */
    public final String interpolation;

    public SpatialResize(Kind kind, int rank, long[][] amounts, String dataFormat) {
        this(kind, rank, amounts, dataFormat, "nearest");
    }

    public SpatialResize(Kind kind, int rank, long[][] amounts, String dataFormat, String interpolation) {
        this.kind = kind;
        this.rank = rank;
        this.amounts = amounts;
        this.dataFormat = dataFormat;
        this.interpolation = interpolation;
    }

    private static final String[] NAMES = {"ZeroPadding", "Cropping", "UpSampling"};
    private static final String[] KEYS = {"padding", "cropping", "size"};

    /**
     * From the canonical config written by pydl: {@code padding}/{@code cropping} as [[before, after], ...] and
     * {@code size} as [n, ...], one entry per spatial axis (the Python classes expand Keras's int/tuple forms).
     */
    @SuppressWarnings("unchecked")
    static SpatialResize fromConfig(Kind kind, int rank, Map<String, Object> c) {
        String key = KEYS[kind.ordinal()];
        java.util.List<Object> v = Json.getList(c, key);
        if (v.size() != rank) {
            throw new IllegalArgumentException(NAMES[kind.ordinal()] + rank + "D: " + key + " needs " + rank
                    + " entries, received " + key + "=" + v);
        }
        long[][] a = new long[rank][];
        for (int i = 0; i < rank; i++) {
            Object e = v.get(i);
            if (kind == Kind.UP_SAMPLING) {
                a[i] = new long[] {((Number) e).longValue()};
            } else {
                java.util.List<Object> pair = (java.util.List<Object>) e;
                a[i] = new long[] {((Number) pair.get(0)).longValue(), ((Number) pair.get(1)).longValue()};
            }
        }
        return new SpatialResize(kind, rank, a, Spatial.dataFormat(c),
                kind == Kind.UP_SAMPLING ? Json.getString(c, "interpolation", "nearest") : "nearest");
    }

    @Override
    public String type() {
        return NAMES[kind.ordinal()] + rank + "D";
    }

    private int firstSpatial() {
        return dataFormat.equals("channels_first") ? 1 : 0;
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (in.length != rank + 1) {
            throw configError("expects inputs of rank " + (rank + 2) + ", received input shape " + batchShape(in));
        }
        if (!interpolation.equals("nearest") && !(interpolation.equals("bilinear") && kind == Kind.UP_SAMPLING
                && rank == 2)) {
            throw configError("interpolation must be " + (kind == Kind.UP_SAMPLING && rank == 2
                    ? "\"nearest\" or \"bilinear\"" : "\"nearest\"") + ", received interpolation=\""
                    + interpolation + "\"");
        }
        long[] out = in.clone();
        for (int i = 0; i < rank; i++) {
            long[] a = amounts[i];
            boolean ok = kind == Kind.UP_SAMPLING ? a.length == 1 && a[0] >= 1 : a.length == 2 && a[0] >= 0 && a[1] >= 0;
            if (!ok) {
                throw configError(KEYS[kind.ordinal()] + " must be non-negative (size >= 1), received "
                        + Arrays.deepToString(amounts));
            }
            int ax = firstSpatial() + i;
            switch (kind) {
                case ZERO_PADDING: out[ax] = in[ax] + a[0] + a[1]; break;
                case CROPPING: out[ax] = in[ax] - a[0] - a[1]; break;
                default: out[ax] = in[ax] * a[0];
            }
            if (out[ax] <= 0) {
                throw configError("cropping " + Arrays.deepToString(amounts) + " removes every element of input "
                        + batchShape(in));
            }
        }
        return out;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        int r = x.rank();
        switch (kind) {
            case ZERO_PADDING: {
                long[] before = new long[r], after = new long[r];
                for (int i = 0; i < rank; i++) {
                    before[1 + firstSpatial() + i] = amounts[i][0];
                    after[1 + firstSpatial() + i] = amounts[i][1];
                }
                return Ops.pad(x, before, after, 0.0);
            }
            case CROPPING: {
                NDArray y = x;
                for (int i = 0; i < rank; i++) {
                    int ax = 1 + firstSpatial() + i;
                    y = Ops.slice(y, ax, amounts[i][0], x.shape(ax) - amounts[i][1]);
                }
                return Ops.contiguous(y);
            }
            default: {
                if (interpolation.equals("bilinear")) {
                    NDArray y = x;
                    for (int i = 0; i < rank; i++) y = bilinear(y, 1 + firstSpatial() + i, amounts[i][0]);
                    return y;
                }
                // nearest: insert a length-size axis after each spatial axis, broadcast, merge
                NDArray y = x;
                for (int i = 0; i < rank; i++) {
                    int ax = 1 + firstSpatial() + i;
                    long[] s = y.shape();
                    long[] e = new long[s.length + 1];
                    System.arraycopy(s, 0, e, 0, ax + 1);
                    e[ax + 1] = 1;
                    System.arraycopy(s, ax + 1, e, ax + 2, s.length - ax - 1);
                    long[] b = e.clone();
                    b[ax + 1] = amounts[i][0];
                    long[] merged = s.clone();
                    merged[ax] = s[ax] * amounts[i][0];
                    y = Ops.reshape(Ops.broadcastTo(Ops.reshape(y, e), b), merged);
                }
                return y;
            }
        }
    }

    /**
     * Linear interpolation along {@code axis} by an integer factor with half-pixel centres: output o reads
     * src = max(0, (o + 0.5) / factor - 0.5), i.e. (1 - t) * x[floor(src)] + t * x[min(floor(src) + 1, n - 1)]
     * with t = src - floor(src). The axis is moved first and the rows gathered with {@link Ops#take}.
     */
    static NDArray bilinear(NDArray x, int axis, long factor) {
        if (factor == 1) return x;
        long n = x.shape(axis), m = n * factor;
        int[] i0 = new int[(int) m], i1 = new int[(int) m];
        double[] t = new double[(int) m], s = new double[(int) m];
        for (int o = 0; o < m; o++) {
            double src = Math.max(0.0, (o + 0.5) / factor - 0.5);
            int lo = (int) Math.floor(src);
            i0[o] = (int) Math.min(lo, n - 1);
            i1[o] = (int) Math.min(lo + 1, n - 1);
            t[o] = src - lo;
            s[o] = 1.0 - t[o];
        }
        int r = x.rank();
        int[] perm = new int[r], inv = new int[r];
        perm[0] = axis;
        for (int i = 0, j = 1; i < r; i++) if (i != axis) perm[j++] = i;
        for (int i = 0; i < r; i++) inv[perm[i]] = i;
        NDArray table = Ops.reshape(Ops.transpose(x, perm), n, -1);
        NDArray lo = Ops.take(table, NDArray.of(i0, m)), hi = Ops.take(table, NDArray.of(i1, m));
        NDArray ws = NDArray.of(s, m, 1).cast(x.dtype()), wt = NDArray.of(t, m, 1).cast(x.dtype());
        NDArray mixed = Ops.add(Ops.mul(lo, ws), Ops.mul(hi, wt));
        long[] moved = new long[r];
        for (int i = 0; i < r; i++) moved[i] = i == 0 ? m : x.shape(perm[i]);
        return Ops.contiguous(Ops.transpose(Ops.reshape(mixed, moved), inv));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        Object[] v = new Object[rank];
        for (int i = 0; i < rank; i++) v[i] = kind == Kind.UP_SAMPLING ? (Object) amounts[i][0] : amounts[i];
        c.put(KEYS[kind.ordinal()], Arrays.asList(v));
        c.put("data_format", dataFormat);
        if (kind == Kind.UP_SAMPLING) c.put("interpolation", interpolation);
        return c;
    }
}
