package org.pydl.nn;

import org.pydl.nd.NDArray;

/** A trainable (or frozen) array of a layer, named "layer/param" in model files. */
public final class Parameter {
    public final String name;
    private NDArray value;
    public boolean trainable = true;
    /** L2 factor added to the loss as l2 * sum(value^2) (Keras's {@code regularizers.l2}); 0 = none. */
    public double l2;

    public Parameter(String name, NDArray value) {
        this.name = name;
        this.value = value;
    }

    public NDArray value() {
        return value;
    }

    /** Replaces the value (same shape and dtype required); the old array is closed. */
    public void set(NDArray v) {
        if (!java.util.Arrays.equals(v.shape(), value.shape()) || v.dtype() != value.dtype()) {
            throw new IllegalArgumentException("parameter '" + name + "' has shape "
                    + java.util.Arrays.toString(value.shape()) + " " + value.dtype().pyName + ", received "
                    + java.util.Arrays.toString(v.shape()) + " " + v.dtype().pyName);
        }
        boolean rg = value.requiresGrad();
        value.close();
        value = v;
        v.setRequiresGrad(rg);
    }
}
