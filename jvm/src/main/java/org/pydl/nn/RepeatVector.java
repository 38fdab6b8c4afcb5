package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Repeats a [batch, features] input n times: [batch, n, features]. */
public final class RepeatVector extends Layer {
    public final long n;

    public RepeatVector(long n) {
        this.n = n;
    }

    public static RepeatVector fromConfig(Map<String, Object> c) {
        return new RepeatVector(Json.getLong(c, "n"));
    }

    @Override
    public String type() {
        return "RepeatVector";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (n <= 0) throw configError("n must be a positive integer, received n=" + n);
        if (in.length != 1) throw configError("expects inputs of shape (None, features), received " + batchShape(in));
        return new long[] {n, in[0]};
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        long b = x.shape(0), f = inputShape[0];
        return Ops.broadcastTo(Ops.reshape(x, b, 1, f), new long[] {b, n, f});
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("n", n);
        return c;
    }
}
