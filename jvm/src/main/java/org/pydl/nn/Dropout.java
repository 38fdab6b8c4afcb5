package org.pydl.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Inverted dropout: in training zeroes a fraction {@code rate} of inputs and scales the rest by 1/(1-rate). With
 * Keras's {@code noise_shape} (batch axis included; null or 1 entries) one keep/drop decision is shared along the
 * axes of size 1, e.g. {@code (None, 1, 1, C)} drops whole channels.
 */
public final class Dropout extends Layer {
    public final double rate;
    /** Keras's noise_shape without the batch entry (0 = the input's size), or null. */
    private final long[] noiseShape;

    public Dropout(double rate) {
        this(rate, null);
    }

    public Dropout(double rate, long[] noiseShape) {
        this.rate = rate;
        this.noiseShape = noiseShape == null ? null : noiseShape.clone();
    }

    public static Dropout fromConfig(Map<String, Object> c) {
        Object ns = c.get("noise_shape");
        long[] noise = null;
        if (ns != null) {
            if (!(ns instanceof List) || ((List<?>) ns).isEmpty()) {
                throw new IllegalArgumentException("Dropout layer '" + c.get("name") + "': noise_shape must be a list "
                        + "(batch axis first; null for the input's size), received " + ns);
            }
            List<?> l = (List<?>) ns;
            noise = new long[l.size() - 1];
            for (int i = 1; i < l.size(); i++) {
                Object d = l.get(i);
                if (d != null && !(d instanceof Number)) {
                    throw new IllegalArgumentException("Dropout layer '" + c.get("name") + "': noise_shape entries "
                            + "must be integers or null, received " + ns);
                }
                noise[i - 1] = d == null ? 0 : ((Number) d).longValue();
            }
        }
        return new Dropout(org.pydl.io.Json.getDouble(c, "rate"), noise);
    }

    @Override
    public String type() {
        return "Dropout";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (!(rate >= 0 && rate < 1)) throw configError("rate must be in [0, 1), received rate=" + rate);
        if (noiseShape != null) {
            boolean ok = noiseShape.length == in.length;
            for (int i = 0; ok && i < in.length; i++) ok = noiseShape[i] == 0 || noiseShape[i] == 1 || noiseShape[i] == in[i];
            if (!ok) {
                throw configError("noise_shape " + describeNoise() + " does not fit the input shape " + batchShape(in)
                        + "; each entry must be null, 1 or the input's size");
            }
        }
        return in.clone();
    }

    private String describeNoise() {
        List<Object> l = new ArrayList<>();
        l.add(null);
        for (long d : noiseShape) l.add(d == 0 ? null : d);
        return l.toString();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        if (!ctx.training || rate <= 0) return x;
        if (noiseShape == null) return Ops.dropout(x, rate, ctx.seed);
        long[] s = x.shape().clone();
        for (int i = 0; i < noiseShape.length; i++) if (noiseShape[i] == 1) s[i + 1] = 1;
        // one scaled keep/drop factor per noise element, broadcast over the axes of size 1
        NDArray keep = Ops.dropout(NDArray.ones(x.dtype(), s), rate, ctx.seed);
        return Ops.mul(x, keep);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("rate", rate);
        if (noiseShape != null) {
            List<Object> l = new ArrayList<>();
            l.add(null);
            for (long d : noiseShape) l.add(d == 0 ? null : d);
            c.put("noise_shape", l);
        }
        return c;
    }
}
