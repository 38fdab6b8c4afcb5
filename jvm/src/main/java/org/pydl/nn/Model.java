package org.pydl.nn;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.ops.Autograd;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;

/**
 * A functional model: a graph of layer applications with any number of inputs and outputs, shared layers (one
 * layer applied at several places shares its weights) and merge layers. Tensors of the graph are numbered: the
 * inputs first, then the outputs of each layer application in the order it was added (so the order is
 * topological); an application with several outputs (an RNN with {@code return_state}, attention with
 * {@code return_attention_scores}) numbers them consecutively. An application may carry call arguments (Keras's call
 * kwargs, see {@link Layer.Context#args}). Keras masks flow with the tensors: a layer that creates one
 * (Embedding with {@code mask_zero}, Masking) or receives one hands it on through {@link Layer#computeMasks}.
 * <pre>{@code
 * Model.Graph g = new Model.Graph(DType.FLOAT32, 42);
 * int a = g.input("a", 16), b = g.input("b", 16);
 * Dense shared = new Dense(8, Activation.RELU);
 * int merged = g.call(new Merge(Merge.Mode.CONCATENATE, -1), g.call(shared, a), g.call(shared, b));
 * Model m = g.build("siamese", new int[] {a, b}, new int[] {g.call(new Dense(1, Activation.SIGMOID), merged)});
 * }</pre>
 */
public final class Model extends Network {
    /** One application of a layer to earlier tensors of the graph; its outputs are tensors first .. first+count-1. */
    static final class Node {
        final Layer layer;
        final int[] inputs;
        final Map<String, Object> args;
        final int first;
        final int count;

        Node(Layer layer, int[] inputs, Map<String, Object> args, int first, int count) {
            this.layer = layer;
            this.inputs = inputs;
            this.args = args;
            this.first = first;
            this.count = count;
        }
    }

    /** Builds a graph; layers are built (weights created) when first applied. */
    public static final class Graph {
        private final DType dtype;
        private final long seed;
        private final List<String> inputNames = new ArrayList<>();
        private final List<long[]> inputShapes = new ArrayList<>();
        private final List<Node> nodes = new ArrayList<>();
        private final List<long[]> shapes = new ArrayList<>();   // of every tensor: inputs, then nodes
        private final List<Layer> layers = new ArrayList<>();
        private final Map<Layer, long[][]> builtWith = new IdentityHashMap<>();
        private final Map<Layer, Map<String, Object>> builtArgs = new IdentityHashMap<>();
        private final Map<Layer, List<long[]>> builtOutputs = new IdentityHashMap<>();

        public Graph(DType dtype, long seed) {
            this.dtype = dtype;
            this.seed = seed;
        }

        /** A new input tensor of the given shape (batch axis excluded). Inputs must come before layer calls. */
        public int input(String name, long... shape) {
            if (!nodes.isEmpty()) throw new IllegalStateException("declare every input before applying layers");
            for (long d : shape) {
                if (d <= 0) {
                    throw new IllegalArgumentException("Input '" + name + "': dimensions must be positive, received "
                            + Layer.batchShape(shape));
                }
            }
            inputNames.add(name == null ? "input" + (inputNames.isEmpty() ? "" : "_" + inputNames.size()) : name);
            inputShapes.add(shape.clone());
            shapes.add(shape.clone());
            return shapes.size() - 1;
        }

        /** Applies {@code layer} to earlier tensors; returns the id of its (first) output tensor. */
        public int call(Layer layer, int... inputs) {
            return callAll(layer, Map.of(), inputs)[0];
        }

