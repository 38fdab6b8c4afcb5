package org.pydl.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;

/**
 * A layer: a config, parameters created by {@link #build} once the input shape is known, and a forward pass
 * written with {@link org.pydl.ops.Ops} (so its gradient comes from autodiff). Shapes here exclude the batch axis.
 */
public abstract class Layer {
    protected String name;
    protected long[] inputShape;
    protected long[] outputShape;
    protected final List<Parameter> params = new ArrayList<>();
    private boolean trainable = true;

    /** Per-call information handed to {@link #forward}: training flag, seed, the inputs' masks and call arguments. */
    public static final class Context {
        public final boolean training;
        /** Seed for this call's randomness (dropout); differs per step and per layer. */
        public final long seed;
        /**
         * Keras masks of the inputs, one per input (null entries, or a null list: no mask). A mask is a
         * [batch, time] array of 1 (real step) and 0 (padding) in the input's dtype; see {@link #computeMasks}.
         */
        public final List<NDArray> masks;
        /**
         * Arguments of this application of the layer, Keras's call arguments ({@code return_attention_scores},
         * {@code use_causal_mask}, {@code inputs} roles such as {@code ["query", "value", "attention_mask"]}).
         */
        public final Map<String, Object> args;

        public Context(boolean training, long seed) {
            this(training, seed, null, Map.of());
        }

        public Context(boolean training, long seed, List<NDArray> masks, Map<String, Object> args) {
            this.training = training;
            this.seed = seed;
            this.masks = masks;
            this.args = args == null ? Map.of() : args;
        }

        /** The mask of input {@code i}, or null. */
        public NDArray mask(int i) {
            return masks == null || i >= masks.size() ? null : masks.get(i);
        }

        /** A copy with other input masks (layers that wrap other layers pass masks on with this). */
        public Context withMasks(List<NDArray> m) {
            return new Context(training, seed, m, args);
        }
    }

    /** Keras class name ("Dense"), used in model files. */
    public abstract String type();

    /** Creates parameters for {@code inputShape} and returns the output shape; validates the config. */
    protected abstract long[] doBuild(long[] inputShape, DType dtype, long seed);

    public abstract NDArray forward(NDArray x, Context ctx);

    /** Keras-style config (without "name", added by {@link #config()}). */
    protected abstract Map<String, Object> layerConfig();

    public final long[] build(long[] inputShape, DType dtype, long seed) {
        this.inputShape = inputShape.clone();
        this.outputShape = doBuild(inputShape, dtype, seed);
        checkWeightOptions();
        return outputShape.clone();
    }

    /**
     * Builds for several inputs (merge layers override this; a single-input layer accepts exactly one). Called
     * once per layer; a shared layer called again must receive the same shapes.
     */
    public long[] buildMulti(List<long[]> inputShapes, DType dtype, long seed) {
        if (inputShapes.size() != 1) {
            throw configError("takes one input, received " + inputShapes.size());
        }
        return build(inputShapes.get(0), dtype, seed);
    }

    /** Forward for several inputs (merge layers override this). */
    public NDArray forwardMulti(List<NDArray> xs, Context ctx) {
        if (xs.size() != 1) throw configError("takes one input, received " + xs.size());
        return forward(xs.get(0), ctx);
    }

    // ---- calls with arguments, several outputs, masks (functional graphs) ------------------------------------
    /**
     * Builds the layer for its first application with call arguments {@code args} and returns the shapes of all
     * its outputs (e.g. an RNN with {@code return_state}: output, then the states). Default: {@link #buildMulti},
     * one output, no call arguments accepted.
     */
    public List<long[]> buildCall(List<long[]> inputShapes, Map<String, Object> args, DType dtype, long seed) {
        if (!args.isEmpty()) throw configError("takes no call arguments, received " + args.keySet());
        return List.of(buildMulti(inputShapes, dtype, seed));
    }

    /** All outputs of one application (default: {@link #forwardMulti}'s one output). */
    public List<NDArray> forwardOutputs(List<NDArray> xs, Context ctx) {
        return List.of(forwardMulti(xs, ctx));
    }

