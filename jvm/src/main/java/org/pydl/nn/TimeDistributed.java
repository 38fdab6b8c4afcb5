package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras {@code TimeDistributed}: applies the wrapped layer (config {"class": ..., "config": ...}) to every time step
 * of [batch, time, ...] by folding time into the batch: one call of the wrapped layer on [batch*time, ...].
 * The wrapped layer's parameters (shared by all steps) are this layer's, named "&lt;name&gt;/&lt;inner&gt;/&lt;param&gt;".
 */
public final class TimeDistributed extends Layer {
    private final Map<String, Object> layerSpec;
    private final Layer inner;

    public TimeDistributed(Map<String, Object> layerSpec) {
        this.layerSpec = layerSpec;
        this.inner = Layers.fromConfig(Json.getString(layerSpec, "class"), Json.getMap(layerSpec, "config"));
    }

    public static TimeDistributed fromConfig(Map<String, Object> c) {
        return new TimeDistributed(Json.getMap(c, "layer"));
    }

    public Layer layer() {
        return inner;
    }

    @Override
    public String type() {
        return "TimeDistributed";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (in.length < 2) {
            throw configError("expects input of rank >= 3 (batch, timesteps, ...), received input shape "
                    + batchShape(in));
        }
        String base = inner.name() != null ? inner.name() : inner.type().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase();
        inner.setName(name + "/" + base);
        if (!isTrainable()) inner.setTrainableOnBuild(false);
        long[] innerIn = java.util.Arrays.copyOfRange(in, 1, in.length);
        long[] innerOut = inner.build(innerIn, dtype, seed);
        params.addAll(inner.parameters());
        long[] out = new long[innerOut.length + 1];
        out[0] = in[0];
        System.arraycopy(innerOut, 0, out, 1, innerOut.length);
        return out;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        long[] s = x.shape();
        long[] folded = new long[s.length - 1];
        folded[0] = s[0] * s[1];
        System.arraycopy(s, 2, folded, 1, s.length - 2);
        NDArray y = inner.forward(Ops.reshape(x, folded), ctx);
        long[] ys = y.shape();
        long[] out = new long[ys.length + 1];
        out[0] = s[0];
        out[1] = s[1];
        System.arraycopy(ys, 1, out, 2, ys.length - 1);
        return Ops.reshape(y, out);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("layer", layerSpec);
        return c;
    }
}
