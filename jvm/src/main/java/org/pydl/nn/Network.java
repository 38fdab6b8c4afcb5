package org.pydl.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
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
 * What {@link Sequential} and the functional {@link Model} share: compile (one loss per output, loss weights),
 * the training loop (entirely in Java: per batch a memory scope, forward, autodiff backward, one optimizer step),
 * evaluate, batched inference and the summary. Subclasses supply the graph: input/output shapes and a forward pass.
 *
 * <p>Logs: with one output, "loss" and "accuracy" (Keras's names); with several, "loss" is the weighted total and
 * each output adds "&lt;output&gt;_loss" and "&lt;output&gt;_accuracy".
 */
public abstract class Network {
    protected final String name;
    protected final DType dtype;
    protected final long seed;
    protected Optimizer optimizer;
    protected List<Loss> losses;
    protected double[] lossWeights;
    protected List<String> metrics = List.of();
    private volatile boolean stopRequested;
    protected long globalStep;

    protected Network(String name, DType dtype, long seed) {
        this.name = name;
        this.dtype = dtype;
        this.seed = seed;
    }

    // ---- the graph, supplied by subclasses -----------------------------------------------------------------
    public abstract List<long[]> inputShapes();

    public abstract List<long[]> outputShapes();

    /** Names of the outputs (the layers producing them), used in logs of multi-output models. */
    public abstract List<String> outputNames();

    /** Every layer once, in build order. */
    public abstract List<Layer> layers();

    /**
     * The forward pass. For each output i with {@code logits[i]} set and {@link #endsWithSoftmax(int)} true, the
     * output is returned before its final softmax (the loss then uses the fused softmax cross-entropy).
     */
    protected abstract List<NDArray> forwardAll(List<NDArray> xs, boolean training, boolean[] logits);

    /**
     * {@link #forwardAll}, also storing output i's Keras mask (or null) in {@code outMasks[i]}: losses of masked
     * outputs average over the unmasked steps only (Keras 3).
     */
    protected List<NDArray> forwardAll(List<NDArray> xs, boolean training, boolean[] logits, NDArray[] outMasks) {
        return forwardAll(xs, training, logits);
    }

    /**
     * Keras 3's masked loss: the mean of the per-step losses over the steps the mask keeps ([batch, time] mask,
     * per-sample losses [batch, time, ...]); {@code {sum, count}} for accumulation.
     */
    static NDArray[] maskedLoss(NDArray per, NDArray mask) {
        if (mask == null || per.rank() < 2 || per.shape(0) != mask.shape(0) || per.shape(1) != mask.shape(1)) {
            return new NDArray[] {Ops.sum(per), NDArray.scalar(per.size(), per.dtype())};
        }
        NDArray m = Masks.expand(mask, per.rank());
        double extra = (double) per.size() / (per.shape(0) * per.shape(1));
        return new NDArray[] {Ops.sum(Ops.mul(per, m)), Ops.mul(Ops.sum(mask), extra)};
    }

    protected abstract boolean endsWithSoftmax(int output);

    /** The "layers" entry of a model config: {"class": Keras class name, "config": ...} per layer, in order. */
    static List<Object> layerConfigs(List<Layer> layers) {
        List<Object> ls = new ArrayList<>();
        for (Layer l : layers) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("class", l.type());
            e.put("config", l.config());
            ls.add(e);
        }
        return ls;
    }

    /**
     * Inference that also returns every layer's output, keyed by layer name (for a layer applied several times,
     * its last application): for debugging and for layer-by-layer comparisons with a reference.
     */
    public abstract Map<String, NDArray> activations(List<NDArray> xs);

    public abstract Map<String, Object> config();

    /** Checks input i of a batch; the message names the model, the first layer reading it, and both shapes. */
    protected abstract void checkInput(String what, int i, NDArray x);

    // ---- accessors -----------------------------------------------------------------------------------------
    public String name() {
        return name;
    }

    public DType dtype() {
        return dtype;
    }

    public long seed() {
        return seed;
    }

    public Layer getLayer(String layerName) {
        for (Layer l : layers()) if (l.name().equals(layerName)) return l;
        throw new IllegalArgumentException("no layer named '" + layerName + "' in model '" + name + "'");
    }

    /** Parameters of every layer, each once (a shared layer's weights are listed once). */
    public List<Parameter> parameters() {
        List<Parameter> ps = new ArrayList<>();
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        for (Layer l : layers()) for (Parameter p : l.parameters()) if (seen.put(p, Boolean.TRUE) == null) ps.add(p);
        return ps;
    }

    /**
     * Every parameter under a unique path: "layer/param", and "nested/layer/param" for layers of a model used as a
     * layer (the names of model files).
     */
    public Map<String, Parameter> namedParameters() {
        Map<String, Parameter> out = new LinkedHashMap<>();
        Map<Parameter, Boolean> seen = new IdentityHashMap<>();
        for (Layer l : layers()) {
            if (l instanceof NestedModel) {
                for (Map.Entry<String, Parameter> e : ((NestedModel) l).network().namedParameters().entrySet()) {
                    if (seen.put(e.getValue(), Boolean.TRUE) == null) put(out, l.name() + "/" + e.getKey(), e.getValue());
                }
            } else {
                for (Parameter p : l.parameters()) if (seen.put(p, Boolean.TRUE) == null) put(out, p.name, p);
            }
        }
        return out;
    }

    private void put(Map<String, Parameter> out, String key, Parameter p) {
        if (out.put(key, p) != null) {
            throw new IllegalArgumentException("model '" + name + "': two parameters are named '" + key
                    + "'; give the layers unique names");
        }
    }

    public long paramCount() {
        long n = 0;
        for (Parameter p : parameters()) n += p.value().size();
        return n;
    }

    public Optimizer optimizer() {
        return optimizer;
    }

    /** The loss of the first output. */
    public Loss loss() {
        return losses == null ? null : losses.get(0);
    }

    public List<Loss> losses() {
        return losses;
    }

    public double[] lossWeights() {
        return lossWeights == null ? null : lossWeights.clone();
    }

    public List<String> metrics() {
        return metrics;
    }

    public boolean isCompiled() {
        return optimizer != null && losses != null;
    }

    /** Asks a running {@link #fit} to stop after the current batch (thread-safe). */
    public void requestStop() {
        stopRequested = true;
    }

    public long globalStep() {
        return globalStep;
    }

    public void setGlobalStep(long s) {
        globalStep = s;
    }

    protected static long mix(long seed, long layer, long step) {
        long z = seed + 0x9E3779B97F4A7C15L * (layer + 1) + 0xBF58476D1CE4E5B9L * (step + 1);
        z = (z ^ (z >>> 30)) * 0xBF58476D1CE4E5B9L;
        z = (z ^ (z >>> 27)) * 0x94D049BB133111EBL;
        return z ^ (z >>> 31);
    }

    // ---- compile -------------------------------------------------------------------------------------------
    public void compile(Optimizer optimizer, Loss loss, List<String> metrics) {
        compile(optimizer, Collections.nCopies(outputShapes().size(), loss), null, metrics);
    }

    /** One loss per output (a single loss is used for every output), optional weights of the total loss. */
    public void compile(Optimizer optimizer, List<Loss> losses, double[] lossWeights, List<String> metrics) {
        if (optimizer == null || losses == null || losses.isEmpty() || losses.contains(null)) {
            throw new IllegalArgumentException("compile needs an optimizer and a loss");
        }
        int outs = outputShapes().size();
        if (losses.size() == 1 && outs > 1) losses = Collections.nCopies(outs, losses.get(0));
        if (losses.size() != outs) {
            throw new IllegalArgumentException("compile: model '" + name + "' has " + outs + " outputs " + outputNames()
                    + " but " + losses.size() + " losses were given");
        }
        if (lossWeights != null && lossWeights.length != outs) {
            throw new IllegalArgumentException("compile: " + lossWeights.length + " loss_weights for " + outs + " outputs");
        }
        for (String m : metrics) {
            if (!m.equals("accuracy") && !m.equals("acc")) {
                throw new IllegalArgumentException("unknown metric '" + m + "'; supported: accuracy");
            }
        }
        for (int i = 0; i < outs; i++) {
            long[] out = outputShapes().get(i);
            Loss loss = losses.get(i);
            if (loss.sparseLabels() && out.length < 1) {
                throw new IllegalArgumentException(loss.name() + " needs a model output of shape (None, ..., classes), "
                        + "this model outputs " + Layer.batchShape(out) + (outs > 1 ? " at output '"
                        + outputNames().get(i) + "'" : ""));
            }
        }
        this.optimizer = optimizer;
        this.losses = List.copyOf(losses);
        this.lossWeights = lossWeights == null ? null : lossWeights.clone();
        this.metrics = List.copyOf(metrics);
    }

    // ---- inference -----------------------------------------------------------------------------------------
    protected NDArray castInput(NDArray x) {
        return x.dtype() == dtype ? x : x.cast(dtype);
    }

    private List<NDArray> cast(List<NDArray> xs) {
        List<NDArray> out = new ArrayList<>(xs.size());
        for (NDArray x : xs) out.add(castInput(x));
        return out;
    }

    private void checkInputs(String what, List<NDArray> xs) {
        int n = inputShapes().size();
        if (xs.size() != n) {
            throw new IllegalArgumentException(what + ": model '" + name + "' has " + n + " inputs, received "
                    + xs.size() + " arrays");
        }
        for (int i = 0; i < n; i++) checkInput(what, i, xs.get(i));
        for (int i = 1; i < n; i++) {
            if (xs.get(i).shape(0) != xs.get(0).shape(0)) {
                throw new IllegalArgumentException(what + ": input " + i + " has " + xs.get(i).shape(0) + " samples, "
                        + "input 0 has " + xs.get(0).shape(0));
            }
        }
    }

    /** Inference on one batch of every input (no dropout, no gradient); results are owned by no scope. */
    public List<NDArray> outputAll(List<NDArray> xs) {
        checkInputs("predict", xs);
        try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
            List<NDArray> ys = forwardAll(cast(xs), false, new boolean[outputShapes().size()]);
            List<NDArray> out = new ArrayList<>(ys.size());
            for (NDArray y : ys) {
                NDArray c = y.contiguous();
                if (xs.contains(c) || out.contains(c)) {  // never hand back an input (identity models) or a twin
                    NDArray copy = NDArray.empty(c.device(), c.dtype(), c.shape());
                    copy.device().backend().copy(c, copy);
                    c = copy;
                }
                out.add(MemoryScope.detach(c));
            }
            return out;
        }
    }

    /** Inference in batches of {@code batchSize}. */
    public List<NDArray> outputAll(List<NDArray> xs, int batchSize) {
        if (batchSize <= 0) {
            throw new IllegalArgumentException("predict: batch_size must be > 0, received batch_size=" + batchSize);
        }
        checkInputs("predict", xs);
        long n = xs.get(0).shape(0);
        if (n <= batchSize) return outputAll(xs);
        List<long[]> os = outputShapes();
        List<NDArray> outs = new ArrayList<>();
        for (long[] o : os) {
            long[] full = new long[o.length + 1];
            full[0] = n;
            System.arraycopy(o, 0, full, 1, o.length);
            outs.add(MemoryScope.detach(NDArray.empty(dtype, full)));
        }
        for (long from = 0; from < n; from += batchSize) {
            long to = Math.min(n, from + batchSize);
            try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
                List<NDArray> xb = new ArrayList<>();
                for (NDArray x : xs) xb.add(castInput(Ops.slice(x, 0, from, to)));
                List<NDArray> ys = forwardAll(xb, false, new boolean[os.size()]);
                for (int i = 0; i < ys.size(); i++) {
                    NDArray window = Ops.slice(outs.get(i), 0, from, to);
                    window.device().backend().copy(ys.get(i), window);
                }
            }
        }
        return outs;
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
        checkInputs("fit", data.featureList());
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
            checkInputs("fit (validation data)", val.featureList());
            checkData("fit (validation data)", val, o.checkFinite);
        }
        int n = Math.toIntExact(train.size());
        int steps = (n + o.batchSize - 1) / o.batchSize;
        int outs = losses.size();
        History history = new History();
        List<TrainingListener> ls = new ArrayList<>(o.listeners);
        ls.add(history);
        for (TrainingListener l : ls) l.onTrainBegin(o.epochs, steps, n);
        stopRequested = false;
        long shuffleSeed = o.seed != null ? o.seed : seed ^ 0x5DEECE66DL;
        List<Parameter> params = parameters();
        boolean[] fused = fusedOutputs();
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
            double lossSum = 0;
            double[] outLossSum = new double[outs], correct = new double[outs];
            long seen = 0;
            Map<String, Double> logs = new LinkedHashMap<>();
            for (int step = 0; step < steps && !stopRequested; step++) {
                int from = step * o.batchSize, to = Math.min(n, from + o.batchSize);
                try (MemoryScope scope = MemoryScope.open()) {
                    List<NDArray> xb = batch(train.featureList(), order, from, to, o.shuffle);
                    List<NDArray> yb = batch(train.labelList(), order, from, to, o.shuffle);
                    for (Parameter p : params) p.value().setGrad(null);
                    activityPenalties = new ArrayList<>();
                    NDArray[] outMasks = new NDArray[outs];
                    List<NDArray> out = forwardAll(cast(xb), true, fused, outMasks);
                    NDArray total = null;
                    for (int i = 0; i < outs; i++) {
                        NDArray per = perSample(i, out.get(i), yb.get(i), fused[i]);
                        NDArray mean;
                        if (outMasks[i] == null) {
                            mean = Ops.mean(per);
                        } else {
                            NDArray[] sc = maskedLoss(per, outMasks[i]);
                            mean = Ops.div(sc[0], Ops.add(sc[1], 1e-7));   // Keras: sum / (valid + epsilon)
                        }
                        outLossSum[i] += mean.getDouble() * (to - from);
                        NDArray term = lossWeights == null || lossWeights[i] == 1.0 ? mean : Ops.mul(mean, lossWeights[i]);
                        total = total == null ? term : Ops.add(total, term);
                        if (!metrics.isEmpty()) correct[i] += countCorrect(i, out.get(i), yb.get(i));
                    }
                    NDArray reg = regularization(params);
                    activityPenalties = null;
                    if (reg != null) total = Ops.add(total, reg);
                    double lv = total.getDouble();   // reported like Keras: data loss + regularisation penalty
                    total.backward();
                    optimizer.step(params);
                    applyConstraints(params);
                    globalStep++;
                    lossSum += lv * (to - from);
                    seen += to - from;
                    for (Parameter p : params) p.value().setGrad(null);
                }
                logs.clear();
                logs.put("loss", lossSum / seen);
                putOutputLogs(logs, outLossSum, correct, seen);
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

    private static List<NDArray> batch(List<NDArray> arrays, int[] order, int from, int to, boolean shuffled) {
        List<NDArray> out = new ArrayList<>(arrays.size());
        for (NDArray a : arrays) out.add(shuffled ? DataSet.gatherRows(a, order, from, to) : Ops.slice(a, 0, from, to));
        return out;
    }

    private boolean[] fusedOutputs() {
        boolean[] f = new boolean[losses.size()];
        for (int i = 0; i < f.length; i++) f[i] = losses.get(i).fusesSoftmax() && endsWithSoftmax(i);
        return f;
    }

    private NDArray perSample(int i, NDArray out, NDArray y, boolean fused) {
        Loss loss = losses.get(i);
        return fused ? loss.perSampleFromSoftmaxLogits(out, y) : loss.perSample(out, y);
    }

    private void putOutputLogs(Map<String, Double> logs, double[] outLoss, double[] correct, double count) {
        int outs = losses.size();
        if (outs == 1) {
            if (!metrics.isEmpty()) logs.put("accuracy", correct[0] / count);
            return;
        }
        List<String> names = outputNames();
        for (int i = 0; i < outs; i++) logs.put(names.get(i) + "_loss", outLoss[i] / count);
        if (!metrics.isEmpty()) for (int i = 0; i < outs; i++) logs.put(names.get(i) + "_accuracy", correct[i] / count);
    }

    /**
     * Sum of the weight regularizers' penalties over trainable parameters plus the activity penalties recorded by the
     * last forward pass (a scalar), or null when there are none.
     */
    private NDArray regularization(List<Parameter> params) {
        NDArray r = null;
        for (Parameter p : params) {
            if (p.regularizer != null && p.trainable && (p.regularizer.l1 > 0 || p.regularizer.l2 > 0)) {
                NDArray t = p.regularizer.penalty(p.value());
                r = r == null ? t : Ops.add(r, t);
            }
        }
        if (activityPenalties != null) for (NDArray t : activityPenalties) r = r == null ? t : Ops.add(r, t);
        return r;
    }

    /** Activity penalties of the current training or evaluation forward pass; null when not collecting. */
    private List<NDArray> activityPenalties;

    /** True while a training or evaluation pass collects activity penalties (so every layer output must be seen). */
    protected final boolean collectingActivity() {
        return activityPenalties != null;
    }

    /**
     * Called by subclasses' forward passes with each layer's output: records the layer's activity_regularizer
     * penalty (Keras 3: regularizer(output), not divided by the batch size). {@code logits}: y is a softmax
     * layer's logits (fused loss), so the penalty is taken on softmax(y), the layer's real output.
     */
    protected final NDArray recordActivity(Layer l, NDArray y, boolean logits) {
        Regularizer r = l.activityRegularizer();
        if (activityPenalties != null && r != null && (r.l1 > 0 || r.l2 > 0)) {
            activityPenalties.add(r.penalty(logits ? Ops.softmax(y, -1) : y));
        }
        return y;
    }

    /** Keras applies each weight's constraint after the optimizer step: w = constraint(w). */
    private static void applyConstraints(List<Parameter> params) {
        try (Autograd.AutoCloseable0 g = Autograd.noGrad()) {
            for (Parameter p : params) if (p.constraint != null && p.trainable) p.set(p.constraint.apply(p.value()));
        }
    }

    private void checkData(String what, DataSet d, boolean checkFinite) {
        if (d.size() == 0) throw new IllegalArgumentException(what + ": x is empty (0 samples)");
        if (checkFinite) {
            for (NDArray x : d.featureList()) {
                long bad = Ops.countNonFinite(x);
                if (bad > 0) {
                    throw new IllegalArgumentException(what + ": x contains " + bad + " NaN or infinite values; clean "
                            + "the data or pass check_finite=False");
                }
            }
        }
        if (losses == null) return;
        List<NDArray> ys = d.labelList();
        if (ys.size() != losses.size()) {
            throw new IllegalArgumentException(what + ": model '" + name + "' has " + losses.size() + " outputs "
                    + outputNames() + ", received " + ys.size() + " target arrays");
        }
        for (int k = 0; k < ys.size(); k++) {
            NDArray y = ys.get(k);
            Loss loss = losses.get(k);
            long[] os = outputShapes().get(k);
            String at = ys.size() > 1 ? " (output '" + outputNames().get(k) + "')" : "";
            if (loss.sparseLabels()) {
                long classes = os[os.length - 1];
                long[] want = new long[os.length];   // (n, ...): the output shape without its class axis
                want[0] = y.shape(0);
                System.arraycopy(os, 0, want, 1, os.length - 1);
                long[] withOne = Arrays.copyOf(want, want.length + 1);
                withOne[want.length] = 1;
                if (!Arrays.equals(y.shape(), want) && !Arrays.equals(y.shape(), withOne)) {
                    throw new IllegalArgumentException(what + at + ": " + loss.name() + " needs integer labels of shape "
                            + labelShape(Arrays.copyOfRange(want, 1, want.length))
                            + ", received " + Shapes.str(y.shape()) + (y.rank() == want.length + 1 && y.shape(-1) != 1
                            ? "; for one-hot labels use categorical_crossentropy" : ""));
                }
                double[] v = y.toDoubleArray();
                for (int i = 0; i < v.length; i++) {
                    if (!(v[i] >= 0 && v[i] < classes) || v[i] != Math.rint(v[i])) {
                        throw new IllegalArgumentException(what + at + ": label " + v[i] + " at index " + i + " is not a "
                                + "class index in [0, " + classes + ") for the model's output of " + classes
                                + " classes");
                    }
                }
            } else {
                long[] yshape = y.shape();
                long[] want = new long[os.length + 1];
                want[0] = yshape[0];
                System.arraycopy(os, 0, want, 1, os.length);
                boolean squeezed = os.length == 1 && os[0] == 1 && yshape.length == 1;
                if (!Arrays.equals(yshape, want) && !squeezed) {
                    throw new IllegalArgumentException(what + at + ": " + loss.name() + " needs targets of shape "
                            + Layer.batchShape(os) + ", received " + Shapes.str(yshape));
                }
                if (checkFinite && Ops.countNonFinite(y) > 0) {
                    throw new IllegalArgumentException(what + at + ": y contains NaN or infinite values");
                }
            }
        }
    }

    /** "(n,)" or "(n, 50)": the label shape a sparse loss expects, n for the samples. */
    private static String labelShape(long[] rest) {
        StringBuilder sb = new StringBuilder("(n");
        if (rest.length == 0) sb.append(',');
        for (long d : rest) sb.append(", ").append(d);
        return sb.append(')').toString();
    }

    private double countCorrect(int k, NDArray out, NDArray yb) {
        Loss loss = losses.get(k);
        if (loss.sparseLabels() || loss instanceof Loss.CategoricalCrossentropy) {
            int[] pred = Ops.argmax(out, -1).toIntArray();
            int[] truth = loss.sparseLabels() ? yb.toIntArray() : Ops.argmax(yb.cast(out.dtype()), -1).toIntArray();
            int c = 0;
            for (int i = 0; i < pred.length; i++) if (pred[i] == truth[i]) c++;
            // sequence outputs: the fraction of correct steps, so accuracy stays a mean per sample
            return (double) c / Math.max(1, pred.length / Math.max(1, out.shape(0)));
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
        checkInputs("evaluate", data.featureList());
        checkData("evaluate", data, false);
        long n = data.size();
        int outs = losses.size();
        double[] lossSum = new double[outs], correct = new double[outs];
        long[] lossCount = new long[outs];
        boolean[] fused = fusedOutputs();
        double activitySum = 0;   // activity penalties, weighted by batch size as Keras's loss tracker does
        for (long from = 0; from < n; from += batchSize) {
            long to = Math.min(n, from + batchSize);
            try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
                DataSet b = data.slice(from, to);
                activityPenalties = new ArrayList<>();
                NDArray[] outMasks = new NDArray[outs];
                List<NDArray> out = forwardAll(cast(b.featureList()), false, fused, outMasks);
                for (NDArray t : activityPenalties) activitySum += t.getDouble() * (to - from);
                activityPenalties = null;
                for (int i = 0; i < outs; i++) {
                    NDArray per = perSample(i, out.get(i), b.labelList().get(i), fused[i]);
                    // per-sample losses may keep time/space axes: average over all (the unmasked ones)
                    NDArray[] sc = maskedLoss(per, outMasks[i]);
                    lossSum[i] += sc[0].getDouble();
                    lossCount[i] += Math.round(sc[1].getDouble());
                    if (!metrics.isEmpty()) correct[i] += countCorrect(i, out.get(i), b.labelList().get(i));
                }
            }
        }
        double penalty = activitySum / n;
        activityPenalties = null;
        try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
            NDArray reg = regularization(parameters());
            if (reg != null) penalty += reg.getDouble();
        }
        double total = penalty;
        double[] outLoss = new double[outs];
        for (int i = 0; i < outs; i++) {
            outLoss[i] = lossSum[i] / Math.max(lossCount[i], 1);
            total += (lossWeights == null ? 1.0 : lossWeights[i]) * outLoss[i];
        }
        Map<String, Double> r = new LinkedHashMap<>();
        r.put("loss", total);   // like Keras: includes the regularisation penalty
        // per-output losses are means per element; putOutputLogs divides by its count argument
        for (int i = 0; i < outs; i++) outLoss[i] *= n;
        putOutputLogs(r, outLoss, correct, n);
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
        for (Layer l : layers()) {
            sb.append(String.format("%-44s %-24s %12s%n", l.name() + " (" + l.type() + ")",
                    Layer.batchShape(l.outputShape()), String.format("%,d", l.paramCount())));
        }
        long trainable = 0, total = 0;
        for (Parameter p : parameters()) {
            total += p.value().size();
            if (p.trainable) trainable += p.value().size();
        }
        sb.append("=".repeat(82)).append('\n');
        double mb = total * (double) dtype.size / (1 << 20);
        sb.append(String.format("Total params: %,d (%.2f MB)%n", total, mb));
        sb.append(String.format("Trainable params: %,d%n", trainable));
        sb.append(String.format("Non-trainable params: %,d%n", total - trainable));
        sb.append(line);
        return sb.toString();
    }
}
