package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras's {@code GaussianDropout(rate)}: in training multiplies by N(1, rate / (1 - rate)) noise (standard
 * deviation sqrt(rate / (1 - rate))); identity at inference.
 */
public final class GaussianDropout extends Layer {
    public final double rate;

    public GaussianDropout(double rate) {
        this.rate = rate;
    }

    public static GaussianDropout fromConfig(Map<String, Object> c) {
        return new GaussianDropout(Json.getDouble(c, "rate"));
    }

    @Override
    public String type() {
        return "GaussianDropout";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        ActivationLayers.checkRate(this, rate);
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        if (!ctx.training || rate == 0) return x;
        return Ops.mul(x, ActivationLayers.normal(x, 1.0, Math.sqrt(rate / (1.0 - rate)), ctx.seed));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("rate", rate);
        return c;
    }
}
