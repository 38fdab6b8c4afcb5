package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras's {@code Normalization(axis=-1, mean=None, variance=None, invert=False)} at inference:
 * {@code (x - mean) / max(sqrt(variance), 1e-7)} (with {@code invert}: {@code mean + x * max(sqrt(variance), 1e-7)}).
 * {@code axis} (counted with the batch axis) names the axes that keep their own statistics. With {@code mean} and
 * {@code variance} in the config they are constants; without, they are the layer's state "mean" and "variance"
 * (Keras's adapted weights; shape: the sizes of the kept axes), set from an imported model's weights.
 * {@code adapt} is not offered: statistics come from the config or from weights.
 */
public final class Normalization extends Layer {
    static final double EPSILON = 1e-7;
    private final long[] axis;
    private final double[] mean, variance;
    private final boolean invert;
    private Parameter meanState, varianceState;
    private NDArray meanConst, varianceConst;
    private long[] kept, broadcast;

    public Normalization(long[] axis, double[] mean, double[] variance, boolean invert) {
        this.axis = axis.clone();
        this.mean = mean == null ? null : mean.clone();
        this.variance = variance == null ? null : variance.clone();
        this.invert = invert;
    }

    public static Normalization fromConfig(Map<String, Object> c) {
        Object a = c.getOrDefault("axis", -1L);
        long[] axis;
        if (a == null) {
            axis = new long[0];
        } else if (a instanceof Number) {
            axis = new long[] {((Number) a).longValue()};
        } else if (a instanceof List) {
            List<?> l = (List<?>) a;
            axis = new long[l.size()];
            for (int i = 0; i < axis.length; i++) axis[i] = ((Number) l.get(i)).longValue();
        } else {
            throw new IllegalArgumentException("Normalization: `axis` must be an int, a list of ints or None, received "
                    + "axis=" + a);
        }
        double[] m = Rescaling.values(c.get("mean"), "Normalization", "mean");
        double[] v = Rescaling.values(c.get("variance"), "Normalization", "variance");
        if ((m == null) != (v == null)) {
            throw new IllegalArgumentException("Normalization: pass both `mean` and `variance`, or neither");
        }
        return new Normalization(axis, m, v, org.pydl.io.Json.getBoolean(c, "invert", false));
    }

    @Override
    public String type() {
        return "Normalization";
    }

    private NDArray constant(double[] v, long n, DType dtype, String key) {
        if (v.length != 1 && v.length != n) {
            throw configError(key + " has " + v.length + " values; the kept axes " + java.util.Arrays.toString(axis)
                    + " hold " + n + " (give one value or " + n + ")");
        }
        double[] full = new double[Math.toIntExact(n)];
        for (int i = 0; i < full.length; i++) full[i] = v.length == 1 ? v[0] : v[i];
        return org.pydl.nd.MemoryScope.detach(NDArray.of(full, kept).cast(dtype));
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        int rank = in.length + 1;
        boolean[] keep = new boolean[rank];
        for (long a : axis) {
            long k = a < 0 ? a + rank : a;
            if (k <= 0 || k >= rank) {
                throw configError("axis " + a + " is outside the input's axes 1.." + (rank - 1) + " (input shape "
                        + batchShape(in) + "; the batch axis cannot be kept)");
            }
            keep[(int) k] = true;
        }
        List<Long> keptList = new java.util.ArrayList<>();
        broadcast = new long[in.length];
        long n = 1;
        for (int i = 1; i < rank; i++) {
            broadcast[i - 1] = keep[i] ? in[i - 1] : 1;
            if (keep[i]) {
                keptList.add(in[i - 1]);
                n *= in[i - 1];
            }
        }
        kept = keptList.stream().mapToLong(Long::longValue).toArray();
        if (mean != null) {
            meanConst = constant(mean, n, dtype, "mean");
            varianceConst = constant(variance, n, dtype, "variance");
            for (double d : variance) if (!(d >= 0)) throw configError("variance must be >= 0, received " + d);
        } else {
            meanState = addState("mean", NDArray.zeros(dtype, kept));
            varianceState = addState("variance", NDArray.ones(dtype, kept));
        }
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray m = Ops.reshape(meanConst != null ? meanConst : meanState.value(), broadcast);
        NDArray v = Ops.reshape(varianceConst != null ? varianceConst : varianceState.value(), broadcast);
        NDArray std = Ops.maximum(Ops.sqrt(v), Ops.scalarLike(v, EPSILON));
        return invert ? Ops.add(m, Ops.mul(x, std)) : Ops.div(Ops.sub(x, m), std);
    }

    private static Object json(double[] v) {
        if (v == null) return null;
        List<Double> l = new java.util.ArrayList<>();
        for (double d : v) l.add(d);
        return l;
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        List<Long> a = new java.util.ArrayList<>();
        for (long x : axis) a.add(x);
        c.put("axis", a);
        c.put("mean", json(mean));
        c.put("variance", json(variance));
        c.put("invert", invert);
        return c;
    }
}
