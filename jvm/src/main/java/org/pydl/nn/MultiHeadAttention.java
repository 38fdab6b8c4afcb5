package org.pydl.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;
import org.pydl.ops.Ops;

/**
 * Keras 3's {@code MultiHeadAttention} for inputs {@code [query, value]} or {@code [query, value, key]} of shapes
 * {@code (batch, T, d_q)}, {@code (batch, S, d_v)}, {@code (batch, S, d_k)} (key defaults to value).
 *
 * <p>Weights, in Keras's order and layouts (Keras's {@code EinsumDense} sublayers "query", "key", "value",
 * "attention_output"): {@code query/kernel [d_q, heads, key_dim]}, {@code query/bias [heads, key_dim]},
 * {@code key/kernel [d_k, heads, key_dim]}, {@code key/bias}, {@code value/kernel [d_v, heads, value_dim]},
 * {@code value/bias [heads, value_dim]}, {@code attention_output/kernel [heads, value_dim, *out]},
 * {@code attention_output/bias [*out]} where {@code out} is {@code output_shape} or {@code (d_q,)}.
 *
 * <p>Forward, as Keras: Q, K, V projections; {@code Q *= 1/sqrt(key_dim)}; scores {@code Q K^T} per head
 * {@code [batch, heads, T, S]}; masked positions are set to -1e9 and, after the softmax over S, their probabilities to
 * 0 (Keras 3's {@code Softmax} layer with a mask; a fully masked row gives zeros); dropout on the probabilities in
 * training; {@code probs V}, then the output projection. Everything is composed of {@link Ops}, so gradients come from
 * autodiff.
 *
 * <p>The attention mask, as Keras 3's {@code _compute_attention_mask}: the product of an explicit
 * {@code attention_mask} input {@code (batch, T, S)} (nonzero = attend), the Keras masks of the inputs (query mask
 * {@code [:, :, None]}, value and key masks {@code [:, None, :]}, e.g. from {@code Embedding(mask_zero=True)}) and, with
 * {@code use_causal_mask}, the lower triangle {@code j <= i}. Call arguments ({@link Layer.Context#args}):
 * {@code inputs} (the role of each input: "query", "value", "key", "attention_mask"; default [query, value(, key)]),
 * {@code use_causal_mask} (also accepted as a config flag) and {@code return_attention_scores} (a second output, the
 * probabilities {@code (batch, heads, T, S)} before dropout).
 *
 * <p>Inputs of higher rank {@code (batch, d1, ..., dn, features)} attend over {@code attention_axes} (default: all
 * of d1..dn; negative axes count from the end of the inputs; any order, Keras's numbers): the other axes act as batch
 * axes, and the softmax runs over all attention positions together, as Keras's einsum formulation. Computed by moving
 * the attention axes last, flattening to {@code (batch * others, positions, features)}, attending as for rank 3 and
 * moving the axes back; the scores come out as Keras's {@code (batch, others..., heads, query positions..., key
 * positions...)}. Query, value and key need the same rank and the same sizes on the non-attention axes. Masks (Keras
 * masks, {@code attention_mask}, {@code use_causal_mask}) are supported for rank-3 inputs only.
 */
public final class MultiHeadAttention extends Layer {
    /** Keras's {@code _large_negative_number} for float32/float64. */
    static final double LARGE_NEGATIVE = -1e9;

    public final long numHeads;
    public final long keyDim;
    /** Null: same as keyDim (Keras stores the resolved value in its config). */
    private final Long valueDimArg;
    public final double dropout;
    public final boolean useBias;
    /** Null: project back to the query's last dimension. */
    private final long[] outputShapeArg;
    private final List<Object> attentionAxes;
    public final boolean useCausalMask;
    public final Initializer kernelInitializer;
    public final Initializer biasInitializer;

