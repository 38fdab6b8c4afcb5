package org.pydl.testing;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.nio.DoubleBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.function.Function;

import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;

/**
 * The one float64 gradient checker of the Java tests: autodiff vs central finite differences of
 * sum(f(inputs) * w) for a fixed random w (so the check is not a plain sum), eps 1e-6, tolerance
 * 1e-6 relative + 1e-7 absolute.
 */
public final class GradCheck {
    public static final double EPS = 1e-6;
    public static final double RTOL = 1e-6;
    public static final double ATOL = 1e-7;

    private GradCheck() {}

    /**
     * The tests' one random array: float64 values uniform in [lo, hi) from {@code new Random(seed)}, detached from
     * any memory scope (a contiguous leaf, as {@link #checkGradient} wants); shape [] gives a scalar.
     */
    public static NDArray uniform(long seed, double lo, double hi, long... shape) {
        Random r = new Random(seed);
        int n = 1;
        for (long d : shape) n *= (int) d;
        double[] v = new double[n];
        for (int i = 0; i < n; i++) v[i] = lo + (hi - lo) * r.nextDouble();
        return MemoryScope.detach(shape.length == 0 ? NDArray.scalar(v[0], DType.FLOAT64) : NDArray.of(v, shape));
    }

    /** Checks every float64 input of {@code f}; integer inputs (labels, indices) pass through unchanged. */
    public static void checkGradient(Function<NDArray[], NDArray> f, NDArray... inputs) {
        checkGradient(f, new NDArray[0], inputs);
    }

    /**
     * Also checks {@code params}: arrays that f reads without taking them as arguments (a layer's weights).
     * Checked arrays must be contiguous float64 leaves.
     */
    public static void checkGradient(Function<NDArray[], NDArray> f, NDArray[] params, NDArray... inputs) {
        List<NDArray> all = new ArrayList<>();
        for (NDArray x : inputs) if (x.dtype() == DType.FLOAT64) all.add(x);
        all.addAll(List.of(params));
        for (NDArray x : all) {
            assertEquals(DType.FLOAT64, x.dtype(), "gradient checks run in float64");
            assertTrue(x.isContiguous(), "inputs of checkGradient must be contiguous");
            x.setRequiresGrad(true);
            x.setGrad(null);
        }
        double[][] analytic = new double[all.size()][];
        NDArray w;
        try (MemoryScope s = MemoryScope.open()) {
            NDArray y = f.apply(inputs);
            assertEquals(DType.FLOAT64, y.dtype(), "output dtype");
            assertTrue(y.requiresGrad(), "output does not require a gradient");
            Random r = new Random(1234);
            double[] wv = new double[(int) y.size()];
            for (int i = 0; i < wv.length; i++) wv[i] = 0.5 + r.nextDouble() * (r.nextBoolean() ? 1 : -1);
            w = MemoryScope.detach(MemoryScope.detach(NDArray.of(wv, new long[] {wv.length})).reshape(y.shape()));
            Ops.sum(Ops.mul(y, w)).backward();
            for (int i = 0; i < all.size(); i++) {
                NDArray g = all.get(i).grad();
                assertNotNull(g, "no gradient for input " + i);
                assertArrayEquals(all.get(i).shape(), g.shape(), "gradient shape of input " + i);
                assertEquals(DType.FLOAT64, g.dtype(), "gradient dtype of input " + i);
                analytic[i] = g.toDoubleArray();
                all.get(i).setGrad(null);
            }
        }
        try (Autograd.AutoCloseable0 ng = Autograd.noGrad()) {
            for (int i = 0; i < all.size(); i++) {
                DoubleBuffer buf = all.get(i).buffer().asDoubleBuffer();
                for (int j = 0; j < buf.capacity(); j++) {
                    double orig = buf.get(j);
                    buf.put(j, orig + EPS);
                    double fp = weightedSum(f, inputs, w);
                    buf.put(j, orig - EPS);
                    double fm = weightedSum(f, inputs, w);
                    buf.put(j, orig);
                    double num = (fp - fm) / (2 * EPS);
                    double an = analytic[i][j];
                    double tol = RTOL * Math.max(Math.abs(num), Math.abs(an)) + ATOL;
                    if (!(Math.abs(num - an) <= tol)) {
                        fail("gradient mismatch for input " + i + " element " + j + ": autodiff " + an
                                + ", finite differences " + num + " (|diff| " + Math.abs(num - an) + " > " + tol + ")");
                    }
                }
            }
        } finally {
            w.close();
            for (NDArray x : inputs) if (x.dtype() == DType.FLOAT64) x.setRequiresGrad(false);
        }
    }

    private static double weightedSum(Function<NDArray[], NDArray> f, NDArray[] inputs, NDArray w) {
        try (MemoryScope s = MemoryScope.open()) {
            return Ops.sum(Ops.mul(f.apply(inputs), w)).getDouble();
        }
    }
}
