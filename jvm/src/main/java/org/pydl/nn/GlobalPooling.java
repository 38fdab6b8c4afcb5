package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;
import org.pydl.ops.Window;

/**
 * GlobalMax/GlobalAveragePooling1D/2D/3D: max or mean over all spatial axes (keepdims as in Keras).
 * GlobalAveragePooling1D with a Keras mask averages over the unmasked steps (Keras 3).
 */
public class GlobalPooling extends Layer {
    public final boolean max;
    public final int rank;
    public final String dataFormat;
    public final boolean keepDims;

    public GlobalPooling(boolean max, int rank, String dataFormat, boolean keepDims) {
        this.max = max;
        this.rank = rank;
        this.dataFormat = dataFormat;
        this.keepDims = keepDims;
    }

    static GlobalPooling fromConfig(boolean max, int rank, Map<String, Object> c) {
        return new GlobalPooling(max, rank, Spatial.dataFormat(c), Json.getBoolean(c, "keepdims", false));
    }

    @Override
    public String type() {
        return (max ? "GlobalMaxPooling" : "GlobalAveragePooling") + rank + "D";
    }

    private int[] axes() {
        int[] a = new int[rank];
        int first = dataFormat.equals("channels_first") ? 2 : 1;
        for (int i = 0; i < rank; i++) a[i] = first + i;
        return a;
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (in.length != rank + 1) {
            throw configError("expects inputs of rank " + (rank + 2) + ", received input shape " + batchShape(in));
        }
        long c = dataFormat.equals("channels_first") ? in[0] : in[rank];
        if (!keepDims) return new long[] {c};
        long[] out = new long[rank + 1];
        java.util.Arrays.fill(out, 1);
        out[dataFormat.equals("channels_first") ? 0 : rank] = c;
        return out;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray mask = ctx.mask(0);
        if (!max && rank == 1 && mask != null) {
            // Keras 3: the mean over the unmasked steps (a fully masked sample gives 0/0, as in Keras)
            boolean cf = dataFormat.equals("channels_first");
            if (mask.rank() != 2 || mask.shape(0) != x.shape(0) || mask.shape(1) != x.shape(cf ? 2 : 1)) {
                throw configError("the mask " + org.pydl.nd.Shapes.str(mask.shape()) + " does not fit the input "
                        + org.pydl.nd.Shapes.str(x.shape()));
            }
            NDArray m = cf ? Ops.reshape(mask, x.shape(0), 1, x.shape(2)) : Ops.reshape(mask, x.shape(0), x.shape(1), 1);
            int[] ax = axes();
            return Ops.div(Ops.sum(Ops.mul(x, m), ax, keepDims), Ops.sum(m, ax, keepDims));
        }
        if (!max) return Ops.mean(x, axes(), keepDims);
        // one window over all positions: the native max pooling (argmax kept for the gradient), then the output shape
        NDArray h = dataFormat.equals("channels_first") ? Spatial.toChannelsLast(x) : x;
        long[] s = h.shape();
        long[] spatial = java.util.Arrays.copyOfRange(s, 1, rank + 1);
        NDArray y = Ops.pool(h, true, Window.of(spatial, spatial));
        long[] out = pooledShape(x.shape(0), s[rank + 1]);
        return Ops.reshape(y, out);
    }

    /** The spatial axes are gone: no mask is handed on. */
    @Override
    public java.util.List<NDArray> computeMasks(java.util.List<NDArray> xs, java.util.List<NDArray> outputs,
                                                Context ctx) {
        return java.util.Collections.singletonList(null);
    }

    /** [batch, channels], or with keepdims the input's rank with every spatial size 1. */
    private long[] pooledShape(long batch, long c) {
        if (!keepDims) return new long[] {batch, c};
        long[] out = new long[rank + 2];
        java.util.Arrays.fill(out, 1);
        out[0] = batch;
        out[dataFormat.equals("channels_first") ? 1 : rank + 1] = c;
        return out;
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("data_format", dataFormat);
        c.put("keepdims", keepDims);
        return c;
    }
}
