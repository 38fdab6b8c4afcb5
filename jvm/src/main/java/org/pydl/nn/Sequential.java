package org.pydl.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;
import org.pydl.ops.Autograd;
import org.pydl.train.DataSet;
import org.pydl.train.History;

/**
 * A linear stack of layers, trained entirely in Java: {@link #fit} runs every batch (forward, autodiff backward,
 * optimizer step) without returning to the caller. Build from Java with {@link #builder()}:
 * <pre>{@code
 * Sequential model = Sequential.builder().input(784).dense(512, Activation.RELU).dropout(0.2)
 *         .dense(10, Activation.SOFTMAX).seed(42).build();
 * model.compile(new Optimizer.Adam(1e-3), Loss.of("sparse_categorical_crossentropy"), List.of("accuracy"));
 * History h = model.fit(new DataSet(x, y), 5, 128);
 * NDArray probs = model.output(x);
 * }</pre>
 */
public final class Sequential extends Network {
    private final long[] inputShape;
    private final List<Layer> layers;

    public Sequential(String name, long[] inputShape, DType dtype, long seed, List<Layer> layers) {
        super(name == null ? "sequential" : name, dtype, seed);
        this.layers = new ArrayList<>(layers);
        if (inputShape == null || inputShape.length == 0) {
            throw new IllegalArgumentException("Sequential '" + this.name + "': the input shape is not known; start "
                    + "the model with an Input layer, e.g. Input(784) / builder().input(784)");
        }
        for (long d : inputShape) {
            if (d <= 0) {
                throw new IllegalArgumentException("Sequential '" + this.name + "': input shape dimensions must be "
                        + "positive, received " + Layer.batchShape(inputShape));
            }
        }
        this.inputShape = inputShape.clone();
        if (this.layers.isEmpty()) {
            throw new IllegalArgumentException("Sequential '" + this.name + "' has no layers");
        }
        nameLayers(this.name, this.layers);
        long[] s = this.inputShape;
        int i = 0;
        for (Layer l : this.layers) {
            List<long[]> outs = l.buildCall(List.of(s), Map.of(), dtype, seed * 1_000_003L + 7919L * i++);
            if (outs.size() != 1) {
                throw new IllegalArgumentException("Sequential '" + this.name + "': layer '" + l.name() + "' ("
                        + l.type() + ") has " + outs.size() + " outputs (return_state, or merge_mode=None); every "
                        + "layer of a Sequential has one output: use a functional Model");
            }
            s = outs.get(0);
        }
    }

    /** Gives unnamed layers Keras-style unique names ("dense", "dense_1", ...); rejects duplicates. */
    static void nameLayers(String model, List<Layer> layers) {
        Map<String, Integer> counts = new HashMap<>();
        java.util.Set<String> used = new java.util.HashSet<>();
        for (Layer l : layers) if (l.name() != null) used.add(l.name());
        java.util.Set<String> seen = new java.util.HashSet<>();
        for (Layer l : layers) {
            if (l.name() == null) {
                String base = snake(l.type());
                int c = counts.merge(base, 1, Integer::sum);
                String n = c == 1 ? base : base + "_" + (c - 1);
                while (used.contains(n)) n = base + "_" + (c++);
                used.add(n);
                l.setName(n);
            }
            if (!seen.add(l.name())) {
                throw new IllegalArgumentException("model '" + model + "': two layers are named '" + l.name()
                        + "'; layer names must be unique");
            }
        }
    }

    private static String snake(String type) {
        // Keras's to_snake_case: "BatchNormalization" -> "batch_normalization", "PReLU" -> "p_re_lu", "Conv2D" -> "conv2d"
        return type.replaceAll("(.)([A-Z][a-z0-9]+)", "$1_$2").replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase();
    }

    public static Builder builder() {
        return new Builder();
    }

    /** Fluent construction from Java. */
    public static final class Builder {
        private String name;
        private long[] input;
        private DType dtype = DType.FLOAT32;
        private long seed = System.nanoTime();
        private final List<Layer> layers = new ArrayList<>();

        public Builder name(String n) {
            name = n;
            return this;
        }

        public Builder input(long... shape) {
            input = shape.clone();
            return this;
        }

        public Builder dtype(DType d) {
            dtype = d;
            return this;
        }

        public Builder seed(long s) {
            seed = s;
            return this;
        }

        public Builder dense(long units, Activation activation) {
            return add(new Dense(units, activation));
        }

        public Builder dense(long units) {
            return add(new Dense(units, Activation.LINEAR));
        }

        public Builder dropout(double rate) {
            return add(new Dropout(rate));
        }

        public Builder activation(Activation a) {
            return add(new ActivationLayer(a));
        }

