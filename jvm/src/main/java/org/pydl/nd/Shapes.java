package org.pydl.nd;

import java.util.Arrays;

/** Shape arithmetic shared by every op: sizes, strides, broadcasting, axis normalisation. */
public final class Shapes {
    private Shapes() {}

    /** Validates dimensions (non-negative, total size fits a long) and returns a copy. */
    public static long[] check(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            n = Math.multiplyExact(n, d);
        }
        return shape.clone();
    }

    public static long size(long[] shape) {
        long n = 1;
        for (long d : shape) n = Math.multiplyExact(n, d);
        return n;
    }

    public static long[] contiguousStrides(long[] shape) {
        long[] s = new long[shape.length];
        long st = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            s[i] = st;
            st *= Math.max(shape[i], 1);
        }
        return s;
    }

    /** Row-major contiguous, ignoring the strides of size-1 dimensions. */
    public static boolean isContiguous(long[] shape, long[] strides) {
        long st = 1;
        for (int i = shape.length - 1; i >= 0; i--) {
            if (shape[i] != 1 && strides[i] != st) return false;
            st *= shape[i];
        }
        return true;
    }

    /** Normalises a possibly negative axis; throws naming the rank. */
    public static int axis(int axis, int rank) {
        int a = axis < 0 ? axis + rank : axis;
        if (a < 0 || a >= rank) {
            throw new IllegalArgumentException("axis " + axis + " is out of range for an array of rank " + rank);
        }
        return a;
    }

    /** NumPy broadcasting of two shapes. */
    public static long[] broadcast(long[] a, long[] b) {
        int r = Math.max(a.length, b.length);
        long[] out = new long[r];
        for (int i = 0; i < r; i++) {
            long da = i < r - a.length ? 1 : a[i - (r - a.length)];
            long db = i < r - b.length ? 1 : b[i - (r - b.length)];
            if (da != db && da != 1 && db != 1) {
                throw new IllegalArgumentException("shapes " + Arrays.toString(a) + " and " + Arrays.toString(b)
                        + " cannot be broadcast together (dimension " + i + ": " + da + " vs " + db + ")");
            }
            out[i] = da == 1 ? db : da;
        }
        return out;
    }

    /** Element strides that read {@code x} as if it had shape {@code target} (0 where broadcast). */
    public static long[] broadcastStrides(long[] shape, long[] strides, long[] target) {
        int r = target.length;
        long[] out = new long[r];
        int lead = r - shape.length;
        for (int i = 0; i < r; i++) {
            if (i < lead) {
                out[i] = 0;
            } else {
                long d = shape[i - lead];
                out[i] = (d == 1 && target[i] != 1) ? 0 : strides[i - lead];
            }
        }
        return out;
    }

    public static String str(long[] shape) {
        return Arrays.toString(shape);
    }
}
