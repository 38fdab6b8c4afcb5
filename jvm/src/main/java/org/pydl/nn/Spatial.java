package org.pydl.nn;

import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;
import org.pydl.ops.Window;

/**
 * Window arithmetic shared by convolution and pooling layers (channels-last: [batch, s1..sr, channels]): Keras's
 * output sizes and padding rules ("valid", "same" with TensorFlow's split, "causal") turned into an
 * {@link Window} for the native window ops ({@code Ops.conv}, {@code Ops.pool}, ...), config parsing, and the
 * channels_first transposes.
 */
final class Spatial {
    private Spatial() {}

    /** Output length of one spatial axis (Keras/TensorFlow rules); "same": ceil(in/stride). */
    static long outSize(long in, long k, long stride, long dilation, String padding) {
        long eff = (k - 1) * dilation + 1;
        if (padding.equals("same")) return (in + stride - 1) / stride;
        if (padding.equals("causal")) return (in + stride - 1) / stride;
        return in >= eff ? (in - eff) / stride + 1 : 0;
    }

    /** [before, after] padding of one axis: TensorFlow's SAME puts the extra element after; causal all before. */
    static long[] padAmounts(long in, long k, long stride, long dilation, String padding) {
        long eff = (k - 1) * dilation + 1;
        if (padding.equals("causal")) return new long[] {eff - 1, 0};
        if (!padding.equals("same")) return new long[] {0, 0};
        long out = (in + stride - 1) / stride;
        long total = Math.max((out - 1) * stride + eff - in, 0);
        return new long[] {total / 2, total - total / 2};
    }

    /** The window of a Keras convolution or pooling over spatial input sizes {@code in}: padding as numbers. */
    static Window window(long[] kernel, long[] strides, long[] dilation, String padding, long[] in) {
        int r = kernel.length;
        long[] before = new long[r], after = new long[r];
        for (int i = 0; i < r; i++) {
            long[] p = padAmounts(in[i], kernel[i], strides[i], dilation[i], padding);
            before[i] = p[0];
            after[i] = p[1];
        }
        return new Window(kernel, strides, dilation, before, after);
    }

    /** channels_first [b, c, s..] to channels_last [b, s.., c], or back. */
    static NDArray toChannelsLast(NDArray x) {
        int r = x.rank();
        int[] p = new int[r];
        p[0] = 0;
        for (int i = 1; i < r - 1; i++) p[i] = i + 1;
        p[r - 1] = 1;
        return Ops.contiguous(Ops.transpose(x, p));
    }

    static NDArray toChannelsFirst(NDArray x) {
        int r = x.rank();
        int[] p = new int[r];
        p[0] = 0;
        p[1] = r - 1;
        for (int i = 2; i < r; i++) p[i] = i - 1;
        return Ops.contiguous(Ops.transpose(x, p));
    }

    /** An int or a list of ints from a config, expanded to {@code rank} entries. */
    static long[] tuple(Map<String, Object> c, String key, int rank, long dflt) {
        Object v = c.get(key);
        if (v == null) {
            long[] out = new long[rank];
            java.util.Arrays.fill(out, dflt);
            return out;
        }
        if (v instanceof Number) {
            long[] out = new long[rank];
            java.util.Arrays.fill(out, Json.getLong(c, key));
            return out;
        }
        long[] t = Json.getLongArray(c, key);
        if (t.length == 1 && rank > 1) {
            long[] out = new long[rank];
            java.util.Arrays.fill(out, t[0]);
            return out;
        }
        return t;
    }

    static String dataFormat(Map<String, Object> c) {
        String f = Json.getString(c, "data_format", "channels_last");
        return f == null ? "channels_last" : f;
    }
}