        /** Conv2D, stride 1, "valid" padding unless {@code samePadding}, channels-last, Glorot kernel, zero bias. */
        public Builder conv2d(long filters, long kernelSize, Activation activation, boolean samePadding) {
            return add(new Conv(2, filters, new long[] {kernelSize, kernelSize}, new long[] {1, 1}, new long[] {1, 1},
                    samePadding ? "same" : "valid", "channels_last", 1, activation, true, Initializer.GLOROT_UNIFORM,
                    Initializer.ZEROS));
        }

        public Builder maxPooling2d(long poolSize) {
            return add(new Pooling(true, 2, new long[] {poolSize, poolSize}, null, "valid", "channels_last"));
        }

        public Builder flatten() {
            return add(new Flatten());
        }

        /** Conv1D, stride 1, "valid" padding unless {@code samePadding}, channels-last, Glorot kernel, zero bias. */
        public Builder conv1d(long filters, long kernelSize, Activation activation, boolean samePadding) {
            return add(new Conv(1, filters, new long[] {kernelSize}, new long[] {1}, new long[] {1},
                    samePadding ? "same" : "valid", "channels_last", 1, activation, true, Initializer.GLOROT_UNIFORM,
                    Initializer.ZEROS));
        }

        public Builder maxPooling1d(long poolSize) {
            return add(new Pooling(true, 1, new long[] {poolSize}, null, "valid", "channels_last"));
        }

        public Builder averagePooling2d(long poolSize) {
            return add(new Pooling(false, 2, new long[] {poolSize, poolSize}, null, "valid", "channels_last"));
        }

        public Builder globalAveragePooling1d() {
            return add(new GlobalPooling(false, 1, "channels_last", false));
        }

        public Builder globalAveragePooling2d() {
            return add(new GlobalPooling(false, 2, "channels_last", false));
        }

        public Builder globalMaxPooling2d() {
            return add(new GlobalPooling(true, 2, "channels_last", false));
        }

        /** Keras's defaults: axis -1, momentum 0.99, epsilon 1e-3, center and scale. */
        public Builder batchNormalization() {
            return add(new BatchNormalization());
        }

        /** Keras's defaults: axis -1, epsilon 1e-3, center and scale. */
        public Builder layerNormalization() {
            return add(new LayerNormalization());
        }

        /** Embedding of integer ids in [0, inputDim) as vectors of outputDim (Keras's uniform(-0.05, 0.05) init). */
        public Builder embedding(long inputDim, long outputDim) {
            return add(new Embedding(inputDim, outputDim, Initializer.RANDOM_UNIFORM, false));
        }

        /** LSTM with Keras's defaults (tanh, sigmoid gates); the last step's output unless {@code returnSequences}. */
        public Builder lstm(long units, boolean returnSequences) {
            return recurrent("LSTM", units, returnSequences);
        }

        /** GRU with Keras 3's defaults (reset_after=True). */
        public Builder gru(long units, boolean returnSequences) {
            return recurrent("GRU", units, returnSequences);
        }

        public Builder simpleRnn(long units, boolean returnSequences) {
            return recurrent("SimpleRNN", units, returnSequences);
        }

        private Builder recurrent(String type, long units, boolean returnSequences) {
            Map<String, Object> c = new HashMap<>();
            c.put("units", units);
            c.put("return_sequences", returnSequences);
            return add(Layers.fromConfig(type, c));
        }

        public Builder reshape(long... targetShape) {
            return add(new Reshape(targetShape));
        }

        public Builder add(Layer layer) {
            layers.add(layer);
            return this;
        }

        public Sequential build() {
            return new Sequential(name, input, dtype, seed, layers);
        }
    }

    // ---- the graph ------------------------------------------------------------------------------------------
    public long[] inputShape() {
        return inputShape.clone();
    }

    public long[] outputShape() {
        return layers.get(layers.size() - 1).outputShape();
    }

    @Override
    public List<long[]> inputShapes() {
        return List.of(inputShape());
    }

    @Override
    public List<long[]> outputShapes() {
        return List.of(outputShape());
    }

    @Override
    public List<String> outputNames() {
        return List.of(layers.get(layers.size() - 1).name());
    }

    @Override
    public List<Layer> layers() {
        return layers;
    }

    @Override
    protected void checkInput(String what, int i, NDArray x) {
        checkInput(what, x);
    }

    private void checkInput(String what, NDArray x) {
        long[] s = x.shape();
        boolean ok = s.length == inputShape.length + 1;
        for (int i = 0; ok && i < inputShape.length; i++) ok = s[i + 1] == inputShape[i];
        if (!ok) {
            Layer first = layers.get(0);
            throw new IllegalArgumentException(what + ": model '" + name + "' (first layer '" + first.name() + "', "
                    + first.type() + ") expects input of shape " + Layer.batchShape(inputShape) + ", received "
                    + Shapes.str(s) + (s.length == inputShape.length ? "; add a batch axis, e.g. x[None]" : ""));
        }
    }

