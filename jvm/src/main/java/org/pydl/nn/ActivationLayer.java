package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;

/** Applies an {@link Activation} (Keras's {@code Activation} layer). */
public final class ActivationLayer extends Layer {
    public final Activation activation;

    public ActivationLayer(Activation activation) {
        this.activation = activation;
    }

    public static ActivationLayer fromConfig(Map<String, Object> c) {
        return new ActivationLayer(Activation.of(org.pydl.io.Json.getString(c, "activation")));
    }

    @Override
    public String type() {
        return "Activation";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        return activation.apply(x);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("activation", activation.kerasName);
        return c;
    }
}
