package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;

/**
 * A model used as a layer of another model (one input, one output), as Keras allows: its layers, weights and
 * training all belong to the outer model, and the inner {@link Network} object is shared (training the outer model
 * trains it). In model files its parameters are named "&lt;this layer&gt;/&lt;inner layer&gt;/&lt;param&gt;"
 * ({@link Network#namedParameters()}), so inner and outer layer names never clash.
 * Config: {"model": the inner model's config}.
 */
public final class NestedModel extends Layer {
    private final Network net;

    public NestedModel(Network net) {
        if (net.inputShapes().size() != 1 || net.outputShapes().size() != 1) {
            throw new IllegalArgumentException("a model used as a layer needs one input and one output; '" + net.name()
                    + "' has " + net.inputShapes().size() + " and " + net.outputShapes().size());
        }
        this.net = net;
        setName(net.name());
    }

    @SuppressWarnings("unchecked")
    static NestedModel fromConfig(Map<String, Object> c) {
        Map<String, Object> mc = Json.getMap(c, "model");
        String cls = Json.getString(mc, "class");
        Network n;
        if ("Model".equals(cls)) {
            n = Model.fromConfig(mc);
        } else {
            List<Layer> layers = new java.util.ArrayList<>();
            for (Object o : Json.getList(mc, "layers")) {
                Map<String, Object> lm = (Map<String, Object>) o;
                layers.add(Layers.fromConfig(Json.getString(lm, "class"), Json.getMap(lm, "config")));
            }
            n = new Sequential(Json.getString(mc, "name", "sequential"), Json.getLongArray(mc, "input_shape"),
                    DType.of(Json.getString(mc, "dtype", "float32")), Json.getLong(mc, "seed", 0), layers);
        }
        return new NestedModel(n);
    }

    public Network network() {
        return net;
    }

    @Override
    public String type() {
        return net instanceof Model ? "Model" : "Sequential";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        long[] want = net.inputShapes().get(0);
        if (!java.util.Arrays.equals(in, want)) {
            throw configError("model '" + net.name() + "' expects inputs of shape " + batchShape(want) + ", received "
                    + batchShape(in));
        }
        if (net.dtype() != dtype) {
            throw configError("model '" + net.name() + "' is " + net.dtype().pyName + " but the outer model is "
                    + dtype.pyName);
        }
        params.addAll(net.parameters());
        return net.outputShapes().get(0);
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        net.setGlobalStep(ctx.seed);   // fresh randomness (dropout) per outer step, deterministic for a seed
        return net.forwardAll(List.of(x), ctx.training, new boolean[1]).get(0);
    }

    @Override
    public void setTrainable(boolean t) {
        super.setTrainable(t);
        for (Layer l : net.layers()) l.setTrainable(t);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("model", net.config());
        return c;
    }
}
