package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras {@code Masking(mask_value=0.0)}: on [batch, time, features] input, a step whose features all equal
 * {@code mask_value} is masked: its output is zeros and the mask (1 for kept steps) flows to the following layers
 * (recurrent, attention, average pooling), which then skip it.
 */
public final class Masking extends Layer {
    public final double maskValue;

    public Masking(double maskValue) {
        this.maskValue = maskValue;
    }

    public static Masking fromConfig(Map<String, Object> c) {
        return new Masking(Json.getDouble(c, "mask_value", 0.0));
    }

    @Override
    public String type() {
        return "Masking";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (in.length < 2) {
            throw configError("expects input of rank >= 3 (batch, timesteps, features), received input shape "
                    + batchShape(in));
        }
        if (!Double.isFinite(maskValue)) throw configError("mask_value must be a finite number, received " + maskValue);
        return in.clone();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray keep = Masks.anyNotEqual(x, maskValue, x.dtype());
        return Ops.mul(x, Masks.expand(keep, x.rank()));
    }

    @Override
    public boolean producesMask() {
        return true;
    }

    @Override
    public List<NDArray> computeMasks(List<NDArray> xs, List<NDArray> outputs, Context ctx) {
        NDArray x = xs.get(0);
        // Keras reduces the last axis; masks here are (batch, timesteps), so rank > 3 inputs hand on no mask
        return java.util.Collections.singletonList(x.rank() == 3 ? Masks.anyNotEqual(x, maskValue, x.dtype()) : null);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("mask_value", maskValue);
        return c;
    }
}
