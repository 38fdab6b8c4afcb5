package org.pydl.spark;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.HashMap;
import java.util.Iterator;
import java.util.Map;

import org.apache.spark.TaskContext;
import org.apache.spark.broadcast.Broadcast;
import org.pydl.io.ModelFile;
import org.pydl.jni.NativeLoader;
import org.pydl.jni.NativeOps;
import org.pydl.nn.Network;

/**
 * Executor-side cache of one training run's model replica per partition, so that rounds after the first only
 * overwrite the parameters (from the broadcast state) instead of parsing the model file again. A task that lands on
 * another executor simply builds its replica there. Entries of other runs are dropped on first use of a new run.
 * Every task also sizes pydl's native thread pool to its share of the executor ({@code spark.task.cpus}), so that
 * the tasks sharing one executor JVM do not each start one OpenMP/BLAS thread per core of the machine.
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
        useTaskCpus();
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

    /**
     * Native threads = the running task's {@code spark.task.cpus} (default 1). The count is process-wide, and every
     * task of an executor has the same {@code cpus}, so the executor's tasks together use its cores, no more.
     * Outside a task (the driver) nothing changes. Returns the count in force.
     */
    static int useTaskCpus() {
        NativeLoader.load();
        TaskContext tc = TaskContext.get();
        int cpus = tc == null ? 0 : tc.cpus();
        if (cpus > 0 && NativeOps.getNumThreads() != cpus) NativeOps.setNumThreads(cpus);
        return NativeOps.getNumThreads();
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
