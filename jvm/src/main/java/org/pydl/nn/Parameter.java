package org.pydl.nn;

import org.pydl.nd.NDArray;

/**
 * A trainable (or frozen) array of a layer, named "layer/param" in model files. A <em>state</em> parameter
 * (BatchNormalization's moving mean and variance) is never trained by the optimizer, whatever the layer's
 * trainable flag, but is saved and loaded like any weight.
 */
public final class Parameter {
    public final String name;
    private NDArray value;
    public boolean trainable = true;
    /** True for non-trainable state updated by the layer itself (never by the optimizer). */
    public final boolean state;
    /** Penalty added to the training loss (Keras's {@code kernel_regularizer} etc.), or null. */
    public Regularizer regularizer;
    /** Projection applied after each optimizer step (Keras's {@code kernel_constraint} etc.), or null. */
    public Constraint constraint;

    public Parameter(String name, NDArray value) {
        this(name, value, false);
    }

    public Parameter(String name, NDArray value, boolean state) {
        this.name = name;
        this.value = value;
        this.state = state;
        if (state) trainable = false;
    }

    public NDArray value() {
        return value;
    }

    /**
     * Replaces the value (same shape and dtype required); the old array is closed and the new one is taken out of
     * any {@link org.pydl.nd.MemoryScope} (a parameter outlives the step that computed it).
     */
    public void set(NDArray v) {
        if (!java.util.Arrays.equals(v.shape(), value.shape()) || v.dtype() != value.dtype()) {
            throw new IllegalArgumentException("parameter '" + name + "' has shape "
                    + java.util.Arrays.toString(value.shape()) + " " + value.dtype().pyName + ", received "
                    + java.util.Arrays.toString(v.shape()) + " " + v.dtype().pyName);
        }
        boolean rg = value.requiresGrad();
        org.pydl.nd.MemoryScope.detach(v);
        if (v.gradFn() != null) v.setGradFn(null);
        value.close();
        value = v;
        v.setRequiresGrad(rg);
    }
}
