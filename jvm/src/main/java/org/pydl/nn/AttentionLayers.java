package org.pydl.nn;

/** Registers the attention layers (MultiHeadAttention, Attention, AdditiveAttention). */
final class AttentionLayers {
    private AttentionLayers() {}

    static void register() {
        Layers.register("MultiHeadAttention", MultiHeadAttention::fromConfig);
        Layers.register("Attention", Attention::fromConfig);
        Layers.register("AdditiveAttention", AdditiveAttention::fromConfig);
    }
}
