package org.pydl.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;
import org.pydl.ops.UnaryOp;

/**
 * A functional {@link Model}'s inference plan: what inference (no training, no gradient, no masks, no activity
 * penalties) does differently from the plain walk over the nodes. Only the graph decides it, and the weights are read
 * at each call, so it is exact whatever happens to them (fit, set_weights, loading). A BatchNormalization on the last
 * axis runs as one native pass ({@link Ops#batchNormInferenceInto}) that also applies the activation layer reading it
 * (Activation with a unary op, ReLU or ReLU(6)) when it is that output's only reader; the activation node is then
 * skipped. When the normalized tensor is a fresh convolution or Dense output read by nothing else, the pass runs in
 * place. Any other such activation layer whose input is a fresh array (convolution, Dense, BatchNormalization, a merge
 * of several tensors: ResNet's Add then ReLU) read by nothing else runs in place on it. A ZeroPadding read only by a
 * "valid" Conv or DepthwiseConv is skipped: the convolution's window pads instead (MobileNetV2's and EfficientNet's
 * strided depthwise convolutions, ResNet's first convolution). A chain of last-axis concatenations (DenseNet's dense
 * blocks, x = concat(x, f(x))) writes into one buffer per chain: each link copies only its new channels.
 * Predictions equal the unfused walk's within float rounding (tested).
 */
final class InferencePlan {
    /** Copies x into channels [from, from + x's channels) of buf (same leading shape). */
    private static void copyInto(NDArray x, NDArray buf, long from) {
        try (NDArray window = buf.view(x.shape(), buf.strides(), buf.offset() + from)) {
            x.device().backend().copy(x, window);
        }
    }

    /** Per node: the activation node fused into this BatchNormalization node, -1 for none, -2 = not fused. */
    final int[] fusedAct;
    /** Per node: the fused BatchNormalization normalizes its input in place. */
    final boolean[] inPlace;
    /** Per node: an activation node computed by the BatchNormalization before it. */
    final boolean[] skipped;
    /** Per node: an activation node applied in place to its input, a fresh array read by nothing else. */
    final boolean[] actInPlace;
    /** Per node: the zero padding (ZeroPadding node before it, skipped) a convolution node applies, or null. */
    final long[][][] padding;
    /** Per node: a ZeroPadding node whose padding the convolution reading it applies. */
    final boolean[] padSkipped;
    /**
     * Per node: the concatenation chain (DenseNet's dense blocks: x = concat(x, f(x)) again and again) this
     * Concatenate node belongs to, or -1; {@link #chainHead} marks the first node, {@link #chainChannels} is the
     * chain's final channel count.
     */
    final int[] chain;
    final boolean[] chainHead;
    final long[] chainChannels;

