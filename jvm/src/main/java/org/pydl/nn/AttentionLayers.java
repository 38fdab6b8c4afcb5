package org.pydl.nn;

/** Registers the attention layers (MultiHeadAttention, Attention, AdditiveAttention). */
final class AttentionLayers {
    private AttentionLayers() {}

    static void register() {
    }
}