    private Parameter qKernel, qBias, kKernel, kBias, vKernel, vBias, oKernel, oBias;
    private long[] outDims;
    /** Attention positions of the query and of the key/value (products over the attention axes). */
    private long queryLen, keyLen;
    /** Rank > 3 only (else null): input axes in the order others..., attention axes... (batch 0 first, features
     * last); the query's shape without batch; the product of the other axes; the key's attention dims. */
    private int[] perm;
    private long[] queryShape, keyAttnDims;
    private long others = 1;
    /** Causal mask as {@code scores * keep + fill}: keep 1 / fill 0 where j <= i, keep 0 / fill -1e9 elsewhere. */
    private NDArray keep, fill;

    public MultiHeadAttention(long numHeads, long keyDim) {
        this(numHeads, keyDim, null, 0.0, true, null, false);
    }

    public MultiHeadAttention(long numHeads, long keyDim, Long valueDim, double dropout, boolean useBias,
                              long[] outputShape, boolean useCausalMask) {
        this(numHeads, keyDim, valueDim, dropout, useBias, outputShape, null, useCausalMask,
                Initializer.GLOROT_UNIFORM, Initializer.ZEROS);
    }

    public MultiHeadAttention(long numHeads, long keyDim, Long valueDim, double dropout, boolean useBias,
                              long[] outputShape, List<Object> attentionAxes, boolean useCausalMask,
                              Initializer kernelInitializer, Initializer biasInitializer) {
        this.numHeads = numHeads;
        this.keyDim = keyDim;
        this.valueDimArg = valueDim;
        this.dropout = dropout;
        this.useBias = useBias;
        this.outputShapeArg = outputShape == null ? null : outputShape.clone();
        this.attentionAxes = attentionAxes == null ? null : new ArrayList<>(attentionAxes);
        this.useCausalMask = useCausalMask;
        this.kernelInitializer = kernelInitializer;
        this.biasInitializer = biasInitializer;
    }

    public static MultiHeadAttention fromConfig(Map<String, Object> c) {
        Object vd = c.get("value_dim");
        Object os = c.get("output_shape");
        long[] outShape = null;
        if (os instanceof Number) {
            outShape = new long[] {((Number) os).longValue()};
        } else if (os instanceof List) {
            outShape = Json.getLongArray(c, "output_shape");
            if (outShape.length == 0) outShape = null;   // Keras: `if output_shape:` ignores an empty tuple
        } else if (os != null) {
            throw new IllegalArgumentException("MultiHeadAttention layer '" + c.get("name")
                    + "': output_shape must be an int or a list of ints, received output_shape=" + os);
        }
        Object axes = c.get("attention_axes");
        List<Object> axesList = null;
        if (axes instanceof Number) axesList = List.of(axes);
        else if (axes instanceof List) axesList = Json.getList(c, "attention_axes");
        return new MultiHeadAttention(Json.getLong(c, "num_heads"), Json.getLong(c, "key_dim"),
                vd == null ? null : Json.getLong(c, "value_dim"), Json.getDouble(c, "dropout", 0.0),
                Json.getBoolean(c, "use_bias", true), outShape, axesList,
                Json.getBoolean(c, "use_causal_mask", false),
                Initializer.fromConfig(c.getOrDefault("kernel_initializer", "glorot_uniform")),
                Initializer.fromConfig(c.getOrDefault("bias_initializer", "zeros")));
    }

    @Override
    public String type() {
        return "MultiHeadAttention";
    }

    public long valueDim() {
        return valueDimArg == null ? keyDim : valueDimArg;
    }

    private void validate() {
        if (numHeads <= 0) throw configError("num_heads must be a positive integer, received num_heads=" + numHeads);
        if (keyDim <= 0) throw configError("key_dim must be a positive integer, received key_dim=" + keyDim);
        if (valueDimArg != null && valueDimArg <= 0) {
            throw configError("value_dim must be a positive integer or None, received value_dim=" + valueDimArg);
        }
        if (!(dropout >= 0 && dropout < 1)) throw configError("dropout must be in [0, 1), received dropout=" + dropout);
        if (outputShapeArg != null) {
            for (long d : outputShapeArg) {
                if (d <= 0) {
                    throw configError("output_shape must hold positive integers, received output_shape="
                            + Arrays.toString(outputShapeArg));
                }
            }
        }
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        throw configError("needs [query, value] or [query, value, key]: call it on a list of 2 or 3 tensors in a "
                + "functional Model");
    }

