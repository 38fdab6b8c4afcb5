package org.pydl.spark;

import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.SplittableRandom;

import org.apache.spark.ml.linalg.Vector;
import org.apache.spark.sql.Row;
import org.pydl.nd.NDArray;
import org.pydl.train.DataSet;

/**
 * A partition's rows packed as one {@code float[]}: {@code [n, featureWidth, labelWidth, x (n*fw), y (n*lw)]}.
 * Only a primitive array travels and is cached, so neither Java serialization nor Kryo ever sees a pydl class
 * (no registrator needed, whatever {@code spark.serializer} is). Pure functions: tested without a cluster.
 */
public final class Blocks {
    public static final int HEADER = 3;

    private Blocks() {}

    public static int size(float[] block) {
        return (int) block[0];
    }

    public static int featureWidth(float[] block) {
        return (int) block[1];
    }

    public static int labelWidth(float[] block) {
        return (int) block[2];
    }

    /**
     * {rows, index of the first label that is not a class index in [0, classes) or -1, that label}; classes 0:
     * the labels are targets, not checked.
     */
    public static double[] scan(float[] b, long classes) {
        int n = size(b), yoff = HEADER + n * featureWidth(b);
        for (int i = 0; classes > 0 && i < n; i++) {
            float v = b[yoff + i];
            if (v != Math.rint(v) || v < 0 || v >= classes) return new double[] {n, i, v};
        }
        return new double[] {n, -1, 0};
    }

    /** Packs rows of (features, label): features an array of numbers or an ml Vector, label a number or an array. */
    public static float[] fromRows(Iterator<Row> rows, int fw, int lw, String featuresCol, String labelCol) {
        List<float[]> v = new ArrayList<>();
        while (rows.hasNext()) v.add(vector(rows.next(), fw, lw, featuresCol, labelCol));
        return pack(v, fw, lw);
    }

    /** Packs rows given as features-then-label float vectors (of one width; the block's widths come from it). */
    public static float[] fromVectors(Iterator<float[]> rows, int fw, int lw) {
        List<float[]> v = new ArrayList<>();
        while (rows.hasNext()) v.add(rows.next());
        return pack(v, fw, lw);
    }

    /** A DataFrame row as its features then its label, fw + lw floats. */
    public static float[] vector(Row r, int fw, int lw, String featuresCol, String labelCol) {
        float[] out = new float[fw + lw];
        values(r, 0, fw, featuresCol, out, 0);
        values(r, 1, lw, labelCol, out, fw);
        return out;
    }

    /**
     * A DataSet's rows, each its features then its label as fw + lw floats: features [n, ...] (fw values per row),
     * labels [n] (class ids, lw = 1) or [n, ...] (lw values per row). One input and one output.
     */
    public static List<float[]> vectors(DataSet d, int fw, int lw) {
        if (d.featureList().size() != 1 || d.labelList().size() != 1) {
            throw new IllegalArgumentException("SparkTrainer: a DataSet with " + d.featureList().size() + " inputs and "
                    + d.labelList().size() + " targets; Spark training takes one of each");
        }
        NDArray x = d.features(), y = d.labels();
        long n = d.size();
        if (x.size() != n * fw) {
            throw new IllegalArgumentException("SparkTrainer: DataSet features of shape "
                    + org.pydl.nd.Shapes.str(x.shape()) + " have " + (n == 0 ? 0 : x.size() / n) + " values per row; "
                    + "the model needs " + fw);
        }
        if (y.size() != n * lw) {
            throw new IllegalArgumentException("SparkTrainer: DataSet labels of shape "
                    + org.pydl.nd.Shapes.str(y.shape()) + " have " + (n == 0 ? 0 : y.size() / n) + " values per row; "
                    + "the model needs " + lw);
        }
        double[] xs = x.toDoubleArray(), ys = y.toDoubleArray();
        List<float[]> out = new ArrayList<>((int) n);
        for (int i = 0; i < n; i++) {
            float[] r = new float[fw + lw];
            for (int j = 0; j < fw; j++) r[j] = (float) xs[i * fw + j];
            for (int j = 0; j < lw; j++) r[fw + j] = (float) ys[i * lw + j];
            out.add(r);
        }
        return out;
    }

    private static float[] pack(List<float[]> rows, int fw, int lw) {
        int n = rows.size();
        long len = HEADER + (long) n * (fw + lw);
        if (len > Integer.MAX_VALUE - 8) {
            throw new IllegalArgumentException("SparkTrainer: a partition of " + n + " rows x " + (fw + lw)
                    + " values does not fit one block; use more workers (partitions)");
        }
        float[] b = new float[(int) len];
        b[0] = n;
        b[1] = fw;
        b[2] = lw;
        for (int i = 0; i < n; i++) {
            float[] r = rows.get(i);
            System.arraycopy(r, 0, b, HEADER + i * fw, fw);
            System.arraycopy(r, fw, b, HEADER + n * fw + i * lw, lw);
        }
        return b;
    }

