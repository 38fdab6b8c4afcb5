package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** GlobalMax/GlobalAveragePooling1D/2D/3D: max or mean over all spatial axes (keepdims as in Keras). */
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
        return max ? Ops.max(x, axes(), keepDims) : Ops.mean(x, axes(), keepDims);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("data_format", dataFormat);
        c.put("keepdims", keepDims);
        return c;
    }
}
