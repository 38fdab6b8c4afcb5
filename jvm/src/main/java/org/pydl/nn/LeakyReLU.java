package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Keras's {@code LeakyReLU(negative_slope=0.3)}: x for x > 0, negative_slope * x otherwise. */
public final class LeakyReLU extends Layer {
    public final double negativeSlope;

    public LeakyReLU(double negativeSlope) {
        this.negativeSlope = negativeSlope;
    }

    public LeakyReLU() {
        this(0.3);
    }

    public static LeakyReLU fromConfig(Map<String, Object> c) {
        // "alpha" is the Keras 2 name of negative_slope
        double alpha = Json.getDouble(c, "alpha", 0.3);
        return new LeakyReLU(Json.getDouble(c, "negative_slope", alpha));
    }

    @Override
    public String type() {
        return "LeakyReLU";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (!(negativeSlope >= 0) || Double.isInfinite(negativeSlope)) {
            throw configError("negative_slope must be a finite float >= 0, received negative_slope=" + negativeSlope);
        }
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        return Ops.leakyRelu(x, negativeSlope);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("negative_slope", negativeSlope);
        return c;
    }
}
