package org.pydl.nn;

import java.util.LinkedHashMap;
import java.util.Map;

import org.pydl.io.Json;
import org.pydl.nd.NDArray;
import org.pydl.ops.Ops;

/**
 * Keras 3's weight and activity regularizers L1, L2 and L1L2: the penalty {@code l1 * sum(|x|) + l2 * sum(x^2)}
 * added to the training loss. For a weight ({@code kernel_regularizer}, ...) x is the weight; for
 * {@code activity_regularizer} x is the layer's output for the whole batch (Keras 3 adds it as is, without
 * dividing by the batch size, unlike Keras 2).
 */
public final class Regularizer {
    public final double l1;
    public final double l2;

    public Regularizer(double l1, double l2) {
        check("l1", l1);
        check("l2", l2);
        this.l1 = l1;
        this.l2 = l2;
    }

    private static void check(String what, double v) {
        if (!(v >= 0) || Double.isInfinite(v)) {
            throw new IllegalArgumentException("regularizer: " + what + " must be a finite float >= 0, received "
                    + what + "=" + v);
        }
    }

    public static Regularizer l1(double l1) {
        return new Regularizer(l1, 0);
    }

    public static Regularizer l2(double l2) {
        return new Regularizer(0, l2);
    }

    public static Regularizer l1l2(double l1, double l2) {
        return new Regularizer(l1, l2);
    }

    /** The penalty as a scalar array (recorded for autodiff). */
    public NDArray penalty(NDArray x) {
        NDArray r = null;
        if (l1 > 0) r = Ops.mul(Ops.sum(Ops.abs(x)), l1);
        if (l2 > 0) {
            NDArray t = Ops.mul(Ops.sum(Ops.square(x)), l2);
            r = r == null ? t : Ops.add(r, t);
        }
        return r == null ? Ops.mul(Ops.sum(x), 0.0) : r;
    }

    /** Keras's class name: L1, L2 or L1L2. */
    public String className() {
        return l1 > 0 && l2 == 0 ? "L1" : l2 > 0 && l1 == 0 ? "L2" : "L1L2";
    }

    /** Keras's serialised form {"class_name": "L2", "config": {"l2": 0.01}}. */
    public Map<String, Object> toConfig() {
        Map<String, Object> cfg = new LinkedHashMap<>();
        String cls = className();
        if (!cls.equals("L2")) cfg.put("l1", l1);
        if (!cls.equals("L1")) cfg.put("l2", l2);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("class_name", cls);
        m.put("config", cfg);
        return m;
    }

    /**
     * From a Keras identifier: a name as {@code keras.regularizers.get} takes it ("l1" and "l2" with factor 0.01,
     * "l1_l2"/"l1l2"/"L1L2" with Keras 3's defaults l1 = l2 = 0), or a serialised dict. {@code what} names the
     * argument in messages ("kernel_regularizer").
     */
    @SuppressWarnings("unchecked")
    public static Regularizer fromConfig(Object spec, String what) {
        if (spec instanceof String) {
            switch ((String) spec) {
                case "l1": case "L1": return l1(0.01);
                case "l2": case "L2": return l2(0.01);
                case "l1_l2": case "l1l2": case "L1L2": return new Regularizer(0, 0);
                default: break;
            }
        } else if (spec instanceof Map) {
            Map<String, Object> m = (Map<String, Object>) spec;
            Object cls = m.get("class_name");
            Map<String, Object> c = m.get("config") instanceof Map ? (Map<String, Object>) m.get("config") : Map.of();
            try {
                if ("L1".equals(cls)) return l1(Json.getDouble(c, "l1", 0.01));
                if ("L2".equals(cls)) return l2(Json.getDouble(c, "l2", 0.01));
                if ("L1L2".equals(cls)) return new Regularizer(Json.getDouble(c, "l1", 0.0), Json.getDouble(c, "l2", 0.0));
            } catch (IllegalArgumentException | ClassCastException e) {
                throw new IllegalArgumentException(what + ": " + e.getMessage() + " (received " + what + "="
                        + Json.write(spec) + ")", e);
            }
        }
        throw new IllegalArgumentException("unsupported " + what + "=" + (spec instanceof String ? "'" + spec + "'"
                : Json.write(spec)) + "; valid: 'l1', 'l2', 'l1_l2' or {\"class_name\": \"L1\"|\"L2\"|\"L1L2\", "
                + "\"config\": {\"l1\": ..., \"l2\": ...}}");
    }
}
