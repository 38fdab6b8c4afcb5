package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Reshapes each sample to {@code targetShape} (one entry may be -1), as Keras's Reshape. */
public final class Reshape extends Layer {
    public final long[] targetShape;

    public Reshape(long... targetShape) {
        this.targetShape = targetShape.clone();
    }

    public static Reshape fromConfig(Map<String, Object> c) {
        return new Reshape(Json.getLongArray(c, "target_shape"));
    }

    @Override
    public String type() {
        return "Reshape";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        long size = 1;
        for (long d : in) size *= d;
        long known = 1;
        int unknown = -1;
        long[] out = targetShape.clone();
        for (int i = 0; i < out.length; i++) {
            if (out[i] == -1 && unknown < 0) {
                unknown = i;
            } else if (out[i] <= 0) {
                throw configError("target_shape entries must be positive (one may be -1), received target_shape="
                        + java.util.Arrays.toString(targetShape));
            } else {
                known *= out[i];
            }
        }
        if (unknown >= 0 && known > 0 && size % known == 0) out[unknown] = size / known;
        long total = 1;
        for (long d : out) total *= d;
        if (total != size) {
            throw configError("cannot reshape input " + batchShape(in) + " (" + size + " values per sample) to "
                    + "target_shape=" + java.util.Arrays.toString(targetShape));
        }
        return out;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        long[] s = new long[outputShape.length + 1];
        s[0] = x.shape(0);
        System.arraycopy(outputShape, 0, s, 1, outputShape.length);
        return Ops.reshape(x, s);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("target_shape", targetShape);
        return c;
    }
}
