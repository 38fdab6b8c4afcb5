package org.pydl.nn;

import java.util.ArrayList;
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
 * to input order. merge_mode: concat (default, on the last axis), sum, mul, ave, or null (two outputs, forward then
 * backward). Parameters: the forward layer's, then the backward layer's ("&lt;name&gt;/forward_&lt;inner&gt;/kernel",
 * "&lt;name&gt;/backward_&lt;inner&gt;/kernel", ...). As Keras: a mask reaches both layers, which then output zeros
 * at masked steps when return_sequences; initial states are extra inputs (the forward layer's, then the backward
 * layer's); with the wrapped layer's return_state the outputs are [output(s), forward states..., backward states...].
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
        return new Bidirectional(Json.getMap(c, "layer"), c.containsKey("merge_mode") && c.get("merge_mode") == null
                ? null : Json.getString(c, "merge_mode", "concat"), Json.getMap(c, "backward_layer", null));
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
        if (mergeMode != null && !List.of("concat", "sum", "mul", "ave").contains(mergeMode)) {
            throw configError("merge_mode must be one of concat, sum, mul, ave or null, received merge_mode="
                    + mergeMode);
        }
        Recurrent f = (Recurrent) fwd, b = (Recurrent) bwd;
        if (f.returnSequences != b.returnSequences) {
            throw configError("forward and backward layers must agree on return_sequences");
        }
        if (f.goBackwards == b.goBackwards) {
            throw configError("the backward layer must have go_backwards opposite to the forward layer's");
        }
        if (f.returnState != b.returnState || (f.returnState && f.stateCount() != b.stateCount())) {
            throw configError("forward and backward layers must agree on return_state and their kind of states");
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
        backwardOutputShape = bo;
        long[] out = fo.clone();
        if (mergeMode == null) return out;
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

    private long[] backwardOutputShape;

    @Override
    public List<long[]> buildCall(List<long[]> shapes, Map<String, Object> args, DType dtype, long seed) {
        Recurrent f = fwd instanceof Recurrent ? (Recurrent) fwd : null;
        if (f != null) f.checkCallArgs(args);
        else if (!args.isEmpty()) throw configError("takes no call arguments, received " + args.keySet());
        int states = f == null ? 0 : f.stateCount();
        if (shapes.size() != 1 && shapes.size() != 1 + 2 * states) {
            throw configError("takes the sequence and optionally " + 2 * states + " initial states (the forward "
                    + "layer's, then the backward layer's), received " + shapes.size() + " inputs");
        }
        long[] out = build(shapes.get(0), dtype, seed);
        Recurrent b = (Recurrent) bwd;
        f.checkStateShapes(shapes.subList(0, 1 + (shapes.size() > 1 ? states : 0)), 1);
        if (shapes.size() > 1) b.checkStateShapes(shapes.subList(states, 1 + 2 * states), 1);
        List<long[]> r = new ArrayList<>();
        r.add(out);
        if (mergeMode == null) r.add(backwardOutputShape.clone());
        for (int i = 0; f.returnState && i < 2 * states; i++) r.add(new long[] {i < states ? f.units : b.units});
        return r;
    }

    @Override
    public long[] buildMulti(List<long[]> shapes, DType dtype, long seed) {
        return buildCall(shapes, Map.of(), dtype, seed).get(0);
    }

    @Override
    public NDArray forward(NDArray x, Context ctx) {
        return forwardOutputs(List.of(x), ctx).get(0);
    }

    @Override
    public NDArray forwardMulti(List<NDArray> xs, Context ctx) {
        return forwardOutputs(xs, ctx).get(0);
    }

    @Override
    public List<NDArray> forwardOutputs(List<NDArray> xs, Context ctx) {
        NDArray x = xs.get(0);
        checkInput(x);
        Recurrent f = (Recurrent) fwd, b = (Recurrent) bwd;
        int states = f.stateCount();
        NDArray[] fi = xs.size() > 1 ? xs.subList(1, 1 + states).toArray(new NDArray[0]) : null;
        NDArray[] bi = xs.size() > 1 ? xs.subList(1 + states, 1 + 2 * states).toArray(new NDArray[0]) : null;
        Context in = Recurrent.computeContext(ctx);
        Context c = in.withMasks(in.mask(0) == null ? null : List.of(in.mask(0)));
        // as Keras: masked steps output zeros with return_sequences; a returned backward sequence is reversed to
        // input order (collected in reverse: no extra op)
        NDArray[] rf = f.call(x, fi, c, f.returnSequences, false);
        NDArray[] rb = b.call(x, bi, new Context(ctx.training, ctx.seed + 7919, c.masks, c.args), b.returnSequences, true);
        NDArray y = rf[0], yb = rb[0];
        List<NDArray> out = new ArrayList<>();
        if (mergeMode == null) {
            out.add(y);
            out.add(yb);
        } else {
            switch (mergeMode) {
                case "concat": out.add(Ops.concat(List.of(y, yb), -1)); break;
                case "sum": out.add(Ops.add(y, yb)); break;
                case "mul": out.add(Ops.mul(y, yb)); break;
                default: out.add(Ops.mul(Ops.add(y, yb), 0.5)); break;
            }
        }
        if (f.returnState) {
            for (int i = 1; i < rf.length; i++) out.add(rf[i]);
            for (int i = 1; i < rb.length; i++) out.add(rb[i]);
        }
        return out;
    }

    /** With return_sequences the output(s) keep the input's mask. */
    @Override
    public List<NDArray> computeMasks(List<NDArray> xs, List<NDArray> outputs, Context ctx) {
        List<NDArray> r = new ArrayList<>(java.util.Collections.nCopies(outputs.size(), (NDArray) null));
        if (((Recurrent) fwd).returnSequences) {
            r.set(0, ctx.mask(0));
            if (mergeMode == null) r.set(1, ctx.mask(0));
        }
        return r;
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("layer", layerSpec);
        c.put("merge_mode", mergeMode);   // null: two outputs
        if (backwardSpec != null) c.put("backward_layer", backwardSpec);
        return c;
    }
}
