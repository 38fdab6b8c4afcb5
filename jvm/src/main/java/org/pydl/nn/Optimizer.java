package org.pydl.nn;

import java.util.ArrayList;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.NDArray;
import org.pydl.ops.Backend;

/**
 * Optimizers with Keras's update rules and defaults; each step is one fused native kernel per parameter.
 * State ("slots": momentum, m, v, ...) is kept per parameter and saved in model files.
 */
public abstract class Optimizer {
    protected LearningRateSchedule schedule;
    protected long iterations;
    private final Map<Parameter, NDArray[]> slots = new IdentityHashMap<>();

    protected Optimizer(LearningRateSchedule schedule) {
        this.schedule = schedule;
    }

    public abstract String type();

    /** Names of the per-parameter state slots, in order. */
    public abstract String[] slotNames();

    protected abstract void update(Backend be, Parameter p, NDArray grad, NDArray[] slots, double lr, long step);

    protected abstract Map<String, Object> hyperParameters();

    public long iterations() {
        return iterations;
    }

    public void setIterations(long it) {
        iterations = it;
    }

    public double currentLearningRate() {
        return schedule.at(iterations);
    }

    public LearningRateSchedule schedule() {
        return schedule;
    }

    /** Applies one update to every trainable parameter that has a gradient, then counts the step. */
    public void step(List<Parameter> params) {
        double lr = schedule.at(iterations);
        long t = iterations + 1;
        for (Parameter p : params) {
            NDArray g = p.value().grad();
            if (!p.trainable || g == null) continue;
            NDArray gc = g.contiguous();
            update(p.value().device().backend(), p, gc, slotsOf(p), lr, t);
        }
        iterations++;
    }

    public NDArray[] slotsOf(Parameter p) {
        return slots.computeIfAbsent(p, k -> {
            NDArray[] s = new NDArray[slotNames().length];
            for (int i = 0; i < s.length; i++) {
                s[i] = org.pydl.nd.MemoryScope.detach(NDArray.zeros(k.value().dtype(), k.value().shape()));
            }
            return s;
        });
    }

    public boolean hasSlots(Parameter p) {
        return slots.containsKey(p);
    }

    /** Replaces a parameter's slots (when loading a model file). */
    public void setSlots(Parameter p, NDArray[] values) {
        slots.put(p, values);
    }

    public Map<String, Object> config() {
        Map<String, Object> c = new LinkedHashMap<>();
        c.put("class", type());
        c.put("learning_rate", schedule instanceof LearningRateSchedule.Constant
                ? ((LearningRateSchedule.Constant) schedule).lr : schedule.config());
        c.putAll(hyperParameters());
        return c;
    }

    public static Optimizer fromConfig(Map<String, Object> c) {
        LearningRateSchedule lr = LearningRateSchedule.fromConfig(c.get("learning_rate"));
        String type = Json.getString(c, "class");
        switch (type) {
            case "SGD":
                return new SGD(lr, Json.getDouble(c, "momentum", 0), Json.getBoolean(c, "nesterov", false),
                        Json.getDouble(c, "weight_decay", 0));
            case "Adam":
                return new Adam(lr, Json.getDouble(c, "beta_1", 0.9), Json.getDouble(c, "beta_2", 0.999),
                        Json.getDouble(c, "epsilon", 1e-7));
            case "AdamW":
                return new AdamW(lr, Json.getDouble(c, "weight_decay", 0.004), Json.getDouble(c, "beta_1", 0.9),
                        Json.getDouble(c, "beta_2", 0.999), Json.getDouble(c, "epsilon", 1e-7));
            case "RMSprop":
                return new RMSprop(lr, Json.getDouble(c, "rho", 0.9), Json.getDouble(c, "momentum", 0),
                        Json.getDouble(c, "epsilon", 1e-7));
            default:
                throw new IllegalArgumentException("unknown optimizer '" + type + "'; valid: SGD, Adam, AdamW, RMSprop");
        }
    }

    static void checkRange(String opt, String key, double v, double lo, double hi) {
        if (!(v >= lo && v <= hi)) {
            throw new IllegalArgumentException(opt + ": " + key + " must be in [" + lo + ", " + hi + "], received "
                    + key + "=" + v);
        }
    }

    /** v in [lo, hi): a beta of 1 divides by 1 - beta^t = 0 (beta_1) or freezes the second moment (beta_2). */
    static void checkRangeOpen(String opt, String key, double v, double lo, double hi) {
        if (!(v >= lo && v < hi)) {
            throw new IllegalArgumentException(opt + ": " + key + " must be in [" + lo + ", " + hi + "), received "
                    + key + "=" + v);
        }
    }

