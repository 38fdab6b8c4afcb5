package org.pydl.nn;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Separable convolution with Keras's semantics (SeparableConv1D/2D share it): a depthwise convolution with
 * depthwise_kernel [k1..kr, in, depth_multiplier] (strides, padding, dilation applied here) followed by a pointwise
 * (1x1) convolution with pointwise_kernel [1..1, in * depth_multiplier, filters], then bias [filters] and the
 * activation. Composed from Ops ({@link Ops#depthwiseConv} and one GEMM), so gradients come from autodiff.
 */
public class SeparableConv extends ConvBase {
    public final long filters;
    public final long depthMultiplier;
    public final Initializer depthwiseInitializer;
    public final Initializer pointwiseInitializer;
    private Parameter depthwiseKernel;
    private Parameter pointwiseKernel;
    private Parameter bias;

    public SeparableConv(int rank, long filters, long depthMultiplier, long[] kernelSize, long[] strides,
                         long[] dilation, String padding, String dataFormat, Activation activation, boolean useBias,
                         Initializer depthwiseInitializer, Initializer pointwiseInitializer,
                         Initializer biasInitializer) {
        this(rank, filters, depthMultiplier, depthwiseInitializer, pointwiseInitializer, new Options(kernelSize,
                strides, dilation, padding, dataFormat, activation, useBias, biasInitializer));
    }

    SeparableConv(int rank, long filters, long depthMultiplier, Initializer depthwiseInitializer,
                  Initializer pointwiseInitializer, Options o) {
        super(rank, o);
        this.filters = filters;
        this.depthMultiplier = depthMultiplier;
        this.depthwiseInitializer = depthwiseInitializer;
        this.pointwiseInitializer = pointwiseInitializer;
    }

    static SeparableConv fromConfig(int rank, Map<String, Object> c) {
        return new SeparableConv(rank, Json.getLong(c, "filters"), Json.getLong(c, "depth_multiplier", 1),
                Initializer.fromConfig(c.getOrDefault("depthwise_initializer", "glorot_uniform")),
                Initializer.fromConfig(c.getOrDefault("pointwise_initializer", "glorot_uniform")),
                Options.fromConfig(rank, c));
    }

    @Override
    public String type() {
        return "SeparableConv" + rank + "D";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (filters <= 0) throw configError("filters must be a positive integer, received filters=" + filters);
        long[] out = checkDepthwise(in, depthMultiplier);
        long cin = channels(in);
        long[] pshape = new long[rank + 2];
        Arrays.fill(pshape, 1);
        pshape[rank] = cin * depthMultiplier;
        pshape[rank + 1] = filters;
        depthwiseKernel = addParam("depthwise_kernel",
                depthwiseInitializer.create(dtype, depthwiseShape(cin, depthMultiplier), seed));
        pointwiseKernel = addParam("pointwise_kernel", pointwiseInitializer.create(dtype, pshape, seed + 1));
        if (useBias) bias = addParam("bias", biasInitializer.create(dtype, new long[] {filters}, seed + 2));
        return outShape(out, filters);
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        NDArray h = channelsLast(x);
        NDArray d = Ops.depthwiseConv(h, depthwiseKernel.value(), null, window(spatial(h)));
        NDArray pw = Ops.reshape(pointwiseKernel.value(), d.shape(-1), filters);
        return finish(Ops.linear(d, pw, useBias ? bias.value() : null));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("filters", filters);
        c.put("depth_multiplier", depthMultiplier);
        putOptions(c);
        c.put("depthwise_initializer", depthwiseInitializer.kerasName);
        c.put("pointwise_initializer", pointwiseInitializer.kerasName);
        return c;
    }
}