    @Override
    public long[] buildMulti(List<long[]> shapes, DType dtype, long seed) {
        validate();
        int n = shapes.size();
        if (n < 2 || n > 3) {
            throw configError("takes [query, value] or [query, value, key], received " + n + " input"
                    + (n == 1 ? "" : "s"));
        }
        long[] q = shapes.get(0), v = shapes.get(1), k = n == 3 ? shapes.get(2) : v;
        String[] names = {"query", "value", "key"};
        for (int i = 0; i < n; i++) {
            long[] s = shapes.get(i);
            if (s.length < 2 || s.length != q.length) {
                throw configError("needs inputs of shape (batch, length, features) or (batch, d1, ..., dn, features), "
                        + "all of one rank; " + names[i] + " has shape " + batchShape(s) + ", query "
                        + batchShape(q));
            }
        }
        if (!Arrays.equals(Arrays.copyOf(k, k.length - 1), Arrays.copyOf(v, v.length - 1))) {
            throw configError("All dimensions of `value` and `key`, except the last one, must be equal. Received: "
                    + "value_shape=" + batchShape(v) + " and key_shape=" + batchShape(k));
        }
        boolean[] attend = attentionAxes(q.length + 1);
        int inner = q.length - 1;                       // d1..dn
        perm = null;
        queryLen = 1;
        keyLen = 1;
        others = 1;
        int[] order = new int[q.length + 1];
        int at = 1;
        for (int a = 1; a <= inner; a++) {
            if (attend[a]) continue;
            if (q[a - 1] != k[a - 1]) {
                throw configError("query and key/value must have the same sizes on the axes not in attention_axes="
                        + attentionAxes + "; received query_shape=" + batchShape(q) + " and value_shape="
                        + batchShape(v));
            }
            others *= q[a - 1];
            order[at++] = a;
        }
        List<Long> kAttn = new ArrayList<>();
        for (int a = 1; a <= inner; a++) {
            if (!attend[a]) continue;
            queryLen *= q[a - 1];
            keyLen *= k[a - 1];
            kAttn.add(k[a - 1]);
            order[at++] = a;
        }
        order[at] = q.length;
        if (inner > 1) {
            perm = order;
            queryShape = q.clone();
            keyAttnDims = kAttn.stream().mapToLong(Long::longValue).toArray();
            if (useCausalMask) throw configError("use_causal_mask needs inputs of shape (batch, length, features)");
        }
        long dq = q[inner], dv = v[inner], dk = k[inner], h = numHeads, kd = keyDim, vd = valueDim();
        outDims = outputShapeArg != null ? outputShapeArg.clone() : new long[] {dq};
        double total = (double) h * (kd * (dq + dk + 1.0) + vd * (dv + 1.0)) + (double) h * vd * Shapes.size(outDims);
        if (total > 2e9) throw configError("the weights would hold " + (long) total + " values, which is too many");
        this.inputShape = q.clone();
        qKernel = addParam("query/kernel", kernelInitializer.create(dtype, new long[] {dq, h, kd}, seed));
        if (useBias) qBias = addParam("query/bias", biasInitializer.create(dtype, new long[] {h, kd}, seed + 1));
        kKernel = addParam("key/kernel", kernelInitializer.create(dtype, new long[] {dk, h, kd}, seed + 2));
        if (useBias) kBias = addParam("key/bias", biasInitializer.create(dtype, new long[] {h, kd}, seed + 3));
        vKernel = addParam("value/kernel", kernelInitializer.create(dtype, new long[] {dv, h, vd}, seed + 4));
        if (useBias) vBias = addParam("value/bias", biasInitializer.create(dtype, new long[] {h, vd}, seed + 5));
        long[] oks = new long[2 + outDims.length];
        oks[0] = h;
        oks[1] = vd;
        System.arraycopy(outDims, 0, oks, 2, outDims.length);
        oKernel = addParam("attention_output/kernel", kernelInitializer.create(dtype, oks, seed + 6));
        if (useBias) oBias = addParam("attention_output/bias", biasInitializer.create(dtype, outDims, seed + 7));
        if (useCausalMask) {
            NDArray[] m = causalMask(dtype, queryLen, keyLen);
            keep = m[0];
            fill = m[1];
        }
        long[] out = new long[inner + outDims.length];
        System.arraycopy(q, 0, out, 0, inner);
        System.arraycopy(outDims, 0, out, inner, outDims.length);
        this.outputShape = out;
        return out.clone();
    }

