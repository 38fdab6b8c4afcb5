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
 * Keras's {@code Dot(axes, normalize=False)}: the batched dot product of two inputs along one axis of each (axes
 * count the batch axis as 0, as in Keras; an int means the same axis of both, a negative one counts from each
 * input's end). Output: the first input's dimensions without its summed axis, then the second's without its batch
 * and summed axes ({@code keras.ops} batch_dot); (batch, 1) when nothing else remains. {@code normalize}
 * L2-normalises both inputs along their axes first ({@code x / max(||x||, 1e-7)}), giving cosine similarities.
 */
public final class Dot extends Layer {
    /** The two axes as configured (an int config is stored as {v, v} with {@code single} set). */
    private final int[] axes;
    private final boolean single;
    public final boolean normalize;
    /** Resolved non-negative axes (batch axis = 0), set by build. */
    private int a0, a1;

    public Dot(int axis, boolean normalize) {
        this(new int[] {axis, axis}, true, normalize);
    }

    public Dot(int axis0, int axis1, boolean normalize) {
        this(new int[] {axis0, axis1}, false, normalize);
    }

    private Dot(int[] axes, boolean single, boolean normalize) {
        this.axes = axes;
        this.single = single;
        this.normalize = normalize;
    }

    static Dot fromConfig(Map<String, Object> c) {
        Object a = c.get("axes");
        boolean norm = Json.getBoolean(c, "normalize", false);
        if (a instanceof Number && isInt((Number) a)) return new Dot(((Number) a).intValue(), norm);
        if (a instanceof List && ((List<?>) a).size() == 2) {
            List<?> l = (List<?>) a;
            if (l.get(0) instanceof Number && l.get(1) instanceof Number && isInt((Number) l.get(0))
                    && isInt((Number) l.get(1))) {
                return new Dot(((Number) l.get(0)).intValue(), ((Number) l.get(1)).intValue(), norm);
            }
        }
        throw new IllegalArgumentException("Dot layer '" + c.get("name") + "': axes must be an int or a list of two "
                + "ints, received axes=" + Json.write(a));
    }

    private static boolean isInt(Number n) {
        return n.doubleValue() == Math.rint(n.doubleValue());
    }

    @Override
    public String type() {
        return "Dot";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        throw configError("merges two inputs: call it on a list of 2 tensors in a functional Model");
    }

    private int resolve(int axis, long[] shape, int which) {
        int rank = shape.length + 1;
        int a = axis < 0 ? Math.floorMod(axis, rank) : axis;
        if (axis < -rank || a >= rank) {
            throw configError("axes=" + axesStr() + " is out of range for input " + which + " of shape "
                    + batchShape(shape) + " (rank " + rank + ")");
        }
        if (a == 0) {
            throw configError("axes=" + axesStr() + " names the batch axis 0 of input " + which + "; the dot "
                    + "product is taken per sample, along an axis >= 1 (or a negative one)");
        }
        return a;
    }

    private String axesStr() {
        return single ? String.valueOf(axes[0]) : "[" + axes[0] + ", " + axes[1] + "]";
    }

    @Override
    public long[] buildMulti(List<long[]> shapes, DType dtype, long seed) {
        if (shapes.size() != 2) throw configError("needs exactly 2 inputs, received " + shapes.size());
        long[] s1 = shapes.get(0), s2 = shapes.get(1);
        a0 = resolve(axes[0], s1, 0);
        a1 = resolve(axes[1], s2, 1);
        if (s1[a0 - 1] != s2[a1 - 1]) {
            throw configError("incompatible input shapes: axis " + a0 + " of input 0 has size " + s1[a0 - 1]
                    + ", axis " + a1 + " of input 1 has size " + s2[a1 - 1] + " (axes=" + axesStr() + ", shapes "
                    + batchShape(s1) + " and " + batchShape(s2) + ")");
        }
        List<Long> out = new ArrayList<>();
        for (int i = 0; i < s1.length; i++) if (i != a0 - 1) out.add(s1[i]);
        for (int i = 0; i < s2.length; i++) if (i != a1 - 1) out.add(s2[i]);
        if (out.isEmpty()) out.add(1L);
        this.inputShape = s1.clone();
        this.outputShape = out.stream().mapToLong(Long::longValue).toArray();
        return outputShape.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        throw configError("merges two inputs: call it on a list of 2 tensors in a functional Model");
    }

    /** x / max(||x||_2, 1e-7) along {@code axis}, written as x * rsqrt(max(sum(x^2), 1e-14)) (finite gradient at 0). */
    static NDArray l2Normalize(NDArray x, int axis) {
        NDArray ss = Ops.sum(Ops.square(x), new int[] {axis}, true);
        NDArray floor = Ops.scalarLike(x, Constraint.EPSILON * Constraint.EPSILON);
        return Ops.mul(x, Ops.reciprocal(Ops.sqrt(Ops.maximum(ss, floor))));
    }

    @Override
    public NDArray forwardMulti(List<NDArray> xs, Context ctx) {
        if (xs.size() != 2) throw configError("needs exactly 2 inputs, received " + xs.size());
        NDArray x = xs.get(0), y = xs.get(1);
        if (normalize) {
            x = l2Normalize(x, a0);
            y = l2Normalize(y, a1);
        }
        long batch = x.shape(0), k = x.shape(a0);
        // x: summed axis last -> [batch, m, k]; y: summed axis first after the batch -> [batch, k, n]
        int rx = x.rank(), ry = y.rank();
        int[] px = new int[rx], py = new int[ry];
        for (int i = 0, j = 0; i < rx; i++) if (i != a0) px[j++] = i;
        px[rx - 1] = a0;
        py[0] = 0;
        py[1] = a1;
        for (int i = 1, j = 2; i < ry; i++) if (i != a1) py[j++] = i;
        NDArray xm = Ops.reshape(Ops.transpose(x, px), batch, -1, k);
        NDArray ym = Ops.reshape(Ops.transpose(y, py), batch, k, -1);
        long[] out = new long[outputShape.length + 1];
        out[0] = batch;
        System.arraycopy(outputShape, 0, out, 1, outputShape.length);
        return Ops.reshape(Ops.matmul(xm, ym), out);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("axes", single ? (Object) (long) axes[0] : List.of((long) axes[0], (long) axes[1]));
        c.put("normalize", normalize);
        return c;
    }
}
