package org.pydl.nn;

/** Registers the activation layers (ReLU, LeakyReLU, PReLU, ELU, Softmax) and noise/regularisation layers. */
final class ActivationLayers {
    private ActivationLayers() {}

    static void register() {
    }
}
