package org.pydl.ops;

/**
 * The recurrent cells of the fused sequence op {@link Ops#rnn} (native/cpu/rnn.cpp), all with activation tanh and
 * recurrent activation sigmoid, Keras's equations and gate order. The order is the native table's id order, checked
 * against {@code NativeOps.rnnCellNames()} at load time.
 */
public enum RnnCell {
    /** {@code h = tanh(x W + h R + b)}; 1 gate. */
    SIMPLE_RNN(1),
    /** Gates i, f, c, o; states h and c. */
    LSTM(4),
    /** GRU with reset_after=true (bias [2, 3*units]: input, recurrent); gates z, r, h. */
    GRU(3),
    /** GRU with reset_after=false (bias [3*units]): the reset gate multiplies h before the candidate's product. */
    GRU_RESET_BEFORE(3);

    /** Gate blocks of the kernel's columns. */
    public final int gates;

    RnnCell(int gates) {
        this.gates = gates;
    }

    /** Number of states (LSTM: h and c). */
    public int stateCount() {
        return this == LSTM ? 2 : 1;
    }
}
