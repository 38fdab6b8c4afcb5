package org.pydl.train;

import java.io.PrintStream;
import java.util.Map;

/** Keras-style progress bar with ETA on a PrintStream (stderr by default), redrawn at most 10 times a second. */
public final class ConsoleProgress implements TrainingListener {
    private final PrintStream out;
    private int epochs;
    private long steps;
    private long epochStart;
    private long lastDraw;

    public ConsoleProgress() {
        this(System.err);
    }

    public ConsoleProgress(PrintStream out) {
        this.out = out;
    }

    @Override
    public void onTrainBegin(int epochs, long stepsPerEpoch, long samples) {
        this.epochs = epochs;
        this.steps = stepsPerEpoch;
    }

    @Override
    public void onEpochBegin(int epoch) {
        out.println("Epoch " + (epoch + 1) + "/" + epochs);
        epochStart = System.nanoTime();
        lastDraw = 0;
    }

    @Override
    public void onBatchEnd(int epoch, long step, Map<String, Double> logs) {
        long now = System.nanoTime();
        if (step + 1 >= steps || now - lastDraw < 100_000_000L) return; // the last batch is drawn by onEpochEnd
        lastDraw = now;
        out.print("\r" + bar(step + 1, steps, (now - epochStart) / 1e9, logs, false));
        out.flush();
    }

    @Override
    public void onEpochEnd(int epoch, Map<String, Double> logs) {
        out.println("\r" + bar(steps, steps, (System.nanoTime() - epochStart) / 1e9, logs, true));
    }

    /** "12/35 [=========>....................] - ETA: 1s - loss: 0.4123 - accuracy: 0.8810". */
    public static String bar(long done, long total, double elapsed, Map<String, Double> logs, boolean finished) {
        int width = 30;
        int filled = total == 0 ? width : (int) (width * done / total);
        StringBuilder sb = new StringBuilder();
        String t = Long.toString(total);
        sb.append(String.format("%" + t.length() + "d/%s [", done, t));
        for (int i = 0; i < width; i++) sb.append(i < filled ? '=' : (i == filled ? '>' : '.'));
        sb.append(']');
        if (finished || done >= total) {
            sb.append(String.format(" %.1fs %dms/step", elapsed, total == 0 ? 0 : Math.round(1000 * elapsed / total)));
        } else {
            double eta = done == 0 ? 0 : elapsed / done * (total - done);
            sb.append(String.format(" - ETA: %.0fs", eta));
        }
        for (Map.Entry<String, Double> e : logs.entrySet()) {
            sb.append(String.format(" - %s: %.4f", e.getKey(), e.getValue()));
        }
        return sb.toString();
    }
}
