package org.pydl.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * N-d convolution with Keras's semantics (Conv1D/2D/3D share it): channels-last input [batch, s1..sr, in],
 * kernel [k1..kr, in/groups, filters], bias [filters]; padding "valid", "same" (TensorFlow's split) or "causal"
 * (1-D); strides, dilation_rate, groups; data_format "channels_first" accepted (transposed around the op).
 */
public class Conv extends Layer {
    public final int rank;
    public final long filters;
    public final long[] kernelSize;
    public final long[] strides;
    public final long[] dilation;
    public final String padding;
    public final String dataFormat;
    public final long groups;
    public final Activation activation;
    public final boolean useBias;
    public final Initializer kernelInitializer;
    public final Initializer biasInitializer;
    private Parameter kernel;
    private Parameter bias;

    public Conv(int rank, long filters, long[] kernelSize, long[] strides, long[] dilation, String padding,
                String dataFormat, long groups, Activation activation, boolean useBias, Initializer kernelInitializer,
                Initializer biasInitializer) {
        this.rank = rank;
        this.filters = filters;
        this.kernelSize = kernelSize.clone();
        this.strides = strides.clone();
        this.dilation = dilation.clone();
        this.padding = padding;
        this.dataFormat = dataFormat;
        this.groups = groups;
        this.activation = activation;
        this.useBias = useBias;
        this.kernelInitializer = kernelInitializer;
        this.biasInitializer = biasInitializer;
    }

    static Conv fromConfig(int rank, Map<String, Object> c) {
        return new Conv(rank, Json.getLong(c, "filters"), Spatial.tuple(c, "kernel_size", rank, 1),
                Spatial.tuple(c, "strides", rank, 1), Spatial.tuple(c, "dilation_rate", rank, 1),
                Json.getString(c, "padding", "valid").toLowerCase(), Spatial.dataFormat(c), Json.getLong(c, "groups", 1),
                Activation.of(Json.getString(c, "activation", "linear")), Json.getBoolean(c, "use_bias", true),
                Initializer.fromConfig(c.getOrDefault("kernel_initializer", "glorot_uniform")),
                Initializer.fromConfig(c.getOrDefault("bias_initializer", "zeros")));
    }

    @Override
    public String type() {
        return "Conv" + rank + "D";
    }

    private boolean channelsFirst() {
        return dataFormat.equals("channels_first");
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (filters <= 0) throw configError("filters must be a positive integer, received filters=" + filters);
        for (long[] t : new long[][] {kernelSize, strides, dilation}) {
            if (t.length != rank || Arrays.stream(t).anyMatch(v -> v <= 0)) {
                throw configError("kernel_size, strides and dilation_rate need " + rank + " positive integers, "
                        + "received kernel_size=" + Arrays.toString(kernelSize) + ", strides=" + Arrays.toString(strides)
                        + ", dilation_rate=" + Arrays.toString(dilation));
            }
        }
        if (Arrays.stream(strides).anyMatch(v -> v > 1) && Arrays.stream(dilation).anyMatch(v -> v > 1)) {
            throw configError("strides > 1 together with dilation_rate > 1 is not supported (as in Keras)");
        }
        if (!padding.equals("valid") && !padding.equals("same") && !(padding.equals("causal") && rank == 1)) {
            throw configError("padding must be \"valid\" or \"same\"" + (rank == 1 ? " or \"causal\"" : "")
                    + ", received padding=\"" + padding + "\"");
        }
        if (!dataFormat.equals("channels_last") && !dataFormat.equals("channels_first")) {
            throw configError("data_format must be channels_last or channels_first, received " + dataFormat);
        }
        if (in.length != rank + 1) {
            throw configError("expects inputs of rank " + (rank + 2) + " (batch, " + rank + " spatial axes, channels), "
                    + "received input shape " + batchShape(in));
        }
        long[] s = channelsFirst() ? Arrays.copyOfRange(in, 1, in.length) : Arrays.copyOf(in, rank);
        long cin = channelsFirst() ? in[0] : in[rank];
        if (groups <= 0 || cin % groups != 0 || filters % groups != 0) {
            throw configError("groups=" + groups + " must divide both the input channels (" + cin + ") and filters ("
                    + filters + ")");
        }
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            out[i] = Spatial.outSize(s[i], kernelSize[i], strides[i], dilation[i], padding);
            if (out[i] <= 0) {
                throw configError("kernel " + Arrays.toString(kernelSize) + " (dilation " + Arrays.toString(dilation)
                        + ") is larger than the input " + batchShape(in) + " with padding=\"valid\"; use padding=\"same\" "
                        + "or a smaller kernel");
            }
        }
        long[] kshape = new long[rank + 2];
        System.arraycopy(kernelSize, 0, kshape, 0, rank);
        kshape[rank] = cin / groups;
        kshape[rank + 1] = filters;
        kernel = addParam("kernel", kernelInitializer.create(dtype, kshape, seed));
        if (useBias) bias = addParam("bias", biasInitializer.create(dtype, new long[] {filters}, seed + 1));
        long[] result = new long[rank + 1];
        if (channelsFirst()) {
            result[0] = filters;
            System.arraycopy(out, 0, result, 1, rank);
        } else {
            System.arraycopy(out, 0, result, 0, rank);
            result[rank] = filters;
        }
        return result;
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray h = channelsFirst() ? Spatial.toChannelsLast(x) : x;
        long[] s = h.shape();
        long[][] pads = new long[rank][];
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            pads[i] = Spatial.padAmounts(s[i + 1], kernelSize[i], strides[i], dilation[i], padding);
            out[i] = Spatial.outSize(s[i + 1], kernelSize[i], strides[i], dilation[i], padding);
        }
        NDArray p = Spatial.padSpatial(h, pads, 0.0);
        long cin = s[rank + 1];
        long k = 1;
        for (long v : kernelSize) k *= v;
        NDArray y;
        if (groups == 1) {
            y = convGroup(p, kernel.value(), out, k * cin);
        } else {
            long cg = cin / groups, fg = filters / groups;
            List<NDArray> parts = new ArrayList<>();
            for (long g = 0; g < groups; g++) {
                NDArray pg = Ops.slice(p, rank + 1, g * cg, (g + 1) * cg);
                NDArray kg = Ops.slice(kernel.value(), rank + 1, g * fg, (g + 1) * fg);
                parts.add(convGroup(pg, kg, out, k * cg));
            }
            y = Ops.concat(parts, rank + 1);
        }
        if (useBias) y = Ops.add(y, bias.value());
        y = activation.applyOwned(y);
        return channelsFirst() ? Spatial.toChannelsFirst(y) : y;
    }

    /** patches [b, out.., k*cin] @ kernel reshaped [k*cin, f]. */
    private NDArray convGroup(NDArray p, NDArray kern, long[] out, long kc) {
        NDArray patches = Ops.patches(p, kernelSize, strides, dilation, out);
        long f = kern.shape(-1);
        return Ops.matmul(patches, Ops.reshape(kern, kc, f));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("filters", filters);
        c.put("kernel_size", kernelSize);
        c.put("strides", strides);
        c.put("padding", padding);
        c.put("data_format", dataFormat);
        c.put("dilation_rate", dilation);
        c.put("groups", groups);
        c.put("activation", activation.kerasName);
        c.put("use_bias", useBias);
        c.put("kernel_initializer", kernelInitializer.kerasName);
        c.put("bias_initializer", biasInitializer.kerasName);
        return c;
    }
}