    /** Column {@code col} of a row as {@code width} floats into out[off..] (a number, numbers or an ml Vector). */
    static void values(Row r, int col, int width, String name, float[] out, int off) {
        Object v = r.get(col);
        if (v == null) throw new IllegalArgumentException("SparkTrainer: column '" + name + "' has a null value");
        int got;
        if (v instanceof Number) {
            got = 1;
            if (width == 1) out[off] = ((Number) v).floatValue();
        } else if (v instanceof Vector) {
            double[] d = ((Vector) v).toArray();
            got = d.length;
            if (got == width) for (int i = 0; i < width; i++) out[off + i] = (float) d[i];
        } else if (v instanceof scala.collection.Seq) {
            List<?> l = r.getList(col);
            got = l.size();
            if (got == width) {
                for (int i = 0; i < width; i++) {
                    Object e = l.get(i);
                    if (!(e instanceof Number)) {
                        throw new IllegalArgumentException("SparkTrainer: column '" + name + "' holds " + e
                                + "; it needs numbers");
                    }
                    out[off + i] = ((Number) e).floatValue();
                }
            }
        } else {
            throw new IllegalArgumentException("SparkTrainer: column '" + name + "' holds a " + v.getClass().getName()
                    + "; it needs numbers, arrays of numbers or ml Vectors");
        }
        if (got != width) {
            throw new IllegalArgumentException("SparkTrainer: column '" + name + "' has a row of " + got + " values but "
                    + "the model needs " + width + " per row");
        }
    }

    /**
     * Rows {@code order[from..to)} of a block as a DataSet: x float32 [rows, inputShape...], y int32 [rows] for a
     * sparse loss ({@code outputShape == null}), else float32 [rows, outputShape...].
     */
    public static DataSet toDataSet(float[] b, int[] order, int from, int to, long[] inputShape, long[] outputShape) {
        int n = size(b), fw = featureWidth(b), lw = labelWidth(b), rows = to - from;
        float[] x = new float[rows * fw];
        for (int i = 0; i < rows; i++) System.arraycopy(b, HEADER + order[from + i] * fw, x, i * fw, fw);
        NDArray xa = NDArray.of(x, prepend(rows, inputShape));
        NDArray ya;
        int yoff = HEADER + n * fw;
        if (outputShape == null) {
            int[] y = new int[rows];
            for (int i = 0; i < rows; i++) {
                float v = b[yoff + order[from + i]];
                if (v != Math.rint(v) || v < 0) {
                    throw new IllegalArgumentException("SparkTrainer: label " + v + " is not a class index (an integer "
                            + ">= 0), as the model's sparse loss needs");
                }
                y[i] = (int) v;
            }
            ya = NDArray.of(y, rows);
        } else {
            float[] y = new float[rows * lw];
            for (int i = 0; i < rows; i++) System.arraycopy(b, yoff + order[from + i] * lw, y, i * lw, lw);
            ya = NDArray.of(y, prepend(rows, outputShape));
        }
        return new DataSet(xa, ya);
    }

    private static long[] prepend(long n, long[] shape) {
        long[] s = new long[shape.length + 1];
        s[0] = n;
        System.arraycopy(shape, 0, s, 1, shape.length);
        return s;
    }

    /** The order a worker visits its rows in an epoch: identity, or a permutation seeded by (seed, epoch, partition). */
    public static int[] order(int n, boolean shuffle, long seed, int epoch, int partition) {
        int[] o = new int[n];
        for (int i = 0; i < n; i++) o[i] = i;
        if (shuffle) {
            SplittableRandom r = new SplittableRandom(seed * 0x9E3779B97F4A7C15L + epoch * 1_000_003L + partition);
            for (int i = n - 1; i > 0; i--) {
                int j = r.nextInt(i + 1);
                int t = o[i];
                o[i] = o[j];
                o[j] = t;
            }
        }
        return o;
    }

    /** Minibatches needed for n rows. */
    public static int steps(int n, int batch) {
        return (n + batch - 1) / batch;
    }

    /** Rows of minibatch {@code step} for a worker holding n rows (0 once its rows are used up). */
    public static int rowsInStep(int n, int batch, int step) {
        return Math.max(0, Math.min(batch, n - step * batch));
    }
}
