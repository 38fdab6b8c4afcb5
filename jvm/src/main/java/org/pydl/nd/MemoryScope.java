package org.pydl.nd;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;

/**
 * Deterministic freeing of native memory: every array created while a scope is open belongs to the innermost
 * open scope of its thread and is closed with it.
 * <pre>{@code
 * try (MemoryScope scope = MemoryScope.open()) {
 *     NDArray y = Ops.relu(Ops.matmul(x, w));   // temporaries
 *     result = MemoryScope.keep(y);            // survives the scope
 * }                                            // everything else is freed here
 * }</pre>
 * Arrays created outside any scope are freed by {@link NDArray#close()} or, failing that, by the GC.
 */
public final class MemoryScope implements AutoCloseable {
    private static final ThreadLocal<ArrayDeque<MemoryScope>> STACK = ThreadLocal.withInitial(ArrayDeque::new);

    private final List<NDArray> arrays = new ArrayList<>();
    private final MemoryScope parent;
    private boolean closed;

    private MemoryScope(MemoryScope parent) {
        this.parent = parent;
    }

    public static MemoryScope open() {
        ArrayDeque<MemoryScope> stack = STACK.get();
        MemoryScope s = new MemoryScope(stack.peek());
        stack.push(s);
        return s;
    }

    static void register(NDArray a) {
        MemoryScope s = STACK.get().peek();
        if (s != null) {
            s.arrays.add(a);
            a.scope = s;
        }
    }

    /** Moves {@code a} (and nothing else) out of its scope into the enclosing one, or out of all scopes. */
    public static NDArray keep(NDArray a) {
        MemoryScope s = a.scope;
        if (s != null) {
            s.forget(a);
            a.scope = s.parent;
            if (s.parent != null) s.parent.arrays.add(a);
        }
        return a;
    }

    /** Takes {@code a} out of every scope: it lives until closed or garbage-collected (parameters, results). */
    public static NDArray detach(NDArray a) {
        MemoryScope s = a.scope;
        if (s != null) {
            s.forget(a);
            a.scope = null;
        }
        return a;
    }

    /** Removes a from this scope's list, searching from the newest (kept arrays are usually recent results). */
    private void forget(NDArray a) {
        for (int i = arrays.size() - 1; i >= 0; i--) {
            if (arrays.get(i) == a) {
                arrays.remove(i);
                return;
            }
        }
    }

    /** Number of arrays this scope will close. */
    public int size() {
        return arrays.size();
    }

    @Override
    public void close() {
        if (closed) return;
        ArrayDeque<MemoryScope> stack = STACK.get();
        if (stack.peek() != this) {
            // Stay open (and on the stack): after the inner scopes close, closing this one again frees its arrays.
            throw new IllegalStateException("MemoryScope closed out of order (scopes nest like try blocks)");
        }
        closed = true;
        stack.pop();
        for (NDArray a : arrays) {
            if (a.scope == this) {
                a.scope = null;
                a.close();
            }
        }
        arrays.clear();
    }
}
