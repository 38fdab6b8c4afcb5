package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Flattens every axis but the batch axis. With {@code data_format="channels_first"} (Keras), an input of rank > 2
 * ([batch, channels, ...]) first moves its channels last, so the flattened order is the channels-last one.
 */
public final class Flatten extends Layer {
    public final boolean channelsFirst;

    public Flatten() {
        this(false);
    }

    public Flatten(boolean channelsFirst) {
        this.channelsFirst = channelsFirst;
    }

    public static Flatten fromConfig(Map<String, Object> c) {
        Object f = c.get("data_format");
        if (f != null && !"channels_last".equals(f) && !"channels_first".equals(f)) {
            throw new IllegalArgumentException("Flatten layer '" + c.get("name") + "': data_format must be "
                    + "'channels_last' or 'channels_first', received " + f);
        }
        return new Flatten("channels_first".equals(Json.getString(c, "data_format", "channels_last")));
    }

    @Override
    public String type() {
        return "Flatten";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        long n = 1;
        for (long d : in) n = Math.multiplyExact(n, d);
        return new long[] {n};
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        if (channelsFirst && x.rank() > 2) {
            int r = x.rank();
            int[] perm = new int[r];
            perm[r - 1] = 1;
            for (int i = 2; i < r; i++) perm[i - 1] = i;
            x = Ops.transpose(x, perm);
        }
        return Ops.reshape(x, x.shape(0), outputShape[0]);
    }

    @Override
    public java.util.List<NDArray> computeMasks(java.util.List<NDArray> xs, java.util.List<NDArray> outputs,
                                                Context ctx) {
        return java.util.Collections.singletonList(null);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        if (channelsFirst) c.put("data_format", "channels_first");
        return c;
    }
}
