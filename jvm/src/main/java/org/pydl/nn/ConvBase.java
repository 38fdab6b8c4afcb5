package org.pydl.nn;

import java.util.Arrays;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;
import org.pydl.ops.Window;

/**
 * What the convolution layers share (Conv, DepthwiseConv, SeparableConv, ConvTranspose): the window options in
 * Keras's names (kernel_size, strides, dilation_rate, padding, data_format), the activation and the bias, their
 * parsing from a config and their validation, and channels_first handling (transposed to channels-last around the
 * channels-last ops).
 */
public abstract class ConvBase extends Layer {
    public final int rank;
    public final long[] kernelSize;
    public final long[] strides;
    public final long[] dilation;
    public final String padding;
    public final String dataFormat;
    public final Activation activation;
    public final boolean useBias;
    public final Initializer biasInitializer;

    /** The shared options as a config gives them (defaults as in Keras). */
    public record Options(long[] kernelSize, long[] strides, long[] dilation, String padding, String dataFormat,
                          Activation activation, boolean useBias, Initializer biasInitializer) {
        static Options fromConfig(int rank, Map<String, Object> c) {
            return new Options(Spatial.tuple(c, "kernel_size", rank, 1), Spatial.tuple(c, "strides", rank, 1),
                    Spatial.tuple(c, "dilation_rate", rank, 1), Json.getString(c, "padding", "valid").toLowerCase(),
                    Spatial.dataFormat(c), Activation.of(Json.getString(c, "activation", "linear")),
                    Json.getBoolean(c, "use_bias", true),
                    Initializer.fromConfig(c.getOrDefault("bias_initializer", "zeros")));
        }
    }

    protected ConvBase(int rank, Options o) {
        this.rank = rank;
        this.kernelSize = o.kernelSize().clone();
        this.strides = o.strides().clone();
        this.dilation = o.dilation().clone();
        this.padding = o.padding();
        this.dataFormat = o.dataFormat();
        this.activation = o.activation();
        this.useBias = o.useBias();
        this.biasInitializer = o.biasInitializer();
    }

    protected boolean channelsFirst() {
        return dataFormat.equals("channels_first");
    }

    /** Keras's padding modes this layer accepts ("causal" only for Conv1D). */
    protected boolean paddingAllowed(String p) {
        return p.equals("valid") || p.equals("same");
    }

    /**
     * Validates the shared options against input shape {@code in} (no batch axis, the layer's data format) and
     * returns the spatial input sizes.
     */
    protected long[] checkOptions(long[] in) {
        for (long[] t : new long[][] {kernelSize, strides, dilation}) {
            if (t.length != rank || Arrays.stream(t).anyMatch(v -> v <= 0)) {
                throw configError("kernel_size, strides and dilation_rate need " + rank + " positive integers, "
                        + "received kernel_size=" + Arrays.toString(kernelSize) + ", strides="
                        + Arrays.toString(strides) + ", dilation_rate=" + Arrays.toString(dilation));
            }
        }
        if (Arrays.stream(strides).anyMatch(v -> v > 1) && Arrays.stream(dilation).anyMatch(v -> v > 1)) {
            throw configError("strides > 1 together with dilation_rate > 1 is not supported (as in Keras), received "
                    + "strides=" + Arrays.toString(strides) + ", dilation_rate=" + Arrays.toString(dilation));
        }
        if (!paddingAllowed(padding)) {
            throw configError("padding must be \"valid\" or \"same\"" + (paddingAllowed("causal") ? " or \"causal\"" : "")
                    + ", received padding=\"" + padding + "\"");
        }
        if (!dataFormat.equals("channels_last") && !dataFormat.equals("channels_first")) {
            throw configError("data_format must be channels_last or channels_first, received " + dataFormat);
        }
        if (in.length != rank + 1) {
            throw configError("expects inputs of rank " + (rank + 2) + " (batch, " + rank + " spatial axes, channels), "
                    + "received input shape " + batchShape(in));
        }
        return channelsFirst() ? Arrays.copyOfRange(in, 1, in.length) : Arrays.copyOf(in, rank);
    }

    /** Input channels of input shape {@code in} (no batch axis). */
    protected long channels(long[] in) {
        return channelsFirst() ? in[0] : in[rank];
    }

