package org.pydl.spark;

import java.io.BufferedInputStream;
import java.io.InputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.pydl.io.ModelFile;
import org.pydl.io.Npy;
import org.pydl.nn.Network;
import org.pydl.train.DataSet;

/**
 * spark-submit entry point: trains a model file on .npy data and saves the result.
 * <pre>
 * spark-submit --class org.pydl.spark.TrainMain --master spark://127.0.0.1:7077 --jars pydl.jar pydl-spark.jar \
 *     --model in.pydl --x x.npy --y y.npy --out out.pydl [--strategy averaging|allreduce] [--epochs 3]
 *     [--batch-size 32] [--workers 0] [--averaging-frequency 5] [--exchange driver|ring]
 *     [--compression none|fp16] [--seed 0]
 *     [--input dataframe|datasets]   (datasets: the rows as an RDD of pydl DataSets instead of a DataFrame)
 *     [--checkpoint-dir path-or-uri] [--resume true]
 * </pre>
 * x: float32 [n, features...]; y: int32/int64 class ids [n] or float32 targets [n, outputs...]. Prints the final
 * loss and accuracy on the same data (computed in the driver, and again distributed over the executors) and one
 * JSON line of metrics per round/epoch.
 */
public final class TrainMain {
    private TrainMain() {}

    public static void main(String[] args) throws Exception {
        Map<String, String> a = parse(args);
        for (String k : new String[] {"model", "x", "y", "out"}) {
            if (!a.containsKey(k)) throw new IllegalArgumentException("TrainMain: --" + k + " is required; usage: "
                    + "--model in.pydl --x x.npy --y y.npy --out out.pydl [--strategy s] [--epochs n] ...");
        }
        String input = a.getOrDefault("input", "dataframe");
        if (!input.equals("dataframe") && !input.equals("datasets")) {
            throw new IllegalArgumentException("TrainMain: --input must be 'dataframe' or 'datasets', received '"
                    + input + "'");
        }
        SparkSession spark = SparkSession.builder().appName("pydl TrainMain").getOrCreate();
        try {
            float[][] x = readRows(Path.of(a.get("x")));
            float[][] y = readRows(Path.of(a.get("y")));
            List<Row> rows = new ArrayList<>(x.length);
            for (int i = 0; i < x.length; i++) {
                List<Float> f = new ArrayList<>(x[i].length);
                for (float v : x[i]) f.add(v);
                rows.add(RowFactory.create(f, y[i][0]));
            }
            StructType schema = new StructType()
                    .add("features", DataTypes.createArrayType(DataTypes.FloatType))
                    .add("label", DataTypes.FloatType);
            Dataset<Row> df = spark.createDataFrame(rows, schema);
            Network model = ModelFile.loadNetwork(Path.of(a.get("model")));
            SparkTrainer t = new SparkTrainer(spark)
                    .strategy(a.getOrDefault("strategy", SparkTrainer.AVERAGING))
                    .numWorkers(Integer.parseInt(a.getOrDefault("workers", "0")))
                    .batchSize(Integer.parseInt(a.getOrDefault("batch-size", "32")))
                    .averagingFrequency(Integer.parseInt(a.getOrDefault("averaging-frequency", "5")))
                    .exchange(a.getOrDefault("exchange", SparkTrainer.DRIVER))
                    .compression(a.getOrDefault("compression", SparkTrainer.NONE))
                    .checkpointDir(a.get("checkpoint-dir"))
                    .resume(Boolean.parseBoolean(a.getOrDefault("resume", "false")))
                    .seed(Long.parseLong(a.getOrDefault("seed", "0")));
            int epochs = Integer.parseInt(a.getOrDefault("epochs", "1"));
            Network trained;
            if (input.equals("datasets")) {   // an RDD of pydl DataSets (of 64 rows), serialized by Spark like any object
                List<DataSet> sets = dataSets(x, y, model.loss().sparseLabels(), 64);
                JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
                trained = t.fit(model, jsc.parallelize(sets, Math.max(1, jsc.defaultParallelism())), epochs);
            } else {
                trained = t.fit(model, df, epochs);
            }
            ModelFile.save(trained, Path.of(a.get("out")));
            DataSet all = new DataSet(org.pydl.nd.NDArray.of(x), labels(y, trained));
            System.out.println("pydl.spark TrainMain result " + trained.evaluate(all, 256));
            System.out.println("pydl.spark TrainMain distributed evaluate " + t.evaluate(trained, df, 256));
            System.out.println("pydl.spark TrainMain metrics " + t.metricsJson());
        } finally {
            spark.stop();
        }
    }

    /** Rows of x and y as DataSets of {@code rows} rows each (labels int32 class ids when {@code sparse}). */
    public static List<DataSet> dataSets(float[][] x, float[][] y, boolean sparse, int rows) {
        List<DataSet> out = new ArrayList<>();
        for (int a = 0; a < x.length; a += rows) {
            int b = Math.min(x.length, a + rows);
            float[][] xs = java.util.Arrays.copyOfRange(x, a, b), ys = java.util.Arrays.copyOfRange(y, a, b);
            out.add(new DataSet(org.pydl.nd.NDArray.of(xs), labels(ys, sparse)));
        }
        return out;
    }

    /** {@link #dataSets(float[][], float[][], boolean, int)} of two .npy files (float32, int32 or int64). */
    public static List<DataSet> dataSets(String xNpy, String yNpy, boolean sparse, int rows) throws Exception {
        return dataSets(readRows(Path.of(xNpy)), readRows(Path.of(yNpy)), sparse, rows);
    }

    private static org.pydl.nd.NDArray labels(float[][] y, Network m) {
        return labels(y, m.loss().sparseLabels());
    }

    private static org.pydl.nd.NDArray labels(float[][] y, boolean sparse) {
        if (sparse) {
            int[] l = new int[y.length];
            for (int i = 0; i < l.length; i++) l[i] = (int) y[i][0];
            return org.pydl.nd.NDArray.of(l, l.length);
        }
        return org.pydl.nd.NDArray.of(y);
    }

    static Map<String, String> parse(String[] args) {
        Map<String, String> m = new HashMap<>();
        for (int i = 0; i < args.length; i++) {
            if (!args[i].startsWith("--") || i + 1 >= args.length) {
                throw new IllegalArgumentException("TrainMain: expected '--name value' pairs, received '" + args[i] + "'");
            }
            m.put(args[i].substring(2), args[++i]);
        }
        return m;
    }

    /** A .npy file (float32, int32 or int64) as rows of floats: [n][prod(shape[1:])]. */
    static float[][] readRows(Path p) throws Exception {
        try (InputStream in = new BufferedInputStream(Files.newInputStream(p))) {
            Npy.Header h = Npy.readHeader(in);
            long[] s = h.shape();
            int n = (int) s[0], w = 1;
            for (int i = 1; i < s.length; i++) w *= (int) s[i];
            ByteBuffer b = ByteBuffer.allocate((int) h.byteSize()).order(ByteOrder.LITTLE_ENDIAN);
            Npy.readData(in, h, b);
            float[][] out = new float[n][w];
            for (int i = 0; i < n; i++) {
                for (int j = 0; j < w; j++) {
                    int k = i * w + j;
                    switch (h.descr()) {
                        case "<f4": out[i][j] = b.getFloat(4 * k); break;
                        case "<i4": out[i][j] = b.getInt(4 * k); break;
                        case "<i8": out[i][j] = b.getLong(8 * k); break;
                        default: throw new IllegalArgumentException("TrainMain: " + p + " holds " + h.descr()
                                + "; use float32, int32 or int64");
                    }
                }
            }
            return out;
        }
    }
}
