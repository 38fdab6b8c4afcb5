package org.pydl.spark;

import java.nio.FloatBuffer;
import java.util.ArrayList;
import java.util.List;

import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.nn.Network;
import org.pydl.nn.Optimizer;
import org.pydl.nn.Parameter;

/**
 * A model's training state as one flat float32 vector: every parameter (weights and layer state such as moving
 * statistics, in model-file order), then the optimizer slots of every trainable parameter (created as zeros when
 * absent, so the layout never depends on which steps ran). What parameter averaging averages.
 */
final class StateVector {
    private StateVector() {}

    static List<NDArray> arrays(Network m) {
        List<NDArray> out = new ArrayList<>();
        List<Parameter> ps = new ArrayList<>(m.namedParameters().values());
        for (Parameter p : ps) out.add(p.value());
        Optimizer opt = m.optimizer();
        if (opt != null) {
            for (Parameter p : ps) if (p.trainable) for (NDArray s : opt.slotsOf(p)) out.add(s);
        }
        return out;
    }

    static int length(Network m) {
        long n = 0;
        for (NDArray a : arrays(m)) n += a.size();
        return Math.toIntExact(n);
    }

    /** Writes the state into {@code out[0..length)}. */
    static void read(Network m, float[] out) {
        int off = 0;
        for (NDArray a : arrays(m)) {
            int k = (int) a.size();
            try (MemoryScope s = MemoryScope.open()) {
                a.contiguous().buffer().asFloatBuffer().get(out, off, k);
            }
            off += k;
        }
    }

    static float[] read(Network m) {
        float[] v = new float[length(m)];
        read(m, v);
        return v;
    }

    /** Sets the state from {@code v[0..length)} (in place: parameters are contiguous float32 arrays). */
    static void write(Network m, float[] v) {
        int off = 0;
        for (NDArray a : arrays(m)) {
            int k = (int) a.size();
            if (!a.isContiguous()) throw new IllegalStateException("parameter array is not contiguous");
            FloatBuffer fb = a.buffer().asFloatBuffer();
            fb.put(v, off, k);
            off += k;
        }
    }
}
