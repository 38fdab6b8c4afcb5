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
 * Keras's {@code AlphaDropout(rate, noise_shape=None)}: in training, each kept value (probability 1 - rate) stays,
 * each dropped one becomes alpha' = -scale * alpha = -1.7580993408473766 (SELU's negative saturation), then
 * a * x + b with a = ((1 - rate) (1 + rate alpha'^2))^-1/2 and b = -a alpha' rate, which keeps zero mean and unit
 * variance. Identity at inference. {@code noise_shape} (with the batch axis; null entries take the input's size)
 * shares the mask along axes of size 1.
 */
public final class AlphaDropout extends Layer {
    static final double SELU_ALPHA = 1.6732632423543772848170429916717;
    static final double SELU_SCALE = 1.0507009873554804934193349852946;
    public static final double ALPHA_P = -SELU_ALPHA * SELU_SCALE;

    public final double rate;
    /** With the batch axis; null entries = the input's size. Null = the input's shape. */
    public final List<Long> noiseShape;

    public AlphaDropout(double rate, List<Long> noiseShape) {
        this.rate = rate;
        this.noiseShape = noiseShape == null ? null : new ArrayList<>(noiseShape);
    }

    public AlphaDropout(double rate) {
        this(rate, null);
    }

    public static AlphaDropout fromConfig(Map<String, Object> c) {
        return new AlphaDropout(Json.getDouble(c, "rate"), ActivationLayers.longList(c, "noise_shape"));
    }

    @Override
    public String type() {
        return "AlphaDropout";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        ActivationLayers.checkRate(this, rate);
        if (noiseShape != null) {
            boolean ok = noiseShape.size() == in.length + 1;
            for (int i = 1; ok && i < noiseShape.size(); i++) {
                Long d = noiseShape.get(i);
                ok = d == null || d == 1 || d == in[i - 1];
            }
            if (ok && noiseShape.get(0) != null) ok = noiseShape.get(0) >= 1;
            if (!ok) {
                throw configError("noise_shape must have one entry per input axis (batch included), each None, 1 "
                        + "or the input's size, for inputs of shape " + batchShape(in) + "; received noise_shape="
                        + noiseShape.toString().replace("null", "None"));
            }
        }
        return in.clone();
    }

    private long[] maskShape(NDArray x) {
        long[] s = x.shape();
        if (noiseShape == null) return s;
        long[] m = s.clone();
        for (int i = 0; i < m.length; i++) {
            Long d = noiseShape.get(i);
            if (d != null) m[i] = d;
        }
        if (m[0] != 1 && m[0] != s[0]) {
            throw new IllegalArgumentException(type() + " layer '" + name + "': noise_shape " + Shapes.str(m)
                    + " does not broadcast to the batch of shape " + Shapes.str(s));
        }
        return m;
    }

    /** The affine correction (a, b) for {@code rate}. */
    public static double[] affineCorrection(double rate) {
        double a = Math.pow((1 - rate) * (1 + rate * ALPHA_P * ALPHA_P), -0.5);
        return new double[] {a, -a * ALPHA_P * rate};
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        if (!ctx.training || rate == 0) return x;
        NDArray mask = ActivationLayers.dropoutMask(x, maskShape(x), rate, ctx.seed); // 0 or 1/(1-rate)
        NDArray kept = Ops.minimum(mask, Ops.scalarLike(mask, 1.0)); // exactly 0 or 1
        double[] ab = affineCorrection(rate);
        // a * (x * kept + alpha' * (1 - kept)) + b
        NDArray dropped = Ops.affine(kept, -ALPHA_P, ALPHA_P);
        return Ops.affine(Ops.add(Ops.mul(x, kept), dropped), ab[0], ab[1]);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("rate", rate);
        c.put("noise_shape", noiseShape == null ? null : new ArrayList<>(noiseShape));
        return c;
    }
}
