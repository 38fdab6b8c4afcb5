package org.pydl.nn;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Window arithmetic shared by convolution and pooling layers (channels-last: [batch, s1..sr, channels]).
 * Convolution is computed as patches + one GEMM: every kernel offset contributes a strided view of the (padded)
 * input, the views are concatenated along channels in the order of Keras's kernel layout [k1..kr, in, out], and
 * one {@code Ops.linear} applies the kernel. Gradients come from autodiff through slice/concat/linear.
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

    /** Pads the spatial axes of x [b, s.., c] (value fills). */
    static NDArray padSpatial(NDArray x, long[][] amounts, double value) {
        int r = amounts.length;
        boolean any = false;
        long[] before = new long[r + 2], after = new long[r + 2];
        for (int i = 0; i < r; i++) {
            before[i + 1] = amounts[i][0];
            after[i + 1] = amounts[i][1];
            any |= amounts[i][0] != 0 || amounts[i][1] != 0;
        }
        return any ? Ops.pad(x, before, after, value) : x;
    }

    /** The strided views of x [b, s.., c] for every kernel offset, in row-major kernel order. */
    static List<NDArray> windows(NDArray x, long[] k, long[] stride, long[] dilation, long[] out) {
        int r = k.length;
        List<NDArray> views = new ArrayList<>();
        long[] idx = new long[r];
        while (true) {
            NDArray v = x;
            for (int i = 0; i < r; i++) {
                long start = idx[i] * dilation[i];
                long end = out[i] == 0 ? start : start + (out[i] - 1) * stride[i] + 1;
                v = Ops.slice(v, i + 1, start, end, stride[i]);
            }
            views.add(v);
            int i = r - 1;
            while (i >= 0 && ++idx[i] == k[i]) idx[i--] = 0;
            if (i < 0) return views;
        }
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