    /**
     * Keras's {@code compute_mask}: the masks of this application's outputs (null entries: none), given the inputs,
     * the outputs and the inputs' masks in {@code ctx}. Called without gradient recording, only when some input has
     * a mask. Default, as Keras 3: the first input's mask passes to the first output, as long as that output still
     * has the time axis ([batch, time, ...] with the mask's length); layers that remove or create the time axis
     * override this.
     */
    /**
     * Whether this layer creates a mask from its input data (Embedding with {@code mask_zero}, Masking): then
     * {@link #computeMasks} runs even when no input carries a mask.
     */
    public boolean producesMask() {
        return false;
    }

    public List<NDArray> computeMasks(List<NDArray> xs, List<NDArray> outputs, Context ctx) {
        NDArray m = ctx.mask(0);
        List<NDArray> r = new ArrayList<>(java.util.Collections.nCopies(outputs.size(), (NDArray) null));
        NDArray y = outputs.get(0);
        if (m != null && y.rank() >= 3 && y.shape(1) == m.shape(1) && y.shape(0) == m.shape(0)) r.set(0, m);
        return r;
    }

    public final Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", name);
        c.put("trainable", trainable);
        c.putAll(layerConfig());
        putWeightOptions(c);
        return c;
    }

    public String name() {
        return name;
    }

    public void setName(String name) {
        this.name = name;
    }

    public boolean isBuilt() {
        return outputShape != null;
    }

    public long[] inputShape() {
        return inputShape == null ? null : inputShape.clone();
    }

    public long[] outputShape() {
        return outputShape == null ? null : outputShape.clone();
    }

    public List<Parameter> parameters() {
        return params;
    }

    public boolean isTrainable() {
        return trainable;
    }

    /** Records trainable=false before the layer is built (applied to parameters as they are created). */
    void setTrainableOnBuild(boolean t) {
        trainable = t;
    }

    public void setTrainable(boolean t) {
        trainable = t;
        for (Parameter p : params) {
            if (p.state) continue;
            p.trainable = t;
            p.value().setRequiresGrad(t);
        }
    }

    public long paramCount() {
        long n = 0;
        for (Parameter p : params) n += p.value().size();
        return n;
    }

    /** Adds non-trainable state (e.g. moving statistics): saved in model files, never touched by optimizers. */
    protected Parameter addState(String pname, NDArray value) {
        org.pydl.nd.MemoryScope.detach(value);
        Parameter p = new Parameter(name + "/" + pname, value, true);
        value.setRequiresGrad(false);
        params.add(p);
        return p;
    }

    protected Parameter addParam(String pname, NDArray value) {
        org.pydl.nd.MemoryScope.detach(value);
        Parameter p = new Parameter(name + "/" + pname, value);
        value.setRequiresGrad(trainable);
        p.trainable = trainable;
        p.regularizer = regularizers.get(optionKey(pname));
        p.constraint = constraints.get(optionKey(pname));
        params.add(p);
        return p;
    }

    // ---- regularizers and constraints, for every layer: Keras's <weight>_regularizer / <weight>_constraint ----
    private final Map<String, Regularizer> regularizers = new LinkedHashMap<>();
    private final Map<String, Constraint> constraints = new LinkedHashMap<>();
    private Regularizer activityRegularizer;
    /** Weights a layer may lack by configuration (use_bias=False, center/scale=False): an option for them is kept. */
    private static final java.util.Set<String> OPTIONAL_WEIGHTS = java.util.Set.of("bias", "beta", "gamma");

    /**
     * Keras's argument prefix for a weight: "kernel" -> kernel_regularizer, "recurrent_kernel" ->
     * recurrent_regularizer, "depthwise_kernel" -> depthwise_regularizer; any other weight by its own name
     * ("bias", "gamma", "embeddings", "alpha"). A weight in a sub-block ("query/kernel" of MultiHeadAttention) goes
     * by its last part, so kernel_regularizer covers every kernel of the layer, as in Keras. Layers whose weight
     * names differ from Keras's argument names override this (DepthwiseConv).
     */
    String optionKey(String weight) {
        String w = weight.substring(weight.lastIndexOf('/') + 1);
        return w.endsWith("_kernel") ? w.substring(0, w.length() - "_kernel".length()) : w;
    }

    /** Sets the regularizer of a weight by its option key ("kernel", "bias", "recurrent", ...); null removes it. */
    public Layer setRegularizer(String key, Regularizer r) {
        if (r == null) regularizers.remove(key); else regularizers.put(key, r);
        for (Parameter p : params) if (!p.state && optionKey(p.name).equals(key)) p.regularizer = r;
        return this;
    }

    /** Sets the constraint of a weight by its option key ("kernel", "bias", ...); null removes it. */
    public Layer setConstraint(String key, Constraint c) {
        if (c == null) constraints.remove(key); else constraints.put(key, c);
        for (Parameter p : params) if (!p.state && optionKey(p.name).equals(key)) p.constraint = c;
        return this;
    }

    /** Keras's activity_regularizer: a penalty on this layer's output added to the training loss; null = none. */
    public Layer setActivityRegularizer(Regularizer r) {
        activityRegularizer = r;
        return this;
    }

    public Regularizer activityRegularizer() {
        return activityRegularizer;
    }

    /**
     * Reads every {@code <key>_regularizer}, {@code <key>_constraint} and {@code activity_regularizer} of a config
     * (and the older {@code <key>_l2} numbers of pydl files); called by {@link Layers#fromConfig}.
     */
    void readWeightOptions(Map<String, Object> config) {
        for (Map.Entry<String, Object> e : config.entrySet()) {
            String k = e.getKey();
            Object v = e.getValue();
            if (v == null) continue;
            try {
                if (k.equals("activity_regularizer")) {
                    activityRegularizer = Regularizer.fromConfig(v, k);
                } else if (k.endsWith("_regularizer")) {
                    regularizers.put(k.substring(0, k.length() - "_regularizer".length()), Regularizer.fromConfig(v, k));
                } else if (k.endsWith("_constraint")) {
                    constraints.put(k.substring(0, k.length() - "_constraint".length()), Constraint.fromConfig(v, k));
                } else if (k.endsWith("_l2") && v instanceof Number && ((Number) v).doubleValue() != 0
                        && !config.containsKey(k.substring(0, k.length() - 3) + "_regularizer")) {
                    regularizers.put(k.substring(0, k.length() - 3), Regularizer.l2(((Number) v).doubleValue()));
                }
            } catch (IllegalArgumentException ex) {
                throw configError(ex.getMessage());
            }
        }
    }

    private void checkWeightOptions() {
        java.util.Set<String> keys = new java.util.TreeSet<>(regularizers.keySet());
        keys.addAll(constraints.keySet());
        java.util.Set<String> have = new java.util.TreeSet<>();
        for (Parameter p : params) if (!p.state) have.add(optionKey(p.name));
        for (String k : keys) {
            if (!have.contains(k) && !OPTIONAL_WEIGHTS.contains(k)) {
                String what = regularizers.containsKey(k) ? k + "_regularizer" : k + "_constraint";
                throw configError("has no weight for " + what + "; its weights take "
                        + (have.isEmpty() ? "no regularizers or constraints" : "only " + have.stream()
                        .map(h -> h + "_regularizer / " + h + "_constraint").collect(java.util.stream.Collectors
                        .joining(", "))) + " (activity_regularizer works on any layer)");
            }
        }
    }

    private void putWeightOptions(Map<String, Object> c) {
        for (Map.Entry<String, Regularizer> e : regularizers.entrySet()) c.put(e.getKey() + "_regularizer", e.getValue().toConfig());
        for (Map.Entry<String, Constraint> e : constraints.entrySet()) c.put(e.getKey() + "_constraint", e.getValue().toConfig());
        if (activityRegularizer != null) c.put("activity_regularizer", activityRegularizer.toConfig());
    }

    /** Checks a batch against this layer's input shape; the message names the layer and the fix. */
    protected void checkInput(NDArray x) {
        long[] s = x.shape();
        boolean ok = s.length == inputShape.length + 1;
        for (int i = 0; ok && i < inputShape.length; i++) ok = s[i + 1] == inputShape[i];
        if (!ok) {
            throw new IllegalArgumentException("layer '" + name + "' (" + type() + ") expects input of shape "
                    + batchShape(inputShape) + ", received " + Shapes.str(s));
        }
    }

    public static String batchShape(long[] shape) {
        StringBuilder sb = new StringBuilder("(None");
        for (long d : shape) sb.append(", ").append(d);
        return sb.append(')').toString();
    }

    /** Thrown for invalid layer configurations: names the layer, the received value and what is valid. */
    protected IllegalArgumentException configError(String msg) {
        return new IllegalArgumentException(type() + " layer '" + name + "': " + msg);
    }
}