    /**
     * Which axes of inputs of the given rank (batch included) attend: Keras's {@code attention_axes} (negative axes
     * count from the end of the inputs, the features being -1), default every axis but batch and features.
     */
    private boolean[] attentionAxes(int rank) {
        boolean[] attend = new boolean[rank];
        if (attentionAxes == null) {
            for (int a = 1; a < rank - 1; a++) attend[a] = true;
            return attend;
        }
        if (attentionAxes.isEmpty()) throw configError("attention_axes must name at least one axis, received []");
        for (Object o : attentionAxes) {
            long a = o instanceof Number ? ((Number) o).longValue() : Long.MIN_VALUE;
            if (a < 0 && a != Long.MIN_VALUE) a += rank;
            if (a < 1 || a >= rank - 1 || attend[(int) a]) {
                throw configError("attention_axes must be distinct axes of the inputs other than batch (0) and "
                        + "features (" + (rank - 1) + " or -1); received attention_axes=" + attentionAxes
                        + " for inputs of rank " + rank);
            }
            attend[(int) a] = true;
        }
        return attend;
    }

    /** x (batch, d1..dn, f) -> (batch * others, attention positions, f), the attention axes moved last. */
    private NDArray flatten(NDArray x, long positions) {
        NDArray t = Ops.transpose(x, perm);
        return Ops.reshape(t, x.shape(0) * others, positions, x.shape(x.rank() - 1));
    }

    /** y (batch * others, query positions, out...) -> (batch, d1..dn, out...). */
    private NDArray unflatten(NDArray y, long batch) {
        int inner = queryShape.length - 1, nOut = outDims.length;
        long[] moved = new long[1 + inner + nOut];
        moved[0] = batch;
        for (int i = 1; i <= inner; i++) moved[i] = queryShape[perm[i] - 1];
        System.arraycopy(outDims, 0, moved, 1 + inner, nOut);
        int[] back = new int[moved.length];
        for (int i = 1; i <= inner; i++) back[perm[i]] = i;
        for (int i = 0; i < nOut; i++) back[1 + inner + i] = 1 + inner + i;
        return Ops.transpose(Ops.reshape(y, moved), back);
    }

    /** Keras's scores shape without batch: (heads, T, S) for rank 3, else (others..., heads, T dims..., S dims...). */
    private long[] scoresShape() {
        if (perm == null) return new long[] {numHeads, queryLen, keyLen};
        int inner = queryShape.length - 1, nAttn = keyAttnDims.length, nOthers = inner - nAttn;
        long[] s = new long[nOthers + 1 + 2 * nAttn];
        for (int i = 0; i < nOthers; i++) s[i] = queryShape[perm[1 + i] - 1];
        s[nOthers] = numHeads;
        for (int i = 0; i < nAttn; i++) {
            s[nOthers + 1 + i] = queryShape[perm[1 + nOthers + i] - 1];
            s[nOthers + 1 + nAttn + i] = keyAttnDims[i];
        }
        return s;
    }

