package org.pydl.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;
import org.pydl.train.ConsoleProgress;
import org.pydl.train.DataSet;
import org.pydl.train.History;
import org.pydl.train.TrainingListener;

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
public final class Sequential {
    private final String name;
    private final long[] inputShape;
    private final DType dtype;
    private final long seed;
    private final List<Layer> layers;
    private Optimizer optimizer;
    private Loss loss;
    private List<String> metrics = List.of();
    private volatile boolean stopRequested;
    private long globalStep;

    public Sequential(String name, long[] inputShape, DType dtype, long seed, List<Layer> layers) {
        this.name = name == null ? "sequential" : name;
        this.dtype = dtype;
        this.seed = seed;
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
        Map<String, Integer> counts = new HashMap<>();
        java.util.Set<String> used = new java.util.HashSet<>();
        for (Layer l : this.layers) {
            if (l.name() == null) {
                String base = snake(l.type());
                int c = counts.merge(base, 1, Integer::sum);
                String n = c == 1 ? base : base + "_" + (c - 1);
                while (used.contains(n)) n = base + "_" + (c++);
                l.setName(n);
            }
            if (!used.add(l.name())) {
                throw new IllegalArgumentException("Sequential '" + this.name + "': two layers are named '" + l.name()
                        + "'; layer names must be unique");
            }
        }
        long[] s = this.inputShape;
        int i = 0;
        for (Layer l : this.layers) {
            s = l.build(s, dtype, seed * 1_000_003L + 7919L * i++);
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

        public Builder add(Layer layer) {
            layers.add(layer);
            return this;
        }

        public Sequential build() {
            return new Sequential(name, input, dtype, seed, layers);
        }
    }

    // ---- accessors -----------------------------------------------------------------------------------------
    public String name() {
        return name;
    }

    public long[] inputShape() {
        return inputShape.clone();
    }

    public long[] outputShape() {
        return layers.get(layers.size() - 1).outputShape();
    }

    public DType dtype() {
        return dtype;
    }

    public long seed() {
        return seed;
    }

    public List<Layer> layers() {
        return layers;
    }

    public Layer getLayer(String layerName) {
        for (Layer l : layers) if (l.name().equals(layerName)) return l;
        throw new IllegalArgumentException("no layer named '" + layerName + "' in model '" + name + "'");
    }

    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        for (Layer l : layers) ps.addAll(l.parameters());
        return ps;
    }

