package org.pydl.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

import org.pydl.io.Json;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;
import org.pydl.ops.RnnCell;

/**
 * Base of the Keras recurrent layers (SimpleRNN, LSTM, GRU): input [batch, time, features], output [batch, units]
 * (last step) or [batch, time, units] ({@code return_sequences}). Weights in Keras's layout: kernel [features,
 * gates*units], recurrent_kernel [units, gates*units], bias.
 *
 * <p>Two ways to compute the same equations:
 * <ul>
 * <li><b>Fused</b> (the default whenever the activations allow it: activation {@code tanh} and, for LSTM and GRU,
 * recurrent_activation {@code sigmoid}, Keras's defaults; GRU with reset_after true or false): the whole sequence is
 * one op, {@link Ops#rnn}, with native forward and backward kernels (native/cpu/rnn.cpp): one GEMM for the input
 * projection of all steps, per step one GEMM {@code h @ recurrent_kernel} and one fused gate kernel, and
 * backpropagation through time in native code. It supports initial states, a mask and the final states
 * ({@link #runSequence}).</li>
 * <li><b>Composed</b> (any other activation, and training with {@code recurrent_dropout}): the forward pass
 * composes {@link Ops} per step, so the gradient is backpropagation through time by autodiff: per step one GEMM
 * {@code [x_t, h] @ [kernel; recurrent_kernel]} (SimpleRNN, LSTM) or {@code x_t @ kernel} and
 * {@code h @ recurrent_kernel} (GRU), gate slices (views) and elementwise ops.</li>
 * </ul>
 * {@link #setFusedKernels} turns the fused path off (tests compare the two; benchmarks).
 *
 * <p>As Keras: with {@code go_backwards} the sequence is processed from the last step to the first and the returned
 * sequence is in processing order (reversed). In a functional graph the layer may take its initial states as extra
 * inputs ([batch, units] each: h, and c for LSTM) and, with {@code return_state}, returns {@code [output, states...]}.
 * A Keras mask (from Embedding(mask_zero) or Masking) makes masked steps keep the previous states and repeat the
 * previous output (zeros with {@code zero_output_for_mask}, which Bidirectional sets with return_sequences); the
 * output keeps the mask when return_sequences. {@code dropout} multiplies the inputs by one dropout mask per sequence
 * ([batch, features], shared by all steps), {@code recurrent_dropout} the previous h likewise, in training only.
 */
public abstract class Recurrent extends Layer {
    public final long units;
    public final Activation activation;
    public final Activation recurrentActivation;
    public final boolean useBias;
    public final boolean returnSequences;
    public final boolean goBackwards;
    public final boolean returnState;
    public final boolean zeroOutputForMask;
    public final double dropout;
    public final double recurrentDropout;
    public final String kernelInitializer;
    public final String recurrentInitializer;
    public final String biasInitializer;
    protected Parameter kernel;
    protected Parameter recurrentKernel;
    protected Parameter bias;

    private static volatile boolean fusedKernels = true;

    /** Whether layers use the fused sequence op when their activations allow it (default true). */
    public static void setFusedKernels(boolean on) {
        fusedKernels = on;
    }

    public static boolean fusedKernels() {
        return fusedKernels;
    }

    protected Recurrent(Map<String, Object> c) {
        this.units = Json.getLong(c, "units");
        this.activation = Activation.of(Json.getString(c, "activation", "tanh"));
        this.recurrentActivation = Activation.of(Json.getString(c, "recurrent_activation", "sigmoid"));
        this.useBias = Json.getBoolean(c, "use_bias", true);
        this.returnSequences = Json.getBoolean(c, "return_sequences", false);
        this.goBackwards = Json.getBoolean(c, "go_backwards", false);
        this.returnState = Json.getBoolean(c, "return_state", false);
        this.zeroOutputForMask = Json.getBoolean(c, "zero_output_for_mask", false);
        this.dropout = Json.getDouble(c, "dropout", 0.0);
        this.recurrentDropout = Json.getDouble(c, "recurrent_dropout", 0.0);
        if (Json.getBoolean(c, "stateful", false)) {
            throw new IllegalArgumentException(getClass().getSimpleName() + " layer '" + c.get("name")
                    + "': stateful=true is not supported; pass the states explicitly (initial states and return_state)");
        }
        this.kernelInitializer = initName(c.getOrDefault("kernel_initializer", "glorot_uniform"));
        this.recurrentInitializer = initName(c.getOrDefault("recurrent_initializer", "orthogonal"));
        this.biasInitializer = initName(c.getOrDefault("bias_initializer", "zeros"));
        // validate the names now (model files, Java users): fails before any build
        for (String n : new String[] {kernelInitializer, recurrentInitializer, biasInitializer}) {
            if (!n.equals("orthogonal")) Initializer.of(n);
        }
    }

