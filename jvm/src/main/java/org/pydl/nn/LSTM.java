package org.pydl.nn;

import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;
import org.pydl.ops.RnnCell;

/**
 * Keras {@code LSTM}, gate order i, f, c, o in kernel [features, 4*units], recurrent_kernel [units, 4*units] and
 * bias [4*units]. With z = x_t @ kernel + h @ recurrent_kernel + bias:
 * {@code i = ra(z_i), f = ra(z_f), c = f * c + i * act(z_c), o = ra(z_o), h = o * act(c)} (ra: recurrent_activation).
 * {@code unit_forget_bias} (default true) initialises the forget-gate bias to ones. With activation tanh and
 * recurrent_activation sigmoid (the defaults) the layer runs as one fused op ({@link RnnCell#LSTM}, see
 * {@link Recurrent}); other activations run the per-step {@link #step}.
 */
public final class LSTM extends Recurrent {
    public final boolean unitForgetBias;

    public LSTM(Map<String, Object> config) {
        super(config);
        this.unitForgetBias = Json.getBoolean(config, "unit_forget_bias", true);
    }

    public static LSTM fromConfig(Map<String, Object> c) {
        return new LSTM(c);
    }

    @Override
    public String type() {
        return "LSTM";
    }

    @Override
    protected int gates() {
        return 4;
    }

    /** Fused ({@link RnnCell#LSTM}) with activation tanh and recurrent_activation sigmoid. */
    @Override
    protected RnnCell fusedCell() {
        return activation == Activation.TANH && recurrentActivation == Activation.SIGMOID ? RnnCell.LSTM : null;
    }

    @Override
    protected int stateCount() {
        return 2;
    }

    @Override
    protected NDArray createBias(DType dtype, long seed) {
        if (!unitForgetBias) return super.createBias(dtype, seed);
        try (Autograd.AutoCloseable0 ng = Autograd.noGrad();
             NDArray a = initialize(biasInitializer, dtype, new long[] {units}, seed);
             NDArray ones = Initializer.ONES.create(dtype, new long[] {units}, seed);
             NDArray b = initialize(biasInitializer, dtype, new long[] {2 * units}, seed + 1)) {
            return concatBlocks(dtype, List.of(a, ones, b));
        }
    }

    @Override
    protected boolean stacksKernels() {
        return true;
    }

    @Override
    protected NDArray[] step(NDArray xt, NDArray[] states, NDArray stacked) {
        NDArray z = stackedProjection(xt, states == null ? null : states[0], stacked);
        NDArray i = recurrentActivation.apply(gate(z, 0));
        NDArray ic = Ops.mul(i, activation.apply(gate(z, 2)));
        NDArray cNew;
        if (states == null) {
            cNew = ic; // c_0 = 0: f * c_0 vanishes
        } else {
            NDArray f = recurrentActivation.apply(gate(z, 1));
            cNew = Ops.add(Ops.mul(f, states[1]), ic);
        }
        NDArray o = recurrentActivation.apply(gate(z, 3));
        NDArray hNew = Ops.mul(o, activation.apply(cNew));
        return new NDArray[] {hNew, cNew};
    }

    @Override
    protected Map<String, Object> extraConfig() {
        Map<String, Object> c = super.extraConfig();
        c.put("unit_forget_bias", unitForgetBias);
        return c;
    }
}