    /**
     * Keras's causal mask {@code row_index >= col_index} (lower triangular from the top-left corner, also for T != S)
     * as two constants: {keep (1 kept, 0 masked), fill (0 kept, -1e9 masked)}, detached from any scope.
     */
    static NDArray[] causalMask(DType dtype, long t, long s) {
        double[] keep = new double[Math.toIntExact(t * s)];
        double[] fill = new double[keep.length];
        for (int i = 0; i < t; i++) {
            for (int j = 0; j < s; j++) {
                boolean kept = i >= j;
                keep[(int) (i * s + j)] = kept ? 1.0 : 0.0;
                fill[(int) (i * s + j)] = kept ? 0.0 : LARGE_NEGATIVE;
            }
        }
        try (MemoryScope sc = MemoryScope.open()) {
            NDArray k = NDArray.of(keep, t, s), f = NDArray.of(fill, t, s);
            NDArray kc = dtype == DType.FLOAT64 ? k : Ops.cast(k, dtype);
            NDArray fc = dtype == DType.FLOAT64 ? f : Ops.cast(f, dtype);
            return new NDArray[] {MemoryScope.detach(kc), MemoryScope.detach(fc)};
        }
    }

    /** Positions of the inputs by role: query, value, key (-1: none), attention_mask (-1: none). */
    private int[] roles(int n, Map<String, Object> args) {
        Object spec = args.get("inputs");
        if (spec == null) {
            if (n < 2 || n > 3) {
                throw configError("takes [query, value] or [query, value, key], received " + n + " input"
                        + (n == 1 ? "" : "s"));
            }
            return new int[] {0, 1, n == 3 ? 2 : -1, -1};
        }
        List<String> names = List.of("query", "value", "key", "attention_mask");
        int[] r = {-1, -1, -1, -1};
        if (!(spec instanceof List) || ((List<?>) spec).size() != n) {
            throw configError("call argument inputs must list the role of each of the " + n + " inputs, received "
                    + spec);
        }
        List<?> l = (List<?>) spec;
        for (int i = 0; i < n; i++) {
            int k = names.indexOf(String.valueOf(l.get(i)));
            if (k < 0 || r[k] >= 0) {
                throw configError("input roles must be distinct names among " + names + ", received " + spec);
            }
            r[k] = i;
        }
        if (r[0] != 0 || r[1] < 0) throw configError("needs the query first and a value, received inputs " + spec);
        return r;
    }

    private static boolean flag(Map<String, Object> args, String key) {
        Object v = args.get(key);
        return v instanceof Boolean && (Boolean) v;
    }

    static void checkArgs(Layer l, Map<String, Object> args, String... allowed) {
        for (String k : args.keySet()) {
            if (!List.of(allowed).contains(k)) {
                throw l.configError("unknown call argument " + k + "; valid: " + List.of(allowed));
            }
            if (!k.equals("inputs") && !(args.get(k) instanceof Boolean)) {
                throw l.configError("call argument " + k + " must be true or false, received " + args.get(k));
            }
        }
    }

    @Override
    public List<long[]> buildCall(List<long[]> shapes, Map<String, Object> args, DType dtype, long seed) {
        checkArgs(this, args, "inputs", "return_attention_scores", "use_causal_mask");
        int[] r = roles(shapes.size(), args);
        List<long[]> qvk = new ArrayList<>(List.of(shapes.get(r[0]), shapes.get(r[1])));
        if (r[2] >= 0) qvk.add(shapes.get(r[2]));
        long[] out = buildMulti(qvk, dtype, seed);
        if (perm != null && (r[3] >= 0 || flag(args, "use_causal_mask"))) {
            throw configError("attention_mask and use_causal_mask need inputs of shape (batch, length, features)");
        }
        if (r[3] >= 0 && !Arrays.equals(shapes.get(r[3]), new long[] {queryLen, keyLen})) {
            throw configError("attention_mask must have shape (None, " + queryLen + ", " + keyLen + ") (batch, query "
                    + "length, key length), received " + batchShape(shapes.get(r[3])));
        }
        if (flag(args, "use_causal_mask") && keep == null) {
            NDArray[] m = causalMask(dtype, queryLen, keyLen);
            keep = m[0];
            fill = m[1];
        }
        if (!flag(args, "return_attention_scores")) return List.of(out);
        return List.of(out, scoresShape());
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        throw configError("needs [query, value] or [query, value, key]: call it on a list of 2 or 3 tensors in a "
                + "functional Model");
    }