    /**
     * The cell of the fused op {@link Ops#rnn} that computes this layer's configuration, or null when only the
     * composed path does (activations other than tanh / sigmoid).
     */
    protected abstract RnnCell fusedCell();

    /** Number of gate blocks of the kernel (SimpleRNN 1, GRU 3, LSTM 4). */
    protected abstract int gates();

    /** The bias, created in {@link #doBuild} when use_bias (subclasses may override the shape or the values). */
    protected NDArray createBias(DType dtype, long seed) {
        return initialize(biasInitializer, dtype, new long[] {gates() * units}, seed);
    }

    /**
     * One step: the input of step t [batch, features] and the states (null at the first step: zeros, so the
     * recurrent products are skipped); returns the new states. {@code stacked} is [kernel; recurrent_kernel]
     * ([features + units, gates*units], built once per sequence) when {@link #stacksKernels}, else null.
     */
    protected abstract NDArray[] step(NDArray xt, NDArray[] states, NDArray stacked);

    /** Whether {@link #step} wants the kernels stacked (one GEMM per step on [x_t, h]). */
    protected boolean stacksKernels() {
        return false;
    }

    /** Number of states (LSTM: h and c); the output of a step is state 0. */
    protected int stateCount() {
        return 1;
    }

    protected Map<String, Object> extraConfig() {
        return new LinkedHashMap<>();
    }

    @Override
    protected long[] doBuild(long[] in, DType dtype, long seed) {
        if (units <= 0) throw configError("units must be a positive integer, received units=" + units);
        if (!(dropout >= 0 && dropout < 1) || !(recurrentDropout >= 0 && recurrentDropout < 1)) {
            throw configError("dropout and recurrent_dropout must be in [0, 1), received dropout=" + dropout
                    + ", recurrent_dropout=" + recurrentDropout);
        }
        if (in.length != 2) {
            throw configError("expects input of rank 3 (batch, timesteps, features), received input shape "
                    + batchShape(in));
        }
        if (in[0] <= 0 || in[1] <= 0) {
            throw configError("needs positive timesteps and features, received input shape " + batchShape(in));
        }
        long g = gates() * units;
        if ((double) Math.max(in[1], units) * g > 2e9) throw configError("kernel of " + in[1] + " x " + g + " is too large");
        kernel = addParam("kernel", initialize(kernelInitializer, dtype, new long[] {in[1], g}, seed));
        recurrentKernel = addParam("recurrent_kernel", initialize(recurrentInitializer, dtype, new long[] {units, g},
                seed + 1));
        if (useBias) bias = addParam("bias", createBias(dtype, seed + 2));
        return returnSequences ? new long[] {in[0], units} : new long[] {units};
    }

    /** Shapes of one call's outputs: the output, then with return_state the states ([units] each). */
    List<long[]> outputShapes(long[] out) {
        List<long[]> r = new ArrayList<>();
        r.add(out);
        for (int i = 0; returnState && i < stateCount(); i++) r.add(new long[] {units});
        return r;
    }

    /**
     * Call argument {@code use_input_mask=false}: the steps are computed without the input's mask, which the output
     * still carries (with return_sequences). Keras 3 calls an RNN given {@code initial_state} that way: a layer
     * called with more than one tensor argument gets no automatic {@code mask}; Keras 2 passed it.
     */
    static final String USE_INPUT_MASK = "use_input_mask";

    /** Checks a call's arguments: only {@link #USE_INPUT_MASK}. */
    void checkCallArgs(Map<String, Object> args) {
        for (String k : args.keySet()) {
            if (!USE_INPUT_MASK.equals(k)) throw configError("takes no call argument '" + k + "'");
        }
    }

    /** The context a call computes with: without masks when the call says use_input_mask=false. */
    static Context computeContext(Context ctx) {
        return Json.getBoolean(ctx.args, USE_INPUT_MASK, true) ? ctx : ctx.withMasks(null);
    }

    /** Inputs: the sequence, optionally followed by the initial states (h, and c for LSTM), each (batch, units). */
    @Override
    public List<long[]> buildCall(List<long[]> shapes, Map<String, Object> args, DType dtype, long seed) {
        checkCallArgs(args);
        checkStateShapes(shapes, 1);
        return outputShapes(build(shapes.get(0), dtype, seed));
    }

