package org.pydl.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;

/**
 * Keras's {@code Softmax(axis=-1)}: softmax along {@code axis} (counted with the batch axis, as in Keras), or along
 * several axes at once, exp(x - logsumexp(x, axes)), when axis is a list.
 */
public final class Softmax extends Layer {
    /** The axes as configured (may be negative). */
    public final long[] axis;
    /** Whether the config gave a list (kept so the config round-trips). */
    public final boolean axisIsList;
    private int[] axes;

    public Softmax(long[] axis, boolean axisIsList) {
        this.axis = axis.clone();
        this.axisIsList = axisIsList;
    }

    public Softmax(int axis) {
        this(new long[] {axis}, false);
    }

    public Softmax() {
        this(-1);
    }

    public static Softmax fromConfig(Map<String, Object> c) {
        Object v = c.get("axis");
        if (v == null) return new Softmax();
        List<Long> l = ActivationLayers.longList(c, "axis");
        long[] a = new long[l.size()];
        for (int i = 0; i < a.length; i++) {
            if (l.get(i) == null) throw new IllegalArgumentException("Softmax: axis must be integers, received " + v);
            a[i] = l.get(i);
        }
        return new Softmax(a, v instanceof List);
    }

    @Override
    public String type() {
        return "Softmax";
    }

    private String axisStr() {
        if (!axisIsList) return Long.toString(axis[0]);
        StringBuilder sb = new StringBuilder("[");
        for (int i = 0; i < axis.length; i++) sb.append(i == 0 ? "" : ", ").append(axis[i]);
        return sb.append(']').toString();
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        int rank = in.length + 1;
        if (axis.length == 0) throw configError("axis must be an integer or a non-empty list, received axis=[]");
        axes = new int[axis.length];
        for (int i = 0; i < axis.length; i++) {
            long a = axis[i] < 0 ? axis[i] + rank : axis[i];
            if (a < 0 || a >= rank) {
                throw configError("axis " + axis[i] + " is out of range for inputs of shape " + batchShape(in)
                        + " (rank " + rank + " with the batch axis; valid axes are " + (-rank) + ".." + (rank - 1)
                        + "), received axis=" + axisStr());
            }
            axes[i] = (int) a;
            for (int j = 0; j < i; j++) {
                if (axes[j] == axes[i]) throw configError("axis lists an axis twice, received axis=" + axisStr());
            }
        }
        Arrays.sort(axes);
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        if (axes.length == 1) return Ops.softmax(x, axes[0]);
        NDArray m;
        try (Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
            m = Ops.max(x, axes, true); // a constant shift: the result (and its gradient) do not depend on it
        }
        NDArray e = Ops.exp(Ops.sub(x, m));
        return Ops.div(e, Ops.sum(e, axes, true));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        if (axisIsList) {
            List<Long> l = new ArrayList<>();
            for (long a : axis) l.add(a);
            c.put("axis", l);
        } else {
            c.put("axis", axis[0]);
        }
        return c;
    }
}
