package org.pydl.nn;

/** Registers the core layers: Dense, Dropout, Activation. */
final class CoreLayers {
    private CoreLayers() {}

    static void register() {
        Layers.register("Dense", Dense::fromConfig);
        Layers.register("Dropout", Dropout::fromConfig);
        Layers.register("Activation", ActivationLayer::fromConfig);
    }
}
