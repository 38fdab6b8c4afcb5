package org.pydl.nn;

import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras 3's {@code AdditiveAttention} (Bahdanau-style): as {@link Attention} with scores
 * {@code sum(scale * tanh(q_i + k_j), -1)}, {@code scale} a trainable vector {@code [dim]} (glorot_uniform, as Keras)
 * when {@code use_scale} (default true), else 1.
 */
public final class AdditiveAttention extends Attention {
    public AdditiveAttention() {
        this(true, 0.0, false);
    }

    public AdditiveAttention(boolean useScale, double dropout, boolean useCausalMask) {
        super(true, useScale, "additive", dropout, useCausalMask);
    }

    public static AdditiveAttention fromConfig(Map<String, Object> c) {
        return new AdditiveAttention(Json.getBoolean(c, "use_scale", true), Json.getDouble(c, "dropout", 0.0),
                Json.getBoolean(c, "use_causal_mask", false));
    }

    @Override
    public String type() {
        return "AdditiveAttention";
    }

    @Override
    protected void createWeights(long dim, DType dtype, long seed) {
        if (useScale) scale = addParam("scale", Initializer.GLOROT_UNIFORM.create(dtype, new long[] {dim}, seed));
    }

    @Override
    protected NDArray scores(NDArray q, NDArray k) {
        NDArray t = Ops.tanh(pairSum(q, k));
        return Ops.sum(scale == null ? t : Ops.mul(scale.value(), t), 3, false);
    }
}
