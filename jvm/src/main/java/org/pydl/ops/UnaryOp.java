package org.pydl.ops;

/**
 * Elementwise unary ops with a native kernel and its derivative (native/cpu/elementwise.cpp).
 * The order is the native table's id order, checked against {@code NativeOps.unaryOpNames()} at load time.
 */
public enum UnaryOp {
    NEG, EXP, LOG, SQRT, TANH, SIGMOID, RELU, LEAKY_RELU, ELU, GELU, SOFTPLUS, ABS, SQUARE, RECIPROCAL, GELU_TANH,
    SELU, SWISH, SOFTSIGN, HARD_SIGMOID, RELU6;

    /** The name used in Python ({@code pydl.ops.relu}), Java ({@code Ops.relu}) and C++ ({@code relu}). */
    public String opName() {
        return name().toLowerCase();
    }
}