    @Override
    protected List<NDArray> forwardAll(List<NDArray> xs, boolean training, boolean[] logits) {
        return List.of(forward(xs.get(0), training, logits[0]));
    }

    @Override
    protected List<NDArray> forwardAll(List<NDArray> xs, boolean training, boolean[] logits, NDArray[] outMasks) {
        return List.of(forward(xs.get(0), training, logits[0], null, outMasks));
    }

    /** Forward pass through all layers; with {@code stopBeforeSoftmax}, a final softmax Dense returns its logits. */
    private NDArray forward(NDArray x, boolean training, boolean stopBeforeSoftmax) {
        return forward(x, training, stopBeforeSoftmax, null, null);
    }

    /**
     * The forward pass; a Keras mask created by a layer (Embedding with mask_zero, Masking) flows down the stack
     * through {@link Layer#computeMasks}. With {@code each} every layer's output is also collected; with
     * {@code maskOut} the output's mask is stored in maskOut[0].
     */
    private NDArray forward(NDArray x, boolean training, boolean stopBeforeSoftmax, List<NDArray> each,
                            NDArray[] maskOut) {
        NDArray h = x;
        NDArray mask = null;
        int n = layers.size();
        for (int i = 0; i < n; i++) {
            Layer l = layers.get(i);
            Layer.Context ctx = new Layer.Context(training, mix(seed, i, globalStep),
                    mask == null ? null : List.of(mask), Map.of());
            NDArray in = h;
            if (i == n - 1 && stopBeforeSoftmax && endsWithSoftmax(0)) {
                h = recordActivity(l, l instanceof Dense ? ((Dense) l).preActivation(h) : h, true);
            } else {
                h = recordActivity(l, l.forward(h, ctx), false);
            }
            if (mask != null || l.producesMask()) {
                try (Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
                    mask = l.computeMasks(List.of(in), List.of(h), ctx).get(0);
                }
            }
            if (each != null) each.add(h);
        }
        if (maskOut != null) maskOut[0] = mask;
        return h;
    }

    @Override
    public Map<String, NDArray> activations(List<NDArray> xs) {
        checkInput("activations", xs.get(0));
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
            List<NDArray> each = new ArrayList<>();
            forward(castInput(xs.get(0)), false, false, each, null);
            for (int i = 0; i < layers.size(); i++) out.put(layers.get(i).name(), MemoryScope.detach(each.get(i).contiguous()));
        }
        return out;
    }

    @Override
    protected boolean endsWithSoftmax(int output) {
        return isSoftmax(layers.get(layers.size() - 1));
    }

    /** A Dense with softmax or a softmax Activation layer: the loss may then use the fused softmax cross-entropy. */
    static boolean isSoftmax(Layer last) {
        return (last instanceof Dense && ((Dense) last).activation == Activation.SOFTMAX)
                || (last instanceof ActivationLayer && ((ActivationLayer) last).activation == Activation.SOFTMAX);
    }

    /**
     * Inference on one batch (no dropout, no gradient). The result is a new array owned by no scope (never
     * {@code x} itself, even for a model whose layers are all identities at inference): the caller may close it.
     */
    public NDArray output(NDArray x) {
        return outputAll(List.of(x)).get(0);
    }

    /** Inference on one batch written into {@code out} (shape (batch, ...outputShape), the model's dtype). */
    public void outputInto(NDArray x, NDArray out) {
        checkInput("predict", x);
        long[] os = outputShape();
        long[] want = new long[os.length + 1];
        want[0] = x.shape(0);
        System.arraycopy(os, 0, want, 1, os.length);
        if (!Arrays.equals(out.shape(), want) || out.dtype() != dtype) {
            throw new IllegalArgumentException("outputInto: out must be " + dtype.pyName + " " + Shapes.str(want)
                    + ", received " + out.dtype().pyName + " " + Shapes.str(out.shape()));
        }
        try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
            NDArray y = forward(castInput(x), false, false);
            y.device().backend().copy(y, out);
        }
    }

    /** Inference in batches of {@code batchSize}. */
    public NDArray output(NDArray x, int batchSize) {
        return outputAll(List.of(x), batchSize).get(0);
    }

    // ---- config (model files) ------------------------------------------------------------------------------
    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("class", "Sequential");
        c.put("name", name);
        c.put("input_shape", inputShape);
        c.put("dtype", dtype.pyName);
        c.put("seed", seed);
        c.put("layers", layerConfigs(layers));
        return c;
    }
}
