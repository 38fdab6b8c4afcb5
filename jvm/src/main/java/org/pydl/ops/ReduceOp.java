package org.pydl.ops;

/** Reductions over one axis (native/cpu/reduce.cpp); order = native table id order, checked at load. */
public enum ReduceOp {
    SUM, MAX, MIN;

    public String opName() {
        return name().toLowerCase();
    }
}