    /** Checks that shapes[from..] are absent or exactly the initial states: stateCount() arrays of [units]. */
    void checkStateShapes(List<long[]> shapes, int from) {
        int n = shapes.size() - from;
        if (n != 0 && n != stateCount()) {
            throw configError("takes the sequence and optionally its initial state" + (stateCount() > 1 ? "s [h, c]" : " [h]")
                    + ", received " + shapes.size() + " inputs");
        }
        for (int i = from; i < shapes.size(); i++) {
            if (shapes.get(i).length != 1 || shapes.get(i)[0] != units) {
                throw configError("initial states must have shape (None, " + units + "), received " + batchShape(shapes.get(i)));
            }
        }
    }

    @Override
    public long[] buildMulti(List<long[]> shapes, DType dtype, long seed) {
        checkStateShapes(shapes, 1);
        return build(shapes.get(0), dtype, seed);
    }

    /**
     * The fused op {@link Ops#rnn} when the activations allow it, else the composed path. The layer holds no
     * per-call state, so concurrent forward passes are safe.
     */
    @Override
    public NDArray forward(NDArray x, Context ctx) {
        return call(x, null, ctx, zeroOutputForMask, false)[0];
    }

    @Override
    public NDArray forwardMulti(List<NDArray> xs, Context ctx) {
        return forwardOutputs(xs, ctx).get(0);
    }

    @Override
    public List<NDArray> forwardOutputs(List<NDArray> xs, Context ctx) {
        NDArray[] init = xs.size() > 1 ? xs.subList(1, xs.size()).toArray(new NDArray[0]) : null;
        NDArray[] r = call(xs.get(0), init, computeContext(ctx), zeroOutputForMask, false);
        if (!returnState) return List.of(r[0]);
        return java.util.Arrays.asList(r);
    }

    /** The output keeps the input's mask with return_sequences; the states and a last-step output have none. */
    @Override
    public List<NDArray> computeMasks(List<NDArray> xs, List<NDArray> outputs, Context ctx) {
        List<NDArray> r = new ArrayList<>(java.util.Collections.nCopies(outputs.size(), (NDArray) null));
        if (returnSequences) r.set(0, ctx.mask(0));
        return r;
    }

    /**
     * One application: the context's mask, dropout in training, initial states; returns {output, final states...}.
     * Used by this layer and by Bidirectional.
     */
    NDArray[] call(NDArray x, NDArray[] init, Context ctx, boolean zeroOut, boolean reverseOutput) {
        checkInput(x);
        NDArray mask = ctx.mask(0);
        if (mask != null) Masks.check(this, mask, x);
        if (init != null) {
            for (NDArray s : init) {
                if (s.rank() != 2 || s.shape(0) != x.shape(0) || s.shape(1) != units) {
                    throw configError("initial states must have shape (" + x.shape(0) + ", " + units + "), received "
                            + org.pydl.nd.Shapes.str(s.shape()));
                }
            }
        }
        NDArray recMask = null;
        if (ctx.training && dropout > 0) {
            long[] s = {x.shape(0), 1, x.shape(2)};
            x = Ops.mul(x, Ops.dropout(NDArray.ones(x.dtype(), s), dropout, ctx.seed));
        }
        if (ctx.training && recurrentDropout > 0) {
            recMask = Ops.dropout(NDArray.ones(x.dtype(), x.shape(0), units), recurrentDropout, ctx.seed + 1);
        }
        return runSequence(x, mask, init, zeroOut, reverseOutput, recMask);
    }

    /**
     * The forward pass; with {@code reverseOutput} a returned sequence is reversed in time (as Keras's
     * Bidirectional does to its backward layer's output): the steps are collected in reverse order, which costs
     * nothing, instead of reversing the result.
     */
    NDArray run(NDArray x, boolean reverseOutput) {
        return runSequence(x, null, null, false, reverseOutput, null)[0];
    }

