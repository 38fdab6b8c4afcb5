package org.pydl.nn;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras 3's weight constraints, applied to a weight after each optimizer step ({@code w = constraint(w)}):
 * <ul>
 * <li>MaxNorm(max_value=2, axis=0): {@code w * clip(n, 0, max_value) / (eps + n)}</li>
 * <li>NonNeg: {@code w * (w >= 0)}</li>
 * <li>UnitNorm(axis=0): {@code w / (eps + n)}</li>
 * <li>MinMaxNorm(min_value=0, max_value=1, rate=1, axis=0):
 * {@code w * (rate * clip(n, min_value, max_value) + (1 - rate) * n) / (eps + n)}</li>
 * </ul>
 * where {@code n = sqrt(sum(w^2, axis, keepdims))} and eps = 1e-7 (Keras's backend epsilon). {@code axis} is one
 * axis or several (for a Conv2D kernel [kh, kw, in, out] Keras suggests [0, 1, 2]); negative axes count from the end.
 */
public final class Constraint {
    public enum Kind { MAX_NORM, NON_NEG, UNIT_NORM, MIN_MAX_NORM }

    private static final String[] CLASS = {"MaxNorm", "NonNeg", "UnitNorm", "MinMaxNorm"};
    private static final String[] SNAKE = {"max_norm", "non_neg", "unit_norm", "min_max_norm"};
    static final double EPSILON = 1e-7;

    public final Kind kind;
    public final double minValue;
    public final double maxValue;
    public final double rate;
    public final int[] axis;

    private Constraint(Kind kind, double minValue, double maxValue, double rate, int[] axis) {
        this.kind = kind;
        this.minValue = minValue;
        this.maxValue = maxValue;
        this.rate = rate;
        this.axis = axis;
        String bad = null;
        if (!(minValue >= 0) || Double.isInfinite(minValue)) bad = "min_value=" + minValue;
        else if (!(maxValue >= minValue) || Double.isInfinite(maxValue)) bad = "max_value=" + maxValue;
        else if (!(rate >= 0 && rate <= 1)) bad = "rate=" + rate;
        if (bad != null) {
            throw new IllegalArgumentException(CLASS[kind.ordinal()] + ": needs finite 0 <= min_value <= max_value "
                    + "and 0 <= rate <= 1, received " + bad);
        }
    }

    public static Constraint maxNorm(double maxValue, int... axis) {
        return new Constraint(Kind.MAX_NORM, 0, maxValue, 1, axis.length == 0 ? new int[] {0} : axis.clone());
    }

    public static Constraint nonNeg() {
        return new Constraint(Kind.NON_NEG, 0, 0, 1, new int[0]);
    }

    public static Constraint unitNorm(int... axis) {
        return new Constraint(Kind.UNIT_NORM, 0, 0, 1, axis.length == 0 ? new int[] {0} : axis.clone());
    }

    public static Constraint minMaxNorm(double minValue, double maxValue, double rate, int... axis) {
        return new Constraint(Kind.MIN_MAX_NORM, minValue, maxValue, rate, axis.length == 0 ? new int[] {0} : axis.clone());
    }

    /** The constrained value (a new array); call without gradient recording. */
    public NDArray apply(NDArray w) {
        if (kind == Kind.NON_NEG) return Ops.maximum(w, Ops.scalarLike(w, 0.0));
        int r = w.rank();
        int[] ax = new int[axis.length];
        for (int i = 0; i < ax.length; i++) {
            ax[i] = axis[i] < 0 ? axis[i] + r : axis[i];
            if (ax[i] < 0 || ax[i] >= r) {
                throw new IllegalArgumentException(CLASS[kind.ordinal()] + ": axis=" + axisStr()
                        + " is out of range for a weight of rank " + r + " (shape "
                        + java.util.Arrays.toString(w.shape()) + ")");
            }
        }
        NDArray norms = Ops.sqrt(Ops.sum(Ops.square(w), ax, true));
        NDArray denom = Ops.add(norms, Ops.scalarLike(w, EPSILON));
        switch (kind) {
            case UNIT_NORM: return Ops.div(w, denom);
            case MAX_NORM: return Ops.mul(w, Ops.div(Ops.clip(norms, 0, maxValue), denom));
            default: {
                NDArray desired = Ops.add(Ops.mul(Ops.clip(norms, minValue, maxValue), rate), Ops.mul(norms, 1 - rate));
                return Ops.mul(w, Ops.div(desired, denom));
            }
        }
    }

    private Object axisStr() {
        return axis.length == 1 ? (Object) axis[0] : java.util.Arrays.toString(axis);
    }

    /** Keras's serialised form {"class_name": "MaxNorm", "config": {"max_value": 2.0, "axis": 0}}. */
    public Map<String, Object> toConfig() {
        Map<String, Object> cfg = new LinkedHashMap<>();
        if (kind == Kind.MIN_MAX_NORM) cfg.put("min_value", minValue);
        if (kind == Kind.MAX_NORM || kind == Kind.MIN_MAX_NORM) cfg.put("max_value", maxValue);
        if (kind == Kind.MIN_MAX_NORM) cfg.put("rate", rate);
        if (kind != Kind.NON_NEG) {
            if (axis.length == 1) {
                cfg.put("axis", (long) axis[0]);
            } else {
                List<Object> a = new ArrayList<>();
                for (int v : axis) a.add((long) v);
                cfg.put("axis", a);
            }
        }
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("class_name", CLASS[kind.ordinal()]);
        m.put("config", cfg);
        return m;
    }

    /**
     * From a Keras identifier: a name ("max_norm", "non_neg", "unit_norm", "min_max_norm" or the class name, with
     * Keras's defaults) or a serialised dict. {@code what} names the argument in messages ("kernel_constraint").
     */
    @SuppressWarnings("unchecked")
    public static Constraint fromConfig(Object spec, String what) {
        Kind kind = null;
        Map<String, Object> c = Map.of();
        if (spec instanceof String) {
            kind = kindOf((String) spec);
        } else if (spec instanceof Map) {
            Map<String, Object> m = (Map<String, Object>) spec;
            if (m.get("class_name") instanceof String) kind = kindOf((String) m.get("class_name"));
            if (m.get("config") instanceof Map) c = (Map<String, Object>) m.get("config");
        }
        if (kind == null) {
            throw new IllegalArgumentException("unsupported " + what + "=" + (spec instanceof String ? "'" + spec + "'"
                    : Json.write(spec)) + "; valid: 'max_norm', 'non_neg', 'unit_norm', 'min_max_norm' or "
                    + "{\"class_name\": \"MaxNorm\"|\"NonNeg\"|\"UnitNorm\"|\"MinMaxNorm\", \"config\": {...}}");
        }
        try {
            int[] axis = axes(c.get("axis"));
            switch (kind) {
                case NON_NEG: return nonNeg();
                case UNIT_NORM: return unitNorm(axis);
                case MAX_NORM: return maxNorm(Json.getDouble(c, "max_value", 2.0), axis);
                default: return minMaxNorm(Json.getDouble(c, "min_value", 0.0), Json.getDouble(c, "max_value", 1.0),
                        Json.getDouble(c, "rate", 1.0), axis);
            }
        } catch (IllegalArgumentException | ClassCastException e) {
            throw new IllegalArgumentException(what + ": " + e.getMessage() + " (received " + what + "="
                    + Json.write(spec) + ")", e);
        }
    }

    private static Kind kindOf(String s) {
        for (Kind k : Kind.values()) if (CLASS[k.ordinal()].equals(s) || SNAKE[k.ordinal()].equals(s)) return k;
        return null;
    }

    private static int[] axes(Object a) {
        if (a == null) return new int[] {0};
        if (a instanceof Number) return new int[] {((Number) a).intValue()};
        List<Object> l = (List<Object>) a;
        if (l.isEmpty()) throw new IllegalArgumentException("axis must be an int or a non-empty list of ints, received []");
        int[] r = new int[l.size()];
        for (int i = 0; i < r.length; i++) r[i] = ((Number) l.get(i)).intValue();
        return r;
    }
}