    private void checkRank3(String what, NDArray x, long len, long dim) {
        long[] s = x.shape();
        if (s.length != 3 || s[1] != len || s[2] != dim) {
            throw configError("expects " + what + " of shape (None, " + len + ", " + dim + "), received "
                    + Shapes.str(s));
        }
    }

    /** x [B, L, d] @ kernel [d, H, e] (+ bias [H, e]) -> [B, H, L, e]. */
    private NDArray project(NDArray x, Parameter kernel, Parameter bias) {
        long[] ks = kernel.value().shape();
        long d = ks[0], h = ks[1], e = ks[2];
        NDArray w = Ops.reshape(kernel.value(), d, h * e);
        NDArray b = bias == null ? null : Ops.reshape(bias.value(), h * e);
        NDArray y = Ops.linear(x, w, b);                                   // [B, L, H*e]
        NDArray y4 = Ops.reshape(y, x.shape(0), x.shape(1), h, e);          // [B, L, H, e]
        return Ops.transpose(y4, 0, 2, 1, 3);                               // [B, H, L, e]
    }

    @Override
    public NDArray forwardMulti(List<NDArray> xs, Context ctx) {
        return forwardOutputs(xs, ctx).get(0);
    }

    /**
     * The attention mask as a [batch or 1, 1, T, S] array of 1 (attend) / 0, or null: the explicit mask input times
     * the inputs' Keras masks times the causal mask (Keras 3's {@code _compute_attention_mask}).
     */
    private NDArray attentionMask(List<NDArray> xs, int[] r, Context ctx, boolean causal) {
        long b = xs.get(0).shape(0);
        NDArray m = null;
        if (r[3] >= 0) {
            NDArray am = xs.get(r[3]);
            if (am.rank() != 3 || am.shape(0) != b || am.shape(1) != queryLen || am.shape(2) != keyLen) {
                throw configError("attention_mask must have shape (" + b + ", " + queryLen + ", " + keyLen
                        + "), received " + Shapes.str(am.shape()));
            }
            m = Masks.notEqual(am, 0, xs.get(0).dtype());
        }
        NDArray qm = ctx.mask(r[0]), vm = ctx.mask(r[1]), km = r[2] >= 0 ? ctx.mask(r[2]) : null;
        if (qm != null) {
            Masks.check(this, qm, xs.get(r[0]));
            m = m == null ? Ops.reshape(qm, b, queryLen, 1) : Ops.mul(m, Ops.reshape(qm, b, queryLen, 1));
        }
        for (NDArray sm : new NDArray[] {vm, km}) {
            if (sm == null) continue;
            Masks.check(this, sm, xs.get(r[1]));
            m = m == null ? Ops.reshape(sm, b, 1, keyLen) : Ops.mul(m, Ops.reshape(sm, b, 1, keyLen));
        }
        if (causal) m = m == null ? keep : Ops.mul(m, keep);
        if (m == null) return null;
        long[] s = m.shape();
        return s.length == 2 ? Ops.reshape(m, 1, 1, s[0], s[1]) : Ops.reshape(m, s[0], 1, s[1], s[2]);
    }

