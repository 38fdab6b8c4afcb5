package org.pydl.nn;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;
import org.pydl.ops.Window;

/**
 * Transposed convolution with Keras's semantics (Conv1DTranspose/2D/3D share it): channels-last input
 * [batch, n1..nr, in], kernel [k1..kr, filters, in] (Keras's transposed layout), bias [filters]; strides, padding
 * "valid"/"same", output_padding (null = inferred), dilation_rate, channels_first accepted.
 *
 * <p>Output length per axis is Keras's {@code deconv_output_length}; the result is TensorFlow's
 * {@code conv_transpose} with that output shape, i.e. the input-gradient of a forward convolution whose input has
 * the output length O and whose "before" padding is P = max((n - 1) * s + eff - O, 0) / 2:
 * {@code y[i * s + j * d - P] += x[i] * kernel[j]} for output positions 0 <= . < O. One {@link Ops#convTranspose}
 * (a GEMM, then col2im).
 */
public class ConvTranspose extends ConvBase {
    public final long filters;
    /** null: inferred (Keras's default). */
    public final long[] outputPadding;
    public final Initializer kernelInitializer;
    private Parameter kernel;
    private Parameter bias;

    public ConvTranspose(int rank, long filters, long[] kernelSize, long[] strides, long[] outputPadding,
                         long[] dilation, String padding, String dataFormat, Activation activation, boolean useBias,
                         Initializer kernelInitializer, Initializer biasInitializer) {
        this(rank, filters, outputPadding, kernelInitializer, new Options(kernelSize, strides, dilation, padding,
                dataFormat, activation, useBias, biasInitializer));
    }

    ConvTranspose(int rank, long filters, long[] outputPadding, Initializer kernelInitializer, Options o) {
        super(rank, o);
        this.filters = filters;
        this.outputPadding = outputPadding == null ? null : outputPadding.clone();
        this.kernelInitializer = kernelInitializer;
    }

    static ConvTranspose fromConfig(int rank, Map<String, Object> c) {
        long[] op = c.get("output_padding") == null ? null : Spatial.tuple(c, "output_padding", rank, 0);
        return new ConvTranspose(rank, Json.getLong(c, "filters"), op,
                Initializer.fromConfig(c.getOrDefault("kernel_initializer", "glorot_uniform")),
                Options.fromConfig(rank, c));
    }

    @Override
    public String type() {
        return "Conv" + rank + "DTranspose";
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

    private long[] outSize(long[] s) {
        long[] out = new long[rank];
        for (int i = 0; i < rank; i++) out[i] = outputLength(s[i], kernelSize[i], padding, op(i), strides[i], dilation[i]);
        return out;
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (filters <= 0) throw configError("filters must be a positive integer, received filters=" + filters);
        long[] s = checkOptions(in);
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
        long[] out = outSize(s);
        for (int i = 0; i < rank; i++) {
            if (out[i] <= 0) {
                throw configError("the output would be empty along spatial axis " + i + " (length " + out[i]
                        + ") for input " + batchShape(in) + ", kernel_size=" + Arrays.toString(kernelSize)
                        + ", padding=\"" + padding + "\", output_padding=" + Arrays.toString(outputPadding));
            }
        }
        long[] kshape = new long[rank + 2];
        System.arraycopy(kernelSize, 0, kshape, 0, rank);
        kshape[rank] = filters;
        kshape[rank + 1] = channels(in);
        kernel = addParam("kernel", kernelInitializer.create(dtype, kshape, seed));
        if (useBias) bias = addParam("bias", biasInitializer.create(dtype, new long[] {filters}, seed + 1));
        return outShape(out, filters);
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        NDArray h = channelsLast(x);
        long[] s = spatial(h);
        long[] out = outSize(s);
        long[] pb = new long[rank];
        for (int i = 0; i < rank; i++) {
            long eff = (kernelSize[i] - 1) * dilation[i] + 1;
            pb[i] = Math.max((s[i] - 1) * strides[i] + eff - out[i], 0) / 2;
        }
        Window w = new Window(kernelSize, strides, dilation, pb, new long[rank]);
        return finish(Ops.convTranspose(h, kernel.value(), useBias ? bias.value() : null, w, out));
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("filters", filters);
        c.put("output_padding", outputPadding);
        putOptions(c);
        c.put("kernel_initializer", kernelInitializer.kerasName);
        return c;
    }
}
