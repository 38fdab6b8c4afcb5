package org.pydl.nn;

/** Registers the recurrent layers (SimpleRNN, LSTM, GRU, Bidirectional, TimeDistributed). */
final class RecurrentLayers {
    private RecurrentLayers() {}

    static void register() {
        Layers.register("SimpleRNN", SimpleRNN::fromConfig);
        Layers.register("LSTM", LSTM::fromConfig);
        Layers.register("GRU", GRU::fromConfig);
        Layers.register("Bidirectional", Bidirectional::fromConfig);
        Layers.register("TimeDistributed", TimeDistributed::fromConfig);
    }
}
