package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras {@code Bidirectional}: a recurrent layer (config {"class": ..., "config": ...}) run forwards and a copy of it
 * (or {@code backward_layer}) with go_backwards flipped; with return_sequences the backward output is reversed back
 * to input order. merge_mode: concat (default, on the last axis), sum, mul, ave. Parameters: the forward layer's,
 * then the backward layer's ("&lt;name&gt;/forward_&lt;inner&gt;/kernel", "&lt;name&gt;/backward_&lt;inner&gt;/kernel", ...).
 */
public final class Bidirectional extends Layer {
    private final Map<String, Object> layerSpec;
    private final Map<String, Object> backwardSpec;
    public final String mergeMode;
    private final Layer fwd;
    private final Layer bwd;

    public Bidirectional(Map<String, Object> layerSpec, String mergeMode, Map<String, Object> backwardSpec) {
        this.layerSpec = layerSpec;
        this.backwardSpec = backwardSpec;
        this.mergeMode = mergeMode;
        String cls = Json.getString(layerSpec, "class");
        Map<String, Object> cfg = Json.getMap(layerSpec, "config");
        this.fwd = Layers.fromConfig(cls, cfg);
        if (backwardSpec != null) {
            this.bwd = Layers.fromConfig(Json.getString(backwardSpec, "class"), Json.getMap(backwardSpec, "config"));
        } else {
            Map<String, Object> bc = new LinkedHashMap<>(cfg);
            bc.put("go_backwards", !Json.getBoolean(cfg, "go_backwards", false));
            this.bwd = Layers.fromConfig(cls, bc);
        }
    }

    public static Bidirectional fromConfig(Map<String, Object> c) {
        return new Bidirectional(Json.getMap(c, "layer"), Json.getString(c, "merge_mode", "concat"),
                Json.getMap(c, "backward_layer", null));
    }

    @Override
    public String type() {
        return "Bidirectional";
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (!(fwd instanceof Recurrent) || !(bwd instanceof Recurrent)) {
            throw configError("wraps a SimpleRNN, LSTM or GRU layer, received " + fwd.type()
                    + (bwd != fwd ? " and " + bwd.type() : ""));
        }
        if (!List.of("concat", "sum", "mul", "ave").contains(mergeMode)) {
            throw configError("merge_mode must be one of concat, sum, mul, ave, received merge_mode=" + mergeMode);
        }
        Recurrent f = (Recurrent) fwd, b = (Recurrent) bwd;
        if (f.returnSequences != b.returnSequences) {
            throw configError("forward and backward layers must agree on return_sequences");
        }
        if (f.goBackwards == b.goBackwards) {
            throw configError("the backward layer must have go_backwards opposite to the forward layer's");
        }
        fwd.setName(name + "/forward_" + snake(fwd));
        bwd.setName(name + "/backward_" + snake(bwd));
        if (!isTrainable()) {
            fwd.setTrainableOnBuild(false);
            bwd.setTrainableOnBuild(false);
        }
        long[] fo = fwd.build(in, dtype, seed);
        long[] bo = bwd.build(in, dtype, seed + 1_000_003L);
        params.addAll(fwd.parameters());
        params.addAll(bwd.parameters());
        long[] out = fo.clone();
        if (mergeMode.equals("concat")) {
            out[out.length - 1] = fo[fo.length - 1] + bo[bo.length - 1];
        } else if (fo[fo.length - 1] != bo[bo.length - 1]) {
            throw configError("merge_mode=" + mergeMode + " needs forward and backward layers of the same units, "
                    + "received " + fo[fo.length - 1] + " and " + bo[bo.length - 1]);
        }
        return out;
    }

    private static String snake(Layer l) {
        return l.type().replaceAll("([a-z0-9])([A-Z])", "$1_$2").toLowerCase();
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        checkInput(x);
        // as Keras: a returned backward sequence is reversed to input order (collected in reverse: no extra op)
        NDArray y = ((Recurrent) fwd).run(x, false);
        NDArray yb = ((Recurrent) bwd).run(x, true);
        switch (mergeMode) {
            case "concat": return Ops.concat(List.of(y, yb), -1);
            case "sum": return Ops.add(y, yb);
            case "mul": return Ops.mul(y, yb);
            default: return Ops.mul(Ops.add(y, yb), 0.5);
        }
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("layer", layerSpec);
        c.put("merge_mode", mergeMode);
        if (backwardSpec != null) c.put("backward_layer", backwardSpec);
        return c;
    }
}
