package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;

/** Learning rate as a function of the optimizer step (0-based, counted in batches). */
public interface LearningRateSchedule {
    double at(long step);

    Map<String, Object> config();

    /** A finite value >= 0, else IllegalArgumentException naming the received value. */
    private static void checkNonNegative(String owner, String key, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(owner + ": " + key + " must be a finite number >= 0, received " + key
                    + "=" + v);
        }
    }

    static LearningRateSchedule constant(double lr) {
        return new Constant(lr);
    }

    static LearningRateSchedule fromConfig(Object cfg) {
        if (cfg instanceof Number) return new Constant(((Number) cfg).doubleValue());
        @SuppressWarnings("unchecked")
        Map<String, Object> c = (Map<String, Object>) cfg;
        String type = Json.getString(c, "class");
        switch (type) {
            case "Constant": return new Constant(Json.getDouble(c, "learning_rate"));
            case "StepDecay":
                return new StepDecay(Json.getDouble(c, "initial_learning_rate"), Json.getLong(c, "step_size"),
                        Json.getDouble(c, "gamma"));
            case "CosineDecay":
                return new CosineDecay(Json.getDouble(c, "initial_learning_rate"), Json.getLong(c, "decay_steps"),
                        Json.getDouble(c, "alpha", 0.0));
            default: throw new IllegalArgumentException("unknown learning-rate schedule '" + type + "'");
        }
    }

    /** A fixed learning rate. */
    final class Constant implements LearningRateSchedule {
        public final double lr;

        public Constant(double lr) {
            if (!(lr >= 0) || Double.isInfinite(lr)) {
                throw new IllegalArgumentException("learning rate must be a finite number >= 0, received " + lr);
            }
            this.lr = lr;
        }

        @Override
        public double at(long step) {
            return lr;
        }

        @Override
        public Map<String, Object> config() {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("class", "Constant");
            c.put("learning_rate", lr);
            return c;
        }
    }

    /** lr = initial * gamma^floor(step / stepSize) (PyTorch StepLR, Keras ExponentialDecay with staircase). */
    final class StepDecay implements LearningRateSchedule {
        public final double initial;
        public final long stepSize;
        public final double gamma;

        public StepDecay(double initial, long stepSize, double gamma) {
            if (stepSize <= 0) throw new IllegalArgumentException("StepDecay: step_size must be > 0, received " + stepSize);
            checkNonNegative("StepDecay", "initial_learning_rate", initial);
            checkNonNegative("StepDecay", "gamma", gamma);
            this.initial = initial;
            this.stepSize = stepSize;
            this.gamma = gamma;
        }

        @Override
        public double at(long step) {
            return initial * Math.pow(gamma, Math.floorDiv(step, stepSize));
        }

        @Override
        public Map<String, Object> config() {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("class", "StepDecay");
            c.put("initial_learning_rate", initial);
            c.put("step_size", stepSize);
            c.put("gamma", gamma);
            return c;
        }
    }

    /** Keras CosineDecay: initial * ((1 - alpha) * 0.5 * (1 + cos(pi * min(step, decaySteps) / decaySteps)) + alpha). */
    final class CosineDecay implements LearningRateSchedule {
        public final double initial;
        public final long decaySteps;
        public final double alpha;

        public CosineDecay(double initial, long decaySteps, double alpha) {
            if (decaySteps <= 0) {
                throw new IllegalArgumentException("CosineDecay: decay_steps must be > 0, received " + decaySteps);
            }
            checkNonNegative("CosineDecay", "initial_learning_rate", initial);
            if (!(alpha >= 0 && alpha <= 1)) {
                throw new IllegalArgumentException("CosineDecay: alpha must be in [0, 1], received alpha=" + alpha);
            }
            this.initial = initial;
            this.decaySteps = decaySteps;
            this.alpha = alpha;
        }

        @Override
        public double at(long step) {
            double p = Math.min(step, decaySteps) / (double) decaySteps;
            return initial * ((1 - alpha) * 0.5 * (1 + Math.cos(Math.PI * p)) + alpha);
        }

        @Override
        public Map<String, Object> config() {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("class", "CosineDecay");
            c.put("initial_learning_rate", initial);
            c.put("decay_steps", decaySteps);
            c.put("alpha", alpha);
            return c;
        }
    }
}
