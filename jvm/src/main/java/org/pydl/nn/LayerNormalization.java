package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras's LayerNormalization: per sample, mean and biased variance over {@code axis} (an int or a list of ints),
 * {@code y = gamma * (x - mean) / sqrt(var + epsilon) + beta}; the same in training and inference. Weights: gamma,
 * beta, of shape {@code input_shape[axis]} (one dimension per listed axis).
 */
public final class LayerNormalization extends Layer {
    /** The axes as given (Keras semantics: negative counts from the end of the batch shape). */
    public final int[] axis;
    private final boolean axisIsList;
    public final double epsilon;
    public final boolean center;
    public final boolean scale;
    public final Initializer betaInitializer;
    public final Initializer gammaInitializer;
    private Parameter gamma, beta;
    private int[] normAxes;
    private long[] bshape;

    public LayerNormalization() {
        this(new int[] {-1}, false, 1e-3, true, true, Initializer.ZEROS, Initializer.ONES);
    }

    public LayerNormalization(int axis, double epsilon, boolean center, boolean scale) {
        this(new int[] {axis}, false, epsilon, center, scale, Initializer.ZEROS, Initializer.ONES);
    }

    public LayerNormalization(int[] axis, boolean axisIsList, double epsilon, boolean center, boolean scale,
                              Initializer betaInitializer, Initializer gammaInitializer) {
        this.axis = axis.clone();
        this.axisIsList = axisIsList || axis.length != 1;
        this.epsilon = epsilon;
        this.center = center;
        this.scale = scale;
        this.betaInitializer = betaInitializer;
        this.gammaInitializer = gammaInitializer;
    }

    public static LayerNormalization fromConfig(Map<String, Object> c) {
        return new LayerNormalization(NormalizationLayers.axesFromConfig(c, -1), c.get("axis") instanceof List,
                Json.getDouble(c, "epsilon", 1e-3), Json.getBoolean(c, "center", true),
                Json.getBoolean(c, "scale", true),
                Initializer.fromConfig(c.getOrDefault("beta_initializer", "zeros")),
                Initializer.fromConfig(c.getOrDefault("gamma_initializer", "ones")));
    }

    @Override
    public String type() {
        return "LayerNormalization";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        normAxes = NormalizationLayers.featureAxes(this, epsilon, axis, in);
        bshape = NormalizationLayers.broadcastShape(in.length + 1, in, normAxes);
        long[] ps = NormalizationLayers.paramShape(in, normAxes);
        if (scale) gamma = addParam("gamma", gammaInitializer.create(dtype, ps, seed));
        if (center) beta = addParam("beta", betaInitializer.create(dtype, ps, seed + 1));
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray mean = Ops.mean(x, normAxes, true);
        NDArray centered = Ops.sub(x, mean);
        NDArray var = Ops.mean(Ops.square(centered), normAxes, true);
        NDArray y = NormalizationLayers.normalize(centered, var, epsilon);
        return NormalizationLayers.affine(y, gamma, beta, bshape);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("axis", NormalizationLayers.axisConfig(axis, axisIsList));
        c.put("epsilon", epsilon);
        c.put("center", center);
        c.put("scale", scale);
        c.put("beta_initializer", betaInitializer.kerasName);
        c.put("gamma_initializer", gammaInitializer.kerasName);
        return c;
    }
}