    InferencePlan(Model m) {
        int nn = m.nodes.size();
        fusedAct = new int[nn];
        inPlace = new boolean[nn];
        skipped = new boolean[nn];
        actInPlace = new boolean[nn];
        padding = new long[nn][][];
        padSkipped = new boolean[nn];
        chain = new int[nn];
        chainHead = new boolean[nn];
        Arrays.fill(fusedAct, -2);
        Arrays.fill(chain, -1);
        int[] readers = new int[m.tensorShapes.size()];
        int[] lastReader = new int[readers.length];
        boolean masks = false;
        for (int k = 0; k < nn; k++) {
            Model.Node n = m.nodes.get(k);
            masks |= n.layer.producesMask();
            for (int t : n.inputs) {
                readers[t]++;
                lastReader[t] = k;
            }
        }
        for (int o : m.outputs) readers[o] += 2;   // a model output is never overwritten or skipped
        if (masks) {
            chainChannels = new long[0];
            return;
        }
        for (int k = 0; k < nn; k++) {
            Model.Node n = m.nodes.get(k);
            if (!(n.layer instanceof BatchNormalization bn) || !bn.normalizesLastAxis() || !plain(n)) continue;
            int t = n.inputs[0];
            fusedAct[k] = -1;
            int p = m.producer[t];
            inPlace[k] = readers[t] == 1 && p >= 0 && plain(m.nodes.get(p))
                    && (m.nodes.get(p).layer instanceof ConvBase || m.nodes.get(p).layer instanceof Dense);
            if (readers[n.first] == 1) {
                int j = lastReader[n.first];
                if (plain(m.nodes.get(j)) && act(m.nodes.get(j).layer) != null) {
                    fusedAct[k] = j;
                    skipped[j] = true;
                }
            }
        }
        for (int k = 0; k < nn; k++) {
            Model.Node n = m.nodes.get(k);
            if (!(n.layer instanceof SpatialResize z) || z.kind != SpatialResize.Kind.ZERO_PADDING
                    || !z.dataFormat.equals("channels_last") || !plain(n) || readers[n.first] != 1) continue;
            int j = lastReader[n.first];
            if (plain(m.nodes.get(j)) && m.nodes.get(j).layer instanceof ConvBase c && c.padding.equals("valid")
                    && c.rank == z.rank
                    && !c.channelsFirst() && (c instanceof Conv || c instanceof DepthwiseConv)) {
                padSkipped[k] = true;
                padding[j] = z.amounts;
            }
        }
        // concatenation chains: a two-input last-axis Concatenate whose first input is the output of another,
        // read by no other Concatenate, continues that one's chain (its buffer has room for every link)
        int[] concatReaders = new int[readers.length];
        for (Model.Node n : m.nodes) if (lastAxisConcat(m, n)) for (int t : n.inputs) concatReaders[t]++;
        List<Long> channels = new ArrayList<>();
        for (int k = 0; k < nn; k++) {
            Model.Node n = m.nodes.get(k);
            if (!lastAxisConcat(m, n)) continue;
            int a = n.inputs[0], p = m.producer[a];
            long c = m.tensorShapes.get(n.first)[m.tensorShapes.get(n.first).length - 1];
            if (p >= 0 && chain[p] >= 0 && concatReaders[a] == 1 && n.inputs[1] != a) {
                chain[k] = chain[p];
                channels.set(chain[k], c);
            } else {
                chain[k] = channels.size();
                chainHead[k] = true;
                channels.add(c);
            }
        }
        chainChannels = channels.stream().mapToLong(Long::longValue).toArray();
        int[] links = new int[chainChannels.length];
        for (int c : chain) if (c >= 0) links[c]++;
        for (int k = 0; k < nn; k++) if (chain[k] >= 0 && links[chain[k]] == 1) chain[k] = -1;   // a lone concat
        for (int j = 0; j < nn; j++) {
            Model.Node n = m.nodes.get(j);
            if (skipped[j] || !plain(n) || act(n.layer) == null) continue;
            int t = n.inputs[0], p = m.producer[t];
            actInPlace[j] = readers[t] == 1 && p >= 0 && freshOutput(m.nodes.get(p));
        }
    }

    /** A two-input Concatenate along the last axis, one output, no call arguments, no activity regularizer. */
    private static boolean lastAxisConcat(Model m, Model.Node n) {
        if (!(n.layer instanceof Merge g) || g.mode != Merge.Mode.CONCATENATE || n.inputs.length != 2
                || n.count != 1 || !n.args.isEmpty() || n.layer.activityRegularizer() != null) return false;
        int rank = m.tensorShapes.get(n.first).length;   // without the batch axis
        return g.axis == -1 || g.axis == rank;
    }

    /** The node's output is an array it allocated (never a view of an input). */
    private static boolean freshOutput(Model.Node n) {
        return n.count == 1 && n.args.isEmpty() && (n.layer instanceof ConvBase || n.layer instanceof Dense
                || n.layer instanceof BatchNormalization || (n.layer instanceof Merge && n.inputs.length >= 2));
    }

