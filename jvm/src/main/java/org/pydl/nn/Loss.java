package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;
import org.pydl.nd.Shapes;
import org.pydl.ops.Ops;

/**
 * Losses with Keras's names and formulas. {@link #perSample} returns one value per sample; the model averages.
 * Probabilities are clipped to [1e-7, 1 - 1e-7] as Keras does. A softmax output layer followed by a
 * cross-entropy is computed from the logits in one fused, stable op (what Keras's TensorFlow backend does too).
 */
public abstract class Loss {
    public static final double EPSILON = 1e-7;
    public final boolean fromLogits;

    protected Loss(boolean fromLogits) {
        this.fromLogits = fromLogits;
    }

    public abstract String name();

    /** What labels this loss expects, for error messages and for label conversion by the facades. */
    public abstract boolean sparseLabels();

    public abstract NDArray perSample(NDArray yPred, NDArray yTrue);

    /** True if a softmax that ends the model can be folded into this loss. */
    public boolean fusesSoftmax() {
        return false;
    }

    /** Same loss computed from logits of a softmax output (only when {@link #fusesSoftmax()}). */
    public NDArray perSampleFromSoftmaxLogits(NDArray logits, NDArray yTrue) {
        throw new UnsupportedOperationException(name());
    }

    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("name", name());
        c.put("from_logits", fromLogits);
        return c;
    }

    public static Loss of(String name, boolean fromLogits) {
        switch (name.toLowerCase()) {
            case "sparse_categorical_crossentropy": return new SparseCategoricalCrossentropy(fromLogits);
            case "categorical_crossentropy": return new CategoricalCrossentropy(fromLogits);
            case "binary_crossentropy": return new BinaryCrossentropy(fromLogits);
            case "mse": case "mean_squared_error": return new MeanSquaredError();
            default:
                throw new IllegalArgumentException("unknown loss '" + name + "'; valid: sparse_categorical_crossentropy, "
                        + "categorical_crossentropy, binary_crossentropy, mean_squared_error (mse)");
        }
    }

    public static Loss of(String name) {
        return of(name, false);
    }

    public static Loss fromConfig(Map<String, Object> c) {
        return of(org.pydl.io.Json.getString(c, "name"), org.pydl.io.Json.getBoolean(c, "from_logits", false));
    }

    static void checkSameShape(String loss, NDArray yPred, NDArray yTrue) {
        if (!java.util.Arrays.equals(yPred.shape(), yTrue.shape())) {
            throw new IllegalArgumentException(loss + ": predictions have shape " + Shapes.str(yPred.shape())
                    + " but targets have shape " + Shapes.str(yTrue.shape()));
        }
    }

    static NDArray castLike(NDArray y, NDArray like) {
        return y.dtype() == like.dtype() ? y : y.cast(like.dtype());
    }

    /** Integer class labels [n] with probabilities or logits [n, classes]. */
    public static final class SparseCategoricalCrossentropy extends Loss {
        public SparseCategoricalCrossentropy(boolean fromLogits) {
            super(fromLogits);
        }

        @Override
        public String name() {
            return "sparse_categorical_crossentropy";
        }

        @Override
        public boolean sparseLabels() {
            return true;
        }

        /** Labels as int32 [n] matching predictions flattened to [n, classes] (a trailing axis of 1 is dropped). */
        private static NDArray labels(NDArray yTrue) {
            NDArray y = yTrue.rank() >= 2 && yTrue.shape(-1) == 1 ? yTrue.reshape(-1) : yTrue;
            if (y.rank() != 1) y = y.reshape(-1);
            return y.dtype() == DType.INT32 ? y : y.cast(DType.INT32);
        }

        /**
         * Predictions of any rank [n, ..., classes] are flattened to [n*..., classes] and the per-element loss is
         * reshaped back to [n, ...] (sequence outputs with [n, steps] labels, as Keras accepts).
         */
        private static NDArray perElement(NDArray yPred, NDArray yTrue, java.util.function.BinaryOperator<NDArray> f) {
            if (yPred.rank() <= 2) return f.apply(yPred, labels(yTrue));
            long[] s = yPred.shape();
            NDArray flat = Ops.reshape(yPred, -1, s[s.length - 1]);
            return Ops.reshape(f.apply(flat, labels(yTrue)), java.util.Arrays.copyOf(s, s.length - 1));
        }

        @Override
        public NDArray perSample(NDArray yPred, NDArray yTrue) {
            if (fromLogits) return perElement(yPred, yTrue, Ops::sparseSoftmaxCrossEntropy);
            return perElement(yPred, yTrue, (p, y) -> Ops.neg(Ops.log(Ops.gather(Ops.clip(p, EPSILON, 1 - EPSILON), y))));
        }

        @Override
        public boolean fusesSoftmax() {
            return !fromLogits;
        }

        @Override
        public NDArray perSampleFromSoftmaxLogits(NDArray logits, NDArray yTrue) {
            return perElement(logits, yTrue, Ops::sparseSoftmaxCrossEntropy);
        }
    }

    /** One-hot (or soft) targets [n, classes]. */
    public static final class CategoricalCrossentropy extends Loss {
        public CategoricalCrossentropy(boolean fromLogits) {
            super(fromLogits);
        }

        @Override
        public String name() {
            return "categorical_crossentropy";
        }

        @Override
        public boolean sparseLabels() {
            return false;
        }

        @Override
        public NDArray perSample(NDArray yPred, NDArray yTrue) {
            checkSameShape(name(), yPred, yTrue);
            if (fromLogits) return perSampleFromSoftmaxLogits(yPred, yTrue);
            // Keras: p / sum(p), clip, -sum(y log p)
            NDArray p = Ops.div(yPred, Ops.sum(yPred, -1, true));
            return Ops.neg(Ops.sum(Ops.mul(castLike(yTrue, yPred), Ops.log(Ops.clip(p, EPSILON, 1 - EPSILON))), -1,
                    false));
        }

        @Override
        public boolean fusesSoftmax() {
            return !fromLogits;
        }

        @Override
        public NDArray perSampleFromSoftmaxLogits(NDArray logits, NDArray yTrue) {
            checkSameShape(name(), logits, yTrue);
            return Ops.neg(Ops.sum(Ops.mul(castLike(yTrue, logits), Ops.logSoftmax(logits, -1)), -1, false));
        }
    }

    /** Targets in {0, 1} (or [0, 1]) of the predictions' shape; mean over the last axis. */
    public static final class BinaryCrossentropy extends Loss {
        public BinaryCrossentropy(boolean fromLogits) {
            super(fromLogits);
        }

        @Override
        public String name() {
            return "binary_crossentropy";
        }

        @Override
        public boolean sparseLabels() {
            return false;
        }

        @Override
        public NDArray perSample(NDArray yPred, NDArray yTrue) {
            NDArray y = castLike(yTrue.rank() == yPred.rank() - 1 ? yTrue.reshape(yPred.shape()) : yTrue, yPred);
            checkSameShape(name(), yPred, y);
            NDArray elem;
            if (fromLogits) {
                // max(x, 0) - x*y + log(1 + exp(-|x|))
                elem = Ops.add(Ops.sub(Ops.relu(yPred), Ops.mul(yPred, y)), Ops.softplus(Ops.neg(Ops.abs(yPred))));
            } else {
                NDArray p = Ops.clip(yPred, EPSILON, 1 - EPSILON);
                NDArray a = Ops.mul(y, Ops.log(Ops.add(p, EPSILON)));
                NDArray b = Ops.mul(Ops.affine(y, -1, 1), Ops.log(Ops.add(Ops.affine(p, -1, 1), EPSILON)));
                elem = Ops.neg(Ops.add(a, b));
            }
            return Ops.mean(elem, new int[] {-1}, false);
        }
    }

    /** mean((y_pred - y_true)^2) over the last axis. */
    public static final class MeanSquaredError extends Loss {
        public MeanSquaredError() {
            super(false);
        }

        @Override
        public String name() {
            return "mean_squared_error";
        }

        @Override
        public boolean sparseLabels() {
            return false;
        }

        @Override
        public NDArray perSample(NDArray yPred, NDArray yTrue) {
            NDArray y = castLike(yTrue.rank() == yPred.rank() - 1 ? yTrue.reshape(yPred.shape()) : yTrue, yPred);
            checkSameShape(name(), yPred, y);
            NDArray d = Ops.sub(yPred, y);
            if (yPred.rank() == 1) return Ops.square(d);
            return Ops.mean(Ops.square(d), new int[] {-1}, false);
        }
    }
}