        /**
         * Applies {@code layer} with call arguments (e.g. {@code return_attention_scores}, {@code use_causal_mask})
         * to earlier tensors; returns the ids of all its output tensors.
         */
        public int[] callAll(Layer layer, Map<String, Object> args, int... inputs) {
            if (inputs.length == 0) throw new IllegalArgumentException("a layer must be applied to at least one tensor");
            args = args == null ? Map.of() : Map.copyOf(args);
            long[][] in = new long[inputs.length][];
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i] < 0 || inputs[i] >= shapes.size()) {
                    throw new IllegalArgumentException("unknown tensor id " + inputs[i]);
                }
                in[i] = shapes.get(inputs[i]);
            }
            List<long[]> out;
            long[][] prev = builtWith.get(layer);
            if (prev == null) {
                if (!layers.isEmpty() || layer.name() == null) {
                    List<Layer> all = new ArrayList<>(layers);
                    all.add(layer);
                    Sequential.nameLayers("model", all);
                }
                out = List.copyOf(layer.buildCall(Arrays.asList(in), args, dtype,
                        seed * 1_000_003L + 7919L * layers.size()));
                builtWith.put(layer, in);
                builtArgs.put(layer, args);
                builtOutputs.put(layer, out);
                layers.add(layer);
            } else {
                if (!Arrays.deepEquals(prev, in)) {
                    throw new IllegalArgumentException("shared layer '" + layer.name() + "' was built for inputs "
                            + describe(prev) + " and cannot be applied to " + describe(in));
                }
                if (!builtArgs.get(layer).equals(args)) {
                    throw new IllegalArgumentException("shared layer '" + layer.name() + "' was first called with "
                            + "arguments " + builtArgs.get(layer) + " and cannot be called again with " + args);
                }
                out = builtOutputs.get(layer);
            }
            int first = shapes.size();
            nodes.add(new Node(layer, inputs.clone(), args, first, out.size()));
            int[] ids = new int[out.size()];
            for (int i = 0; i < ids.length; i++) {
                shapes.add(out.get(i).clone());
                ids[i] = first + i;
            }
            return ids;
        }

        private static String describe(long[][] s) {
            List<String> r = new ArrayList<>();
            for (long[] x : s) r.add(Layer.batchShape(x));
            return r.toString();
        }

        public long[] shape(int tensor) {
            return shapes.get(tensor).clone();
        }

        public Model build(String name, int[] inputs, int[] outputs) {
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i] != i) {
                    throw new IllegalArgumentException("the model's inputs must be the graph's inputs, in order");
                }
            }
            if (inputs.length != inputShapes.size()) {
                throw new IllegalArgumentException("the graph has " + inputShapes.size() + " inputs but the model lists "
                        + inputs.length + "; every input must be used");
            }
            if (outputs.length == 0) throw new IllegalArgumentException("a model needs at least one output");
            for (int o : outputs) {
                if (o < inputShapes.size() || o >= shapes.size()) {
                    throw new IllegalArgumentException("output " + o + " is not a layer output of this graph");
                }
            }
            return new Model(name, dtype, seed, this, outputs);
        }
    }

    private final List<String> inputNames;
    private final List<long[]> inputShapes;
    final List<Node> nodes;
    private final List<Layer> layers;
    final int[] outputs;
    final List<long[]> tensorShapes;
    /** For every tensor id: the node producing it (-1 for inputs). */
    final int[] producer;
    /** Inference fusions, found on first use from the graph alone (never from weights, so never stale). */
    private volatile InferencePlan plan;

    private Model(String name, DType dtype, long seed, Graph g, int[] outputs) {
        super(name == null ? "model" : name, dtype, seed);
        this.inputNames = List.copyOf(g.inputNames);
        this.inputShapes = List.copyOf(g.inputShapes);
        this.nodes = List.copyOf(g.nodes);
        this.layers = List.copyOf(g.layers);
        this.outputs = outputs.clone();
        this.tensorShapes = List.copyOf(g.shapes);
        this.producer = new int[tensorShapes.size()];
        Arrays.fill(producer, -1);
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            for (int i = 0; i < n.count; i++) producer[n.first + i] = k;
        }
    }

    /** The name of tensor {@code t}: its layer's name, with ":i" for the i-th (i > 0) output of an application. */
    private String tensorName(int t) {
        Node n = nodes.get(producer[t]);
        return t == n.first ? n.layer.name() : n.layer.name() + ":" + (t - n.first);
    }

    // ---- the graph ------------------------------------------------------------------------------------------
    @Override
    public List<long[]> inputShapes() {
        List<long[]> r = new ArrayList<>();
        for (long[] s : inputShapes) r.add(s.clone());
        return r;
    }

    @Override
    public List<long[]> outputShapes() {
        List<long[]> r = new ArrayList<>();
        for (int o : outputs) r.add(tensorShapes.get(o).clone());
        return r;
    }

    @Override
    public List<String> outputNames() {
        List<String> r = new ArrayList<>();
        for (int o : outputs) r.add(tensorName(o));
        return r;
    }

    public List<String> inputNames() {
        return inputNames;
    }

    @Override
    public List<Layer> layers() {
        return layers;
    }

    @Override
    protected void checkInput(String what, int i, NDArray x) {
        long[] want = inputShapes.get(i);
        long[] s = x.shape();
        boolean ok = s.length == want.length + 1;
        for (int k = 0; ok && k < want.length; k++) ok = s[k + 1] == want[k];
        if (!ok) {
            throw new IllegalArgumentException(what + ": model '" + name + "' input '" + inputNames.get(i)
                    + "' expects shape " + Layer.batchShape(want) + ", received " + Shapes.str(s)
                    + (s.length == want.length ? "; add a batch axis, e.g. x[None]" : ""));
        }
    }

    @Override
    protected List<NDArray> forwardAll(List<NDArray> xs, boolean training, boolean[] logits) {
        return forwardAll(xs, training, logits, null);
    }

    @Override
    protected List<NDArray> forwardAll(List<NDArray> xs, boolean training, boolean[] logits, NDArray[] outMasks) {
        NDArray[] masks = outMasks == null ? null : new NDArray[tensorShapes.size()];
        NDArray[] values = run(xs, training, logits, masks, true);
        List<NDArray> r = new ArrayList<>(outputs.length);
        for (int i = 0; i < outputs.length; i++) {
            r.add(values[outputs[i]]);
            if (outMasks != null) outMasks[i] = masks[outputs[i]];
        }
        return r;
    }

    /**
     * Runs every node; returns the value of every tensor. Masks are tracked only once some layer creates one, so a
     * graph without masks pays nothing for them. {@code fuse}: inference may follow the {@link InferencePlan} (which
     * skips or overwrites intermediate tensors).
     */
    private NDArray[] run(List<NDArray> xs, boolean training, boolean[] logits, NDArray[] maskStore, boolean fuse) {
        int nIn = inputShapes.size();
        NDArray[] values = new NDArray[tensorShapes.size()];
        NDArray[] masks = null;   // becomes maskStore (or a new array) when the first mask appears
        for (int i = 0; i < nIn; i++) values[i] = xs.get(i);
        InferencePlan ip = !fuse || training || maskStore != null || collectingActivity() || Autograd.isRecording()
                ? null : plan();
        NDArray[] chainBuffers = ip == null ? null : new NDArray[ip.chainChannels.length];
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            if (ip != null && ip.run(k, nodes, values, chainBuffers)) continue;
            List<NDArray> in = new ArrayList<>(n.inputs.length);
            for (int t : n.inputs) in.add(values[t]);
            List<NDArray> inMasks = null;
            if (masks != null) {
                for (int j = 0; j < n.inputs.length; j++) {
                    if (masks[n.inputs[j]] == null) continue;
                    if (inMasks == null) inMasks = new ArrayList<>(java.util.Collections.nCopies(n.inputs.length,
                            (NDArray) null));
                    inMasks.set(j, masks[n.inputs[j]]);
                }
            }
            int outputIndex = n.count == 1 ? indexOf(outputs, n.first) : -1;
            boolean stop = outputIndex >= 0 && logits[outputIndex] && Sequential.isSoftmax(n.layer)
                    && n.layer instanceof Dense;
            Layer.Context ctx = new Layer.Context(training, mix(seed, k, globalStep), inMasks, n.args);
            List<NDArray> out;
            if (stop) {
                out = List.of(recordActivity(n.layer, ((Dense) n.layer).preActivation(in.get(0)), true));
            } else if (n.count == 1 && n.args.isEmpty()) {
                out = List.of(recordActivity(n.layer, n.layer.forwardMulti(in, ctx), false));
            } else {
                out = n.layer.forwardOutputs(in, ctx);
                recordActivity(n.layer, out.get(0), false);
            }
            for (int i = 0; i < n.count; i++) values[n.first + i] = out.get(i);
            if (inMasks != null || n.layer.producesMask()) {
                List<NDArray> om;
                try (Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
                    om = n.layer.computeMasks(in, out, ctx);
                }
                for (int i = 0; i < n.count && om != null && i < om.size(); i++) {
                    if (om.get(i) == null) continue;
                    if (masks == null) masks = maskStore != null ? maskStore : new NDArray[values.length];
                    masks[n.first + i] = om.get(i);
                }
            }
        }
        return values;
    }

    /**
     * What inference fuses (see {@link InferencePlan}), in node order: "bn+activation (in place)" for each
     * BatchNormalization that runs as one pass, "activation (in place)" for an activation applied in place,
     * "padding+conv" for a convolution that applies the ZeroPadding before it, "concat (concat chain i)" for a link of
     * a concatenation chain writing into one buffer; for tests and profiling.
     */
    public List<String> inferenceFusions() {
        return plan().describe(nodes);
    }

    private InferencePlan plan() {
        InferencePlan f = plan;
        if (f == null) plan = f = new InferencePlan(this);
        return f;
    }

    @Override
    public Map<String, NDArray> activations(List<NDArray> xs) {
        for (int i = 0; i < xs.size(); i++) checkInput("activations", i, xs.get(i));
        int nIn = inputShapes.size();
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
            List<NDArray> in = new ArrayList<>();
            for (int i = 0; i < nIn; i++) in.add(castInput(xs.get(i)));
            NDArray[] values = run(in, false, new boolean[outputs.length], null, false);
            for (int t = nIn; t < values.length; t++) out.put(tensorName(t), values[t]);
            for (Map.Entry<String, NDArray> e : out.entrySet()) e.setValue(MemoryScope.detach(e.getValue().contiguous()));
        }
        return out;
    }

    private static int indexOf(int[] a, int v) {
        for (int i = 0; i < a.length; i++) if (a[i] == v) return i;
        return -1;
    }

    @Override
    protected boolean endsWithSoftmax(int output) {
        Node n = nodes.get(producer[outputs[output]]);
        return n.count == 1 && n.layer instanceof Dense && Sequential.isSoftmax(n.layer);
    }

    // ---- config (model files) ------------------------------------------------------------------------------
    @Override
    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("class", "Model");
        c.put("name", name);
        c.put("dtype", dtype.pyName);
        c.put("seed", seed);
        List<Object> ins = new ArrayList<>();
        for (int i = 0; i < inputShapes.size(); i++) {
            Map<String, Object> m = new LinkedHashMap<>();
            m.put("name", inputNames.get(i));
            m.put("shape", inputShapes.get(i));
            ins.add(m);
        }
        c.put("inputs", ins);
        c.put("layers", layerConfigs(layers));
        List<Object> ns = new ArrayList<>();
        for (Node n : nodes) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("layer", n.layer.name());
            e.put("inputs", n.inputs);
            if (!n.args.isEmpty()) e.put("args", n.args);
            ns.add(e);
        }
        c.put("nodes", ns);
        c.put("outputs", outputs);
        return c;
    }

    /** Rebuilds a model from {@link #config()} (layers by class name, nodes in order); runs no code from it. */
    public static Model fromConfig(Map<String, Object> c) {
        return fromConfig(c, Map.of());
    }

    /**
     * Like {@link #fromConfig(Map)}, but a layer of class Sequential or Model whose name is a key of {@code nested}
     * becomes that existing network (shared, as when a Keras model is called on a tensor) instead of a new one.
     */
    @SuppressWarnings("unchecked")
    public static Model fromConfig(Map<String, Object> c, Map<String, Network> nested) {
        Graph g = new Graph(DType.of(Json.getString(c, "dtype", "float32")), Json.getLong(c, "seed", 0));
        for (Object o : Json.getList(c, "inputs")) {
            Map<String, Object> m = (Map<String, Object>) o;
            g.input(Json.getString(m, "name"), Json.getLongArray(m, "shape"));
        }
        Map<String, Layer> byName = new LinkedHashMap<>();
        for (Object o : Json.getList(c, "layers")) {
            Map<String, Object> m = (Map<String, Object>) o;
            String cls = Json.getString(m, "class");
            Map<String, Object> lc = Json.getMap(m, "config");
            String lname = Json.getString(lc, "name", null);
            Layer l;
            if ((cls.equals("Sequential") || cls.equals("Model")) && lname != null && nested.containsKey(lname)) {
                l = new NestedModel(nested.get(lname));
                l.setName(lname);
            } else {
                l = Layers.fromConfig(cls, lc);
            }
            if (l.name() == null || byName.put(l.name(), l) != null) {
                throw new IllegalArgumentException("model config: layer names must be present and unique ("
                        + l.name() + ")");
            }
        }
        for (Object o : Json.getList(c, "nodes")) {
            Map<String, Object> m = (Map<String, Object>) o;
            Layer l = byName.get(Json.getString(m, "layer"));
            if (l == null) throw new IllegalArgumentException("model config: node uses unknown layer " + m.get("layer"));
            long[] ins = Json.getLongArray(m, "inputs");
            int[] ids = new int[ins.length];
            for (int i = 0; i < ins.length; i++) ids[i] = Math.toIntExact(ins[i]);
            Object args = m.get("args");
            if (args != null && !(args instanceof Map)) {
                throw new IllegalArgumentException("model config: node of layer " + l.name() + " has args " + args
                        + "; expected an object");
            }
            g.callAll(l, args == null ? Map.of() : (Map<String, Object>) args, ids);
        }
        long[] outs = Json.getLongArray(c, "outputs");
        int[] o = new int[outs.length];
        for (int i = 0; i < outs.length; i++) o[i] = Math.toIntExact(outs[i]);
        int[] inputs = new int[g.inputShapes.size()];
        for (int i = 0; i < inputs.length; i++) inputs[i] = i;
        return g.build(Json.getString(c, "name", "model"), inputs, o);
    }
}
