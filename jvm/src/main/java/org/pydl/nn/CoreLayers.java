package org.pydl.nn;

/** Registers the core layers (Dense, Dropout, Activation, Embedding, Masking, and the layers of
 * Keras's applications LayerScale and CustomScaleLayer) and the shape layers
 * (Flatten, Reshape, Permute, RepeatVector). */
final class CoreLayers {
    private CoreLayers() {}

    static void register() {
        Layers.register("Dense", Dense::fromConfig);
        Layers.register("Dropout", Dropout::fromConfig);
        Layers.register("Activation", ActivationLayer::fromConfig);
        Layers.register("Flatten", Flatten::fromConfig);
        Layers.register("Reshape", Reshape::fromConfig);
        Layers.register("Permute", Permute::fromConfig);
        Layers.register("RepeatVector", RepeatVector::fromConfig);
        Layers.register("Embedding", Embedding::fromConfig);
        Layers.register("Masking", Masking::fromConfig);
        Layers.register("LayerScale", LayerScale::fromConfig);
        Layers.register("CustomScaleLayer", CustomScaleLayer::fromConfig);
        Merge.register();
        Layers.register("Sequential", NestedModel::fromConfig);
        Layers.register("Model", NestedModel::fromConfig);
    }
}
