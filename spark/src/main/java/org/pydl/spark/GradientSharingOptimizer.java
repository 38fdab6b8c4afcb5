package org.pydl.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.List;
import java.util.Map;

import org.pydl.nd.NDArray;
import org.pydl.nn.Optimizer;
import org.pydl.nn.Parameter;
import org.pydl.ops.Backend;

/**
 * The optimizer a worker trains with in all-reduce mode: before each step it replaces every gradient by the
 * global-batch mean over all workers (each worker's mean gradient weighted by its share of the global batch,
 * summed by the ring), then lets the model's own optimizer apply the update. Every worker applies the same update
 * to the same parameters, so the replicas stay identical and training equals one process with the global batch.
 * The model's own optimizer (and its slots) is restored before the model is saved.
 */
final class GradientSharingOptimizer extends Optimizer {
    private final Optimizer inner;
    private final RingAllReduce ring;
    /** Weight of this worker's gradient at each step: local rows / global rows. */
    private final float[] weights;
    private int step;
    private float[] buf = new float[0];
    long commNanos;

    GradientSharingOptimizer(Optimizer inner, RingAllReduce ring, float[] weights) {
        super(inner.schedule());
        this.inner = inner;
        this.ring = ring;
        this.weights = weights;
    }

    /** The next step is step 0 of an epoch (the per-step weights repeat every epoch). */
    void startEpoch() {
        step = 0;
    }

    int stepsDone() {
        return step;
    }

    @Override
    public void step(List<Parameter> params) {
        if (step >= weights.length) {
            throw new IllegalStateException("all-reduce: worker ran more steps (" + (step + 1) + ") than planned ("
                    + weights.length + ")");
        }
        float w = weights[step++];
        int len = 0;
        for (Parameter p : params) if (p.trainable) len += (int) p.value().size();
        if (buf.length != len) buf = new float[len];
        int off = 0;
        for (Parameter p : params) {
            if (!p.trainable) continue;
            int k = (int) p.value().size();
            NDArray g = p.value().grad();
            if (g == null) {
                java.util.Arrays.fill(buf, off, off + k, 0f);
            } else {
                g.contiguous().buffer().asFloatBuffer().get(buf, off, k);
                if (w != 1f) for (int i = off; i < off + k; i++) buf[i] *= w;
            }
            off += k;
        }
        long t0 = System.nanoTime();
        try {
            ring.sum(buf);
        } catch (IOException e) {
            throw new UncheckedIOException(e);
        }
        commNanos += System.nanoTime() - t0;
        off = 0;
        for (Parameter p : params) {
            if (!p.trainable) continue;
            int k = (int) p.value().size();
            float[] slice = java.util.Arrays.copyOfRange(buf, off, off + k);
            p.value().setGrad(NDArray.of(slice, p.value().shape()));
            off += k;
        }
        inner.step(params);
        iterations = inner.iterations();
    }

    @Override
    public NDArray[] slotsOf(Parameter p) {
        return inner.slotsOf(p);
    }

    @Override
    public boolean hasSlots(Parameter p) {
        return inner.hasSlots(p);
    }

    @Override
    public void setSlots(Parameter p, NDArray[] values) {
        inner.setSlots(p, values);
    }

    @Override
    public String type() {
        return inner.type();
    }

    @Override
    public String[] slotNames() {
        return inner.slotNames();
    }

    @Override
    protected void update(Backend be, Parameter p, NDArray grad, NDArray[] slots, double lr, long t) {
        throw new UnsupportedOperationException("GradientSharingOptimizer delegates whole steps");
    }

    @Override
    protected Map<String, Object> hyperParameters() {
        return Map.of();
    }
}
