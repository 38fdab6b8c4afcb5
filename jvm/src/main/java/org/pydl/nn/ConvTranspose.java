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
 * Transposed convolution with Keras's semantics (Conv1DTranspose/2D/3D share it): channels-last input
 * [batch, n1..nr, in], kernel [k1..kr, filters, in] (Keras's transposed layout), bias [filters]; strides, padding
 * "valid"/"same", output_padding (null = inferred), dilation_rate, channels_first accepted.
 *
 * <p>Output length per axis is Keras's {@code deconv_output_length}; the result is TensorFlow's
 * {@code conv_transpose} with that output shape, i.e. the input-gradient of a forward convolution whose input has
 * the output length O and whose "before" padding is P = max((n - 1) * s + eff - O, 0) / 2:
 * {@code y[i * s + j * d - P] += x[i] * kernel[j]} for output positions 0 <= . < O.
 *
 * <p>Computed with Ops (gradients from autodiff), two equivalent paths (both checked against PyTorch's
 * conv_transpose and the definition in the tests):
 * <ul>
 * <li>strides 1 ({@link #zeroInsertion}): the input padded by eff - 1 - P before (cropped or padded to the output
 * length after), then a stride-1 convolution reading the windows in reversed kernel order (the spatial flip)
 * against the kernel transposed to [k.., in, filters], as patches times the kernel in one GEMM (with strides > 1
 * this path would first insert stride - 1 zeros between input elements: reshape + pad + reshape);</li>
 * <li>strides > 1 ({@link #scatter}): per kernel offset j, x @ kernel[j]^T on the undilated input, zeros inserted
 * between the results, shifted to i * s + j * d - P, cropped/padded to the output and summed: no multiplications
 * by inserted zeros.</li>
 * </ul>
 */
public class ConvTranspose extends Layer {
    public final int rank;
    public final long filters;
    public final long[] kernelSize;
    public final long[] strides;
    /** null: inferred (Keras's default). */
    public final long[] outputPadding;
    public final long[] dilation;
    public final String padding;
    public final String dataFormat;
    public final Activation activation;
    public final boolean useBias;
    public final Initializer kernelInitializer;
    public final Initializer biasInitializer;
    private Parameter kernel;
    private Parameter bias;

    public ConvTranspose(int rank, long filters, long[] kernelSize, long[] strides, long[] outputPadding,
                         long[] dilation, String padding, String dataFormat, Activation activation, boolean useBias,
                         Initializer kernelInitializer, Initializer biasInitializer) {
        this.rank = rank;
        this.filters = filters;
        this.kernelSize = kernelSize.clone();
        this.strides = strides.clone();
        this.outputPadding = outputPadding == null ? null : outputPadding.clone();
        this.dilation = dilation.clone();
        this.padding = padding;
        this.dataFormat = dataFormat;
        this.activation = activation;
        this.useBias = useBias;
        this.kernelInitializer = kernelInitializer;
        this.biasInitializer = biasInitializer;
    }

    static ConvTranspose fromConfig(int rank, Map<String, Object> c) {
        long[] op = c.get("output_padding") == null ? null : Spatial.tuple(c, "output_padding", rank, 0);
        return new ConvTranspose(rank, Json.getLong(c, "filters"), Spatial.tuple(c, "kernel_size", rank, 1),
                Spatial.tuple(c, "strides", rank, 1), op, Spatial.tuple(c, "dilation_rate", rank, 1),
                Json.getString(c, "padding", "valid").toLowerCase(), Spatial.dataFormat(c),
                Activation.of(Json.getString(c, "activation", "linear")), Json.getBoolean(c, "use_bias", true),
                Initializer.fromConfig(c.getOrDefault("kernel_initializer", "glorot_uniform")),
                Initializer.fromConfig(c.getOrDefault("bias_initializer", "zeros")));
    }

    @Override
    public String type() {
        return "Conv" + rank + "DTranspose";
    }

    private boolean channelsFirst() {
        return dataFormat.equals("channels_first");
    }

    /** Keras's deconv_output_length (op < 0: output_padding None). */
    static long outputLength(long in, long k, String padding, long op, long stride, long dilation) {
        long eff = (k - 1) * dilation + 1;
        if (op < 0) {
            return padding.equals("valid") ? in * stride + Math.max(eff - stride, 0) : in * stride;
        }
        long pad = padding.equals("same") ? eff / 2 : 0;
        return (in - 1) * stride + eff - 2 * pad + op;
    }

    private long op(int i) {
        return outputPadding == null ? -1 : outputPadding[i];
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (filters <= 0) throw configError("filters must be a positive integer, received filters=" + filters);
        for (long[] t : new long[][] {kernelSize, strides, dilation}) {
            if (t.length != rank || Arrays.stream(t).anyMatch(v -> v <= 0)) {
                throw configError("kernel_size, strides and dilation_rate need " + rank + " positive integers, "
                        + "received kernel_size=" + Arrays.toString(kernelSize) + ", strides="
                        + Arrays.toString(strides) + ", dilation_rate=" + Arrays.toString(dilation));
            }
        }
        if (outputPadding != null) {
            if (outputPadding.length != rank) {
                throw configError("output_padding needs " + rank + " integers, received output_padding="
                        + Arrays.toString(outputPadding));
            }
            for (int i = 0; i < rank; i++) {
                if (outputPadding[i] < 0 || outputPadding[i] >= strides[i]) {
                    throw configError("output_padding must be >= 0 and < strides, received output_padding="
                            + Arrays.toString(outputPadding) + ", strides=" + Arrays.toString(strides));
                }
            }
        }
        if (Arrays.stream(strides).anyMatch(v -> v > 1) && Arrays.stream(dilation).anyMatch(v -> v > 1)) {
            throw configError("strides > 1 together with dilation_rate > 1 is not supported (as in Keras), received "
                    + "strides=" + Arrays.toString(strides) + ", dilation_rate=" + Arrays.toString(dilation));
        }
        if (!padding.equals("valid") && !padding.equals("same")) {
            throw configError("padding must be \"valid\" or \"same\", received padding=\"" + padding + "\"");
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
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) {
            out[i] = outputLength(s[i], kernelSize[i], padding, op(i), strides[i], dilation[i]);
            if (out[i] <= 0) {
                throw configError("the output would be empty along spatial axis " + i + " (length " + out[i]
                        + ") for input " + batchShape(in) + ", kernel_size=" + Arrays.toString(kernelSize)
                        + ", padding=\"" + padding + "\", output_padding=" + Arrays.toString(outputPadding));
            }
        }
        long[] kshape = new long[rank + 2];
        System.arraycopy(kernelSize, 0, kshape, 0, rank);
        kshape[rank] = filters;
        kshape[rank + 1] = cin;
        kernel = addParam("kernel", kernelInitializer.create(dtype, kshape, seed));
        if (useBias) bias = addParam("bias", biasInitializer.create(dtype, new long[] {filters}, seed + 1));
        return DepthwiseConv.outShape(out, filters, dataFormat);
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        NDArray h = channelsFirst() ? Spatial.toChannelsLast(x) : x;
        long[] s = h.shape();
        long[] out = new long[rank];
        long[] pb = new long[rank];
        for (int i = 0; i < rank; i++) {
            long eff = (kernelSize[i] - 1) * dilation[i] + 1;
            out[i] = outputLength(s[i + 1], kernelSize[i], padding, op(i), strides[i], dilation[i]);
            pb[i] = Math.max((s[i + 1] - 1) * strides[i] + eff - out[i], 0) / 2;
        }
        // strides > 1: one GEMM per kernel offset on the undilated input (zero insertion would multiply
        // prod(strides) times more zeros); strides 1: a plain convolution with the flipped kernel (one GEMM)
        boolean strided = Arrays.stream(strides).anyMatch(v -> v > 1);
        NDArray y = strided ? scatter(h, out, pb) : null;
        if (y == null) y = zeroInsertion(h, out, pb);
        if (useBias) y = Ops.add(y, bias.value());
        y = activation.applyOwned(y);
        return channelsFirst() ? Spatial.toChannelsFirst(y) : y;
    }

    /** Inserts st - 1 zeros after every element of axis ax: [.., n, ..] -> [.., n * st, ..] (reshape, pad, reshape). */
    private static NDArray dilate(NDArray p, int ax, long st) {
        if (st == 1) return p;
        long[] ps = p.shape();
        long[] e = new long[ps.length + 1];
        System.arraycopy(ps, 0, e, 0, ax + 1);
        e[ax + 1] = 1;
        System.arraycopy(ps, ax + 1, e, ax + 2, ps.length - ax - 1);
        long[] before = new long[e.length], after = new long[e.length];
        after[ax + 1] = st - 1;
        NDArray padded = Ops.pad(Ops.reshape(p, e), before, after, 0.0);
        long[] merged = ps.clone();
        merged[ax] = ps[ax] * st;
        return Ops.reshape(padded, merged);
    }

    /**
     * Per kernel offset j: x @ kernel[j]^T (a GEMM on the undilated input), zeros inserted between the results,
     * shifted to output position i * s + j * d - P and cropped/padded to the output, summed over j. Returns null if
     * no offset reaches the output (then {@link #zeroInsertion} gives the all-zero result with its gradient).
     */
    private NDArray scatter(NDArray h, long[] out, long[] pb) {
        long[] s = h.shape();
        long cin = s[rank + 1];
        long k = 1;
        for (long v : kernelSize) k *= v;
        NDArray kr = Ops.reshape(kernel.value(), k, filters, cin);
        NDArray y = null;
        long[] idx = new long[rank];
        for (int j = 0; j < k; j++) {
            long[] lo = new long[rank], hi = new long[rank], before = new long[rank + 2], after = new long[rank + 2];
            boolean empty = false;
            for (int i = 0; i < rank; i++) {
                long len = s[i + 1] * strides[i];
                long shift = idx[i] * dilation[i] - pb[i];
                lo[i] = Math.max(-shift, 0);
                hi[i] = Math.min(len, out[i] - shift);
                if (hi[i] <= lo[i]) {
                    empty = true;
                    break;
                }
                before[i + 1] = Math.max(shift, 0);
                after[i + 1] = out[i] - before[i + 1] - (hi[i] - lo[i]);
            }
            if (!empty) {
                NDArray wj = Ops.transpose(Ops.reshape(Ops.slice(kr, 0, j, j + 1), filters, cin), 1, 0);
                NDArray z = Ops.matmul(h, wj);
                for (int i = 0; i < rank; i++) {
                    z = Ops.slice(dilate(z, i + 1, strides[i]), i + 1, lo[i], hi[i]);
                }
                NDArray placed = Ops.pad(z, before, after, 0.0);
                y = y == null ? placed : Ops.add(y, placed);
            }
            int i = rank - 1;
            while (i >= 0 && ++idx[i] == kernelSize[i]) idx[i--] = 0;
        }
        return y;
    }

    /**
     * Zeros inserted between input elements, padded by eff - 1 - P before (cropped or padded to the output length
     * after), then a stride-1 convolution reading the windows in reversed kernel order (the spatial flip) against
     * the kernel transposed to [k.., in, filters]: patches times the kernel in one GEMM.
     */
    private NDArray zeroInsertion(NDArray h, long[] out, long[] pb) {
        long[] s = h.shape();
        long cin = s[rank + 1];
        NDArray p = h;
        for (int i = 0; i < rank; i++) {
            int ax = i + 1;
            long eff = (kernelSize[i] - 1) * dilation[i] + 1;
            p = dilate(p, ax, strides[i]);
            long len = s[ax] * strides[i]; // the last st - 1 entries are zeros
            long lo = eff - 1 - pb[i];
            long hi = out[i] + eff - 1 - lo - len;
            long[] before = new long[rank + 2], after = new long[rank + 2];
            before[ax] = lo;
            after[ax] = Math.max(hi, 0);
            if (lo > 0 || hi > 0) p = Ops.pad(p, before, after, 0.0);
            if (hi < 0) p = Ops.slice(p, ax, 0, out[i] + eff - 1);
        }
        // windows in reversed kernel order: kernel index j reads offset (k - 1 - j) * d
        List<NDArray> views = new ArrayList<>();
        long[] idx = new long[rank];
        while (true) {
            NDArray v = p;
            for (int i = 0; i < rank; i++) {
                long start = (kernelSize[i] - 1 - idx[i]) * dilation[i];
                v = Ops.slice(v, i + 1, start, start + out[i]);
            }
            views.add(v);
            int i = rank - 1;
            while (i >= 0 && ++idx[i] == kernelSize[i]) idx[i--] = 0;
            if (i < 0) break;
        }
        NDArray patches = views.size() == 1 ? views.get(0) : Ops.concat(views, rank + 1);
        long k = 1;
        for (long v : kernelSize) k *= v;
        NDArray kt = Ops.reshape(Ops.transpose(kernel.value(), rank, rank + 1), k * cin, filters);
        return Ops.matmul(patches, kt);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("filters", filters);
        c.put("kernel_size", kernelSize);
        c.put("strides", strides);
        c.put("padding", padding);
        c.put("output_padding", outputPadding);
        c.put("data_format", dataFormat);
        c.put("dilation_rate", dilation);
        c.put("activation", activation.kerasName);
        c.put("use_bias", useBias);
        c.put("kernel_initializer", kernelInitializer.kerasName);
        c.put("bias_initializer", biasInitializer.kerasName);
        return c;
    }
}
