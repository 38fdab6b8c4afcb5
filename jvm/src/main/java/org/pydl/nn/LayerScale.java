package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * The {@code LayerScale} of Keras's ConvNeXt applications ({@code keras.applications.convnext}; CaiT's "layer
 * scale"): {@code x * gamma}, with one learned factor per channel, {@code gamma [projection_dim]} initialised to
 * {@code init_values} (Keras uses 1e-6), broadcast over every axis but the last. The input's last axis must have
 * {@code projection_dim} entries.
 */
public final class LayerScale extends Layer {
    public final double initValues;
    public final long projectionDim;
    private Parameter gamma;

    public LayerScale(double initValues, long projectionDim) {
        this.initValues = initValues;
        this.projectionDim = projectionDim;
    }

    public static LayerScale fromConfig(Map<String, Object> c) {
        return new LayerScale(Json.getDouble(c, "init_values", 1e-6), Json.getLong(c, "projection_dim"));
    }

    @Override
    public String type() {
        return "LayerScale";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (projectionDim <= 0) {
            throw configError("projection_dim must be a positive integer, received projection_dim=" + projectionDim);
        }
        if (in.length == 0 || in[in.length - 1] != projectionDim) {
            throw configError("scales the last axis, which must have projection_dim=" + projectionDim
                    + " entries; received input shape " + batchShape(in) + " (set projection_dim to its last size)");
        }
        gamma = addParam("gamma", NDArray.full(dtype, initValues, projectionDim));
        return in.clone();
    }

    public Parameter gamma() {
        return gamma;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        return Ops.mul(x, gamma.value());
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("init_values", initValues);
        c.put("projection_dim", projectionDim);
        return c;
    }
}
