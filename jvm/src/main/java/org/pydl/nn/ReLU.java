package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras's {@code ReLU(max_value=None, negative_slope=0.0, threshold=0.0)}, computed as Keras 3's
 * {@code activations.relu} does: x where x > threshold (else 0), clipped to [0, max_value], minus
 * negative_slope * relu(threshold - x). So f(x) = min(x, max_value) for x > threshold and
 * negative_slope * (x - threshold) for x <= threshold (0 at x == threshold).
 */
public final class ReLU extends Layer {
    /** NaN = no maximum (Keras's None). */
    public final double maxValue;
    public final double negativeSlope;
    public final double threshold;

    public ReLU(double maxValue, double negativeSlope, double threshold) {
        this.maxValue = maxValue;
        this.negativeSlope = negativeSlope;
        this.threshold = threshold;
    }

    public ReLU() {
        this(Double.NaN, 0.0, 0.0);
    }

    public static ReLU fromConfig(Map<String, Object> c) {
        return new ReLU(Json.getDouble(c, "max_value", Double.NaN), Json.getDouble(c, "negative_slope", 0.0),
                Json.getDouble(c, "threshold", 0.0));
    }

    @Override
    public String type() {
        return "ReLU";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (!Double.isNaN(maxValue) && maxValue < 0) {
            throw configError("max_value cannot be a negative value, received max_value=" + maxValue);
        }
        if (!(negativeSlope >= 0) || Double.isInfinite(negativeSlope)) {
            throw configError("negative_slope must be a finite float >= 0, received negative_slope=" + negativeSlope);
        }
        if (!(threshold >= 0) || Double.isInfinite(threshold)) {
            throw configError("threshold must be a finite float >= 0, received threshold=" + threshold);
        }
        return in.clone();
    }

    /** Keras 3's {@code activations.relu(x, negative_slope, max_value, threshold)}; maxValue NaN = none. */
    public static NDArray relu(NDArray x, double negativeSlope, double maxValue, double threshold) {
        boolean hasMax = !Double.isNaN(maxValue);
        if (negativeSlope != 0 && !hasMax && threshold == 0) return Ops.leakyRelu(x, negativeSlope);
        NDArray negativePart = null;
        if (negativeSlope != 0) negativePart = Ops.relu(threshold != 0 ? Ops.affine(x, -1.0, threshold) : Ops.neg(x));
        boolean clipMax = hasMax;
        NDArray y;
        if (threshold != 0) {
            y = Ops.mul(x, ActivationLayers.greaterMask(x, threshold));
        } else if (hasMax && maxValue == 6) {
            y = Ops.relu6(x);
            clipMax = false;
        } else {
            y = Ops.relu(x);
        }
        if (clipMax) y = Ops.clip(y, 0.0, maxValue);
        if (negativePart != null) y = Ops.sub(y, Ops.mul(negativePart, negativeSlope));
        return y;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        if (Double.isNaN(maxValue) && negativeSlope == 0 && threshold == 0) return Ops.relu(x);
        return relu(x, negativeSlope, maxValue, threshold);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("max_value", Double.isNaN(maxValue) ? null : maxValue);
        c.put("negative_slope", negativeSlope);
        c.put("threshold", threshold);
        return c;
    }
}
