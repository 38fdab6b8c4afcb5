package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Inverted dropout: in training zeroes a fraction {@code rate} of inputs and scales the rest by 1/(1-rate). */
public final class Dropout extends Layer {
    public final double rate;

    public Dropout(double rate) {
        this.rate = rate;
    }

    public static Dropout fromConfig(Map<String, Object> c) {
        return new Dropout(org.pydl.io.Json.getDouble(c, "rate"));
    }

    @Override
    public String type() {
        return "Dropout";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (!(rate >= 0 && rate < 1)) throw configError("rate must be in [0, 1), received rate=" + rate);
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        return ctx.training && rate > 0 ? Ops.dropout(x, rate, ctx.seed) : x;
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("rate", rate);
        return c;
    }
}
