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
 */
public final class Autograd {
    private Autograd() {}

    /** The gradient rule of one op: given dL/d(output), return dL/d(input_i) for each input (null = none). */
    @FunctionalInterface
    public interface Rule {
        NDArray[] apply(NDArray gradOutput);
    }

    /** One recorded op application. */
    public static final class Node {
        public final String op;
        final NDArray[] inputs;
        final Rule rule;

        Node(String op, NDArray[] inputs, Rule rule) {
            this.op = op;
            this.inputs = inputs;
            this.rule = rule;
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

    /** Computes gradients of {@code root} (seeded with ones) for every leaf that requires one. */
    public static void backward(NDArray root) {
        if (!root.requiresGrad()) {
            throw new IllegalStateException("backward() on an array that does not depend on any parameter "
                    + "(nothing requires a gradient)");
        }
        List<NDArray> order = topoOrder(root);
        Map<NDArray, NDArray> grads = new IdentityHashMap<>();
        grads.put(root, Ops.onesLike(root));
        try (AutoCloseable0 g = noGrad()) {
            for (int i = order.size() - 1; i >= 0; i--) {
                NDArray out = order.get(i);
                NDArray gOut = grads.remove(out);
                if (gOut == null) continue;
                Node node = out.gradFn();
                if (node == null) {
                    accumulateLeaf(out, gOut);
                    continue;
                }
                NDArray[] gIn = node.rule.apply(gOut);
                for (int j = 0; j < node.inputs.length; j++) {
                    NDArray in = node.inputs[j];
                    if (in == null || !in.requiresGrad() || gIn[j] == null) continue;
                    NDArray prev = grads.get(in);
                    grads.put(in, prev == null ? gIn[j] : Ops.add(prev, gIn[j]));
                }
            }
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
