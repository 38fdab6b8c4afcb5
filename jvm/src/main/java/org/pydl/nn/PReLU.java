package org.pydl.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras's {@code PReLU(alpha_initializer="zeros", shared_axes=None)}: relu(x) - alpha * relu(-x), with a learned
 * weight {@code alpha} of the input shape without the batch axis, of size 1 along {@code shared_axes} (counted
 * as in Keras: axis 1 is the first axis after the batch axis).
 */
public final class PReLU extends Layer {
    public final Initializer alphaInitializer;
    /** 1-based shared axes (batch axis = 0), or null for none. */
    public final long[] sharedAxes;
    private Parameter alpha;

    public PReLU(Initializer alphaInitializer, long[] sharedAxes, double alphaL2) {
        this.alphaInitializer = alphaInitializer == null ? Initializer.ZEROS : alphaInitializer;
        this.sharedAxes = sharedAxes == null ? null : sharedAxes.clone();
        if (alphaL2 != 0) setRegularizer("alpha", Regularizer.l2(alphaL2));
    }

    public PReLU() {
        this(Initializer.ZEROS, null, 0.0);
    }

    public static PReLU fromConfig(Map<String, Object> c) {
        List<Long> axes = ActivationLayers.longList(c, "shared_axes");
        long[] shared = null;
        if (axes != null) {
            shared = new long[axes.size()];
            for (int i = 0; i < shared.length; i++) {
                if (axes.get(i) == null) {
                    throw new IllegalArgumentException("PReLU: shared_axes must be integers, received "
                            + Json.write(c.get("shared_axes")));
                }
                shared[i] = axes.get(i);
            }
        }
        return new PReLU(Initializer.fromConfig(c.getOrDefault("alpha_initializer", "zeros")), shared, 0.0);
    }

    @Override
    public String type() {
        return "PReLU";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        long[] shape = in.clone();
        if (sharedAxes != null) {
            for (long a : sharedAxes) {
                if (a < 1 || a > in.length) {
                    throw configError("shared_axes must be axes of the input after the batch axis (1.." + in.length
                            + " for input shape " + batchShape(in) + "), received shared_axes=" + axesStr());
                }
                shape[(int) a - 1] = 1;
            }
        }
        alpha = addParam("alpha", alphaInitializer.create(dtype, shape, seed));
        return in.clone();
    }

    private String axesStr() {
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < sharedAxes.length; i++) sb.append(i == 0 ? "" : ", ").append(sharedAxes[i]);
        return sb.append(']').toString();
    }

    public Parameter alpha() {
        return alpha;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        return Ops.sub(Ops.relu(x), Ops.mul(alpha.value(), Ops.relu(Ops.neg(x))));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("alpha_initializer", alphaInitializer.kerasName);
        List<Long> axes = null;
        if (sharedAxes != null) {
            axes = new ArrayList<>();
            for (long a : sharedAxes) axes.add(a);
        }
        c.put("shared_axes", axes);
        return c;
    }
}
