package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Fully connected layer: {@code activation(x @ kernel + bias)}; kernel [in, units] as in Keras. */
public final class Dense extends Layer {
    public final long units;
    public final Activation activation;
    public final boolean useBias;
    public final Initializer kernelInitializer;
    public final Initializer biasInitializer;
    private Parameter kernel;
    private Parameter bias;

    public Dense(long units, Activation activation) {
        this(units, activation, true, Initializer.GLOROT_UNIFORM, Initializer.ZEROS, 0, 0);
    }

    /** With L2 penalties on kernel and bias (0 = none); other regularizers and constraints: {@link #setRegularizer},
     * {@link #setConstraint}. */
    public Dense(long units, Activation activation, boolean useBias, Initializer kernelInitializer,
                 Initializer biasInitializer, double kernelL2, double biasL2) {
        this.units = units;
        this.activation = activation == null ? Activation.LINEAR : activation;
        this.useBias = useBias;
        this.kernelInitializer = kernelInitializer;
        this.biasInitializer = biasInitializer;
        if (kernelL2 != 0) setRegularizer("kernel", Regularizer.l2(kernelL2));
        if (biasL2 != 0) setRegularizer("bias", Regularizer.l2(biasL2));
    }

    public static Dense fromConfig(Map<String, Object> c) {
        return new Dense(org.pydl.io.Json.getLong(c, "units"),
                Activation.of(org.pydl.io.Json.getString(c, "activation", "linear")),
                org.pydl.io.Json.getBoolean(c, "use_bias", true),
                Initializer.fromConfig(c.getOrDefault("kernel_initializer", "glorot_uniform")),
                Initializer.fromConfig(c.getOrDefault("bias_initializer", "zeros")), 0, 0);
    }

    @Override
    public String type() {
        return "Dense";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (units <= 0) throw configError("units must be a positive integer, received units=" + units);
        if (in.length < 1 || in[in.length - 1] <= 0) {
            throw configError("needs inputs with a positive last dimension, received input shape "
                    + batchShape(in));
        }
        long fanIn = in[in.length - 1];
        if ((double) fanIn * units > 2e9) {
            throw configError("kernel of " + fanIn + " x " + units + " is too large");
        }
        kernel = addParam("kernel", kernelInitializer.create(dtype, new long[] {fanIn, units}, seed));
        if (useBias) {
            bias = addParam("bias", biasInitializer.create(dtype, new long[] {units}, seed + 1));
        }
        long[] out = in.clone();
        out[out.length - 1] = units;
        return out;
    }

    /** x @ kernel + bias, before the activation (used to fuse softmax with cross-entropy). */
    public NDArray preActivation(NDArray x) {
        checkInput(x);
        return Ops.linear(x, kernel.value(), useBias ? bias.value() : null);
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        return activation.applyOwned(preActivation(x));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("units", units);
        c.put("activation", activation.kerasName);
        c.put("use_bias", useBias);
        c.put("kernel_initializer", kernelInitializer.kerasName);
        c.put("bias_initializer", biasInitializer.kerasName);
        return c;
    }
}
