package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Permutes the non-batch axes; {@code dims} are 1-based as in Keras ({@code Permute((2, 1))} swaps them). */
public final class Permute extends Layer {
    public final long[] dims;

    public Permute(long... dims) {
        this.dims = dims.clone();
    }

    public static Permute fromConfig(Map<String, Object> c) {
        return new Permute(Json.getLongArray(c, "dims"));
    }

    @Override
    public String type() {
        return "Permute";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        boolean[] seen = new boolean[in.length + 1];
        boolean ok = dims.length == in.length;
        for (int i = 0; ok && i < dims.length; i++) {
            ok = dims[i] >= 1 && dims[i] <= in.length && !seen[(int) dims[i]];
            if (ok) seen[(int) dims[i]] = true;
        }
        if (!ok) {
            throw configError("dims must be a permutation of 1.." + in.length + " for input " + batchShape(in)
                    + ", received dims=" + java.util.Arrays.toString(dims));
        }
        long[] out = new long[in.length];
        for (int i = 0; i < in.length; i++) out[i] = in[(int) dims[i] - 1];
        return out;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        int[] perm = new int[dims.length + 1];
        for (int i = 0; i < dims.length; i++) perm[i + 1] = (int) dims[i];
        return Ops.contiguous(Ops.transpose(x, perm));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("dims", dims);
        return c;
    }
}