    public long paramCount() {
        long n = 0;
        for (Layer l : layers) n += l.paramCount();
        return n;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    public Loss loss() {
        return loss;
    }

    public List<String> metrics() {
        return metrics;
    }

    public boolean isCompiled() {
        return optimizer != null && loss != null;
    }

    /** Asks a running {@link #fit} to stop after the current batch (thread-safe). */
    public void requestStop() {
        stopRequested = true;
    }

    // ---- compile -------------------------------------------------------------------------------------------
    public void compile(Optimizer optimizer, Loss loss, List<String> metrics) {
        if (optimizer == null || loss == null) throw new IllegalArgumentException("compile needs an optimizer and a loss");
        for (String m : metrics) {
            if (!m.equals("accuracy") && !m.equals("acc")) {
                throw new IllegalArgumentException("unknown metric '" + m + "'; supported: accuracy");
            }
        }
        long[] out = outputShape();
        if (loss.sparseLabels() && out.length != 1) {
            throw new IllegalArgumentException(loss.name() + " needs a model output of shape (None, classes), this "
                    + "model outputs " + Layer.batchShape(out));
        }
        this.optimizer = optimizer;
        this.loss = loss;
        this.metrics = List.copyOf(metrics);
    }

    // ---- forward -------------------------------------------------------------------------------------------
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

    private NDArray castInput(NDArray x) {
        return x.dtype() == dtype ? x : x.cast(dtype);
    }

    /** Forward pass through all layers; with {@code logitsForLoss}, the last softmax Dense stops before softmax. */
    private NDArray forward(NDArray x, boolean training, boolean stopBeforeSoftmax) {
        NDArray h = x;
        int n = layers.size();
        for (int i = 0; i < n; i++) {
            Layer l = layers.get(i);
            Layer.Context ctx = new Layer.Context(training, mix(seed, i, globalStep));
            if (i == n - 1 && stopBeforeSoftmax && endsWithSoftmax()) {
                h = l instanceof Dense ? ((Dense) l).preActivation(h) : h;
            } else {
                h = l.forward(h, ctx);
            }
        }
        return h;
    }

    private boolean endsWithSoftmax() {
        Layer last = layers.get(layers.size() - 1);
        return (last instanceof Dense && ((Dense) last).activation == Activation.SOFTMAX)
                || (last instanceof ActivationLayer && ((ActivationLayer) last).activation == Activation.SOFTMAX);
    }

    private static long mix(long seed, long layer, long step) {
        long z = seed + 0x9E3779B97F4A7C15L * (layer + 1) + 0xBF58476D1CE4E5B9L * (step + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    /**
     * Inference on one batch (no dropout, no gradient). The result is a new array owned by no scope (never
     * {@code x} itself, even for a model whose layers are all identities at inference): the caller may close it.
     */
    public NDArray output(NDArray x) {
        checkInput("predict", x);
        try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
            NDArray y = forward(castInput(x), false, false).contiguous();
            if (y == x) {
                NDArray c = NDArray.empty(y.device(), y.dtype(), y.shape());
                c.device().backend().copy(y, c);
                y = c;
            }
            return MemoryScope.detach(y);
        }
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
        if (batchSize <= 0) throw new IllegalArgumentException("predict: batch_size must be > 0, received batch_size=" + batchSize);
        checkInput("predict", x);
        long n = x.shape(0);
        if (n <= batchSize) return output(x);
        long[] os = outputShape();
        long[] full = new long[os.length + 1];
        full[0] = n;
        System.arraycopy(os, 0, full, 1, os.length);
        NDArray out = NDArray.empty(dtype, full);
        for (long from = 0; from < n; from += batchSize) {
            long to = Math.min(n, from + batchSize);
            try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
                NDArray y = forward(castInput(Ops.slice(x, 0, from, to)), false, false);
                NDArray window = Ops.slice(out, 0, from, to);
                window.device().backend().copy(y, window);
            }
        }
        return MemoryScope.detach(out);
    }

    // ---- training ------------------------------------------------------------------------------------------
    /** Options of {@link #fit}, Keras's names and defaults. */
    public static final class FitOptions {
        public int epochs = 1;
        public int batchSize = 32;
        public double validationSplit = 0;
        public DataSet validationData;
        public boolean shuffle = true;
        public Long seed;
        public boolean checkFinite = true;
        public final List<TrainingListener> listeners = new ArrayList<>();

        public FitOptions epochs(int e) { epochs = e; return this; }
        public FitOptions batchSize(int b) { batchSize = b; return this; }
        public FitOptions validationSplit(double v) { validationSplit = v; return this; }
        public FitOptions validationData(DataSet d) { validationData = d; return this; }
        public FitOptions shuffle(boolean s) { shuffle = s; return this; }
        public FitOptions seed(long s) { seed = s; return this; }
        public FitOptions checkFinite(boolean c) { checkFinite = c; return this; }
        public FitOptions listener(TrainingListener l) { listeners.add(l); return this; }
    }

    /** Trains with a console progress bar on stderr. */
    public History fit(DataSet data, int epochs, int batchSize) {
        return fit(data, new FitOptions().epochs(epochs).batchSize(batchSize).listener(new ConsoleProgress()));
    }

    public History fit(NDArray x, NDArray y, FitOptions o) {
        return fit(new DataSet(x, y), o);
    }

    public History fit(DataSet data, FitOptions o) {
        if (!isCompiled()) {
            throw new IllegalStateException("model '" + name + "' must be compiled before fit: call compile(optimizer, "
                    + "loss, metrics)");
        }
        if (o.epochs < 0) throw new IllegalArgumentException("epochs must be >= 0, received epochs=" + o.epochs);
        if (o.batchSize <= 0) throw new IllegalArgumentException("batch_size must be > 0, received batch_size=" + o.batchSize);
        if (!(o.validationSplit >= 0 && o.validationSplit < 1)) {
            throw new IllegalArgumentException("validation_split must be in [0, 1), received " + o.validationSplit);
        }
        checkInput("fit", data.features());
        checkData("fit", data, o.checkFinite);
        DataSet train = data;
        DataSet val = o.validationData;
        if (val == null && o.validationSplit > 0) {
            long n = data.size();
            long nVal = (long) Math.floor(n * o.validationSplit);
            if (nVal == 0 || nVal == n) {
                throw new IllegalArgumentException("validation_split=" + o.validationSplit + " of " + n
                        + " samples leaves an empty training or validation set");
            }
            train = data.slice(0, n - nVal);
            val = data.slice(n - nVal, n);
        }
        if (val != null) {
            checkInput("fit (validation data)", val.features());
            checkData("fit (validation data)", val, o.checkFinite);
        }
        int n = Math.toIntExact(train.size());
        int steps = (n + o.batchSize - 1) / o.batchSize;
        History history = new History();
        List<TrainingListener> ls = new ArrayList<>(o.listeners);
        ls.add(history);
        for (TrainingListener l : ls) l.onTrainBegin(o.epochs, steps, n);
        stopRequested = false;
        long shuffleSeed = o.seed != null ? o.seed : seed ^ 0x5DEECE66DL;
        List<Parameter> params = parameters();
        NDArray xAll = train.features(), yAll = train.labels();
        int[] order = new int[n];
        for (int epoch = 0; epoch < o.epochs && !stopRequested; epoch++) {
            for (TrainingListener l : ls) l.onEpochBegin(epoch);
            for (int i = 0; i < n; i++) order[i] = i;
            if (o.shuffle) {
                SplittableRandom r = new SplittableRandom(shuffleSeed + epoch);
                for (int i = n - 1; i > 0; i--) {
                    int j = r.nextInt(i + 1);
                    int t = order[i];
                    order[i] = order[j];
                    order[j] = t;
                }
            }
            double lossSum = 0, correct = 0;
            long seen = 0;
            Map<String, Double> logs = new LinkedHashMap<>();
            for (int step = 0; step < steps && !stopRequested; step++) {
                int from = step * o.batchSize, to = Math.min(n, from + o.batchSize);
                try (MemoryScope scope = MemoryScope.open()) {
                    NDArray xb = o.shuffle ? DataSet.gatherRows(xAll, order, from, to) : Ops.slice(xAll, 0, from, to);
                    NDArray yb = o.shuffle ? DataSet.gatherRows(yAll, order, from, to) : Ops.slice(yAll, 0, from, to);
                    for (Parameter p : params) p.value().setGrad(null);
                    boolean fused = loss.fusesSoftmax() && endsWithSoftmax();
                    NDArray out = forward(castInput(xb), true, fused);
                    NDArray per = fused ? loss.perSampleFromSoftmaxLogits(out, yb) : loss.perSample(out, yb);
                    NDArray meanLoss = Ops.mean(per);
                    NDArray reg = regularization(params);
                    NDArray total = reg == null ? meanLoss : Ops.add(meanLoss, reg);
                    double lv = total.getDouble();   // reported like Keras: data loss + regularisation penalty
                    total.backward();
                    optimizer.step(params);
                    globalStep++;
                    lossSum += lv * (to - from);
                    if (!metrics.isEmpty()) correct += countCorrect(out, yb, fused);
                    seen += to - from;
                    for (Parameter p : params) p.value().setGrad(null);
                }
                logs.clear();
                logs.put("loss", lossSum / seen);
                if (!metrics.isEmpty()) logs.put("accuracy", correct / seen);
                for (TrainingListener l : ls) l.onBatchEnd(epoch, step, logs);
            }
            Map<String, Double> epochLogs = new LinkedHashMap<>(logs);
            if (val != null) {
                Map<String, Double> v = evaluate(val, o.batchSize);
                for (Map.Entry<String, Double> e : v.entrySet()) epochLogs.put("val_" + e.getKey(), e.getValue());
            }
            for (TrainingListener l : ls) l.onEpochEnd(epoch, epochLogs);
        }
        for (TrainingListener l : ls) l.onTrainEnd();
        return history;
    }

    /** Sum of l2 * sum(w^2) over regularised parameters (a scalar), or null when none. */
    private NDArray regularization(List<Parameter> params) {
        NDArray r = null;
        for (Parameter p : params) {
            if (p.l2 > 0 && p.trainable) {
                NDArray t = Ops.mul(Ops.sum(Ops.square(p.value())), p.l2);
                r = r == null ? t : Ops.add(r, t);
            }
        }
        return r;
    }

    private void checkData(String what, DataSet d, boolean checkFinite) {
        if (d.size() == 0) throw new IllegalArgumentException(what + ": x is empty (0 samples)");
        if (checkFinite) {
            long bad = Ops.countNonFinite(d.features());
            if (bad > 0) {
                throw new IllegalArgumentException(what + ": x contains " + bad + " NaN or infinite values; clean the "
                        + "data or pass check_finite=False");
            }
        }
        NDArray y = d.labels();
        if (loss != null && loss.sparseLabels()) {
            long classes = outputShape()[0];
            boolean column = y.rank() == 2 && y.shape(1) == 1;
            if (y.rank() != 1 && !column) {
                throw new IllegalArgumentException(what + ": " + loss.name() + " needs integer labels of shape (n,), "
                        + "received " + Shapes.str(y.shape()) + (y.rank() == 2 ? "; for one-hot labels use "
                        + "categorical_crossentropy" : ""));
            }
            double[] v = y.toDoubleArray();
            for (int i = 0; i < v.length; i++) {
                if (!(v[i] >= 0 && v[i] < classes) || v[i] != Math.rint(v[i])) {
                    throw new IllegalArgumentException(what + ": label " + v[i] + " at index " + i + " is not a class "
                            + "index in [0, " + classes + ") for the model's output of " + classes + " classes");
                }
            }
        } else if (loss != null) {
            long[] os = outputShape();
            long[] ys = y.shape();
            long[] want = new long[os.length + 1];
            want[0] = ys[0];
            System.arraycopy(os, 0, want, 1, os.length);
            boolean squeezed = os.length == 1 && os[0] == 1 && ys.length == 1;
            if (!Arrays.equals(ys, want) && !squeezed) {
                throw new IllegalArgumentException(what + ": " + loss.name() + " needs targets of shape "
                        + Layer.batchShape(os) + ", received " + Shapes.str(ys));
            }
            if (checkFinite && Ops.countNonFinite(y) > 0) {
                throw new IllegalArgumentException(what + ": y contains NaN or infinite values");
            }
        }
    }

    private double countCorrect(NDArray out, NDArray yb, boolean logits) {
        if (loss.sparseLabels() || loss instanceof Loss.CategoricalCrossentropy) {
            int[] pred = Ops.argmax(out, -1).toIntArray();
            int[] truth = loss.sparseLabels() ? yb.toIntArray() : Ops.argmax(yb.cast(out.dtype()), -1).toIntArray();
            int c = 0;
            for (int i = 0; i < pred.length; i++) if (pred[i] == truth[i]) c++;
            return c;
        }
        // binary: threshold predictions at 0.5 (0 for logits), mean over outputs per sample
        double[] p = out.toDoubleArray();
        double[] t = yb.toDoubleArray();
        double thr = loss.fromLogits ? 0.0 : 0.5;
        double c = 0;
        for (int i = 0; i < p.length; i++) if ((p[i] > thr) == (t[i] > 0.5)) c++;
        return c / Math.max(1, p.length / Math.max(1, out.shape(0)));
    }

    /** Mean loss (and metrics) over {@code data}, in batches, without dropout. */
    public Map<String, Double> evaluate(DataSet data, int batchSize) {
        if (!isCompiled()) throw new IllegalStateException("model '" + name + "' must be compiled before evaluate");
        if (batchSize <= 0) throw new IllegalArgumentException("batch_size must be > 0, received " + batchSize);
        checkInput("evaluate", data.features());
        checkData("evaluate", data, false);
        long n = data.size();
        double lossSum = 0, correct = 0;
        long lossCount = 0;
        boolean fused = loss.fusesSoftmax() && endsWithSoftmax();
        for (long from = 0; from < n; from += batchSize) {
            long to = Math.min(n, from + batchSize);
            try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
                NDArray xb = Ops.slice(data.features(), 0, from, to);
                NDArray yb = Ops.slice(data.labels(), 0, from, to);
                NDArray out = forward(castInput(xb), false, fused);
                NDArray per = fused ? loss.perSampleFromSoftmaxLogits(out, yb) : loss.perSample(out, yb);
                lossSum += Ops.sum(per).getDouble();
                lossCount += per.size();   // per-sample losses may keep time/space axes: average over all of them
                if (!metrics.isEmpty()) correct += countCorrect(out, yb, fused);
            }
        }
        double penalty = 0;
        try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
            NDArray reg = regularization(parameters());
            if (reg != null) penalty = reg.getDouble();
        }
        Map<String, Double> r = new LinkedHashMap<>();
        r.put("loss", lossSum / Math.max(lossCount, 1) + penalty);   // like Keras: includes the regularisation penalty
        if (!metrics.isEmpty()) r.put("accuracy", correct / n);
        return r;
    }

    public Map<String, Double> evaluate(NDArray x, NDArray y, int batchSize) {
        return evaluate(new DataSet(x, y), batchSize);
    }

    // ---- summary -------------------------------------------------------------------------------------------
    /** Keras-like table: layer (type), output shape, parameter count; totals with memory size. */
    public String summary() {
        StringBuilder sb = new StringBuilder();
        String line = "-".repeat(82) + "\n";
        sb.append("Model: \"").append(name).append("\"\n").append(line);
        sb.append(String.format("%-44s %-24s %12s%n", "Layer (type)", "Output Shape", "Param #"));
        sb.append("=".repeat(82)).append('\n');
        long trainable = 0, total = 0;
        for (Layer l : layers) {
            sb.append(String.format("%-44s %-24s %12s%n", l.name() + " (" + l.type() + ")",
                    Layer.batchShape(l.outputShape()), String.format("%,d", l.paramCount())));
            total += l.paramCount();
            for (Parameter p : l.parameters()) if (p.trainable) trainable += p.value().size();
        }
        sb.append("=".repeat(82)).append('\n');
        double mb = total * (double) dtype.size / (1 << 20);
        sb.append(String.format("Total params: %,d (%.2f MB)%n", total, mb));
        sb.append(String.format("Trainable params: %,d%n", trainable));
        sb.append(String.format("Non-trainable params: %,d%n", total - trainable));
        sb.append(line);
        return sb.toString();
    }

    // ---- config (model files) ------------------------------------------------------------------------------
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("class", "Sequential");
        c.put("name", name);
        c.put("input_shape", inputShape);
        c.put("dtype", dtype.pyName);
        c.put("seed", seed);
        List<Object> ls = new ArrayList<>();
        for (Layer l : layers) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("class", l.type());
            e.put("config", l.config());
            ls.add(e);
        }
        c.put("layers", ls);
        return c;
    }

    public long globalStep() {
        return globalStep;
    }

    public void setGlobalStep(long s) {
        globalStep = s;
    }
}
