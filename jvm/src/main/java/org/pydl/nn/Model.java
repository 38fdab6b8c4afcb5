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
 * inputs first, then each layer application in the order it was added (so the order is topological).
 * <pre>{@code
 * Model.Graph g = new Model.Graph(DType.FLOAT32, 42);
 * int a = g.input("a", 16), b = g.input("b", 16);
 * Dense shared = new Dense(8, Activation.RELU);
 * int merged = g.call(new Merge(Merge.Mode.CONCATENATE, -1), g.call(shared, a), g.call(shared, b));
 * Model m = g.build("siamese", new int[] {a, b}, new int[] {g.call(new Dense(1, Activation.SIGMOID), merged)});
 * }</pre>
 */
public final class Model extends Network {
    /** One application of a layer to earlier tensors of the graph. */
    private static final class Node {
        final Layer layer;
        final int[] inputs;

        Node(Layer layer, int[] inputs) {
            this.layer = layer;
            this.inputs = inputs;
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

        /** Applies {@code layer} to earlier tensors; returns the new tensor's id. */
        public int call(Layer layer, int... inputs) {
            if (inputs.length == 0) throw new IllegalArgumentException("a layer must be applied to at least one tensor");
            long[][] in = new long[inputs.length][];
            for (int i = 0; i < inputs.length; i++) {
                if (inputs[i] < 0 || inputs[i] >= shapes.size()) {
                    throw new IllegalArgumentException("unknown tensor id " + inputs[i]);
                }
                in[i] = shapes.get(inputs[i]);
            }
            long[] out;
            long[][] prev = builtWith.get(layer);
            if (prev == null) {
                if (!layers.isEmpty() || layer.name() == null) {
                    List<Layer> all = new ArrayList<>(layers);
                    all.add(layer);
                    Sequential.nameLayers("model", all);
                }
                out = layer.buildMulti(Arrays.asList(in), dtype, seed * 1_000_003L + 7919L * layers.size());
                builtWith.put(layer, in);
                layers.add(layer);
            } else {
                if (!Arrays.deepEquals(prev, in)) {
                    throw new IllegalArgumentException("shared layer '" + layer.name() + "' was built for inputs "
                            + describe(prev) + " and cannot be applied to " + describe(in));
                }
                out = layer.outputShape();
            }
            nodes.add(new Node(layer, inputs.clone()));
            shapes.add(out);
            return shapes.size() - 1;
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
    private final List<Node> nodes;
    private final List<Layer> layers;
    private final int[] outputs;
    private final List<long[]> tensorShapes;

    private Model(String name, DType dtype, long seed, Graph g, int[] outputs) {
        super(name == null ? "model" : name, dtype, seed);
        this.inputNames = List.copyOf(g.inputNames);
        this.inputShapes = List.copyOf(g.inputShapes);
        this.nodes = List.copyOf(g.nodes);
        this.layers = List.copyOf(g.layers);
        this.outputs = outputs.clone();
        this.tensorShapes = List.copyOf(g.shapes);
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
        for (int o : outputs) r.add(nodes.get(o - inputShapes.size()).layer.name());
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
        int nIn = inputShapes.size();
        NDArray[] values = new NDArray[nIn + nodes.size()];
        for (int i = 0; i < nIn; i++) values[i] = xs.get(i);
        for (int k = 0; k < nodes.size(); k++) {
            Node n = nodes.get(k);
            List<NDArray> in = new ArrayList<>(n.inputs.length);
            for (int t : n.inputs) in.add(values[t]);
            int out = nIn + k;
            int outputIndex = indexOf(outputs, out);
            boolean stop = outputIndex >= 0 && logits[outputIndex] && Sequential.isSoftmax(n.layer)
                    && n.layer instanceof Dense;
            Layer.Context ctx = new Layer.Context(training, mix(seed, k, globalStep));
            values[out] = recordActivity(n.layer, stop ? ((Dense) n.layer).preActivation(in.get(0))
                    : n.layer.forwardMulti(in, ctx), stop);
        }
        List<NDArray> r = new ArrayList<>(outputs.length);
        for (int o : outputs) r.add(values[o]);
        return r;
    }

    @Override
    public Map<String, NDArray> activations(List<NDArray> xs) {
        for (int i = 0; i < xs.size(); i++) checkInput("activations", i, xs.get(i));
        int nIn = inputShapes.size();
        NDArray[] values = new NDArray[nIn + nodes.size()];
        Map<String, NDArray> out = new LinkedHashMap<>();
        try (Autograd.AutoCloseable0 g = Autograd.noGrad(); MemoryScope s = MemoryScope.open()) {
            for (int i = 0; i < nIn; i++) values[i] = castInput(xs.get(i));
            for (int k = 0; k < nodes.size(); k++) {
                Node n = nodes.get(k);
                List<NDArray> in = new ArrayList<>(n.inputs.length);
                for (int t : n.inputs) in.add(values[t]);
                values[nIn + k] = n.layer.forwardMulti(in, new Layer.Context(false, mix(seed, k, globalStep)));
                out.put(n.layer.name(), values[nIn + k]);
            }
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
        Layer l = nodes.get(outputs[output] - inputShapes.size()).layer;
        return l instanceof Dense && Sequential.isSoftmax(l);
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
        List<Object> ls = new ArrayList<>();
        for (Layer l : layers) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("class", l.type());
            e.put("config", l.config());
            ls.add(e);
        }
        c.put("layers", ls);
        List<Object> ns = new ArrayList<>();
        for (Node n : nodes) {
            Map<String, Object> e = new LinkedHashMap<>();
            e.put("layer", n.layer.name());
            e.put("inputs", n.inputs);
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
            g.call(l, ids);
        }
        long[] outs = Json.getLongArray(c, "outputs");
        int[] o = new int[outs.length];
        for (int i = 0; i < outs.length; i++) o[i] = Math.toIntExact(outs[i]);
        int[] inputs = new int[g.inputShapes.size()];
        for (int i = 0; i < inputs.length; i++) inputs[i] = i;
        return g.build(Json.getString(c, "name", "model"), inputs, o);
    }
}
