package org.pydl.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

import org.apache.spark.broadcast.Broadcast;
import org.pydl.io.ModelFile;
import org.pydl.nn.Network;

/**
 * Executor-side cache of one training run's model replica per partition, so that rounds after the first only
 * overwrite the parameters (from the broadcast state) instead of parsing the model file again. A task that lands on
 * another executor simply builds its replica there. Entries of other runs are dropped on first use of a new run.
 */
final class Worker {
    private static final Map<String, Worker> CACHE = new HashMap<>();

    final String run;
    final Network model;
    int orderEpoch = -1;
    int[] order;

    private Worker(String run, Network model) {
        this.run = run;
        this.model = model;
    }

    static synchronized Worker get(String run, int partition, Broadcast<byte[]> modelBytes) {
        String key = run + "/" + partition;
        Worker w = CACHE.get(key);
        if (w != null) return w;
        for (Iterator<Worker> it = CACHE.values().iterator(); it.hasNext(); ) {
            if (!it.next().run.equals(run)) it.remove();
        }
        try {
            w = new Worker(run, ModelFile.fromBytes(modelBytes.value()));
        } catch (IOException e) {
            throw new UncheckedIOException("SparkTrainer: could not load the model on the executor", e);
        }
        CACHE.put(key, w);
        return w;
    }

    /** The row order of {@code epoch}, computed once per epoch. */
    int[] order(int n, boolean shuffle, long seed, int epoch, int partition) {
        if (orderEpoch != epoch || order == null || order.length != n) {
            order = Blocks.order(n, shuffle, seed, epoch, partition);
            orderEpoch = epoch;
        }
        return order;
    }

    /** Forgets a run's replicas (driver side, or when a run ends in this JVM). */
    static synchronized void forget(String run) {
        CACHE.values().removeIf(w -> w.run.equals(run));
    }
}
