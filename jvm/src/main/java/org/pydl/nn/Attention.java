package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;
import org.pydl.ops.Ops;

/**
 * Keras 3's {@code Attention} (Luong-style) for inputs {@code [query, value]} or {@code [query, value, key]} of shapes
 * {@code (batch, Tq, dim)}, {@code (batch, Tv, dv)}, {@code (batch, Tv, dim)} (key defaults to value); output
 * {@code (batch, Tq, dv)}. Also the base of {@link AdditiveAttention} (Bahdanau-style).
 *
 * <p>Scores, as Keras: {@code "dot"}: {@code Q K^T}, times the scalar weight {@code scale} (init 1) with
 * {@code use_scale}; {@code "concat"}: {@code concat_score_weight * sum(tanh(scale * (q_i + k_j)), -1)} (both scalar
 * weights, init 1; {@code scale} only with {@code use_scale}). {@code scores -= 1e9} where the value's Keras mask is 0
 * or, with {@code use_causal_mask} (a call argument as in Keras, also accepted as a config flag), where {@code j > i}.
 * Then softmax over Tv, dropout on the distribution in training, {@code weights V}, and the result times the query's
 * Keras mask. With the call argument {@code return_attention_scores} the distribution (before dropout) is a second
 * output {@code (batch, Tq, Tv)}; the output's mask is the query's.
 */
public class Attention extends Layer {
    public final boolean useScale;
    public final String scoreMode;
    public final double dropout;
    public final boolean useCausalMask;
    /** True for {@link AdditiveAttention}. */
    private final boolean additive;

    protected Parameter scale, concatScoreWeight;
    private long queryLen, valueLen;
    private NDArray keep, fill;

    public Attention() {
        this(false, "dot", 0.0, false);
    }

    public Attention(boolean useScale, String scoreMode, double dropout, boolean useCausalMask) {
        this(false, useScale, scoreMode, dropout, useCausalMask);
    }

    Attention(boolean additive, boolean useScale, String scoreMode, double dropout, boolean useCausalMask) {
        this.additive = additive;
        this.useScale = useScale;
        this.scoreMode = scoreMode;
        this.dropout = dropout;
        this.useCausalMask = useCausalMask;
    }

    public static Attention fromConfig(Map<String, Object> c) {
        return new Attention(Json.getBoolean(c, "use_scale", false), Json.getString(c, "score_mode", "dot"),
                Json.getDouble(c, "dropout", 0.0), Json.getBoolean(c, "use_causal_mask", false));
    }

    @Override
    public String type() {
        return "Attention";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        throw configError("must be called on a list of inputs, namely [query, value] or [query, value, key]");
    }

    @Override
    public long[] buildMulti(List<long[]> shapes, DType dtype, long seed) {
        if (!additive && !"dot".equals(scoreMode) && !"concat".equals(scoreMode)) {
            throw configError("Invalid value for argument score_mode. Expected one of {'dot', 'concat'}. Received: "
                    + "score_mode=" + scoreMode);
        }
        if (!(dropout >= 0 && dropout < 1)) throw configError("dropout must be in [0, 1), received dropout=" + dropout);
        int n = shapes.size();
        if (n < 2 || n > 3) {
            throw configError("accepts inputs list of length 2 or 3, namely [query, value] or [query, value, key]. "
                    + "Received length: " + n);
        }
        long[] q = shapes.get(0), v = shapes.get(1), k = n == 3 ? shapes.get(2) : v;
        String[] names = {"query", "value", "key"};
        for (int i = 0; i < n; i++) {
            if (shapes.get(i).length != 2) {
                throw configError("supports inputs of shape (batch, length, features); " + names[i] + " has shape "
                        + batchShape(shapes.get(i)));
            }
        }
        if (k[0] != v[0]) {
            throw configError("key and value need the same length, received value_shape=" + batchShape(v)
                    + " and key_shape=" + batchShape(k));
        }
        if (q[1] != k[1]) {
            throw configError("query and key need the same last dimension, received query_shape=" + batchShape(q)
                    + " and key_shape=" + batchShape(k));
        }
        queryLen = q[0];
        valueLen = v[0];
        this.inputShape = q.clone();
        createWeights(q[1], dtype, seed);
        if (useCausalMask) causal(dtype);
        this.outputShape = new long[] {queryLen, v[1]};
        return outputShape.clone();
    }

    private void causal(DType dtype) {
        NDArray[] m = MultiHeadAttention.causalMask(dtype, queryLen, valueLen);
        keep = m[0];
        fill = m[1];
    }

