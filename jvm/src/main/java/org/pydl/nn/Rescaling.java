package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras's {@code Rescaling(scale, offset=0.0)}: {@code x * scale + offset}. {@code scale} and {@code offset} are
 * floats, or lists broadcast against the last axis (one value per channel, channels_last).
 */
public final class Rescaling extends Layer {
    private final double[] scale, offset;
    private NDArray scaleArr, offsetArr;

    public Rescaling(double[] scale, double[] offset) {
        this.scale = scale.clone();
        this.offset = offset.clone();
    }

    static double[] values(Object v, String layer, String key) {
        if (v == null) return null;
        if (v instanceof Number) return new double[] {((Number) v).doubleValue()};
        if (v instanceof List) {
            List<?> l = (List<?>) v;
            double[] d = new double[l.size()];
            for (int i = 0; i < d.length; i++) {
                if (!(l.get(i) instanceof Number)) {
                    throw new IllegalArgumentException(layer + ": `" + key + "` must be a float or a list of floats, "
                            + "received " + key + "=" + v);
                }
                d[i] = ((Number) l.get(i)).doubleValue();
            }
            return d;
        }
        throw new IllegalArgumentException(layer + ": `" + key + "` must be a float or a list of floats, received "
                + key + "=" + v);
    }

    public static Rescaling fromConfig(Map<String, Object> c) {
        double[] s = values(c.get("scale"), "Rescaling", "scale");
        double[] o = values(c.getOrDefault("offset", 0.0), "Rescaling", "offset");
        if (s == null) throw new IllegalArgumentException("Rescaling: `scale` is required");
        return new Rescaling(s, o == null ? new double[] {0.0} : o);
    }

    @Override
    public String type() {
        return "Rescaling";
    }

    private NDArray constant(double[] v, long[] in, DType dtype, String key) {
        for (double d : v) if (!Double.isFinite(d)) throw configError(key + " must be finite, received " + d);
        if (v.length == 1) return null;
        if (in.length == 0 || in[in.length - 1] != v.length) {
            throw configError(key + " has " + v.length + " values but the input's last axis has size "
                    + (in.length == 0 ? 0 : in[in.length - 1]) + " (input shape " + batchShape(in) + ")");
        }
        return org.pydl.nd.MemoryScope.detach(NDArray.of(v, v.length).cast(dtype));
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        scaleArr = constant(scale, in, dtype, "scale");
        offsetArr = constant(offset, in, dtype, "offset");
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray y = scaleArr == null ? Ops.mul(x, scale[0]) : Ops.mul(x, scaleArr);
        return offsetArr == null ? (offset[0] == 0.0 ? y : Ops.add(y, offset[0])) : Ops.add(y, offsetArr);
    }

    private static Object json(double[] v) {
        if (v.length == 1) return v[0];
        List<Double> l = new java.util.ArrayList<>();
        for (double d : v) l.add(d);
        return l;
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("scale", json(scale));
        c.put("offset", json(offset));
        return c;
    }
}
