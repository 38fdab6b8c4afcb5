package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras 3's RMSNormalization (Zhang and Sennrich's root-mean-square layer normalisation): per sample,
 * {@code y = x / sqrt(mean(x^2 over axis) + epsilon) * scale}, with no centring and no offset. The layer has one
 * weight, {@code scale}, of shape {@code input_shape[axis]} (initialised to ones). Training and inference compute
 * the same thing. This differs from {@code LayerNormalization(rms_scaling=True)}.
 */
public final class RMSNormalization extends Layer {
    public final int[] axis;
    private final boolean axisIsList;
    public final double epsilon;
    private Parameter scale;
    private int[] normAxes;
    private long[] bshape;

    public RMSNormalization(int[] axis, boolean axisIsList, double epsilon) {
        this.axis = axis.clone();
        this.axisIsList = axisIsList || axis.length != 1;
        this.epsilon = epsilon;
    }

    public static RMSNormalization fromConfig(Map<String, Object> c) {
        return new RMSNormalization(NormalizationLayers.axesFromConfig(c, -1), c.get("axis") instanceof List,
                Json.getDouble(c, "epsilon", 1e-6));
    }

    @Override
    public String type() {
        return "RMSNormalization";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        normAxes = NormalizationLayers.featureAxes(this, epsilon, axis, in);
        bshape = NormalizationLayers.broadcastShape(in.length + 1, in, normAxes);
        long[] ps = NormalizationLayers.paramShape(in, normAxes);
        scale = addParam("scale", Initializer.ONES.create(dtype, ps, seed));
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray meanSquare = Ops.mean(Ops.square(x), normAxes, true);
        NDArray y = NormalizationLayers.normalize(x, meanSquare, epsilon);
        return NormalizationLayers.affine(y, scale, null, bshape);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("axis", NormalizationLayers.axisConfig(axis, axisIsList));
        c.put("epsilon", epsilon);
        return c;
    }
}
