package org.pydl.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;
import org.pydl.ops.Ops;

/**
 * Keras's merge layers in one class: Add, Subtract (two inputs), Multiply, Average, Maximum, Minimum (inputs of one
 * shape, or shapes that broadcast as in Keras 3: each dimension equal or 1) and Concatenate (along {@code axis}, other dimensions equal). Used in functional {@link Model}s. {@link Dot}
 * (batched dot product) is registered with them.
 */
public final class Merge extends Layer {
    public enum Mode { ADD, SUBTRACT, MULTIPLY, AVERAGE, MAXIMUM, MINIMUM, CONCATENATE }

    private static final String[] NAMES = {"Add", "Subtract", "Multiply", "Average", "Maximum", "Minimum",
        "Concatenate"};

    public final Mode mode;
    public final int axis;

    public Merge(Mode mode, int axis) {
        this.mode = mode;
        this.axis = axis;
    }

    public static Merge fromConfig(Mode mode, Map<String, Object> c) {
        return new Merge(mode, (int) Json.getLong(c, "axis", -1));
    }

    static void register() {
        for (Mode m : Mode.values()) Layers.register(NAMES[m.ordinal()], c -> fromConfig(m, c));
        Layers.register("Dot", Dot::fromConfig);
    }

    @Override
    public String type() {
        return NAMES[mode.ordinal()];
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        throw configError("merges several inputs: call it on a list of tensors in a functional Model");
    }

    @Override
    public long[] buildMulti(List<long[]> shapes, DType dtype, long seed) {
        int n = shapes.size();
        if (mode == Mode.SUBTRACT ? n != 2 : n < 2) {
            throw configError("needs " + (mode == Mode.SUBTRACT ? "exactly 2" : "at least 2") + " inputs, received " + n);
        }
        long[] first = shapes.get(0);
        long[] out = first.clone();
        if (mode == Mode.CONCATENATE) {
            int rank = first.length + 1;
            int a = axis < 0 ? axis + rank : axis;
            if (a < 1 || a >= rank) {
                throw configError("axis=" + axis + " is out of range for inputs of shape " + batchShape(first));
            }
            out[a - 1] = 0;
            for (long[] s : shapes) {
                boolean ok = s.length == first.length;
                for (int i = 0; ok && i < s.length; i++) ok = i == a - 1 || s[i] == first[i];
                if (!ok) {
                    throw configError("inputs must match except along axis " + axis + ", received shapes "
                            + describe(shapes));
                }
                out[a - 1] += s[a - 1];
            }
        } else {
            // Keras 3: elementwise merges broadcast (each dimension equal, or 1 in some inputs), same rank
            for (long[] s : shapes) {
                boolean ok = s.length == first.length;
                for (int i = 0; ok && i < s.length; i++) {
                    ok = s[i] == out[i] || s[i] == 1 || out[i] == 1;
                    if (ok) out[i] = Math.max(out[i], s[i]);
                }
                if (!ok) {
                    throw configError("inputs must have the same shape (or broadcast: dimensions equal or 1), "
                            + "received shapes " + describe(shapes));
                }
            }
        }
        this.inputShape = first.clone();
        this.outputShape = out;
        return out.clone();
    }

    private static String describe(List<long[]> shapes) {
        List<String> s = new ArrayList<>();
        for (long[] sh : shapes) s.add(batchShape(sh));
        return s.toString();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        throw configError("merges several inputs: call it on a list of tensors in a functional Model");
    }

    @Override
    public NDArray forwardMulti(List<NDArray> xs, Context ctx) {
        for (NDArray x : xs) {
            if (x.rank() != inputShape.length + 1) {
                throw configError("expects inputs of rank " + (inputShape.length + 1) + ", received "
                        + Shapes.str(x.shape()));
            }
        }
        switch (mode) {
            case CONCATENATE: return Ops.concat(xs, axis);
            case SUBTRACT: return Ops.sub(xs.get(0), xs.get(1));
            default: break;
        }
        NDArray r = xs.get(0);
        for (int i = 1; i < xs.size(); i++) {
            NDArray x = xs.get(i);
            switch (mode) {
                case ADD: case AVERAGE: r = Ops.add(r, x); break;
                case MULTIPLY: r = Ops.mul(r, x); break;
                case MAXIMUM: r = Ops.maximum(r, x); break;
                default: r = Ops.minimum(r, x); break;
            }
        }
        return mode == Mode.AVERAGE ? Ops.mul(r, 1.0 / xs.size()) : r;
    }

    /**
     * Keras: the output mask is the logical and of the inputs' masks (an input without one counts as all ones);
     * Concatenate along the time axis (axis 1) concatenates the masks instead.
     */
    @Override
    public List<NDArray> computeMasks(List<NDArray> xs, List<NDArray> outputs, Context ctx) {
        if (ctx.masks == null) return java.util.Collections.singletonList(null);
        int rank = xs.get(0).rank();
        if (mode == Mode.CONCATENATE && (axis < 0 ? axis + rank : axis) == 1) {
            List<NDArray> parts = new java.util.ArrayList<>();
            for (int i = 0; i < xs.size(); i++) {
                NDArray m = ctx.mask(i);
                parts.add(m != null ? m : NDArray.ones(outputs.get(0).dtype(), xs.get(i).shape(0), xs.get(i).shape(1)));
            }
            return java.util.Collections.singletonList(Ops.concat(parts, 1));
        }
        return java.util.Collections.singletonList(Masks.and(ctx.masks));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        if (mode == Mode.CONCATENATE) c.put("axis", axis);
        return c;
    }
}
