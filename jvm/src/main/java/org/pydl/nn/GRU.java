package org.pydl.nn;

import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;
import org.pydl.ops.RnnCell;

/**
 * Keras {@code GRU}, gate order z, r, h in kernel [features, 3*units] and recurrent_kernel [units, 3*units].
 * <ul>
 * <li>{@code reset_after=true} (Keras 3 default, cuDNN/PyTorch compatible): bias [2, 3*units] (input bias, recurrent
 * bias); {@code m = h @ recurrent_kernel + recurrent_bias}, {@code hh = act(x_h + r * m_h)}.</li>
 * <li>{@code reset_after=false}: bias [3*units] (input only);
 * {@code hh = act(x_h + (r * h) @ recurrent_kernel[:, 2u:])}.</li>
 * </ul>
 * Both: {@code z = ra(x_z + m_z), r = ra(x_r + m_r), h = z * h + (1 - z) * hh}, x_* = x_t @ kernel + input bias.
 * With activation tanh and recurrent_activation sigmoid (the defaults) the layer runs as one fused op
 * ({@link RnnCell#GRU} / {@link RnnCell#GRU_RESET_BEFORE}, see {@link Recurrent}); other activations run the
 * per-step {@link #step}.
 */
public final class GRU extends Recurrent {
    public final boolean resetAfter;

    public GRU(Map<String, Object> config) {
        super(config);
        this.resetAfter = Json.getBoolean(config, "reset_after", true);
    }

    public static GRU fromConfig(Map<String, Object> c) {
        return new GRU(c);
    }

    @Override
    public String type() {
        return "GRU";
    }

    @Override
    protected int gates() {
        return 3;
    }

    /** Fused ({@link RnnCell#GRU} / {@link RnnCell#GRU_RESET_BEFORE}) with activation tanh, recurrent_activation sigmoid. */
    @Override
    protected RnnCell fusedCell() {
        if (activation != Activation.TANH || recurrentActivation != Activation.SIGMOID) return null;
        return resetAfter ? RnnCell.GRU : RnnCell.GRU_RESET_BEFORE;
    }

    @Override
    protected NDArray createBias(DType dtype, long seed) {
        if (!resetAfter) return super.createBias(dtype, seed);
        return initialize(biasInitializer, dtype, new long[] {2, 3 * units}, seed);
    }

    private NDArray inputBias() {
        if (!useBias) return null;
        if (!resetAfter) return bias.value();
        return Ops.reshape(Ops.slice(bias.value(), 0, 0, 1), 3 * units);
    }

    private NDArray recurrentBias() {
        return Ops.reshape(Ops.slice(bias.value(), 0, 1, 2), 3 * units);
    }

    @Override
    protected NDArray[] step(NDArray xt, NDArray[] states, NDArray stacked) {
        NDArray xProj = Ops.linear(xt, kernel.value(), inputBias());
        if (states == null) return new NDArray[] {firstStep(xProj)};
        NDArray h = states[0];
        NDArray hNew;
        if (resetAfter) {
            NDArray m = useBias ? Ops.linear(h, recurrentKernel.value(), recurrentBias())
                    : Ops.matmul(h, recurrentKernel.value());
            NDArray z = recurrentActivation.apply(Ops.add(gate(xProj, 0), gate(m, 0)));
            NDArray r = recurrentActivation.apply(Ops.add(gate(xProj, 1), gate(m, 1)));
            NDArray hh = activation.apply(Ops.add(gate(xProj, 2), Ops.mul(r, gate(m, 2))));
            hNew = Ops.add(Ops.mul(z, h), Ops.mul(Ops.affine(z, -1.0, 1.0), hh));
        } else {
            NDArray m = Ops.matmul(h, recurrentColumns(0, 2));
            NDArray z = recurrentActivation.apply(Ops.add(gate(xProj, 0), gate(m, 0)));
            NDArray r = recurrentActivation.apply(Ops.add(gate(xProj, 1), gate(m, 1)));
            NDArray hh = activation.apply(Ops.add(gate(xProj, 2), Ops.matmul(Ops.mul(r, h), recurrentColumns(2, 3))));
            hNew = Ops.add(Ops.mul(z, h), Ops.mul(Ops.affine(z, -1.0, 1.0), hh));
        }
        return new NDArray[] {hNew};
    }

    /** h_0 = 0: the recurrent products vanish (reset_after keeps the recurrent bias); h = (1 - z) * hh. */
    private NDArray firstStep(NDArray xProj) {
        NDArray z, hh;
        if (resetAfter && useBias) {
            NDArray rb = recurrentBias();
            z = recurrentActivation.apply(Ops.add(gate(xProj, 0), Ops.slice(rb, 0, 0, units)));
            NDArray r = recurrentActivation.apply(Ops.add(gate(xProj, 1), Ops.slice(rb, 0, units, 2 * units)));
            hh = activation.apply(Ops.add(gate(xProj, 2), Ops.mul(r, Ops.slice(rb, 0, 2 * units, 3 * units))));
        } else {
            z = recurrentActivation.apply(gate(xProj, 0));
            hh = activation.apply(gate(xProj, 2));
        }
        return Ops.mul(Ops.affine(z, -1.0, 1.0), hh);
    }

    @Override
    protected Map<String, Object> extraConfig() {
        Map<String, Object> c = super.extraConfig();
        c.put("reset_after", resetAfter);
        return c;
    }
}