    @Override
    public List<NDArray> forwardOutputs(List<NDArray> xs, Context ctx) {
        int[] r = roles(xs.size(), ctx.args);
        boolean causal = useCausalMask || flag(ctx.args, "use_causal_mask");
        NDArray query = xs.get(r[0]), value = xs.get(r[1]), key = r[2] >= 0 ? xs.get(r[2]) : value;
        long batch0 = query.shape(0);
        if (perm != null) {
            if (ctx.masks != null) {
                for (int i = 0; i < xs.size(); i++) {
                    if (ctx.mask(i) != null) {
                        throw configError("Keras masks need inputs of shape (batch, length, features)");
                    }
                }
            }
            for (NDArray x : new NDArray[] {query, value, key}) {
                if (x.rank() != queryShape.length + 1) {
                    throw configError("expects inputs of rank " + (queryShape.length + 1) + ", received "
                            + Shapes.str(x.shape()));
                }
            }
            query = flatten(query, queryLen);
            value = flatten(value, keyLen);
            key = key == xs.get(r[1]) ? value : flatten(key, keyLen);
        }
        checkRank3("query", query, queryLen, qKernel.value().shape(0));
        checkRank3("value", value, keyLen, vKernel.value().shape(0));
        checkRank3("key", key, keyLen, kKernel.value().shape(0));
        long batch = query.shape(0);
        if (value.shape(0) != batch || key.shape(0) != batch) {
            throw configError("query, value and key need the same batch size, received " + Shapes.str(query.shape())
                    + ", " + Shapes.str(value.shape()) + ", " + Shapes.str(key.shape()));
        }
        long h = numHeads, vd = valueDim();
        NDArray q = project(query, qKernel, qBias);                          // [B, H, T, kd]
        NDArray k = project(key, kKernel, kBias);                            // [B, H, S, kd]
        NDArray v = project(value, vKernel, vBias);                          // [B, H, S, vd]
        q = Ops.mul(q, 1.0 / Math.sqrt((double) keyDim));                    // Keras scales the query
        NDArray scores = Ops.matmul(q, Ops.transpose(k, 0, 1, 3, 2));       // [B, H, T, S]
        NDArray probs;
        if (causal && ctx.masks == null && r[3] < 0) {
            probs = Ops.softmax(Ops.add(Ops.mul(scores, keep), fill), -1);  // where(mask, scores, -1e9)
        } else {
            NDArray m = attentionMask(xs, r, ctx, causal);                  // [B|1, 1, T, S]
            if (m == null) {
                probs = Ops.softmax(scores, -1);
            } else {
                // where(m, scores, -1e9), softmax, then * m: a fully masked row gives zeros (Keras 3)
                NDArray masked = Ops.add(Ops.mul(scores, m), Ops.affine(m, -LARGE_NEGATIVE, LARGE_NEGATIVE));
                probs = Ops.mul(Ops.softmax(masked, -1), m);
            }
        }
        NDArray scoresOut = probs;
        if (ctx.training && dropout > 0) probs = Ops.dropout(probs, dropout, ctx.seed);
        NDArray o = Ops.matmul(probs, v.contiguous());                       // [B, H, T, vd]
        NDArray o3 = Ops.reshape(Ops.transpose(o, 0, 2, 1, 3), batch, queryLen, h * vd);   // [B, T, H*vd]
        long outSize = Shapes.size(outDims);
        NDArray w = Ops.reshape(oKernel.value(), h * vd, outSize);
        NDArray b = oBias == null ? null : Ops.reshape(oBias.value(), outSize);
        NDArray y = Ops.linear(o3, w, b);                                    // [B, T, prod(out)]
        if (outDims.length > 1) {
            long[] ys = new long[2 + outDims.length];
            ys[0] = batch;
            ys[1] = queryLen;
            System.arraycopy(outDims, 0, ys, 2, outDims.length);
            y = Ops.reshape(y, ys);
        }
        if (perm != null) {
            y = unflatten(y, batch0);
            long[] ss = scoresShape(), full = new long[ss.length + 1];
            full[0] = batch0;
            System.arraycopy(ss, 0, full, 1, ss.length);
            scoresOut = Ops.reshape(scoresOut, full);
        }
        return flag(ctx.args, "return_attention_scores") ? List.of(y, scoresOut) : List.of(y);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("num_heads", numHeads);
        c.put("key_dim", keyDim);
        c.put("value_dim", valueDim());
        c.put("dropout", dropout);
        c.put("use_bias", useBias);
        if (outputShapeArg == null) {
            c.put("output_shape", null);
        } else {
            List<Object> os = new ArrayList<>();
            for (long d : outputShapeArg) os.add(d);
            c.put("output_shape", os);
        }
        c.put("attention_axes", attentionAxes);
        c.put("use_causal_mask", useCausalMask);
        c.put("kernel_initializer", kernelInitializer.kerasName);
        c.put("bias_initializer", biasInitializer.kerasName);
        return c;
    }
}
