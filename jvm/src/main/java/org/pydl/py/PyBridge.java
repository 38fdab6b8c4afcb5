package org.pydl.py;

import java.util.ArrayList;
import java.util.List;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.nn.Layer;
import org.pydl.nn.Layers;
import org.pydl.nn.Loss;
import org.pydl.nn.Network;
import org.pydl.nn.Optimizer;
import org.pydl.nn.Sequential;

/**
 * Coarse entry points for the Python facade (one JPype call instead of several): array descriptors for
 * zero-copy NumPy views, allocation by dtype code, and construction of models from JSON configs.
 */
public final class PyBridge {
    private PyBridge() {}

    private static final DType[] BY_CODE = DType.values();

    /** [address, dtype code, rank, shape..., strides in bytes...] of an array. */
    public static long[] describe(NDArray a) {
        int r = a.rank();
        long[] d = new long[3 + 2 * r];
        d[0] = a.address();
        d[1] = a.dtype().code;
        d[2] = r;
        long[] s = a.shape(), st = a.strides();
        for (int i = 0; i < r; i++) {
            d[3 + i] = s[i];
            d[3 + r + i] = st[i] * a.dtype().size;
        }
        return d;
    }

    /** A contiguous array owned by no scope (Python holds it; the GC frees it). */
    public static NDArray empty(int dtypeCode, long[] shape) {
        if (dtypeCode < 0 || dtypeCode >= BY_CODE.length) throw new IllegalArgumentException("bad dtype code " + dtypeCode);
        return MemoryScope.detach(NDArray.empty(BY_CODE[dtypeCode], shape));
    }

    /**
     * Inference into a preallocated array (the small-batch fast path of {@code Sequential.predict} in Python):
     * one call, no Java object returned. {@code out} must have the model's output shape for x's batch.
     */
    public static void predictInto(Sequential model, NDArray x, NDArray out) {
        model.outputInto(x, out);
    }

    /**
     * The same for a functional model (several inputs and outputs): every output is written into the matching
     * array of {@code outs} (shape (batch, ...outputShape)), one call, nothing returned.
     */
    public static void predictAllInto(Network model, List<NDArray> xs, List<NDArray> outs) {
        List<NDArray> ys = model.outputAll(xs);
        try {
            if (ys.size() != outs.size()) {
                throw new IllegalArgumentException("predictAllInto: model '" + model.name() + "' has " + ys.size()
                        + " outputs, received " + outs.size() + " arrays");
            }
            for (int i = 0; i < ys.size(); i++) {
                NDArray y = ys.get(i), out = outs.get(i);
                if (!java.util.Arrays.equals(y.shape(), out.shape()) || y.dtype() != out.dtype()) {
                    throw new IllegalArgumentException("predictAllInto: output " + i + " is " + y.dtype().pyName + " "
                            + java.util.Arrays.toString(y.shape()) + ", received " + out.dtype().pyName + " "
                            + java.util.Arrays.toString(out.shape()));
                }
                y.device().backend().copy(y, out);
            }
        } finally {
            for (NDArray y : ys) y.close();
        }
    }

    /** Layers from a JSON list of {"class": ..., "config": {...}}. */
    @SuppressWarnings("unchecked")
    public static List<Layer> layers(String json) {
        List<Layer> out = new ArrayList<>();
        for (Object o : (List<Object>) Json.parse(json)) {
            java.util.Map<String, Object> m = (java.util.Map<String, Object>) o;
            out.add(Layers.fromConfig(Json.getString(m, "class"), Json.getMap(m, "config")));
        }
        return out;
    }

    public static Sequential sequential(String name, long[] inputShape, String dtype, long seed, String layersJson) {
        return new Sequential(name, inputShape, DType.of(dtype), seed, layers(layersJson));
    }

