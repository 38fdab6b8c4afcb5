package org.pydl.nn;

import java.util.Arrays;

import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/** Activation functions by their Keras names ("relu", "softmax", ...); each is one op of {@link Ops}. */
public enum Activation {
    LINEAR("linear"), RELU("relu"), SIGMOID("sigmoid"), TANH("tanh"), SOFTMAX("softmax"), LOG_SOFTMAX("log_softmax"),
    ELU("elu"), SELU("selu"), GELU("gelu"), LEAKY_RELU("leaky_relu"), SOFTPLUS("softplus"), SOFTSIGN("softsign"),
    SWISH("swish"), HARD_SIGMOID("hard_sigmoid"), RELU6("relu6"), EXPONENTIAL("exponential");

    public final String kerasName;

    Activation(String kerasName) {
        this.kerasName = kerasName;
    }

    public NDArray apply(NDArray x) {
        switch (this) {
            case LINEAR: return x;
            case RELU: return Ops.relu(x);
            case SIGMOID: return Ops.sigmoid(x);
            case TANH: return Ops.tanh(x);
            case SOFTMAX: return Ops.softmax(x, -1);
            case LOG_SOFTMAX: return Ops.logSoftmax(x, -1);
            case ELU: return Ops.elu(x, 1.0);
            case SELU: return Ops.selu(x);
            case GELU: return Ops.gelu(x, false);
            case LEAKY_RELU: return Ops.leakyRelu(x, 0.2);
            case SOFTPLUS: return Ops.softplus(x);
            case SOFTSIGN: return Ops.softsign(x);
            case SWISH: return Ops.swish(x);
            case HARD_SIGMOID: return Ops.hardSigmoid(x);
            case RELU6: return Ops.relu6(x);
            case EXPONENTIAL: return Ops.exp(x);
            default: throw new IllegalStateException(name());
        }
    }

    /** By Keras name ("relu"), Java name ("RELU") or alias ("silu" = swish); null or "" = linear. */
    public static Activation of(String name) {
        if (name == null || name.isEmpty() || name.equals("None")) return LINEAR;
        String n = name.toLowerCase();
        if (n.equals("silu")) return SWISH;
        for (Activation a : values()) if (a.kerasName.equals(n) || a.name().equalsIgnoreCase(n)) return a;
        throw new IllegalArgumentException("unknown activation '" + name + "'; valid: "
                + Arrays.toString(Arrays.stream(values()).map(a -> a.kerasName).toArray()));
    }
}
