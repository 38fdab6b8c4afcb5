package org.pydl.ops;

/** Broadcasting binary ops (native/cpu/elementwise.cpp); order = native table id order, checked at load. */
public enum BinaryOp {
    ADD, SUB, MUL, DIV, POW, MAXIMUM, MINIMUM;

    public String opName() {
        return name().toLowerCase();
    }
}
