package org.pydl.nn;

/** Registers the normalisation layers (BatchNormalization, LayerNormalization, GroupNormalization). */
final class NormalizationLayers {
    private NormalizationLayers() {}

    static void register() {
    }
}
