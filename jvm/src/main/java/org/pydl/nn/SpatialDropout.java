package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras's {@code SpatialDropout1D/2D/3D(rate, data_format)}: inverted dropout of whole channels. In training the
 * mask has shape [batch, 1, ..., 1, channels] (channels_last) or [batch, channels, 1, ..., 1] (channels_first),
 * broadcast over the spatial axes; identity at inference.
 */
public final class SpatialDropout extends Layer {
    /** Number of spatial axes: 1, 2 or 3. */
    public final int spatialDims;
    public final double rate;
    public final boolean channelsFirst;

    public SpatialDropout(int spatialDims, double rate, boolean channelsFirst) {
        if (spatialDims < 1 || spatialDims > 3) throw new IllegalArgumentException("spatialDims must be 1, 2 or 3");
        this.spatialDims = spatialDims;
        this.rate = rate;
        this.channelsFirst = channelsFirst;
    }

    public static SpatialDropout fromConfig(int dims, Map<String, Object> c) {
        String df = dims == 1 ? "channels_last" : Json.getString(c, "data_format", "channels_last");
        if (!df.equals("channels_last") && !df.equals("channels_first")) {
            throw new IllegalArgumentException("SpatialDropout" + dims + "D: data_format must be 'channels_last' or "
                    + "'channels_first', received data_format='" + df + "'");
        }
        return new SpatialDropout(dims, Json.getDouble(c, "rate"), df.equals("channels_first"));
    }

    @Override
    public String type() {
        return "SpatialDropout" + spatialDims + "D";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        ActivationLayers.checkRate(this, rate);
        if (in.length != spatialDims + 1) {
            throw configError("expects inputs of rank " + (spatialDims + 2) + " (batch, " + (spatialDims == 1
                    ? "steps" : spatialDims + " spatial axes") + ", channels), received input shape "
                    + batchShape(in));
        }
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        if (!ctx.training || rate == 0) return x;
        long[] s = x.shape();
        long[] m = new long[s.length];
        java.util.Arrays.fill(m, 1);
        m[0] = s[0];
        int c = channelsFirst ? 1 : s.length - 1;
        m[c] = s[c];
        return Ops.mul(x, ActivationLayers.dropoutMask(x, m, rate, ctx.seed));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("rate", rate);
        if (spatialDims > 1) c.put("data_format", channelsFirst ? "channels_first" : "channels_last");
        return c;
    }
}
