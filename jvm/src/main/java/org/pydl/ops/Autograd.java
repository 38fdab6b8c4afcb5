package org.pydl.ops;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.nd.NDArray;

/**
 * Reverse-mode autodiff. Every op in {@link Ops} whose inputs require gradients attaches a {@link Node} to its
 * output: the op's name, its inputs and its gradient rule. {@link #backward} walks the graph once in reverse
 * topological order. Gradient rules run with recording off (first-order autodiff).
 *
 * <p>An op with several outputs (a recurrent layer's sequence and final states) records one {@link MultiRule} with
 * {@link #recordMulti}: each output gets a node naming the shared rule and its position; the walk collects the
 * gradients of all outputs that lead to the root and applies the rule once, when the last of them is reached (all
 * outputs precede the op's inputs in reverse topological order, so every output's gradient is complete by then).
 */
public final class Autograd {
    private Autograd() {}

    /** The gradient rule of one op: given dL/d(output), return dL/d(input_i) for each input (null = none). */
    @FunctionalInterface
    public interface Rule {
        NDArray[] apply(NDArray gradOutput);
    }

    /**
     * The gradient rule of an op with several outputs: given dL/d(output_k) for each output (null where none flows),
     * return dL/d(input_i) for each input (null = none).
     */
    @FunctionalInterface
    public interface MultiRule {
        NDArray[] apply(NDArray[] gradOutputs);
    }

    /** One recorded op application (for a multi-output op: one node per output, sharing {@code multi}). */
    public static final class Node {
        public final String op;
        final NDArray[] inputs;
        final Rule rule;
        final Multi multi;
        final int outputIndex;

        Node(String op, NDArray[] inputs, Rule rule) {
            this(op, inputs, rule, null, 0);
        }

        private Node(String op, NDArray[] inputs, Rule rule, Multi multi, int outputIndex) {
            this.op = op;
            this.inputs = inputs;
            this.rule = rule;
            this.multi = multi;
            this.outputIndex = outputIndex;
        }
    }

    /** The shared part of a multi-output op's nodes. */
    private static final class Multi {
        final MultiRule rule;
        final int outputs;

        Multi(MultiRule rule, int outputs) {
            this.rule = rule;
            this.outputs = outputs;
        }
    }

    private static final ThreadLocal<int[]> DISABLED = ThreadLocal.withInitial(() -> new int[1]);

    /** Recording is off inside {@code try (var g = Autograd.noGrad()) {...}} (inference, gradient rules). */
    public static AutoCloseable0 noGrad() {
        int[] d = DISABLED.get();
        d[0]++;
        return () -> d[0]--;
    }

    /** An AutoCloseable whose close() throws nothing. */
    public interface AutoCloseable0 extends AutoCloseable {
        @Override
        void close();
    }

    public static boolean isRecording() {
        return DISABLED.get()[0] == 0;
    }

    /** True when an op over {@code inputs} must record: recording is on and some input requires a gradient. */
    public static boolean needsGrad(NDArray... inputs) {
        if (!isRecording()) return false;
        for (NDArray x : inputs) if (x != null && x.requiresGrad()) return true;
        return false;
    }

    /** Attaches the gradient rule to {@code out} if any input requires a gradient; returns out. */
    public static NDArray record(String op, NDArray out, Rule rule, NDArray... inputs) {
        if (needsGrad(inputs)) out.setGradFn(new Node(op, inputs, rule));
        return out;
    }

    /**
     * Attaches one multi-output gradient rule to {@code outs} (null entries allowed: outputs that were not produced)
     * if any input requires a gradient; returns outs.
     */
    public static NDArray[] recordMulti(String op, NDArray[] outs, MultiRule rule, NDArray... inputs) {
        if (!needsGrad(inputs)) return outs;
        Multi m = new Multi(rule, outs.length);
        for (int k = 0; k < outs.length; k++) {
            if (outs[k] != null) outs[k].setGradFn(new Node(op, inputs, null, m, k));
        }
        return outs;
    }

    /** Computes gradients of {@code root} (seeded with ones) for every leaf that requires one. */
    public static void backward(NDArray root) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward() on an array that does not depend on any parameter "
                    + "(nothing requires a gradient)");
        }
        List<NDArray> order = topoOrder(root);
        Map<NDArray, NDArray> grads = new IdentityHashMap<>();
        grads.put(root, Ops.onesLike(root));
        // multi-output ops: how many of their outputs the walk still has to pass, and the gradients collected so far
        Map<Multi, int[]> pending = new IdentityHashMap<>();
        Map<Multi, NDArray[]> collected = new IdentityHashMap<>();
        for (NDArray a : order) {
            Node n = a.gradFn();
            if (n != null && n.multi != null) pending.computeIfAbsent(n.multi, k -> new int[1])[0]++;
        }
        try (AutoCloseable0 g = noGrad()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                NDArray out = order.get(i);
                NDArray gOut = grads.remove(out);
                Node node = out.gradFn();
                if (node != null && node.multi != null) {
                    NDArray[] gs = collected.computeIfAbsent(node.multi, k -> new NDArray[k.outputs]);
                    gs[node.outputIndex] = gOut;
                    if (--pending.get(node.multi)[0] > 0) continue;
                    collected.remove(node.multi);
                    boolean any = false;
                    for (NDArray x : gs) any |= x != null;
                    if (!any) continue;
                    propagate(node, node.multi.rule.apply(gs), grads);
                    continue;
                }
                if (gOut == null) continue;
                if (node == null) {
                    accumulateLeaf(out, gOut);
                    continue;
                }
                propagate(node, node.rule.apply(gOut), grads);
            }
        }
    }

    /** Adds the input gradients gIn of one node into {@code grads}. */
    private static void propagate(Node node, NDArray[] gIn, Map<NDArray, NDArray> grads) {
        for (int j = 0; j < node.inputs.length; j++) {
            NDArray in = node.inputs[j];
            if (in == null || !in.requiresGrad() || gIn[j] == null) continue;
            NDArray prev = grads.get(in);
            grads.put(in, prev == null ? gIn[j] : Ops.add(prev, gIn[j]));
        }
    }

    private static void accumulateLeaf(NDArray leaf, NDArray g) {
        NDArray prev = leaf.grad();
        if (prev != null && !prev.isClosed()) {
            leaf.setGrad(Ops.add(prev, g));
        } else {
            leaf.setGrad(g);
        }
    }

    /** Arrays reachable from root through gradFn edges, each after all of its inputs. */
    private static List<NDArray> topoOrder(NDArray root) {
        List<NDArray> order = new ArrayList<>();
        Map<NDArray, Boolean> seen = new IdentityHashMap<>();
        ArrayDeque<Object[]> stack = new ArrayDeque<>();
        stack.push(new Object[] {root, 0});
        seen.put(root, Boolean.TRUE);
        while (!stack.isEmpty()) {
            Object[] top = stack.peek();
            NDArray a = (NDArray) top[0];
            int next = (Integer) top[1];
            Node n = a.gradFn();
            if (n != null && next < n.inputs.length) {
                top[1] = next + 1;
                NDArray in = n.inputs[next];
                if (in != null && in.requiresGrad() && seen.put(in, Boolean.TRUE) == null) {
                    stack.push(new Object[] {in, 0});
                }
            } else {
                stack.pop();
                order.add(a);
            }
        }
        return order;
    }
}
