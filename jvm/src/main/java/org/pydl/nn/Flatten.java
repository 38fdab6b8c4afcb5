package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Flattens every axis but the batch axis (channels-last order, as Keras). */
public final class Flatten extends Layer {
    public static Flatten fromConfig(Map<String, Object> c) {
        return new Flatten();
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
        return Ops.reshape(x, x.shape(0), outputShape[0]);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        return new LinkedHashMap<>();
    }
}
