package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Maps integer ids [batch, ...] to vectors [batch, ..., output_dim] through a trainable table
 * {@code embeddings} [input_dim, output_dim] (Keras's layout and default initializer, uniform(-0.05, 0.05)).
 * Inputs may be any numeric dtype holding whole numbers; ids outside [0, input_dim) raise an error naming the id.
 * With {@code mask_zero}, id 0 is padding: the layer creates a Keras mask (1 where the id is not 0) that the
 * following recurrent, attention and average-pooling layers use to skip padded steps.
 */
public final class Embedding extends Layer {
    public final long inputDim;
    public final long outputDim;
    public final Initializer initializer;
    public final boolean maskZero;
    private Parameter table;

    public Embedding(long inputDim, long outputDim, Initializer initializer, boolean maskZero) {
        this.inputDim = inputDim;
        this.outputDim = outputDim;
        this.initializer = initializer;
        this.maskZero = maskZero;
    }

    public static Embedding fromConfig(Map<String, Object> c) {
        return new Embedding(Json.getLong(c, "input_dim"), Json.getLong(c, "output_dim"),
                Initializer.fromConfig(c.getOrDefault("embeddings_initializer", "random_uniform")),
                Json.getBoolean(c, "mask_zero", false));
    }

    @Override
    public String type() {
        return "Embedding";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (inputDim <= 0 || outputDim <= 0) {
            throw configError("input_dim and output_dim must be positive integers, received input_dim=" + inputDim
                    + ", output_dim=" + outputDim);
        }
        if ((double) inputDim * outputDim > 2e9) throw configError("table of " + inputDim + " x " + outputDim + " is too large");
        table = addParam("embeddings", initializer.create(dtype, new long[] {inputDim, outputDim}, seed));
        long[] out = java.util.Arrays.copyOf(in, in.length + 1);
        out[in.length] = outputDim;
        return out;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray ids = x.dtype() == DType.INT32 ? x : x.cast(DType.INT32);
        try {
            return Ops.take(table.value(), ids);
        } catch (IllegalArgumentException e) {
            throw new IllegalArgumentException("Embedding layer '" + name + "' (input_dim=" + inputDim + "): input ids "
                    + "must be integers in [0, " + inputDim + "); " + e.getMessage(), e);
        }
    }

    @Override
    public boolean producesMask() {
        return maskZero;
    }

    /** With {@code mask_zero}, id 0 is padding: the mask is 1 where the input id is not 0 (Keras). */
    @Override
    public List<NDArray> computeMasks(List<NDArray> xs, List<NDArray> outputs, Context ctx) {
        if (!maskZero) return super.computeMasks(xs, outputs, ctx);
        return java.util.Collections.singletonList(Masks.notEqual(xs.get(0), 0, table.value().dtype()));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("input_dim", inputDim);
        c.put("output_dim", outputDim);
        c.put("embeddings_initializer", initializer.kerasName);
        c.put("mask_zero", maskZero);
        return c;
    }
}
