package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Depthwise convolution with Keras's semantics (DepthwiseConv1D/2D share it): channels-last input
 * [batch, s1..sr, in], kernel [k1..kr, in, depth_multiplier], bias [in * depth_multiplier]; output channel
 * {@code c * depth_multiplier + m} is input channel c convolved with kernel[..., c, m] (TensorFlow's order).
 * Padding "valid"/"same" (TensorFlow's split), strides, dilation_rate, channels_first accepted.
 *
 * <p>One native {@link Ops#depthwiseConv} (a direct kernel over channels; as grouped GEMMs, n would be dm).
 */
public class DepthwiseConv extends ConvBase {
    public final long depthMultiplier;
    public final Initializer depthwiseInitializer;
    private Parameter kernel;
    private Parameter bias;

    public DepthwiseConv(int rank, long depthMultiplier, long[] kernelSize, long[] strides, long[] dilation,
                         String padding, String dataFormat, Activation activation, boolean useBias,
                         Initializer depthwiseInitializer, Initializer biasInitializer) {
        this(rank, depthMultiplier, depthwiseInitializer, new Options(kernelSize, strides, dilation, padding,
                dataFormat, activation, useBias, biasInitializer));
    }

    DepthwiseConv(int rank, long depthMultiplier, Initializer depthwiseInitializer, Options o) {
        super(rank, o);
        this.depthMultiplier = depthMultiplier;
        this.depthwiseInitializer = depthwiseInitializer;
    }

    static DepthwiseConv fromConfig(int rank, Map<String, Object> c) {
        return new DepthwiseConv(rank, Json.getLong(c, "depth_multiplier", 1),
                Initializer.fromConfig(c.getOrDefault("depthwise_initializer", "glorot_uniform")),
                Options.fromConfig(rank, c));
    }

    @Override
    public String type() {
        return "DepthwiseConv" + rank + "D";
    }

    /** The weight is "kernel", but Keras's arguments are depthwise_regularizer / depthwise_constraint. */
    @Override
    String optionKey(String weight) {
        String k = super.optionKey(weight);
        return k.equals("kernel") ? "depthwise" : k;
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        long[] out = checkDepthwise(in, depthMultiplier);
        long cin = channels(in);
        kernel = addParam("kernel", depthwiseInitializer.create(dtype, depthwiseShape(cin, depthMultiplier), seed));
        if (useBias) {
            bias = addParam("bias", biasInitializer.create(dtype, new long[] {cin * depthMultiplier}, seed + 1));
        }
        return outShape(out, cin * depthMultiplier);
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        NDArray h = channelsLast(x);
        return finish(Ops.depthwiseConv(h, kernel.value(), useBias ? bias.value() : null, window(spatial(h))));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("depth_multiplier", depthMultiplier);
        putOptions(c);
        c.put("depthwise_initializer", depthwiseInitializer.kerasName);
        return c;
    }
}
