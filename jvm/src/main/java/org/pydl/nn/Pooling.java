package org.pydl.nn;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;
import org.pydl.ops.Window;

/**
 * Max and average pooling over 1-3 spatial axes with Keras's semantics: pool_size, strides (default pool_size),
 * padding "valid"/"same" (same: max ignores the padding, average divides by the number of real elements, as
 * TensorFlow does), channels-last or channels_first. One native {@link Ops#pool} (forward keeps the argmax
 * positions; backward scatters to them).
 */
public class Pooling extends Layer {
    public final boolean max;
    public final int rank;
    public final long[] poolSize;
    public final long[] strides;
    public final String padding;
    public final String dataFormat;

    public Pooling(boolean max, int rank, long[] poolSize, long[] strides, String padding, String dataFormat) {
        this.max = max;
        this.rank = rank;
        this.poolSize = poolSize.clone();
        this.strides = strides == null ? poolSize.clone() : strides.clone();
        this.padding = padding;
        this.dataFormat = dataFormat;
    }

    static Pooling fromConfig(boolean max, int rank, Map<String, Object> c) {
        long[] pool = Spatial.tuple(c, "pool_size", rank, 2);
        long[] strides = c.get("strides") == null ? pool : Spatial.tuple(c, "strides", rank, 2);
        return new Pooling(max, rank, pool, strides, Json.getString(c, "padding", "valid").toLowerCase(),
                Spatial.dataFormat(c));
    }

    @Override
    public String type() {
        return (max ? "MaxPooling" : "AveragePooling") + rank + "D";
    }

    private boolean channelsFirst() {
        return dataFormat.equals("channels_first");
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (poolSize.length != rank || strides.length != rank || Arrays.stream(poolSize).anyMatch(v -> v <= 0)
                || Arrays.stream(strides).anyMatch(v -> v <= 0)) {
            throw configError("pool_size and strides need " + rank + " positive integers, received pool_size="
                    + Arrays.toString(poolSize) + ", strides=" + Arrays.toString(strides));
        }
        if (!padding.equals("valid") && !padding.equals("same")) {
            throw configError("padding must be \"valid\" or \"same\", received padding=\"" + padding + "\"");
        }
        if (in.length != rank + 1) {
            throw configError("expects inputs of rank " + (rank + 2) + ", received input shape " + batchShape(in));
        }
        long[] s = channelsFirst() ? Arrays.copyOfRange(in, 1, in.length) : Arrays.copyOf(in, rank);
        long c = channelsFirst() ? in[0] : in[rank];
        long[] out = new long[rank + 1];
        for (int i = 0; i < rank; i++) {
            long o = Spatial.outSize(s[i], poolSize[i], strides[i], 1, padding);
            if (o <= 0) {
                throw configError("pool_size " + Arrays.toString(poolSize) + " is larger than the input "
                        + batchShape(in) + " with padding=\"valid\"");
            }
            out[channelsFirst() ? i + 1 : i] = o;
        }
        out[channelsFirst() ? 0 : rank] = c;
        return out;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray h = channelsFirst() ? Spatial.toChannelsLast(x) : x;
        long[] s = h.shape();
        long[] ones = new long[rank];
        Arrays.fill(ones, 1);
        Window w = Spatial.window(poolSize, strides, ones, padding, Arrays.copyOfRange(s, 1, rank + 1));
        NDArray y = Ops.pool(h, max, w);
        return channelsFirst() ? Spatial.toChannelsFirst(y) : y;
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("pool_size", poolSize);
        c.put("strides", strides);
        c.put("padding", padding);
        c.put("data_format", dataFormat);
        return c;
    }
}
