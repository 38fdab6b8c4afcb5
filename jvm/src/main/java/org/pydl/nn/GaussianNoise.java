package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Keras's {@code GaussianNoise(stddev)}: in training adds N(0, stddev^2) noise; identity at inference. */
public final class GaussianNoise extends Layer {
    public final double stddev;

    public GaussianNoise(double stddev) {
        this.stddev = stddev;
    }

    public static GaussianNoise fromConfig(Map<String, Object> c) {
        return new GaussianNoise(Json.getDouble(c, "stddev"));
    }

    @Override
    public String type() {
        return "GaussianNoise";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (!(stddev >= 0) || Double.isInfinite(stddev)) {
            throw configError("stddev must be a finite float >= 0, received stddev=" + stddev);
        }
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        if (!ctx.training || stddev == 0) return x;
        return Ops.add(x, ActivationLayers.normal(x, 0.0, stddev, ctx.seed));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("stddev", stddev);
        return c;
    }
}
