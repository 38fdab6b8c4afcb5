package org.pydl.train;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;

import org.pydl.io.Json;

/**
 * Training progress kept in memory for another thread to poll (the Python progress bar polls it while the Java
 * loop runs, so the loop never calls back into Python per batch).
 */
public final class ProgressState implements TrainingListener {
    private volatile String current = "{}";
    private final ConcurrentLinkedQueue<String> finishedEpochs = new ConcurrentLinkedQueue<>();
    private volatile int epochs;
    private volatile long steps;
    private volatile long samples;

    @Override
    public void onTrainBegin(int epochs, long stepsPerEpoch, long samples) {
        this.epochs = epochs;
        this.steps = stepsPerEpoch;
        this.samples = samples;
    }

    @Override
    public void onBatchEnd(int epoch, long step, Map<String, Double> logs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("step", step);
        m.put("logs", sanitize(logs));
        current = Json.write(m);
    }

    @Override
    public void onEpochEnd(int epoch, Map<String, Double> logs) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("epoch", epoch);
        m.put("logs", sanitize(logs));
        finishedEpochs.add(Json.write(m));
    }

    private static Map<String, Object> sanitize(Map<String, Double> logs) {
        Map<String, Object> m = new LinkedHashMap<>();
        for (Map.Entry<String, Double> e : logs.entrySet()) {
            double v = e.getValue();
            m.put(e.getKey(), Double.isFinite(v) ? (Object) v : String.valueOf(v));
        }
        return m;
    }

    /** JSON of the latest batch: {"epoch": e, "step": s, "logs": {...}}. */
    public String current() {
        return current;
    }

    /** JSON of the next finished epoch not yet polled, or null. */
    public String pollEpoch() {
        return finishedEpochs.poll();
    }

    public int epochs() {
        return epochs;
    }

    public long steps() {
        return steps;
    }

    public long samples() {
        return samples;
    }
}
