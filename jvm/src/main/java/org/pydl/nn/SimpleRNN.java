package org.pydl.nn;

import java.util.Map;

import org.pydl.nd.NDArray;
import org.pydl.ops.RnnCell;

/**
 * Keras {@code SimpleRNN}: {@code h_t = activation(x_t @ kernel + bias + h_{t-1} @ recurrent_kernel)}. With activation
 * tanh (the default) it runs as one fused op ({@link RnnCell#SIMPLE_RNN}, see {@link Recurrent}).
 */
public final class SimpleRNN extends Recurrent {
    public SimpleRNN(Map<String, Object> config) {
        super(config);
    }

    public static SimpleRNN fromConfig(Map<String, Object> c) {
        return new SimpleRNN(c);
    }

    @Override
    public String type() {
        return "SimpleRNN";
    }

    @Override
    protected int gates() {
        return 1;
    }

    /** Fused ({@link RnnCell#SIMPLE_RNN}) with activation tanh. */
    @Override
    protected RnnCell fusedCell() {
        return activation == Activation.TANH ? RnnCell.SIMPLE_RNN : null;
    }

    /** SimpleRNN has no recurrent activation (not in its config, as in Keras). */
    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = super.layerConfig();
        c.remove("recurrent_activation");
        return c;
    }

    @Override
    protected boolean stacksKernels() {
        return true;
    }

    @Override
    protected NDArray[] step(NDArray xt, NDArray[] states, NDArray stacked) {
        NDArray h = activation.apply(stackedProjection(xt, states == null ? null : states[0], stacked));
        return new NDArray[] {h};
    }
}
