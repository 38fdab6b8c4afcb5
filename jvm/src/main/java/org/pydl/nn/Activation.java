package org.pydl.nn;

import java.util.Arrays;

import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;
import org.pydl.ops.UnaryOp;

/** Activation functions by their Keras names ("relu", "softmax", ...); each is one op of {@link Ops}. */
public enum Activation {
    LINEAR("linear"), RELU("relu"), SIGMOID("sigmoid"), TANH("tanh"), SOFTMAX("softmax"), LOG_SOFTMAX("log_softmax"),
    ELU("elu"), SELU("selu"), GELU("gelu"), LEAKY_RELU("leaky_relu"), SOFTPLUS("softplus"), SOFTSIGN("softsign"),
    SWISH("swish"), HARD_SIGMOID("hard_sigmoid"), RELU6("relu6"), EXPONENTIAL("exponential"),
    HARD_SWISH("hard_swish"), HARD_SILU("hard_silu"), MISH("mish"),
    /** GELU's tanh approximation (Keras's {@code gelu(x, approximate=True)}). */
    GELU_TANH("gelu_tanh"),
    /** Keras 2's hard_sigmoid, clip(0.2 x + 0.5, 0, 1) (Keras 3's "hard_sigmoid" is clip(x / 6 + 0.5, 0, 1)). */
    HARD_SIGMOID_KERAS2("hard_sigmoid_keras2");

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
            case HARD_SWISH: return ActivationLayers.hardSwish(x);
            case HARD_SILU: return ActivationLayers.hardSwish(x);
            case MISH: return ActivationLayers.mish(x);
            case GELU_TANH: return Ops.gelu(x, true);
            case HARD_SIGMOID_KERAS2: return Ops.hardSigmoid(Ops.mul(x, 1.2));   // (1.2 x) / 6 + 0.5 = 0.2 x + 0.5
            default: throw new IllegalStateException(name());
        }
    }

    /** The unary op computing this activation, or null (linear, softmax, log_softmax). */
    UnaryOp unaryOp() {
        switch (this) {
            case RELU: return UnaryOp.RELU;
            case SIGMOID: return UnaryOp.SIGMOID;
            case TANH: return UnaryOp.TANH;
            case ELU: return UnaryOp.ELU;
            case SELU: return UnaryOp.SELU;
            case GELU: return UnaryOp.GELU;
            case GELU_TANH: return UnaryOp.GELU_TANH;
            case LEAKY_RELU: return UnaryOp.LEAKY_RELU;
            case SOFTPLUS: return UnaryOp.SOFTPLUS;
            case SOFTSIGN: return UnaryOp.SOFTSIGN;
            case SWISH: return UnaryOp.SWISH;
            case HARD_SIGMOID: return UnaryOp.HARD_SIGMOID;
            case RELU6: return UnaryOp.RELU6;
            case EXPONENTIAL: return UnaryOp.EXP;
            default: return null;
        }
    }

    /**
     * Applies the activation to an array the caller owns, in place when no gradient is needed (inference):
     * saves an allocation and a pass over memory. Same values as {@link #apply}.
     */
    public NDArray applyOwned(NDArray x) {
        UnaryOp op = unaryOp();
        if (op == null || (x.requiresGrad() && Autograd.isRecording()) || !x.isContiguous()) return apply(x);
        return Ops.unaryi(op, x, unaryAlpha());
    }

    /** The parameter of {@link #unaryOp()} (elu's alpha, leaky_relu's slope). */
    double unaryAlpha() {
        return this == ELU ? 1.0 : this == LEAKY_RELU ? 0.2 : 0.0;
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
