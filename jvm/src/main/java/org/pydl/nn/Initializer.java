package org.pydl.nn;

import java.util.Arrays;
import java.util.Map;
import java.util.SplittableRandom;

import org.pydl.nd.DType;
import org.pydl.nd.NDArray;

/**
 * Weight initialisers with Keras's names and formulas. fan_in/fan_out of a [in, out] kernel are in and out.
 * Values come from a seeded {@link SplittableRandom}: same seed, same weights, on every machine.
 */
public enum Initializer {
    GLOROT_UNIFORM("glorot_uniform"), GLOROT_NORMAL("glorot_normal"), HE_UNIFORM("he_uniform"),
    HE_NORMAL("he_normal"), LECUN_NORMAL("lecun_normal"), ZEROS("zeros"), ONES("ones"),
    RANDOM_NORMAL("random_normal"), RANDOM_UNIFORM("random_uniform");

    public final String kerasName;

    Initializer(String kerasName) {
        this.kerasName = kerasName;
    }

    public static Initializer of(String name) {
        String n = name.toLowerCase();
        if (n.equals("xavier_uniform")) return GLOROT_UNIFORM;
        for (Initializer i : values()) if (i.kerasName.equals(n) || i.name().equalsIgnoreCase(n)) return i;
        throw new IllegalArgumentException("unknown initializer '" + name + "'; valid: "
                + Arrays.toString(Arrays.stream(values()).map(a -> a.kerasName).toArray()));
    }

    /** Accepts a name or a Keras-style {"class_name": ..., "config": {...}} map. */
    public static Initializer fromConfig(Object cfg) {
        if (cfg instanceof Map) {
            Object cn = ((Map<?, ?>) cfg).get("class_name");
            return of(camelToSnake(String.valueOf(cn)));
        }
        return of(String.valueOf(cfg));
    }

    private static String camelToSnake(String s) {
        if (s.contains("_")) return s.toLowerCase();
        return s.replaceAll("([a-z])([A-Z])", "$1_$2").toLowerCase();
    }

    private static final ThreadLocal<Boolean> ZERO_FILL = ThreadLocal.withInitial(() -> Boolean.FALSE);

    /**
     * While on (for the calling thread), {@link #create} returns zeros instead of drawing values: for builders that
     * overwrite every weight right after building (model import), which would otherwise spend most of the build
     * drawing random numbers for weights that are replaced. Returns the previous setting, to restore it.
     */
    public static boolean zeroFill(boolean on) {
        boolean before = ZERO_FILL.get();
        ZERO_FILL.set(on);
        return before;
    }

    public NDArray create(DType dtype, long[] shape, long seed) {
        if (ZERO_FILL.get()) return NDArray.zeros(dtype, shape);
        long fanIn, fanOut;
        if (shape.length == 0) {
            fanIn = fanOut = 1;
        } else if (shape.length == 1) {
            fanIn = fanOut = shape[0];
        } else {
            long receptive = 1;
            for (int i = 0; i < shape.length - 2; i++) receptive *= shape[i];
            fanIn = shape[shape.length - 2] * receptive;
            fanOut = shape[shape.length - 1] * receptive;
        }
        int n = Math.toIntExact(org.pydl.nd.Shapes.size(shape));
        double[] v = new double[n];
        SplittableRandom r = new SplittableRandom(seed);
        switch (this) {
            case ZEROS: break;
            case ONES: Arrays.fill(v, 1.0); break;
            case GLOROT_UNIFORM: uniform(v, r, Math.sqrt(6.0 / (fanIn + fanOut))); break;
            case HE_UNIFORM: uniform(v, r, Math.sqrt(6.0 / fanIn)); break;
            case RANDOM_UNIFORM: uniform(v, r, 0.05); break;
            case GLOROT_NORMAL: truncNormal(v, r, Math.sqrt(2.0 / (fanIn + fanOut))); break;
            case HE_NORMAL: truncNormal(v, r, Math.sqrt(2.0 / fanIn)); break;
            case LECUN_NORMAL: truncNormal(v, r, Math.sqrt(1.0 / fanIn)); break;
            case RANDOM_NORMAL: for (int i = 0; i < n; i++) v[i] = 0.05 * gauss(r); break;
            default: throw new IllegalStateException(name());
        }
        try (NDArray d = NDArray.of(v, shape)) {
            return dtype == DType.FLOAT64 ? d.cast(DType.FLOAT64) : d.cast(dtype);
        }
    }

    private static void uniform(double[] v, SplittableRandom r, double limit) {
        for (int i = 0; i < v.length; i++) v[i] = r.nextDouble(-limit, limit);
    }

    /** Keras's variance-scaling truncated normal: stddev / .87962566 so the truncated std is stddev. */
    private static void truncNormal(double[] v, SplittableRandom r, double std) {
        double s = std / 0.87962566103423978;
        for (int i = 0; i < v.length; i++) {
            double z;
            do {
                z = gauss(r);
            } while (Math.abs(z) > 2.0);
            v[i] = s * z;
        }
    }

    private static double gauss(SplittableRandom r) {
        double u1 = 1.0 - r.nextDouble(), u2 = r.nextDouble();
        return Math.sqrt(-2.0 * Math.log(u1)) * Math.cos(2 * Math.PI * u2);
    }
}
