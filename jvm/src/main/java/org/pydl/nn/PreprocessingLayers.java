package org.pydl.nn;

/** Registers the preprocessing layers that run inside a model at inference (Rescaling, Normalization). */
final class PreprocessingLayers {
    private PreprocessingLayers() {}

    static void register() {
        Layers.register("Rescaling", Rescaling::fromConfig);
        Layers.register("Normalization", Normalization::fromConfig);
    }
}