    /** A finite v >= 0 (weight decay, epsilon). */
    static void checkNonNegative(String opt, String key, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException(opt + ": " + key + " must be a finite number >= 0, received " + key
                    + "=" + v);
        }
    }

    /** Keras SGD: v = momentum*v - lr*g; p += v (or the Nesterov form). weight_decay adds wd*p to g. */
    public static final class SGD extends Optimizer {
        public final double momentum;
        public final boolean nesterov;
        public final double weightDecay;

        public SGD(double lr) {
            this(LearningRateSchedule.constant(lr), 0, false, 0);
        }

        public SGD(LearningRateSchedule lr, double momentum, boolean nesterov, double weightDecay) {
            super(lr);
            checkRange("SGD", "momentum", momentum, 0, 1);
            checkNonNegative("SGD", "weight_decay", weightDecay);
            this.momentum = momentum;
            this.nesterov = nesterov;
            this.weightDecay = weightDecay;
        }

        @Override
        public String type() {
            return "SGD";
        }

        @Override
        public String[] slotNames() {
            return momentum > 0 ? new String[] {"momentum"} : new String[0];
        }

        @Override
        protected void update(Backend be, Parameter p, NDArray g, NDArray[] s, double lr, long step) {
            be.sgdUpdate(p.value(), g, s.length > 0 ? s[0] : null, lr, momentum, nesterov, weightDecay);
        }

        @Override
        protected Map<String, Object> hyperParameters() {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("momentum", momentum);
            c.put("nesterov", nesterov);
            c.put("weight_decay", weightDecay);
            return c;
        }
    }

    /** Keras Adam (epsilon outside the square root, bias correction folded into the step size). */
    public static class Adam extends Optimizer {
        public final double beta1;
        public final double beta2;
        public final double epsilon;

        public Adam(double lr) {
            this(LearningRateSchedule.constant(lr), 0.9, 0.999, 1e-7);
        }

        public Adam(LearningRateSchedule lr, double beta1, double beta2, double epsilon) {
            super(lr);
            checkRangeOpen(type(), "beta_1", beta1, 0, 1);
            checkRangeOpen(type(), "beta_2", beta2, 0, 1);
            checkNonNegative(type(), "epsilon", epsilon);
            this.beta1 = beta1;
            this.beta2 = beta2;
            this.epsilon = epsilon;
        }

        protected double decoupledWeightDecay() {
            return 0;
        }

        @Override
        public String type() {
            return "Adam";
        }

        @Override
        public String[] slotNames() {
            return new String[] {"m", "v"};
        }

        @Override
        protected void update(Backend be, Parameter p, NDArray g, NDArray[] s, double lr, long step) {
            be.adamUpdate(p.value(), g, s[0], s[1], lr, beta1, beta2, epsilon, step, decoupledWeightDecay());
        }

        @Override
        protected Map<String, Object> hyperParameters() {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("beta_1", beta1);
            c.put("beta_2", beta2);
            c.put("epsilon", epsilon);
            return c;
        }
    }

    /** Adam with decoupled weight decay: p -= lr * weight_decay * p before each Adam step (Keras AdamW). */
    public static final class AdamW extends Adam {
        public final double weightDecay;

        public AdamW(double lr, double weightDecay) {
            this(LearningRateSchedule.constant(lr), weightDecay, 0.9, 0.999, 1e-7);
        }

        public AdamW(LearningRateSchedule lr, double weightDecay, double beta1, double beta2, double epsilon) {
            super(lr, beta1, beta2, epsilon);
            checkNonNegative("AdamW", "weight_decay", weightDecay);
            this.weightDecay = weightDecay;
        }

        @Override
        protected double decoupledWeightDecay() {
            return weightDecay;
        }

        @Override
        public String type() {
            return "AdamW";
        }

        @Override
        protected Map<String, Object> hyperParameters() {
            Map<String, Object> c = super.hyperParameters();
            c.put("weight_decay", weightDecay);
            return c;
        }
    }

    /** Keras RMSprop (centered=False). */
    public static final class RMSprop extends Optimizer {
        public final double rho;
        public final double momentum;
        public final double epsilon;

        public RMSprop(double lr) {
            this(LearningRateSchedule.constant(lr), 0.9, 0, 1e-7);
        }

        public RMSprop(LearningRateSchedule lr, double rho, double momentum, double epsilon) {
            super(lr);
            checkRange("RMSprop", "rho", rho, 0, 1);
            checkRange("RMSprop", "momentum", momentum, 0, 1);
            checkNonNegative("RMSprop", "epsilon", epsilon);
            this.rho = rho;
            this.momentum = momentum;
            this.epsilon = epsilon;
        }

        @Override
        public String type() {
            return "RMSprop";
        }

        @Override
        public String[] slotNames() {
            return momentum > 0 ? new String[] {"velocity", "momentum"} : new String[] {"velocity"};
        }

        @Override
        protected void update(Backend be, Parameter p, NDArray g, NDArray[] s, double lr, long step) {
            be.rmspropUpdate(p.value(), g, s[0], s.length > 1 ? s[1] : null, lr, rho, epsilon, momentum);
        }

        @Override
        protected Map<String, Object> hyperParameters() {
            Map<String, Object> c = new LinkedHashMap<>();
            c.put("rho", rho);
            c.put("momentum", momentum);
            c.put("epsilon", epsilon);
            return c;
        }
    }

    /** All parameters that have slots, in the given order (for saving). */
    public List<Parameter> withSlots(List<Parameter> params) {
        List<Parameter> out = new ArrayList<>();
        for (Parameter p : params) if (slots.containsKey(p)) out.add(p);
        return out;
    }
}
