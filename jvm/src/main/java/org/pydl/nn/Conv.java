package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * N-d convolution with Keras's semantics (Conv1D/2D/3D share it): channels-last input [batch, s1..sr, in],
 * kernel [k1..kr, in/groups, filters], bias [filters]; padding "valid", "same" (TensorFlow's split) or "causal"
 * (1-D); strides, dilation_rate, groups; data_format "channels_first" accepted (transposed around the op).
 * One {@link Ops#conv} (im2col + one GEMM per group, bias fused).
 */
public class Conv extends ConvBase {
    public final long filters;
    public final long groups;
    public final Initializer kernelInitializer;
    private Parameter kernel;
    private Parameter bias;

    public Conv(int rank, long filters, long[] kernelSize, long[] strides, long[] dilation, String padding,
                String dataFormat, long groups, Activation activation, boolean useBias, Initializer kernelInitializer,
                Initializer biasInitializer) {
        this(rank, filters, groups, kernelInitializer, new Options(kernelSize, strides, dilation, padding, dataFormat,
                activation, useBias, biasInitializer));
    }

    Conv(int rank, long filters, long groups, Initializer kernelInitializer, Options o) {
        super(rank, o);
        this.filters = filters;
        this.groups = groups;
        this.kernelInitializer = kernelInitializer;
    }

    static Conv fromConfig(int rank, Map<String, Object> c) {
        return new Conv(rank, Json.getLong(c, "filters"), Json.getLong(c, "groups", 1),
                Initializer.fromConfig(c.getOrDefault("kernel_initializer", "glorot_uniform")),
                Options.fromConfig(rank, c));
    }

    @Override
    public String type() {
        return "Conv" + rank + "D";
    }

    @Override
    protected boolean paddingAllowed(String p) {
        return super.paddingAllowed(p) || (p.equals("causal") && rank == 1);
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (filters <= 0) throw configError("filters must be a positive integer, received filters=" + filters);
        long[] s = checkOptions(in);
        long cin = channels(in);
        if (groups <= 0 || cin % groups != 0 || filters % groups != 0) {
            throw configError("groups=" + groups + " must divide both the input channels (" + cin + ") and filters ("
                    + filters + ")");
        }
        long[] out = forwardOut(s, in);
        long[] kshape = new long[rank + 2];
        System.arraycopy(kernelSize, 0, kshape, 0, rank);
        kshape[rank] = cin / groups;
        kshape[rank + 1] = filters;
        kernel = addParam("kernel", kernelInitializer.create(dtype, kshape, seed));
        if (useBias) bias = addParam("bias", biasInitializer.create(dtype, new long[] {filters}, seed + 1));
        return outShape(out, filters);
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        NDArray h = channelsLast(x);
        return finish(Ops.conv(h, kernel.value(), useBias ? bias.value() : null, window(spatial(h)), groups));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("filters", filters);
        c.put("groups", groups);
        putOptions(c);
        c.put("kernel_initializer", kernelInitializer.kerasName);
        return c;
    }
}
