package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;
import org.pydl.ops.UnaryOp;

/**
 * Keras's BatchNormalization. Training (and trainable): normalises with the batch mean and biased variance over
 * every axis but {@code axis}, then updates {@code moving = moving * momentum + batch * (1 - momentum)}.
 * Inference (or a frozen layer, as in Keras 3): normalises with the moving statistics, on the last axis in one native
 * pass ({@link Ops#batchNormInference}; functional models also fuse the activation layer after it, see Model).
 * {@code y = gamma * (x - mean) / sqrt(var + epsilon) + beta}. Weights: gamma, beta, moving_mean, moving_variance
 * (the last two are non-trainable state), each of shape (channels,).
 */
public final class BatchNormalization extends Layer {
    public final int axis;
    public final double momentum;
    public final double epsilon;
    public final boolean center;
    public final boolean scale;
    public final Initializer betaInitializer;
    public final Initializer gammaInitializer;
    public final Initializer movingMeanInitializer;
    public final Initializer movingVarianceInitializer;
    private Parameter gamma, beta, movingMean, movingVariance;
    private int[] reduceAxes;
    private long[] bshape;
    /** True when axis is the last axis (channels-last): inference is then one native pass. */
    private boolean lastAxis;

    public BatchNormalization() {
        this(-1, 0.99, 1e-3, true, true);
    }

    public BatchNormalization(int axis, double momentum, double epsilon, boolean center, boolean scale) {
        this(axis, momentum, epsilon, center, scale, Initializer.ZEROS, Initializer.ONES, Initializer.ZEROS,
                Initializer.ONES);
    }

    public BatchNormalization(int axis, double momentum, double epsilon, boolean center, boolean scale,
                              Initializer betaInitializer, Initializer gammaInitializer,
                              Initializer movingMeanInitializer, Initializer movingVarianceInitializer) {
        this.axis = axis;
        this.momentum = momentum;
        this.epsilon = epsilon;
        this.center = center;
        this.scale = scale;
        this.betaInitializer = betaInitializer;
        this.gammaInitializer = gammaInitializer;
        this.movingMeanInitializer = movingMeanInitializer;
        this.movingVarianceInitializer = movingVarianceInitializer;
    }

    public static BatchNormalization fromConfig(Map<String, Object> c) {
        int[] ax = NormalizationLayers.axesFromConfig(c, -1);
        if (ax.length != 1) throw new IllegalArgumentException("BatchNormalization: axis must be one integer, received "
                + c.get("axis"));
        return new BatchNormalization(ax[0], Json.getDouble(c, "momentum", 0.99), Json.getDouble(c, "epsilon", 1e-3),
                Json.getBoolean(c, "center", true), Json.getBoolean(c, "scale", true),
                Initializer.fromConfig(c.getOrDefault("beta_initializer", "zeros")),
                Initializer.fromConfig(c.getOrDefault("gamma_initializer", "ones")),
                Initializer.fromConfig(c.getOrDefault("moving_mean_initializer", "zeros")),
                Initializer.fromConfig(c.getOrDefault("moving_variance_initializer", "ones")));
    }

    @Override
    public String type() {
        return "BatchNormalization";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        NormalizationLayers.checkEpsilon(this, epsilon);
        if (!(momentum >= 0 && momentum <= 1)) {
            throw configError("momentum must be in [0, 1], received momentum=" + momentum);
        }
        int rank = in.length + 1;
        int a = NormalizationLayers.resolveAxis(this, axis, rank, in);
        long c = in[a - 1];
        lastAxis = a == in.length;
        reduceAxes = NormalizationLayers.otherAxes(rank, a);
        bshape = NormalizationLayers.broadcastShape(rank, in, a);
        long[] ps = {c};
        if (scale) gamma = addParam("gamma", gammaInitializer.create(dtype, ps, seed));
        if (center) beta = addParam("beta", betaInitializer.create(dtype, ps, seed + 1));
        movingMean = addState("moving_mean", movingMeanInitializer.create(dtype, ps, seed + 2));
        movingVariance = addState("moving_variance", movingVarianceInitializer.create(dtype, ps, seed + 3));
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray y;
        if (ctx.training && isTrainable()) {
            NDArray mean = Ops.mean(x, reduceAxes, true);
            NDArray centered = Ops.sub(x, mean);
            NDArray var = Ops.mean(Ops.square(centered), reduceAxes, true);
            updateMovingStats(mean, var);
            y = NormalizationLayers.normalize(centered, var, epsilon);
        } else if (lastAxis) {
            return Ops.batchNormInference(x, movingMean.value(), movingVariance.value(), value(gamma), value(beta),
                    epsilon, null, 0.0);
        } else {
            NDArray mean = NormalizationLayers.broadcastable(movingMean.value(), bshape);
            NDArray var = NormalizationLayers.broadcastable(movingVariance.value(), bshape);
            y = NormalizationLayers.normalize(Ops.sub(x, mean), var, epsilon);
        }
        return NormalizationLayers.affine(y, gamma, beta, bshape);
    }

    /**
     * Inference (moving statistics) of x into {@code out} (x itself, or a window of a larger array), followed by the
     * activation {@code act} (null: none) with parameter {@code alpha}; no gradient. For inference plans that fuse
     * this layer with its neighbours; null when the layer cannot (its axis is not the last one).
     */
    NDArray inferInto(NDArray x, NDArray out, UnaryOp act, double alpha) {
        checkInput(x);
        if (!lastAxis) return null;
        return Ops.batchNormInferenceInto(x, out, movingMean.value(), movingVariance.value(), value(gamma),
                value(beta), epsilon, act, alpha);
    }

    /** True when {@link #inferInto} can be used (normalizes the last axis). */
    boolean normalizesLastAxis() {
        return lastAxis;
    }

    private static NDArray value(Parameter p) {
        return p == null ? null : p.value();
    }

    /** moving = moving * momentum + batch * (1 - momentum), outside the tape (Keras 3's assign). */
    private void updateMovingStats(NDArray mean, NDArray var) {
        long[] ps = movingMean.value().shape();
        try (Autograd.AutoCloseable0 g = Autograd.noGrad()) {
            movingMean.set(Ops.add(Ops.mul(movingMean.value(), momentum),
                    Ops.mul(Ops.reshape(mean, ps), 1 - momentum)));
            movingVariance.set(Ops.add(Ops.mul(movingVariance.value(), momentum),
                    Ops.mul(Ops.reshape(var, ps), 1 - momentum)));
        }
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("axis", (long) axis);
        c.put("momentum", momentum);
        c.put("epsilon", epsilon);
        c.put("center", center);
        c.put("scale", scale);
        c.put("beta_initializer", betaInitializer.kerasName);
        c.put("gamma_initializer", gammaInitializer.kerasName);
        c.put("moving_mean_initializer", movingMeanInitializer.kerasName);
        c.put("moving_variance_initializer", movingVarianceInitializer.kerasName);
        return c;
    }
}