    /** "bn+act (in place)" for every fused BatchNormalization node, "act (in place)", in node order. */
    List<String> describe(List<Model.Node> nodes) {
        List<String> r = new ArrayList<>();
        for (int k = 0; k < fusedAct.length; k++) {
            if (padding[k] != null) r.add("padding+" + nodes.get(k).layer.name());
            if (chain[k] >= 0) r.add(nodes.get(k).layer.name() + " (concat chain " + chain[k] + ")");
            if (actInPlace[k]) r.add(nodes.get(k).layer.name() + " (in place)");
            if (fusedAct[k] == -2) continue;
            r.add(nodes.get(k).layer.name() + (fusedAct[k] >= 0 ? "+" + nodes.get(fusedAct[k]).layer.name() : "")
                    + (inPlace[k] ? " (in place)" : ""));
        }
        return r;
    }

    /** One application of one layer, one output, no call arguments, no activity regularizer. */
    private static boolean plain(Model.Node n) {
        return n.count == 1 && n.inputs.length == 1 && n.args.isEmpty() && n.layer.activityRegularizer() == null;
    }

    /** The unary op an activation layer computes, or null. */
    private static UnaryOp act(Layer l) {
        if (l instanceof ActivationLayer a) return a.activation.unaryOp();
        if (l instanceof ReLU r && r.negativeSlope == 0 && r.threshold == 0) {
            if (Double.isNaN(r.maxValue)) return UnaryOp.RELU;
            if (r.maxValue == 6) return UnaryOp.RELU6;
        }
        return null;
    }

    private static double alpha(Layer l) {
        return l instanceof ActivationLayer a ? a.activation.unaryAlpha() : 0.0;
    }

    /**
     * Runs node k if this plan handles it (storing its outputs in values); false: run it plainly. {@code buffers}:
     * this run's concatenation chain buffers, by chain.
     */
    boolean run(int k, List<Model.Node> nodes, NDArray[] values, NDArray[] buffers) {
        if (skipped[k]) return true;   // its value was stored by the BatchNormalization before it
        Model.Node n = nodes.get(k);
        if (chain[k] >= 0) {
            // the chain's buffer holds every link's channels; each link's value is a view of its first channels
            // (later links write only beyond them), so x = concat(x, f(x)) copies f(x) alone
            NDArray a = values[n.inputs[0]], b = values[n.inputs[1]];
            long[] s = a.shape();
            int last = s.length - 1;
            long ca = s[last];
            if (chainHead[k]) {
                s[last] = chainChannels[chain[k]];
                buffers[chain[k]] = NDArray.empty(a.device(), a.dtype(), s);
                copyInto(a, buffers[chain[k]], 0);
            }
            NDArray buf = buffers[chain[k]];
            copyInto(b, buf, ca);
            s[last] = ca + b.shape(last);
            values[n.first] = buf.view(s, buf.strides(), buf.offset());
            return true;
        }
        if (padSkipped[k]) {            // the convolution reading it pads: hand it the unpadded input
            values[n.first] = values[n.inputs[0]];
            return true;
        }
        if (padding[k] != null) {
            NDArray y = ((ConvBase) n.layer).forwardPadded(values[n.inputs[0]], padding[k]);
            if (y == null) throw new IllegalStateException("inference plan: " + n.layer.name() + " cannot pad");
            values[n.first] = y;
            return true;
        }
        if (actInPlace[k]) {
            NDArray x = values[n.inputs[0]];
            if (!x.isContiguous()) return false;
            values[n.first] = Ops.unaryi(act(n.layer), x, alpha(n.layer));
            return true;
        }
        if (fusedAct[k] == -2) return false;
        NDArray x = values[n.inputs[0]];
        if (inPlace[k] && !x.isContiguous()) return false;
        int j = fusedAct[k];
        Layer a = j >= 0 ? nodes.get(j).layer : null;
        NDArray out = inPlace[k] ? x : NDArray.empty(x.device(), x.dtype(), x.shape());
        NDArray y = ((BatchNormalization) n.layer).inferInto(x, out, a == null ? null : act(a),
                a == null ? 0 : alpha(a));
        values[n.first] = y;
        if (j >= 0) values[nodes.get(j).first] = y;
        return true;
    }
}