    /**
     * The forward pass with the options of the fused op: {@code mask} [batch, time] (x's dtype, nonzero = real step)
     * or null, {@code initialStates} (h, and c for LSTM; [batch, units] each; null entries or null = zeros),
     * {@code zeroOutputForMask} (a masked step outputs zeros instead of repeating the previous output), and
     * {@code reverseOutput} (see {@link #run}). Returns {output, final states...}: output is the sequence with
     * return_sequences, else the last step's output (Keras's last_output). {@code recurrentMask} ([batch, units] or
     * null) multiplies the previous h at every step (recurrent dropout); it needs the composed path.
     */
    public NDArray[] runSequence(NDArray x, NDArray mask, NDArray[] initialStates, boolean zeroOutputForMask,
                                 boolean reverseOutput, NDArray recurrentMask) {
        checkInput(x);
        NDArray h0 = initialStates != null && initialStates.length > 0 ? initialStates[0] : null;
        NDArray c0 = initialStates != null && initialStates.length > 1 ? initialStates[1] : null;
        RnnCell cell = fusedKernels && recurrentMask == null ? fusedCell() : null;
        if (cell != null) {
            NDArray[] r = Ops.rnn(cell, x, kernel.value(), recurrentKernel.value(), useBias ? bias.value() : null, h0,
                    c0, mask, goBackwards, zeroOutputForMask, reverseOutput && returnSequences);
            NDArray[] res = r.clone();
            if (!returnSequences) {
                // the last step's output: the final h, unless a mask made it repeat an earlier output (or zeros)
                long time = x.shape(1);
                res[0] = mask == null ? r[1]
                        : Ops.reshape(Ops.slice(r[0], 1, time - 1, time), x.shape(0), units);
            }
            return res;
        }
        return composed(x, mask, initialStates, zeroOutputForMask, reverseOutput, recurrentMask);
    }

    /**
     * The composed path (Ops per step); returns {output, final states...}. x is transposed once to [time, batch,
     * features] so that each step's input is a contiguous view. Steps slice the input rather than a precomputed
     * [time, batch, gates] projection: when the input needs no gradient (a first layer) the slices record nothing, and
     * otherwise the gradient of each slice is a zero-filled [time, batch, features] array (O(time^2) in backward).
     */
    private NDArray[] composed(NDArray x, NDArray mask, NDArray[] init, boolean zeroOut, boolean reverseOutput,
                               NDArray recMask) {
        long batch = x.shape(0), time = x.shape(1), features = x.shape(2);
        NDArray xT = Ops.contiguous(Ops.transpose(x, 0, 1));
        NDArray mT = mask == null ? null : Ops.contiguous(Ops.transpose(Ops.reshape(mask, batch, time, 1), 0, 1));
        NDArray[] states = null;
        if (init != null) {
            states = new NDArray[stateCount()];
            for (int i = 0; i < states.length; i++) {
                states[i] = i < init.length && init[i] != null ? init[i] : NDArray.zeros(x.dtype(), batch, units);
            }
        }
        NDArray prevOut = null;   // with a mask: the output carried over masked steps (zeros before the first)
        List<NDArray> outs = returnSequences ? new ArrayList<>((int) time) : null;
        NDArray stacked = stacksKernels() && (time > 1 || states != null)
                ? Ops.concat(List.of(kernel.value(), recurrentKernel.value()), 0) : null;
        for (long s = 0; s < time; s++) {
            long t = goBackwards ? time - 1 - s : s;
            NDArray xt = Ops.reshape(Ops.slice(xT, 0, t, t + 1), batch, features);
            NDArray[] in = states;
            if (recMask != null && in != null) {
                in = in.clone();
                in[0] = Ops.mul(in[0], recMask);
            }
            NDArray[] next = step(xt, in, stacked);
            NDArray out = next[0];
            if (mT != null) {
                // masked steps keep the previous states and repeat the previous output (or output zeros)
                NDArray m = Ops.reshape(Ops.slice(mT, 0, t, t + 1), batch, 1);
                NDArray keepOld = Ops.affine(m, -1.0, 1.0);
                for (int i = 0; i < next.length; i++) {
                    NDArray old = states != null ? states[i] : null;
                    next[i] = old == null ? Ops.mul(m, next[i]) : Ops.add(Ops.mul(m, next[i]), Ops.mul(keepOld, old));
                }
                NDArray kept = Ops.mul(m, out);
                out = zeroOut || prevOut == null ? kept : Ops.add(kept, Ops.mul(keepOld, prevOut));
                prevOut = out;
            }
            states = next;
            if (outs != null) outs.add(Ops.reshape(out, batch, 1, units));
        }
        NDArray[] res = new NDArray[1 + states.length];
        System.arraycopy(states, 0, res, 1, states.length);
        if (outs == null) {
            res[0] = mT != null ? prevOut : states[0];
        } else {
            if (reverseOutput) java.util.Collections.reverse(outs);
            res[0] = Ops.concat(outs, 1);
        }
        return res;
    }

