package org.pydl.train;

import java.util.Map;

/** Receives training progress from {@link org.pydl.nn.Sequential#fit}; all methods are optional. */
public interface TrainingListener {
    default void onTrainBegin(int epochs, long stepsPerEpoch, long samples) {}

    default void onEpochBegin(int epoch) {}

    /** After each batch: running means of loss and metrics over the epoch so far. */
    default void onBatchEnd(int epoch, long step, Map<String, Double> logs) {}

    /** After each epoch (and its validation), with the epoch's logs (val_ metrics included). */
    default void onEpochEnd(int epoch, Map<String, Double> logs) {}

    default void onTrainEnd() {}
}