    /**
     * The same, with built models used as layers shared by name (a Sequential or Model entry whose name is a key of
     * {@code nested} wraps that network, weights and all, instead of building a new one from its config).
     */
    @SuppressWarnings("unchecked")
    public static Sequential sequential(String name, long[] inputShape, String dtype, long seed, String layersJson,
                                        java.util.Map<String, org.pydl.nn.Network> nested) {
        List<Layer> out = new ArrayList<>();
        for (Object o : (List<Object>) Json.parse(layersJson)) {
            java.util.Map<String, Object> m = (java.util.Map<String, Object>) o;
            String cls = Json.getString(m, "class");
            java.util.Map<String, Object> cfg = Json.getMap(m, "config");
            Object lname = cfg.get("name");
            boolean shared = (cls.equals("Sequential") || cls.equals("Model")) && lname != null
                    && nested.containsKey(String.valueOf(lname));
            out.add(shared ? new org.pydl.nn.NestedModel(nested.get(String.valueOf(lname)))
                    : Layers.fromConfig(cls, cfg));
        }
        return new Sequential(name, inputShape, DType.of(dtype), seed, out);
    }

    /** A functional model from its JSON config (the format of {@link org.pydl.nn.Model#config()}). */
    @SuppressWarnings("unchecked")
    public static org.pydl.nn.Model model(String json) {
        return org.pydl.nn.Model.fromConfig((java.util.Map<String, Object>) Json.parse(json));
    }

    /** The same, with models used as layers shared by name (Python calls a built model on a tensor). */
    @SuppressWarnings("unchecked")
    public static org.pydl.nn.Model model(String json, java.util.Map<String, org.pydl.nn.Network> nested) {
        return org.pydl.nn.Model.fromConfig((java.util.Map<String, Object>) Json.parse(json), nested);
    }

    /** compile with one loss per output and optional weights (JSON lists). */
    @SuppressWarnings("unchecked")
    public static void compile(org.pydl.nn.Network net, String optimizerJson, String lossesJson, String weightsJson,
                               String metricsJson) {
        List<Loss> losses = new ArrayList<>();
        for (Object o : (List<Object>) Json.parse(lossesJson)) {
            java.util.Map<String, Object> m = (java.util.Map<String, Object>) o;
            losses.add(Loss.of(Json.getString(m, "name"), Json.getBoolean(m, "from_logits", false)));
        }
        Object w = Json.parse(weightsJson);
        double[] weights = null;
        if (w instanceof List) {
            List<Object> l = (List<Object>) w;
            weights = new double[l.size()];
            for (int i = 0; i < weights.length; i++) weights[i] = ((Number) l.get(i)).doubleValue();
        }
        List<String> metrics = new ArrayList<>();
        for (Object o : (List<Object>) Json.parse(metricsJson)) metrics.add(String.valueOf(o));
        net.compile(optimizer(optimizerJson), losses, weights, metrics);
    }

    @SuppressWarnings("unchecked")
    public static Optimizer optimizer(String json) {
        return Optimizer.fromConfig((java.util.Map<String, Object>) Json.parse(json));
    }

    public static Loss loss(String name, boolean fromLogits) {
        return Loss.of(name, fromLogits);
    }

    /** Java Map<String, Double> / Map<String, List<Double>> as JSON, read in Python with json.loads. */
    public static String toJson(Object o) {
        return Json.write(finite(o));
    }

    /** Replaces NaN/Infinity (not valid JSON) by the strings "NaN", "Infinity", "-Infinity". */
    private static Object finite(Object o) {
        if (o instanceof Double && !Double.isFinite((Double) o)) return o.toString();
        if (o instanceof java.util.Map) {
            java.util.Map<Object, Object> m = new java.util.LinkedHashMap<>();
            for (java.util.Map.Entry<?, ?> e : ((java.util.Map<?, ?>) o).entrySet()) m.put(e.getKey(), finite(e.getValue()));
            return m;
        }
        if (o instanceof List) {
            List<Object> l = new ArrayList<>();
            for (Object e : (List<?>) o) l.add(finite(e));
            return l;
        }
        return o;
    }
}
