package org.pydl.nn;

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
 * activation. Composed from Ops ({@link DepthwiseConv#depthwise} and one GEMM), so gradients come from autodiff.
 */
public class SeparableConv extends Layer {
    public final int rank;
    public final long filters;
    public final long depthMultiplier;
    public final long[] kernelSize;
    public final long[] strides;
    public final long[] dilation;
    public final String padding;
    public final String dataFormat;
    public final Activation activation;
    public final boolean useBias;
    public final Initializer depthwiseInitializer;
    public final Initializer pointwiseInitializer;
    public final Initializer biasInitializer;
    private Parameter depthwiseKernel;
    private Parameter pointwiseKernel;
    private Parameter bias;

    public SeparableConv(int rank, long filters, long depthMultiplier, long[] kernelSize, long[] strides,
                         long[] dilation, String padding, String dataFormat, Activation activation, boolean useBias,
                         Initializer depthwiseInitializer, Initializer pointwiseInitializer,
                         Initializer biasInitializer) {
        this.rank = rank;
        this.filters = filters;
        this.depthMultiplier = depthMultiplier;
        this.kernelSize = kernelSize.clone();
        this.strides = strides.clone();
        this.dilation = dilation.clone();
        this.padding = padding;
        this.dataFormat = dataFormat;
        this.activation = activation;
        this.useBias = useBias;
        this.depthwiseInitializer = depthwiseInitializer;
        this.pointwiseInitializer = pointwiseInitializer;
        this.biasInitializer = biasInitializer;
    }

    static SeparableConv fromConfig(int rank, Map<String, Object> c) {
        return new SeparableConv(rank, Json.getLong(c, "filters"), Json.getLong(c, "depth_multiplier", 1),
                Spatial.tuple(c, "kernel_size", rank, 1), Spatial.tuple(c, "strides", rank, 1),
                Spatial.tuple(c, "dilation_rate", rank, 1), Json.getString(c, "padding", "valid").toLowerCase(),
                Spatial.dataFormat(c), Activation.of(Json.getString(c, "activation", "linear")),
                Json.getBoolean(c, "use_bias", true),
                Initializer.fromConfig(c.getOrDefault("depthwise_initializer", "glorot_uniform")),
                Initializer.fromConfig(c.getOrDefault("pointwise_initializer", "glorot_uniform")),
                Initializer.fromConfig(c.getOrDefault("bias_initializer", "zeros")));
    }

    @Override
    public String type() {
        return "SeparableConv" + rank + "D";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (filters <= 0) throw configError("filters must be a positive integer, received filters=" + filters);
        if (depthMultiplier <= 0) {
            throw configError("depth_multiplier must be a positive integer, received depth_multiplier="
                    + depthMultiplier);
        }
        long[] out = DepthwiseConv.checkAndOutSize(this, rank, kernelSize, strides, dilation, padding, dataFormat, in);
        long cin = dataFormat.equals("channels_first") ? in[0] : in[rank];
        long[] dshape = new long[rank + 2];
        System.arraycopy(kernelSize, 0, dshape, 0, rank);
        dshape[rank] = cin;
        dshape[rank + 1] = depthMultiplier;
        long[] pshape = new long[rank + 2];
        java.util.Arrays.fill(pshape, 1);
        pshape[rank] = cin * depthMultiplier;
        pshape[rank + 1] = filters;
        depthwiseKernel = addParam("depthwise_kernel", depthwiseInitializer.create(dtype, dshape, seed));
        pointwiseKernel = addParam("pointwise_kernel", pointwiseInitializer.create(dtype, pshape, seed + 1));
        if (useBias) bias = addParam("bias", biasInitializer.create(dtype, new long[] {filters}, seed + 2));
        return DepthwiseConv.outShape(out, filters, dataFormat);
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        boolean cf = dataFormat.equals("channels_first");
        NDArray h = cf ? Spatial.toChannelsLast(x) : x;
        NDArray d = DepthwiseConv.depthwise(h, depthwiseKernel.value(), kernelSize, strides, dilation, padding);
        long cdm = d.shape(-1);
        NDArray pw = Ops.reshape(pointwiseKernel.value(), cdm, filters);
        NDArray y = Ops.linear(d, pw, useBias ? bias.value() : null);
        y = activation.applyOwned(y);
        return cf ? Spatial.toChannelsFirst(y) : y;
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("filters", filters);
        c.put("depth_multiplier", depthMultiplier);
        c.put("kernel_size", kernelSize);
        c.put("strides", strides);
        c.put("padding", padding);
        c.put("data_format", dataFormat);
        c.put("dilation_rate", dilation);
        c.put("activation", activation.kerasName);
        c.put("use_bias", useBias);
        c.put("depthwise_initializer", depthwiseInitializer.kerasName);
        c.put("pointwise_initializer", pointwiseInitializer.kerasName);
        c.put("bias_initializer", biasInitializer.kerasName);
        return c;
    }
}