    /** Columns [k*units, (k+1)*units) of a [batch, gates*units] array. */
    protected NDArray gate(NDArray z, int k) {
        return Ops.slice(z, 1, k * units, (k + 1) * units);
    }

    protected NDArray recurrentColumns(int from, int to) {
        return Ops.slice(recurrentKernel.value(), 1, from * units, to * units);
    }

    @Override
    protected Map<String, Object> layerConfig() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("units", units);
        c.put("activation", activation.kerasName);
        c.put("recurrent_activation", recurrentActivation.kerasName);
        c.put("use_bias", useBias);
        c.put("return_sequences", returnSequences);
        c.put("go_backwards", goBackwards);
        c.put("return_state", returnState);
        if (zeroOutputForMask) c.put("zero_output_for_mask", true);
        c.put("dropout", dropout);
        c.put("recurrent_dropout", recurrentDropout);
        c.put("kernel_initializer", kernelInitializer);
        c.put("recurrent_initializer", recurrentInitializer);
        c.put("bias_initializer", biasInitializer);
        c.putAll(extraConfig());
        return c;
    }

    // ---- initialisers ----------------------------------------------------------------------------------------
    static String initName(Object cfg) {
        if (cfg instanceof Map) {
            String cn = String.valueOf(((Map<?, ?>) cfg).get("class_name"));
            if (cn.equalsIgnoreCase("orthogonal")) return "orthogonal";
            return Initializer.fromConfig(cfg).kerasName;
        }
        String n = String.valueOf(cfg).toLowerCase();
        if (n.equals("orthogonal")) return n;
        return Initializer.of(n).kerasName;
    }

    static NDArray initialize(String name, DType dtype, long[] shape, long seed) {
        if (name.equals("orthogonal")) return orthogonal(dtype, shape, seed);
        return Initializer.of(name).create(dtype, shape, seed);
    }

    /**
     * Keras's {@code Orthogonal(gain=1)}: a [max(r, c), min(r, c)] standard normal matrix (r = product of all but the
     * last dimension, c = the last), orthonormalised by modified Gram-Schmidt (= QR with the sign of R's diagonal
     * made positive, as Keras does), transposed when r < c. Seeded: same seed, same matrix.
     */
    static NDArray orthogonal(DType dtype, long[] shape, long seed) {
        long cols = shape[shape.length - 1];
        long rows = 1;
        for (int i = 0; i < shape.length - 1; i++) rows *= shape[i];
        int n = (int) Math.max(rows, cols), m = (int) Math.min(rows, cols);
        SplittableRandom r = new SplittableRandom(seed);
        double[][] q = new double[m][n]; // column vectors of the [n, m] matrix
        for (int j = 0; j < m; j++) {
            for (int i = 0; i < n; i++) q[j][i] = gauss(r);
        }
        for (int j = 0; j < m; j++) {
            for (int k = 0; k < j; k++) {
                double d = 0;
                for (int i = 0; i < n; i++) d += q[k][i] * q[j][i];
                for (int i = 0; i < n; i++) q[j][i] -= d * q[k][i];
            }
            double norm = 0;
            for (int i = 0; i < n; i++) norm += q[j][i] * q[j][i];
            norm = Math.sqrt(norm);
            for (int i = 0; i < n; i++) q[j][i] /= norm;
        }
        double[] v = new double[(int) (rows * cols)];
        for (int a = 0; a < rows; a++) {
            for (int b = 0; b < cols; b++) v[(int) (a * cols + b)] = rows >= cols ? q[b][a] : q[a][b];
        }
        try (NDArray d = NDArray.of(v, shape)) {
            return d.cast(dtype);
        }
    }

    private static double gauss(SplittableRandom r) {
        double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }

    /**
     * [x_t, h] @ [kernel; recurrent_kernel] + bias: one GEMM per step ({@code stacked} is the two kernels
     * concatenated along rows once per sequence); at the first step h = 0, so x_t @ kernel + bias.
     */
    protected NDArray stackedProjection(NDArray xt, NDArray h, NDArray stacked) {
        NDArray b = useBias ? bias.value() : null;
        if (h == null) return Ops.linear(xt, kernel.value(), b);
        return Ops.linear(Ops.concat(List.of(xt, h), 1), stacked, b);
    }

    /** A detached array of ones/zeros blocks for bias construction. */
    static NDArray concatBlocks(DType dtype, List<NDArray> parts) {
        NDArray out = Ops.concat(parts, 0);
        return MemoryScope.detach(out);
    }
}
