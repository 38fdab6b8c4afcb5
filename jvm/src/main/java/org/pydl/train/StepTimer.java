package org.pydl.train;

import java.util.Arrays;
import java.util.Map;

/** Records the wall time of every training step (benchmarks take the median in steady state). */
public final class StepTimer implements TrainingListener {
    private double[] seconds = new double[1024];
    private int count;
    private long mark;

    @Override
    public void onEpochBegin(int epoch) {
        mark = System.nanoTime();
    }

    @Override
    public void onBatchEnd(int epoch, long step, Map<String, Double> logs) {
        long now = System.nanoTime();
        if (count == seconds.length) seconds = Arrays.copyOf(seconds, count * 2);
        seconds[count++] = (now - mark) / 1e9;
        mark = now;
    }

    /** Seconds of each step, in order. */
    public double[] stepSeconds() {
        return Arrays.copyOf(seconds, count);
    }
}