    /** Output sizes of a forward window over spatial sizes s; an empty output is a config error. */
    protected long[] forwardOut(long[] s, long[] in) {
        long[] out = window(s).out(s);
        if (Arrays.stream(out).anyMatch(v -> v <= 0)) {
            throw configError("kernel " + Arrays.toString(kernelSize) + " (dilation " + Arrays.toString(dilation)
                    + ") is larger than the input " + batchShape(in) + " with padding=\"" + padding + "\"; use "
                    + "padding=\"same\" or a smaller kernel");
        }
        return out;
    }

    /** Depthwise layers: checks depth_multiplier and the shared options; returns the output spatial sizes. */
    protected long[] checkDepthwise(long[] in, long depthMultiplier) {
        if (depthMultiplier <= 0) {
            throw configError("depth_multiplier must be a positive integer, received depth_multiplier="
                    + depthMultiplier);
        }
        return forwardOut(checkOptions(in), in);
    }

    /** Depthwise layers: the depthwise kernel shape [k.., in, depth_multiplier]. */
    protected long[] depthwiseShape(long cin, long depthMultiplier) {
        long[] kshape = new long[rank + 2];
        System.arraycopy(kernelSize, 0, kshape, 0, rank);
        kshape[rank] = cin;
        kshape[rank + 1] = depthMultiplier;
        return kshape;
    }

    /** The forward window over channels-last spatial sizes s (Keras's padding rule). */
    protected Window window(long[] s) {
        return Spatial.window(kernelSize, strides, dilation, padding, s);
    }

    /** Output shape (no batch axis) from spatial sizes and channel count, in the layer's data format. */
    protected long[] outShape(long[] spatial, long channels) {
        long[] result = new long[rank + 1];
        System.arraycopy(spatial, 0, result, channelsFirst() ? 1 : 0, rank);
        result[channelsFirst() ? 0 : rank] = channels;
        return result;
    }

    /** x in channels-last order (a transposed copy for channels_first). */
    protected NDArray channelsLast(NDArray x) {
        checkInput(x);
        return channelsFirst() ? Spatial.toChannelsLast(x) : x;
    }

    /** The activation, then back to the layer's data format. */
    protected NDArray finish(NDArray y) {
        y = activation.applyOwned(y);
        return channelsFirst() ? Spatial.toChannelsFirst(y) : y;
    }

    /**
     * Inference of this layer on x with {@code extra[i][0]} zeros before and {@code extra[i][1]} after spatial axis i
     * (the ZeroPadding layer before it, fused: the window pads, no padded copy of x is made); null when this layer
     * cannot (not a Conv or DepthwiseConv, channels_first, or padding other than "valid").
     */
    NDArray forwardPadded(NDArray x, long[][] extra) {
        if (channelsFirst() || !padding.equals("valid") || !(this instanceof Conv || this instanceof DepthwiseConv)) {
            return null;
        }
        long[] before = new long[rank], after = new long[rank];
        for (int i = 0; i < rank; i++) {
            before[i] = extra[i][0];
            after[i] = extra[i][1];
        }
        Window w = new Window(kernelSize, strides, dilation, before, after);
        NDArray k = param("kernel"), b = useBias ? param("bias") : null;
        return finish(this instanceof Conv c ? Ops.conv(x, k, b, w, c.groups) : Ops.depthwiseConv(x, k, b, w));
    }

    private NDArray param(String name) {
        for (Parameter p : parameters()) if (p.name.endsWith("/" + name)) return p.value();   // "layer/param"
        throw new IllegalStateException(type() + " '" + name() + "' has no weight " + name);
    }

    /** Adds the shared options to a config, in Keras's key names. */
    protected void putOptions(Map<String, Object> c) {
        c.put("kernel_size", kernelSize);
        c.put("strides", strides);
        c.put("padding", padding);
        c.put("data_format", dataFormat);
        c.put("dilation_rate", dilation);
        c.put("activation", activation.kerasName);
        c.put("use_bias", useBias);
        c.put("bias_initializer", biasInitializer.kerasName);
    }

    /** Spatial sizes of a channels-last array [b, s.., c]. */
    protected static long[] spatial(NDArray h) {
        long[] s = h.shape();
        return Arrays.copyOfRange(s, 1, s.length - 1);
    }
}
