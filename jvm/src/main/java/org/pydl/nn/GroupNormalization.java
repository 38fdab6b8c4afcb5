package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras's GroupNormalization: the channels along {@code axis} are split into {@code groups} consecutive groups;
 * per sample and group, mean and biased variance over the group's channels and every other non-batch axis;
 * {@code y = gamma * (x - mean) / sqrt(var + epsilon) + beta} with per-channel gamma, beta (shape (channels,)).
 * {@code groups = -1} means one group per channel (instance normalisation), as in Keras.
 */
public final class GroupNormalization extends Layer {
    public final long groups;
    public final int axis;
    public final double epsilon;
    public final boolean center;
    public final boolean scale;
    public final Initializer betaInitializer;
    public final Initializer gammaInitializer;
    private Parameter gamma, beta;
    private long effectiveGroups;
    private int chanAxis;
    private long[] bshape;
    private int[] reduceAxes;

    public GroupNormalization(long groups) {
        this(groups, -1, 1e-3, true, true, Initializer.ZEROS, Initializer.ONES);
    }

    public GroupNormalization(long groups, int axis, double epsilon, boolean center, boolean scale,
                              Initializer betaInitializer, Initializer gammaInitializer) {
        this.groups = groups;
        this.axis = axis;
        this.epsilon = epsilon;
        this.center = center;
        this.scale = scale;
        this.betaInitializer = betaInitializer;
        this.gammaInitializer = gammaInitializer;
    }

    public static GroupNormalization fromConfig(Map<String, Object> c) {
        int[] ax = NormalizationLayers.axesFromConfig(c, -1);
        if (ax.length != 1) throw new IllegalArgumentException("GroupNormalization: axis must be one integer, received "
                + c.get("axis"));
        return new GroupNormalization(Json.getLong(c, "groups", 32), ax[0], Json.getDouble(c, "epsilon", 1e-3),
                Json.getBoolean(c, "center", true), Json.getBoolean(c, "scale", true),
                Initializer.fromConfig(c.getOrDefault("beta_initializer", "zeros")),
                Initializer.fromConfig(c.getOrDefault("gamma_initializer", "ones")));
    }

    @Override
    public String type() {
        return "GroupNormalization";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        NormalizationLayers.checkEpsilon(this, epsilon);
        int rank = in.length + 1;
        chanAxis = NormalizationLayers.resolveAxis(this, axis, rank, in);
        long c = in[chanAxis - 1];
        if (groups == 0 || groups < -1) {
            throw configError("groups must be a positive integer (or -1 for one group per channel), received groups="
                    + groups);
        }
        effectiveGroups = groups == -1 ? c : groups;
        if (c < effectiveGroups) {
            throw configError("number of groups (" + effectiveGroups + ") cannot be more than the number of channels ("
                    + c + "), received groups=" + groups);
        }
        if (c % effectiveGroups != 0) {
            throw configError("the number of channels (" + c + ") must be a multiple of the number of groups, received "
                    + "groups=" + groups);
        }
        // grouped shape: (batch, ..., groups, channels/groups, ...), reduced over all but batch and groups
        reduceAxes = NormalizationLayers.otherAxes(rank + 1, 0, chanAxis);
        bshape = NormalizationLayers.broadcastShape(rank, in, chanAxis);
        long[] ps = {c};
        if (scale) gamma = addParam("gamma", gammaInitializer.create(dtype, ps, seed));
        if (center) beta = addParam("beta", betaInitializer.create(dtype, ps, seed + 1));
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        long[] xs = x.shape();
        long[] gs = new long[xs.length + 1];
        for (int i = 0, j = 0; i < xs.length; i++) {
            if (i == chanAxis) {
                gs[j++] = effectiveGroups;
                gs[j++] = xs[i] / effectiveGroups;
            } else {
                gs[j++] = xs[i];
            }
        }
        NDArray g = Ops.reshape(x, gs);
        NDArray mean = Ops.mean(g, reduceAxes, true);
        NDArray centered = Ops.sub(g, mean);
        NDArray var = Ops.mean(Ops.square(centered), reduceAxes, true);
        NDArray y = Ops.reshape(NormalizationLayers.normalize(centered, var, epsilon), xs);
        return NormalizationLayers.affine(y, gamma, beta, bshape);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("groups", groups);
        c.put("axis", (long) axis);
        c.put("epsilon", epsilon);
        c.put("center", center);
        c.put("scale", scale);
        c.put("beta_initializer", betaInitializer.kerasName);
        c.put("gamma_initializer", gammaInitializer.kerasName);
        return c;
    }
}