    @Override
    public List<long[]> buildCall(List<long[]> shapes, Map<String, Object> args, DType dtype, long seed) {
        MultiHeadAttention.checkArgs(this, args, "return_attention_scores", "use_causal_mask");
        long[] out = buildMulti(shapes, dtype, seed);
        if (keep == null && Boolean.TRUE.equals(args.get("use_causal_mask"))) causal(dtype);
        if (!Boolean.TRUE.equals(args.get("return_attention_scores"))) return List.of(out);
        return List.of(out, new long[] {queryLen, valueLen});
    }

    /** Creates the weights for a query dimension {@code dim} (Keras's {@code build}). */
    protected void createWeights(long dim, DType dtype, long seed) {
        // scalar weights of shape () as Keras, initialised to ones
        if (useScale) scale = addParam("scale", NDArray.scalar(1.0, dtype));
        if ("concat".equals(scoreMode)) concatScoreWeight = addParam("concat_score_weight", NDArray.scalar(1.0, dtype));
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        throw configError("must be called on a list of inputs, namely [query, value] or [query, value, key]");
    }

    /** Scores [B, Tq, Tv] from query [B, Tq, dim] and key [B, Tv, dim] (Keras's {@code _calculate_scores}). */
    protected NDArray scores(NDArray q, NDArray k) {
        if ("dot".equals(scoreMode)) {
            NDArray s = Ops.matmul(q, Ops.transpose(k, 0, 2, 1));
            return scale == null ? s : Ops.mul(s, scale.value());
        }
        NDArray sum = pairSum(q, k);
        if (scale != null) sum = Ops.mul(scale.value(), sum);
        return Ops.mul(concatScoreWeight.value(), Ops.sum(Ops.tanh(sum), 3, false));
    }

    /** q_i + k_j: [B, Tq, 1, dim] + [B, 1, Tv, dim] -> [B, Tq, Tv, dim]. */
    protected static NDArray pairSum(NDArray q, NDArray k) {
        NDArray q4 = Ops.reshape(q, q.shape(0), q.shape(1), 1, q.shape(2));
        NDArray k4 = Ops.reshape(k, k.shape(0), 1, k.shape(1), k.shape(2));
        return Ops.add(q4, k4);
    }

    @Override
    public NDArray forwardMulti(List<NDArray> xs, Context ctx) {
        return forwardOutputs(xs, ctx).get(0);
    }

    @Override
    public List<NDArray> forwardOutputs(List<NDArray> xs, Context ctx) {
        if (xs.size() < 2 || xs.size() > 3) {
            throw configError("accepts inputs list of length 2 or 3, received " + xs.size());
        }
        NDArray q = xs.get(0), v = xs.get(1), k = xs.size() == 3 ? xs.get(2) : v;
        long batch = q.shape(0);
        for (NDArray x : xs) {
            if (x.rank() != 3 || x.shape(0) != batch) {
                throw configError("expects inputs of shape (batch, length, features) with one batch size, received "
                        + Shapes.str(x.shape()));
            }
        }
        if (q.shape(1) != queryLen || q.shape(2) != inputShape[1] || v.shape(1) != valueLen
                || k.shape(1) != valueLen || k.shape(2) != inputShape[1] || v.shape(2) != outputShape[1]) {
            throw configError("was built for query (None, " + queryLen + ", " + inputShape[1] + ") and value (None, "
                    + valueLen + ", " + outputShape[1] + "), received " + Shapes.str(q.shape()) + " and "
                    + Shapes.str(v.shape()));
        }
        NDArray s = scores(q, k);
        boolean causal = keep != null;
        NDArray vMask = ctx.mask(1), qMask = ctx.mask(0);
        if (vMask != null) {
            Masks.check(this, vMask, v);
            NDArray m = Ops.reshape(vMask, batch, 1, valueLen);
            if (causal) m = Ops.mul(m, keep);
            s = Ops.add(s, Ops.affine(m, 1e9, -1e9));   // Keras: scores -= 1e9 * padding_mask
        } else if (causal) {
            s = Ops.add(s, fill);
        }
        NDArray w = Ops.softmax(s, -1);
        NDArray scoresOut = w;
        if (ctx.training && dropout > 0) w = Ops.dropout(w, dropout, ctx.seed);
        NDArray out = Ops.matmul(w, v);
        if (qMask != null) {
            Masks.check(this, qMask, q);
            out = Ops.mul(out, Ops.reshape(qMask, batch, queryLen, 1));
        }
        return Boolean.TRUE.equals(ctx.args.get("return_attention_scores")) ? List.of(out, scoresOut) : List.of(out);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("use_scale", useScale);
        if (!additive) c.put("score_mode", scoreMode);
        c.put("dropout", dropout);
        c.put("use_causal_mask", useCausalMask);
        return c;
    }
}
