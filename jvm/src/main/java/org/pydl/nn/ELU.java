package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Keras's {@code ELU(alpha=1.0)}: x for x > 0, alpha * (exp(x) - 1) otherwise. */
public final class ELU extends Layer {
    public final double alpha;

    public ELU(double alpha) {
        this.alpha = alpha;
    }

    public ELU() {
        this(1.0);
    }

    public static ELU fromConfig(Map<String, Object> c) {
        return new ELU(Json.getDouble(c, "alpha", 1.0));
    }

    @Override
    public String type() {
        return "ELU";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (!Double.isFinite(alpha)) throw configError("alpha must be a finite float, received alpha=" + alpha);
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        return Ops.elu(x, alpha);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("alpha", alpha);
        return c;
    }
}
