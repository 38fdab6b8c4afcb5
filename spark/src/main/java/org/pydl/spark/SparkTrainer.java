package org.pydl.spark;

import java.io.IOException;
import java.io.Serializable;
import java.net.ServerSocket;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

import org.apache.spark.BarrierTaskContext;
import org.apache.spark.api.java.JavaFutureAction;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.rdd.RDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.ArrayType;
import org.apache.spark.sql.types.DataType;
import org.apache.spark.sql.types.NumericType;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.storage.StorageLevel;
import org.pydl.io.Json;
import org.pydl.io.ModelFile;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.nn.Network;
import org.pydl.nn.Optimizer;
import org.pydl.nn.Parameter;
import org.pydl.train.DataSet;
import org.pydl.train.History;

/**
 * Data-parallel training of a pydl model inside Spark executors, with one of two strategies:
 * <ul>
 *   <li>{@code averaging}: each worker trains {@code averagingFrequency} minibatches of {@code batchSize} rows of its
 *       partition from the broadcast state (parameters and optimizer slots), then the states are averaged
 *       (weighted by rows) with {@code treeAggregate} of depth {@code aggregationDepth}; repeat. One Spark job per
 *       averaging round.</li>
 *   <li>{@code allreduce}: synchronous gradient sharing in barrier mode. Every step each worker computes the gradient
 *       of its {@code batchSize} rows, the workers sum them over a TCP ring between the barrier tasks (never through
 *       the driver) and all apply the same update: the same as one process training with the global batch
 *       ({@code batchSize} x workers rows, worker w's rows at positions [w*batchSize, (w+1)*batchSize)). One barrier
 *       job per epoch.</li>
 * </ul>
 * The model travels as pydl model-file bytes, the data as one {@code float[]} per partition (cached), results as
 * {@code float[]}: no user class is ever serialized, so neither a Kryo registrator nor Serializable models are
 * needed. Every Spark job the trainer runs is bounded by {@code jobTimeoutSeconds} (cancelled, then a clear error),
 * and every socket wait by {@code commTimeoutSeconds}: a lost worker fails the run, it never hangs it.
 */
public final class SparkTrainer {
    public static final String AVERAGING = "averaging";
    public static final String ALLREDUCE = "allreduce";
    /** Averaging exchanges: through the driver (broadcast + treeAggregate, plain tasks) or over the ring. */
    public static final String DRIVER = "driver", RING = "ring";
    /** All-reduce gradient compression: none (floats) or fp16 (IEEE halves: half the bytes on the wire). */
    public static final String NONE = "none", FP16 = "fp16";

    private final JavaSparkContext sc;
    private String strategy = AVERAGING;
    private int numWorkers;
    private int batchSize = 32;
    private int averagingFrequency = 5;
    private int aggregationDepth = 2;
    private String featuresCol = "features";
    private String labelCol = "label";
    private boolean shuffle = true;
    private long seed;
    private double jobTimeoutSeconds = 1800;
    private double commTimeoutSeconds = 120;
    private double slotWaitSeconds = 60;
    private int allReduceRetries = 3;
    private String exchange = DRIVER;
    private String compression = NONE;
    private boolean verbose = true;
    private String checkpointDir;
    private boolean resume;
    private final List<Map<String, Object>> metrics = new ArrayList<>();

    public SparkTrainer(JavaSparkContext sc) {
        this.sc = sc;
    }

    public SparkTrainer(org.apache.spark.sql.SparkSession spark) {
        this(JavaSparkContext.fromSparkContext(spark.sparkContext()));
    }

    // ---- configuration (fluent) ----------------------------------------------------------------------------
    public SparkTrainer strategy(String s) {
        if (!AVERAGING.equals(s) && !ALLREDUCE.equals(s)) {
            throw new IllegalArgumentException("SparkTrainer: strategy must be 'averaging' or 'allreduce', received "
                    + "strategy='" + s + "'");
        }
        strategy = s;
        return this;
    }

    /** Workers (partitions, one task each); 0 = the cluster's default parallelism. */
    public SparkTrainer numWorkers(int n) {
        if (n < 0) throw new IllegalArgumentException("SparkTrainer: num_workers must be >= 0, received " + n);
        numWorkers = n;
        return this;
    }

    /** Minibatch rows per worker (the global batch is this times the workers). */
    public SparkTrainer batchSize(int b) {
        if (b <= 0) throw new IllegalArgumentException("SparkTrainer: batch_size must be > 0, received batch_size=" + b);
        batchSize = b;
        return this;
    }

    /** Averaging mode: minibatches each worker trains between two averagings. */
    public SparkTrainer averagingFrequency(int f) {
        if (f <= 0) {
            throw new IllegalArgumentException("SparkTrainer: averaging_frequency must be > 0, received " + f);
        }
        averagingFrequency = f;
        return this;
    }

    /**
     * Averaging mode: how states are averaged. {@code driver}: one Spark job per round (the driver broadcasts the
     * average, {@code treeAggregate} sums the workers' states; ordinary tasks, retried by Spark). {@code ring}: one
     * barrier job for all epochs, the workers average their states over the all-reduce ring after every round (no
     * Spark job nor driver round trip per round; a failed job is re-submitted like all-reduce's).
     */
    public SparkTrainer exchange(String e) {
        if (!DRIVER.equals(e) && !RING.equals(e)) {
            throw new IllegalArgumentException("SparkTrainer: exchange must be 'driver' or 'ring', received exchange='"
                    + e + "'");
        }
        exchange = e;
        return this;
    }

    /**
     * All-reduce mode: {@code fp16} sends the gradients over the ring as IEEE halves (half the bytes; relative
     * rounding error 2^-11 per transfer, magnitudes above 65504 saturate), {@code none} (default) as floats.
     * Averaging exchanges parameters and optimizer state, which are never compressed.
     */
    public SparkTrainer compression(String c) {
        if (!NONE.equals(c) && !FP16.equals(c)) {
            throw new IllegalArgumentException("SparkTrainer: compression must be 'none' or 'fp16', received compression='"
                    + c + "'");
        }
        compression = c;
        return this;
    }

    /** Averaging mode: depth of the treeAggregate that sums the workers' states (2 = one intermediate level). */
    public SparkTrainer aggregationDepth(int d) {
        if (d < 1) throw new IllegalArgumentException("SparkTrainer: aggregation_depth must be >= 1, received " + d);
        aggregationDepth = d;
        return this;
    }

    public SparkTrainer featuresCol(String c) {
        featuresCol = c;
        return this;
    }

    public SparkTrainer labelCol(String c) {
        labelCol = c;
        return this;
    }

    /** Shuffle each partition's rows every epoch (seeded by seed, epoch and partition). */
    public SparkTrainer shuffle(boolean s) {
        shuffle = s;
        return this;
    }

    public SparkTrainer seed(long s) {
        seed = s;
        return this;
    }

    /** Upper bound on each Spark job (an averaging round, an all-reduce epoch); it is cancelled past it. */
    public SparkTrainer jobTimeoutSeconds(double s) {
        if (!(s > 0)) throw new IllegalArgumentException("SparkTrainer: job timeout must be > 0, received " + s);
        jobTimeoutSeconds = s;
        return this;
    }

    /** Upper bound on each wait for a peer in all-reduce (connect, receive). */
    public SparkTrainer commTimeoutSeconds(double s) {
        if (!(s > 0)) throw new IllegalArgumentException("SparkTrainer: comm timeout must be > 0, received " + s);
        commTimeoutSeconds = s;
        return this;
    }

    /** All-reduce: how long to wait for enough executors (task slots) to register before failing. */
    public SparkTrainer slotWaitSeconds(double s) {
        slotWaitSeconds = s;
        return this;
    }

    /**
     * Saves the model (parameters, optimizer state, step counters) after every epoch under {@code dir}: a local
     * path or any Hadoop FileSystem URI ({@code hdfs://...}, {@code file:///...}); null = no checkpoints.
     */
    public SparkTrainer checkpointDir(String dir) {
        checkpointDir = dir == null || dir.isEmpty() ? null : dir;
        return this;
    }

    /** With a checkpoint directory: continue from its latest checkpoint (epochs done) instead of the given model. */
    public SparkTrainer resume(boolean r) {
        resume = r;
        return this;
    }

    /**
     * All-reduce: how many times a failed barrier job (a lost executor, a broken ring) is submitted again before
     * the run fails. Errors in the data (IllegalArgumentException) and job timeouts are never retried.
     */
    public SparkTrainer allReduceRetries(int r) {
        if (r < 0) throw new IllegalArgumentException("SparkTrainer: allreduce_retries must be >= 0, received " + r);
        allReduceRetries = r;
        return this;
    }

    public SparkTrainer verbose(boolean v) {
        verbose = v;
        return this;
    }

    public String strategy() {
        return strategy;
    }

    /** One entry per averaging round (averaging) or epoch (allreduce) of the last fit. */
    public List<Map<String, Object>> metrics() {
        return Collections.unmodifiableList(metrics);
    }

    public String metricsJson() {
        return Json.write(new ArrayList<Object>(metrics), false);
    }

    // ---- training ------------------------------------------------------------------------------------------
    /** Trains a copy of {@code model} (left unchanged) and returns the trained copy. */
    public Network fit(Network model, Dataset<Row> df, int epochs) throws IOException {
        return ModelFile.fromBytes(fitBytes(ModelFile.toBytes(model), df, epochs));
    }

    /**
     * Trains on an RDD of pydl DataSets (features [n, ...] float, labels [n] class ids or [n, ...] targets; any
     * number of rows each), e.g. built on the executors from files. Each partition's DataSets become rows of plain
     * floats right away: only those travel (repartitioning), never a DataSet, so no serializer setting matters.
     */
    public Network fit(Network model, JavaRDD<DataSet> data, int epochs) throws IOException {
        return ModelFile.fromBytes(fitDataSetsBytes(ModelFile.toBytes(model), data, epochs));
    }

    /** {@link #fit(Network, JavaRDD, int)} with model file bytes in and out. */
    public byte[] fitDataSetsBytes(byte[] modelBytes, JavaRDD<DataSet> data, int epochs) throws IOException {
        return train(modelBytes, (workers, shapes) -> blocks(data.flatMap(new DataSetRows(shapes.featureWidth,
                shapes.labelWidth)), workers, shapes, "RDD of DataSets"), epochs);
    }

    /** The coarse call for Python (py4j): model file bytes in, trained model file bytes out. */
    public byte[] fitBytes(byte[] modelBytes, Dataset<Row> df, int epochs) throws IOException {
        checkColumns(df, true);
        return train(modelBytes, (workers, shapes) -> blocks(df, workers, shapes), epochs);
    }

    private byte[] train(byte[] modelBytes, java.util.function.BiFunction<Integer, Shapes, JavaRDD<float[]>> blocksFor,
                         int epochs) throws IOException {
        if (epochs < 0) throw new IllegalArgumentException("SparkTrainer: epochs must be >= 0, received epochs=" + epochs);
        if (FP16.equals(compression) && !ALLREDUCE.equals(strategy)) {
            throw new IllegalArgumentException("SparkTrainer: compression='fp16' compresses all-reduce gradients; "
                    + "strategy='" + strategy + "' exchanges parameters, which stay float: use strategy='allreduce' "
                    + "or compression='none'");
        }
        Network model = ModelFile.fromBytes(modelBytes);
        Shapes shapes = Shapes.of(model);
        int workers = numWorkers > 0 ? numWorkers : sc.defaultParallelism();
        metrics.clear();
        Checkpoints ckpt = checkpointDir == null ? null : new Checkpoints(sc.hadoopConfiguration(), checkpointDir);
        int first = 0;
        if (ckpt != null && resume) {
            Checkpoints.Saved saved = ckpt.latest();
            if (saved != null) {
                Network restored = ModelFile.fromBytes(saved.model);
                if (StateVector.length(restored) != StateVector.length(model)) {
                    throw new IllegalArgumentException("SparkTrainer: the checkpoint " + saved.path + " holds a model "
                            + "of " + StateVector.length(restored) + " state values, this model has "
                            + StateVector.length(model) + "; resume from a checkpoint of the same model");
                }
                model = restored;
                modelBytes = saved.model;
                first = saved.epochsDone;
                if (verbose) {
                    System.err.printf("pydl.spark resuming from %s (%d of %d epochs done)%n", saved.path, first, epochs);
                }
            }
        }
        if (first >= epochs) return ModelFile.toBytes(model);
        String run = UUID.randomUUID().toString();
        JavaRDD<float[]> blocks = blocksFor.apply(workers, shapes);
        Broadcast<byte[]> modelBc = null;
        try {
            int[] sizes = partitionSizes(blocks, shapes);
            checkNativeMemory(model, sizes);
            modelBc = sc.broadcast(modelBytes);
            boolean barrier = ALLREDUCE.equals(strategy) || RING.equals(exchange);
            if (barrier) {
                waitForSlots(workers);
                // one barrier job (one ring) for all epochs, or one per epoch when each epoch is checkpointed
                int chunk = ckpt == null ? epochs - first : 1;
                for (int epoch = first; epoch < epochs; epoch += chunk) {
                    int to = Math.min(epochs, epoch + chunk);
                    for (int attempt = 0; ; attempt++) {
                        try {
                            allReduceEpochs(model, blocks, modelBc, shapes, sizes, run, epoch, to, epochs);
                            break;
                        } catch (JobFailed e) {
                            // Spark never re-runs a failed barrier ResultStage: re-submit the job, from the same
                            // broadcast state, once W task slots are back (a lost executor is replaced)
                            if (attempt >= allReduceRetries) throw e;
                            if (verbose) {
                                System.err.printf("pydl.spark " + strategy + ": epochs %d-%d failed (%s); retrying (%d of %d)%n",
                                        epoch + 1, to, e.getMessage(), attempt + 1, allReduceRetries);
                            }
                            waitForSlots(workers);
                        }
                    }
                    if (ckpt != null) ckpt.save(ModelFile.toBytes(model), to, strategy);
                }
            } else {
                for (int epoch = first; epoch < epochs; epoch++) {
                    averagingEpoch(model, blocks, modelBc, shapes, sizes, run, epoch, epochs);
                    if (ckpt != null) ckpt.save(ModelFile.toBytes(model), epoch + 1, strategy);
                }
            }
            return ModelFile.toBytes(model);
        } finally {
            blocks.unpersist(false);
            if (modelBc != null) modelBc.destroy();
            Worker.forget(run);
        }
    }

    // ---- distributed evaluation and inference ----------------------------------------------------------------
    /**
     * Loss and metrics of {@code model} over every row of {@code df} (features and label columns), each partition
     * evaluated where it lies, the results weighted by rows: the same numbers as {@code model.evaluate} on all rows.
     * Adds {@code "samples"}.
     */
    public Map<String, Double> evaluate(Network model, Dataset<Row> df, int batchSize) throws IOException {
        return evaluateBytes(ModelFile.toBytes(model), df, batchSize);
    }

    public Map<String, Double> evaluateBytes(byte[] modelBytes, Dataset<Row> df, int batchSize) throws IOException {
        if (batchSize <= 0) throw new IllegalArgumentException("SparkTrainer: batch_size must be > 0, received " + batchSize);
        Shapes shapes = Shapes.of(ModelFile.fromBytes(modelBytes));
        checkColumns(df, true);
        Broadcast<byte[]> bc = sc.broadcast(modelBytes);
        try {
            String fc = featuresCol, lc = labelCol;
            JavaRDD<double[]> parts = df.select(featuresCol, labelCol).javaRDD().mapPartitions(rows -> {
                float[] block = Blocks.fromRows(rows, shapes.featureWidth, shapes.labelWidth, fc, lc);
                int n = Blocks.size(block);
                if (n == 0) return Collections.emptyIterator();
                Worker.useTaskCpus();
                Network m = ModelFile.fromBytes(bc.value());
                DataSet d = Blocks.toDataSet(block, Blocks.order(n, false, 0, 0, 0), 0, n, shapes.input, shapes.output);
                Map<String, Double> r;
                try {
                    r = m.evaluate(d, batchSize);
                } finally {
                    d.features().close();
                    d.labels().close();
                }
                double[] out = new double[1 + r.size()];
                out[0] = n;
                int i = 1;
                for (double v : r.values()) out[i++] = v * n;
                return Collections.singletonList(out).iterator();
            });
            List<String> keys = new ArrayList<>(evaluationKeys(modelBytes, shapes));
            List<double[]> results = await(parts.collectAsync(), "evaluating");
            double[] sum = new double[1 + keys.size()];
            for (double[] r : results) for (int i = 0; i < sum.length; i++) sum[i] += r[i];
            if (sum[0] == 0) throw new IllegalArgumentException("SparkTrainer: the DataFrame is empty (0 rows)");
            Map<String, Double> out = new LinkedHashMap<>();
            for (int i = 0; i < keys.size(); i++) out.put(keys.get(i), sum[i + 1] / sum[0]);
            out.put("samples", sum[0]);
            return out;
        } finally {
            bc.destroy();
        }
    }

    /** The keys {@code Network.evaluate} returns for this model, in order (from one zero row on the driver). */
    private static java.util.Set<String> evaluationKeys(byte[] modelBytes, Shapes shapes) throws IOException {
        Network m = ModelFile.fromBytes(modelBytes);
        float[] block = new float[Blocks.HEADER + shapes.featureWidth + shapes.labelWidth];
        block[0] = 1;
        block[1] = shapes.featureWidth;
        block[2] = shapes.labelWidth;
        DataSet d = Blocks.toDataSet(block, new int[] {0}, 0, 1, shapes.input, shapes.output);
        try {
            return m.evaluate(d, 1).keySet();
        } finally {
            d.features().close();
            d.labels().close();
        }
    }

    /** JSON of {@link #evaluateBytes} (for py4j). */
    public String evaluateJson(byte[] modelBytes, Dataset<Row> df, int batchSize) throws IOException {
        return Json.write(new LinkedHashMap<String, Object>(evaluateBytes(modelBytes, df, batchSize)), false);
    }

    /**
     * {@code df} with a column {@code predictionCol} (array of float) holding the model's output for each row's
     * features, computed in the executors, partition by partition, in batches of {@code batchSize}. Lazy, like any
     * DataFrame transformation; the label column is not needed.
     */
    public Dataset<Row> predict(Network model, Dataset<Row> df, String predictionCol, int batchSize) throws IOException {
        return predictBytes(ModelFile.toBytes(model), df, predictionCol, batchSize);
    }

    public Dataset<Row> predictBytes(byte[] modelBytes, Dataset<Row> df, String predictionCol, int batchSize)
            throws IOException {
        if (batchSize <= 0) throw new IllegalArgumentException("SparkTrainer: batch_size must be > 0, received " + batchSize);
        Shapes shapes = Shapes.of(ModelFile.fromBytes(modelBytes));
        checkColumns(df, false);
        if (Arrays.asList(df.columns()).contains(predictionCol)) {
            throw new IllegalArgumentException("SparkTrainer: the DataFrame already has a column '" + predictionCol
                    + "'; choose another prediction_col");
        }
        int col = Arrays.asList(df.columns()).indexOf(featuresCol);
        String fc = featuresCol;
        Broadcast<byte[]> bc = sc.broadcast(modelBytes);   // lives as long as the DataFrame may be recomputed
        JavaRDD<Row> rows = df.javaRDD().mapPartitions(it -> {
            List<Row> out = new ArrayList<>();
            Network m = null;
            List<Row> chunk = new ArrayList<>(batchSize);
            while (it.hasNext() || !chunk.isEmpty()) {
                if (it.hasNext()) chunk.add(it.next());
                if (chunk.size() < batchSize && it.hasNext()) continue;
                if (m == null) {
                    Worker.useTaskCpus();
                    m = ModelFile.fromBytes(bc.value());
                }
                int k = chunk.size(), fw = shapes.featureWidth;
                float[] x = new float[k * fw];
                for (int i = 0; i < k; i++) Blocks.values(chunk.get(i), col, fw, fc, x, i * fw);
                long[] shape = new long[shapes.input.length + 1];
                shape[0] = k;
                System.arraycopy(shapes.input, 0, shape, 1, shapes.input.length);
                NDArray xa = NDArray.of(x, shape);
                NDArray y = m.outputAll(Collections.singletonList(xa)).get(0);
                float[] yv = y.toFloatArray();
                xa.close();
                y.close();
                int ow = yv.length / k;
                for (int i = 0; i < k; i++) {
                    Row r = chunk.get(i);
                    Object[] v = new Object[r.length() + 1];
                    for (int j = 0; j < r.length(); j++) v[j] = r.get(j);
                    v[r.length()] = Arrays.copyOfRange(yv, i * ow, (i + 1) * ow);
                    out.add(org.apache.spark.sql.RowFactory.create(v));
                }
                chunk.clear();
            }
            return out.iterator();
        });
        org.apache.spark.sql.types.StructType schema = df.schema().add(predictionCol,
                org.apache.spark.sql.types.DataTypes.createArrayType(org.apache.spark.sql.types.DataTypes.FloatType,
                        false), false);
        return df.sparkSession().createDataFrame(rows, schema);
    }

    /** What the model expects of a row: its input shape, and its output shape (null for sparse class labels). */
    static final class Shapes implements Serializable {
        private static final long serialVersionUID = 1L;
        final long[] input;
        final long[] output;
        final int featureWidth, labelWidth;
        /** With a sparse loss (one class id per row), the model's number of classes; else 0. */
        final long classes;

        private Shapes(long[] input, long[] output, int fw, int lw, long classes) {
            this.input = input;
            this.output = output;
            this.featureWidth = fw;
            this.labelWidth = lw;
            this.classes = classes;
        }

        static Shapes of(Network m) {
            if (!m.isCompiled()) {
                throw new IllegalArgumentException("SparkTrainer: model '" + m.name() + "' must be compiled (optimizer "
                        + "and loss) before training");
            }
            if (m.inputShapes().size() != 1 || m.outputShapes().size() != 1) {
                throw new IllegalArgumentException("SparkTrainer: model '" + m.name() + "' has "
                        + m.inputShapes().size() + " inputs and " + m.outputShapes().size() + " outputs; Spark "
                        + "training supports one input and one output");
            }
            if (m.dtype() != DType.FLOAT32) {
                throw new IllegalArgumentException("SparkTrainer: model '" + m.name() + "' is " + m.dtype().pyName
                        + "; Spark training supports float32 models");
            }
            long[] in = m.inputShapes().get(0), out = m.outputShapes().get(0);
            boolean sparse = m.loss().sparseLabels();
            if (sparse && out.length != 1) {
                throw new IllegalArgumentException("SparkTrainer: " + m.loss().name() + " with an output of shape "
                        + Arrays.toString(out) + " is not supported; Spark training takes one class label per row");
            }
            return new Shapes(in, sparse ? null : out, Math.toIntExact(prod(in)), sparse ? 1 : Math.toIntExact(prod(out)),
                    sparse ? out[0] : 0);
        }

        private static long prod(long[] s) {
            long p = 1;
            for (long d : s) p *= d;
            return p;
        }
    }

    private void checkColumns(Dataset<Row> df, boolean withLabel) {
        Map<String, DataType> types = new LinkedHashMap<>();
        for (StructField f : df.schema().fields()) types.put(f.name(), f.dataType());
        String[][] cols = withLabel ? new String[][] {{"features", featuresCol}, {"label", labelCol}}
                : new String[][] {{"features", featuresCol}};
        for (String[] c : cols) {
            DataType t = types.get(c[1]);
            if (t == null) {
                throw new IllegalArgumentException("SparkTrainer: the DataFrame has no " + c[0] + " column '" + c[1]
                        + "'; its columns are " + types.keySet() + " (set " + c[0] + "_col)");
            }
            boolean ok = t instanceof NumericType || "vector".equals(t.typeName())
                    || (t instanceof ArrayType && ((ArrayType) t).elementType() instanceof NumericType);
            if (!ok) {
                throw new IllegalArgumentException("SparkTrainer: " + c[0] + " column '" + c[1] + "' has type "
                        + t.simpleString() + "; it needs numbers: a numeric column, an array of numbers or an ml "
                        + "Vector");
            }
        }
    }

    /**
     * The rows split into {@code workers} contiguous ranges of the DataFrame's order (one shuffle, sorted by row
     * index), packed as one cached block per partition. The shuffle also gives barrier stages the clean lineage
     * they require (no union/coalesce inside the stage).
     */
    private JavaRDD<float[]> blocks(Dataset<Row> df, int workers, Shapes shapes) {
        return blocks(df.select(featuresCol, labelCol).javaRDD().map(new RowValues(shapes.featureWidth,
                shapes.labelWidth, featuresCol, labelCol)), workers, shapes, "DataFrame");
    }

    /**
     * Rows (features then label, as floats) -> one block per worker: contiguous ranges of the rows in order
     * (ContiguousPartitioner), cached in the executors' memory.
     */
    private JavaRDD<float[]> blocks(JavaRDD<float[]> rows, int workers, Shapes shapes, String what) {
        int fw = shapes.featureWidth, lw = shapes.labelWidth;
        long n = await(rows.countAsync(), "counting the rows");
        if (n == 0) throw new IllegalArgumentException("SparkTrainer: the " + what + " is empty (0 rows)");
        if (n < workers) {
            throw new IllegalArgumentException("SparkTrainer: " + workers + " workers but the " + what + " has only "
                    + n + " rows; use at most " + n + " workers (num_workers)");
        }
        JavaRDD<float[]> split = rows.zipWithIndex()
                .mapToPair(t -> new scala.Tuple2<>(t._2(), t._1()))
                .repartitionAndSortWithinPartitions(new ContiguousPartitioner(workers, n))
                .values();
        return split.mapPartitions(it -> Collections.singletonList(Blocks.fromVectors(it, fw, lw)).iterator())
                .persist(StorageLevel.MEMORY_ONLY());
    }

    /** A DataFrame row -> its features then its label, as floats (checked against the model's widths). */
    private static final class RowValues implements org.apache.spark.api.java.function.Function<Row, float[]> {
        private static final long serialVersionUID = 1L;
        private final int fw, lw;
        private final String fc, lc;

        RowValues(int fw, int lw, String fc, String lc) {
            this.fw = fw;
            this.lw = lw;
            this.fc = fc;
            this.lc = lc;
        }

        @Override
        public float[] call(Row r) {
            return Blocks.vector(r, fw, lw, fc, lc);
        }
    }

    /** A DataSet -> its rows, each its features then its label, as floats (checked against the model's widths). */
    private static final class DataSetRows implements org.apache.spark.api.java.function.FlatMapFunction<DataSet, float[]> {
        private static final long serialVersionUID = 1L;
        private final int fw, lw;

        DataSetRows(int fw, int lw) {
            this.fw = fw;
            this.lw = lw;
        }

        @Override
        public Iterator<float[]> call(DataSet d) {
            return Blocks.vectors(d, fw, lw).iterator();
        }
    }

    /**
     * Rows per partition, checking on the way (an ordinary job, before any barrier job) that every class label is
     * within the model's classes: a bad label is reported here, not as whichever barrier task Spark names first.
     */
    private int[] partitionSizes(JavaRDD<float[]> blocks, Shapes shapes) {
        long classes = shapes.classes;
        List<double[]> s = await(blocks.map(b -> Blocks.scan(b, classes)).collectAsync(), "preparing the data");
        int[] sizes = new int[s.size()];
        long offset = 0;
        for (int i = 0; i < sizes.length; i++) {
            double[] r = s.get(i);
            sizes[i] = (int) r[0];
            if (r[1] >= 0) {
                throw new IllegalArgumentException("SparkTrainer: label " + (float) r[2] + " at index "
                        + (offset + (long) r[1]) + " is not a class index in [0, " + classes + ") for the model's output of " + classes
                        + " classes");
            }
            offset += sizes[i];
        }
        return sizes;
    }

    /** Barrier stages need every task running at once: fail clearly instead of letting Spark wait for slots. */
    private void waitForSlots(int workers) {
        long deadline = System.nanoTime() + (long) (slotWaitSeconds * 1e9);
        while (sc.defaultParallelism() < workers && System.nanoTime() < deadline) {
            try {
                Thread.sleep(200);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        int slots = sc.defaultParallelism();
        if (slots < workers) {
            throw new IllegalArgumentException("SparkTrainer: allreduce needs " + workers + " task slots at once "
                    + "(barrier mode), the cluster offers " + slots + " after " + slotWaitSeconds + " s; use "
                    + "num_workers <= " + slots + " or add executors");
        }
    }

    private <T> T await(JavaFutureAction<T> job, String what) {
        try {
            return job.get((long) (jobTimeoutSeconds * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            job.cancel(true);
            throw new IllegalStateException("SparkTrainer: " + what + " took longer than " + jobTimeoutSeconds
                    + " s (job_timeout); the job was cancelled. A worker may be lost or the cluster lacks task slots.");
        } catch (InterruptedException e) {
            job.cancel(true);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("SparkTrainer: interrupted while " + what);
        } catch (ExecutionException e) {
            throw rootCause(e, what);
        }
    }

    /** The first IllegalArgumentException/IllegalStateException of a failed job (our message), else the job error. */
    private static RuntimeException rootCause(Throwable e, String what) {
        for (Throwable t = e; t != null; t = t.getCause()) {
            if (t instanceof IllegalArgumentException) return new IllegalArgumentException(t.getMessage(), e);
            if (t instanceof IllegalStateException && String.valueOf(t.getMessage()).startsWith("SparkTrainer")) {
                return new JobFailed(t.getMessage(), e);
            }
        }
        // Spark wraps executor exceptions in a SparkException whose message carries the remote stack trace
        String m = String.valueOf(e.getCause() != null ? e.getCause().getMessage() : e.getMessage());
        String marker = "java.lang.IllegalArgumentException: ";
        int i = m.indexOf(marker);
        if (i >= 0) {
            String msg = m.substring(i + marker.length());
            int nl = msg.indexOf('\n');
            if (nl >= 0) msg = msg.substring(0, nl);
            return new IllegalArgumentException(msg, e);
        }
        int nl = m.indexOf('\n');
        return new JobFailed("SparkTrainer: " + what + " failed: " + (nl >= 0 ? m.substring(0, nl) : m), e);
    }

    /** A Spark job failed for a reason other than bad input (a lost executor, a failed barrier stage...). */
    static final class JobFailed extends IllegalStateException {
        private static final long serialVersionUID = 1L;

        JobFailed(String message, Throwable cause) {
            super(message, cause);
        }
    }

    // ---- parameter averaging -------------------------------------------------------------------------------
    /**
     * Tail of a worker's result: rows, loss * rows, compute s (max), state-load s (max), steps (max), workers,
     * native threads (max).
     */
    static final int TAIL = 7;

    private void averagingEpoch(Network model, JavaRDD<float[]> blocks, Broadcast<byte[]> modelBc, Shapes shapes,
                                int[] sizes, String run, int epoch, int epochs) {
        int rowsPerRound = batchSize * averagingFrequency;
        int maxRows = Arrays.stream(sizes).max().orElse(0);
        int rounds = (maxRows + rowsPerRound - 1) / rowsPerRound;
        int len = StateVector.length(model);
        double epochLoss = 0, epochRows = 0, epochSec = 0;
        for (int round = 0; round < rounds; round++) {
            long t0 = System.nanoTime();
            Broadcast<float[]> stateBc = sc.broadcast(StateVector.read(model));
            long t1 = System.nanoTime();
            AveragingRound fn = new AveragingRound(run, modelBc, stateBc, shapes, model.optimizer().iterations(),
                    model.globalStep(), epoch, round, rowsPerRound, batchSize, shuffle, seed, len);
            JavaRDD<float[]> results = blocks.mapPartitionsWithIndex(fn, false);
            float[] sum = aggregate(results);
            long t2 = System.nanoTime();
            float rows = sum[len];
            float[] avg = new float[len];
            for (int i = 0; i < len; i++) avg[i] = sum[i] / rows;
            StateVector.write(model, avg);
            int steps = (int) sum[len + 4];
            model.optimizer().setIterations(model.optimizer().iterations() + steps);
            model.setGlobalStep(model.globalStep() + steps);
            stateBc.destroy();
            long t3 = System.nanoTime();
            double wall = (t3 - t0) / 1e9, compute = sum[len + 2], load = sum[len + 3];
            double driverComm = ((t1 - t0) + (t3 - t2)) / 1e9;
            double loss = sum[len + 1] / rows;
            record(epoch, round, loss, rows, wall, compute, driverComm + load, 0, (int) sum[len + 5], (int) sum[len + 6]);
            epochLoss += sum[len + 1];
            epochRows += rows;
            epochSec += wall;
        }
        progress(epoch, epochs, epochLoss / epochRows, epochRows, epochSec);
    }

    private float[] aggregate(JavaRDD<float[]> results) {
        int depth = aggregationDepth;
        // treeAggregate blocks: run it on a thread of its own, in a job group that can be cancelled on timeout
        String group = "pydl-" + UUID.randomUUID();
        java.util.concurrent.FutureTask<float[]> task = new java.util.concurrent.FutureTask<>(() ->
                results.treeAggregate(new float[0], SparkTrainer::addResults, SparkTrainer::addResults, depth));
        Thread t = new Thread(() -> {
            sc.setJobGroup(group, "pydl SparkTrainer averaging round", true);
            task.run();
        }, "pydl-averaging-round");
        t.setDaemon(true);
        t.start();
        try {
            return task.get((long) (jobTimeoutSeconds * 1000), TimeUnit.MILLISECONDS);
        } catch (TimeoutException e) {
            sc.cancelJobGroup(group);
            throw new IllegalStateException("SparkTrainer: an averaging round took longer than " + jobTimeoutSeconds
                    + " s (job_timeout); the job was cancelled. A worker may be lost.");
        } catch (InterruptedException e) {
            sc.cancelJobGroup(group);
            Thread.currentThread().interrupt();
            throw new IllegalStateException("SparkTrainer: interrupted during an averaging round");
        } catch (ExecutionException e) {
            throw rootCause(e, "an averaging round");
        }
    }

    /** Sums two worker results in place (the tail's compute, load and steps entries take the maximum). */
    static float[] addResults(float[] a, float[] b) {
        if (a.length == 0) return b;
        if (b.length == 0) return a;
        int len = a.length - TAIL;
        for (int i = 0; i < a.length; i++) {
            int k = i - len;
            a[i] = (k == 2 || k == 3 || k == 4 || k == 6) ? Math.max(a[i], b[i]) : a[i] + b[i];
        }
        return a;
    }

    private static final class AveragingRound implements Function2<Integer, Iterator<float[]>, Iterator<float[]>> {
        private static final long serialVersionUID = 1L;
        private final String run;
        private final Broadcast<byte[]> modelBc;
        private final Broadcast<float[]> stateBc;
        private final Shapes shapes;
        private final long iterations, globalStep;
        private final int epoch, round, rowsPerRound, batch, len;
        private final boolean shuffle;
        private final long seed;

        AveragingRound(String run, Broadcast<byte[]> modelBc, Broadcast<float[]> stateBc, Shapes shapes, long iterations,
                       long globalStep, int epoch, int round, int rowsPerRound, int batch, boolean shuffle, long seed,
                       int len) {
            this.run = run;
            this.modelBc = modelBc;
            this.stateBc = stateBc;
            this.shapes = shapes;
            this.iterations = iterations;
            this.globalStep = globalStep;
            this.epoch = epoch;
            this.round = round;
            this.rowsPerRound = rowsPerRound;
            this.batch = batch;
            this.shuffle = shuffle;
            this.seed = seed;
            this.len = len;
        }

        @Override
        public Iterator<float[]> call(Integer partition, Iterator<float[]> it) {
            float[] block = it.next();
            int n = Blocks.size(block);
            int from = round * rowsPerRound, to = Math.min(n, from + rowsPerRound);
            if (from >= to) return Collections.emptyIterator();
            long t0 = System.nanoTime();
            Worker w = Worker.get(run, partition, modelBc);
            Network m = w.model;
            StateVector.write(m, stateBc.value());
            m.optimizer().setIterations(iterations);
            m.setGlobalStep(globalStep);
            long t1 = System.nanoTime();
            int[] order = w.order(n, shuffle, seed, epoch, partition);
            DataSet d = Blocks.toDataSet(block, order, from, to, shapes.input, shapes.output);
            History h;
            try {
                h = m.fit(d, new Network.FitOptions().epochs(1).batchSize(batch).shuffle(false));
            } finally {
                d.features().close();
                d.labels().close();
            }
            long t2 = System.nanoTime();
            int rows = to - from;
            float[] out = new float[len + TAIL];
            StateVector.read(m, out);
            for (int i = 0; i < len; i++) out[i] *= rows;
            out[len] = rows;
            out[len + 1] = (float) (h.get("loss").get(0) * rows);
            out[len + 2] = (float) ((t2 - t1) / 1e9);
            out[len + 3] = (float) ((t1 - t0) / 1e9);
            out[len + 4] = Blocks.steps(rows, batch);
            out[len + 5] = 1;
            out[len + 6] = Worker.useTaskCpus();
            return Collections.singletonList(out).iterator();
        }
    }

    // ---- synchronous all-reduce ----------------------------------------------------------------------------
    /** Per-epoch entries of an all-reduce task's result: rows, loss * rows, compute s, comm s, steps, wall s. */
    static final int AR_EPOCH = 6;

    /** Epochs [from, to) in one barrier job: the ring is connected once, then every epoch runs over it. */
    private void allReduceEpochs(Network model, JavaRDD<float[]> blocks, Broadcast<byte[]> modelBc, Shapes shapes,
                                 int[] sizes, String run, int from, int to, int epochs) {
        long t0 = System.nanoTime();
        Broadcast<float[]> stateBc = sc.broadcast(StateVector.read(model));
        int len = StateVector.length(model);
        long timeoutMs = (long) (commTimeoutSeconds * 1000);
        BarrierJob job = new BarrierJob(run, modelBc, stateBc, shapes, model.optimizer().iterations(),
                model.globalStep(), from, to, sizes, batchSize, shuffle, seed, len, timeoutMs,
                FP16.equals(compression));
        BarrierEpochs fn = ALLREDUCE.equals(strategy) ? new AllReduceEpochs(job)
                : new RingAveragingEpochs(job, batchSize * averagingFrequency);
        RDD<float[]> out = blocks.rdd().barrier().mapPartitions(fn, false,
                scala.reflect.ClassTag$.MODULE$.apply(float[].class));
        List<float[]> results = await(new JavaRDD<>(out, scala.reflect.ClassTag$.MODULE$.apply(float[].class))
                .collectAsync(), "a barrier job (" + strategy + ", epochs " + (from + 1) + "-" + to + ")");
        double jobWall = (System.nanoTime() - t0) / 1e9;
        int n = to - from;
        float[] state = null;
        double[][] e = new double[n][AR_EPOCH];
        int threads = 0;
        for (float[] r : results) {
            threads = Math.max(threads, (int) r[0]);
            for (int k = 0; k < n; k++) {
                int o = 1 + k * AR_EPOCH;
                e[k][0] += r[o];
                e[k][1] += r[o + 1];
                for (int j = 2; j < AR_EPOCH; j++) e[k][j] = Math.max(e[k][j], r[o + j]);
            }
            if (r.length > 1 + n * AR_EPOCH) state = Arrays.copyOfRange(r, 1 + n * AR_EPOCH, 1 + n * AR_EPOCH + len);
        }
        if (state == null) throw new IllegalStateException("SparkTrainer: rank 0 returned no parameters");
        StateVector.write(model, state);
        int steps = 0;
        double taskWall = 0;
        for (double[] k : e) {
            steps += (int) k[4];
            taskWall += k[5];
        }
        model.optimizer().setIterations(model.optimizer().iterations() + steps);
        model.setGlobalStep(model.globalStep() + steps);
        stateBc.destroy();
        // the job's start-up and collection (scheduling, broadcast, ring set-up) is shared out over its epochs
        double overhead = Math.max(0, jobWall - taskWall) / n;
        for (int k = 0; k < n; k++) {
            double rows = e[k][0], wall = e[k][5] + overhead;
            record(from + k, 0, e[k][1] / rows, rows, wall, e[k][2], e[k][3], overhead, results.size(), threads);
            progress(from + k, epochs, e[k][1] / rows, rows, wall);
        }
    }

    /** The ring between the barrier tasks: each publishes host:port (allGather), connects to the next rank. */
    static RingAllReduce openRing(BarrierTaskContext ctx, int rank, long timeoutMs) throws IOException {
        try (ServerSocket server = new ServerSocket(0)) {
            String host = ctx.getTaskInfos()[rank].address();
            int colon = host.lastIndexOf(':');
            if (colon > 0) host = host.substring(0, colon);
            String[] peers = ctx.allGather(host + ":" + server.getLocalPort());
            return RingAllReduce.connect(rank, peers, server, timeoutMs);
        }
    }

    /** What every task of a barrier job needs: the model, the starting state and the epochs to run. */
    private static final class BarrierJob implements Serializable {
        private static final long serialVersionUID = 1L;
        final String run;
        final Broadcast<byte[]> modelBc;
        final Broadcast<float[]> stateBc;
        final Shapes shapes;
        final long iterations, globalStep, seed, timeoutMs;
        final int from, to, batch, len;
        final int[] sizes;
        final boolean shuffle, fp16;

        BarrierJob(String run, Broadcast<byte[]> modelBc, Broadcast<float[]> stateBc, Shapes shapes, long iterations,
                   long globalStep, int from, int to, int[] sizes, int batch, boolean shuffle, long seed, int len,
                   long timeoutMs, boolean fp16) {
            this.run = run;
            this.modelBc = modelBc;
            this.stateBc = stateBc;
            this.shapes = shapes;
            this.iterations = iterations;
            this.globalStep = globalStep;
            this.from = from;
            this.to = to;
            this.sizes = sizes;
            this.batch = batch;
            this.shuffle = shuffle;
            this.seed = seed;
            this.len = len;
            this.timeoutMs = timeoutMs;
            this.fp16 = fp16;
        }
    }

    /**
     * One barrier task running epochs [from, to) over a ring to the other tasks. Its result: the native thread count,
     * AR_EPOCH entries per epoch (rows, loss * rows, compute s, comm s, steps, wall s) and, from rank 0, the state.
     */
    private abstract static class BarrierEpochs extends scala.runtime.AbstractFunction1<
            scala.collection.Iterator<float[]>, scala.collection.Iterator<float[]>> implements Serializable {
        private static final long serialVersionUID = 1L;
        final BarrierJob job;

        BarrierEpochs(BarrierJob job) {
            this.job = job;
        }

        /** Trains every epoch of this rank's rows, filling {@code out} with {@link #epochDone}. */
        abstract void train(RingAllReduce ring, Worker w, float[] block, int n, int rank, float[] out) throws IOException;

        /** What failed, for the error message ("all-reduce", "ring averaging"). */
        abstract String what();

        @Override
        public final scala.collection.Iterator<float[]> apply(scala.collection.Iterator<float[]> it) {
            BarrierTaskContext ctx = BarrierTaskContext.get();
            int rank = ctx.partitionId();
            float[] block = it.next();
            Worker w = Worker.get(job.run, rank, job.modelBc);
            StateVector.write(w.model, job.stateBc.value());
            int epochs = job.to - job.from;
            float[] out = new float[1 + epochs * AR_EPOCH + (rank == 0 ? job.len : 0)];
            out[0] = Worker.useTaskCpus();
            try (RingAllReduce ring = openRing(ctx, rank, job.timeoutMs)) {
                train(ring, w, block, Blocks.size(block), rank, out);
            } catch (IOException e) {
                throw new IllegalStateException("SparkTrainer: " + what() + " failed on rank " + rank + ": "
                        + e.getMessage(), e);
            }
            if (rank == 0) System.arraycopy(StateVector.read(w.model), 0, out, 1 + epochs * AR_EPOCH, job.len);
            return scala.jdk.javaapi.CollectionConverters.asScala(Collections.singletonList(out).iterator());
        }

        /** Records one epoch's figures in the task's result. */
        final void epochDone(float[] out, int epoch, int rows, double loss, long startNanos, double commS, int steps) {
            double wall = (System.nanoTime() - startNanos) / 1e9;
            int o = 1 + (epoch - job.from) * AR_EPOCH;
            out[o] = rows;
            out[o + 1] = (float) loss;
            out[o + 2] = (float) (wall - commS);
            out[o + 3] = (float) commS;
            out[o + 4] = steps;
            out[o + 5] = (float) wall;
        }

        /** Fits rows [a, b) of this rank's shuffled order; returns loss * rows. */
        final double fitRows(Network m, float[] block, int[] order, int a, int b) {
            DataSet d = Blocks.toDataSet(block, order, a, b, job.shapes.input, job.shapes.output);
            try {
                History h = m.fit(d, new Network.FitOptions().epochs(1).batchSize(job.batch).shuffle(false));
                return h.get("loss").get(0) * (b - a);
            } finally {
                d.features().close();
                d.labels().close();
            }
        }
    }

    /**
     * Parameter averaging inside one barrier job: each round every worker trains its next rows from the common
     * state, then the states weighted by rows are summed over the ring and divided: the same arithmetic as the
     * driver's rounds (for 2 workers bit for bit: one float addition per element), without a Spark job per round.
     */
    private static final class RingAveragingEpochs extends BarrierEpochs {
        private static final long serialVersionUID = 1L;
        private final int rowsPerRound;

        RingAveragingEpochs(BarrierJob job, int rowsPerRound) {
            super(job);
            this.rowsPerRound = rowsPerRound;
        }

        @Override
        String what() {
            return "ring averaging";
        }

        @Override
        void train(RingAllReduce ring, Worker w, float[] block, int n, int rank, float[] out) throws IOException {
            Network m = w.model;
            int len = job.len;
            int maxRows = Arrays.stream(job.sizes).max().orElse(0);
            int rounds = (maxRows + rowsPerRound - 1) / rowsPerRound;
            long iter = job.iterations, step = job.globalStep;
            float[] vec = new float[len + 1];
            for (int epoch = job.from; epoch < job.to; epoch++) {
                long t0 = System.nanoTime(), comm = 0;
                double loss = 0;
                int steps = 0;
                int[] order = w.order(n, job.shuffle, job.seed, epoch, rank);
                for (int round = 0; round < rounds; round++) {
                    int a = round * rowsPerRound, rows = Math.max(0, Math.min(n, a + rowsPerRound) - a);
                    m.optimizer().setIterations(iter);
                    m.setGlobalStep(step);
                    if (rows > 0) loss += fitRows(m, block, order, a, a + rows);
                    int roundSteps = 0;
                    for (int s : job.sizes) {
                        roundSteps = Math.max(roundSteps,
                                Blocks.steps(Math.max(0, Math.min(s, a + rowsPerRound) - a), job.batch));
                    }
                    StateVector.read(m, vec);
                    for (int i = 0; i < len; i++) vec[i] *= rows;
                    vec[len] = rows;
                    long c0 = System.nanoTime();
                    ring.sum(vec);
                    comm += System.nanoTime() - c0;
                    float total = vec[len];
                    for (int i = 0; i < len; i++) vec[i] /= total;
                    StateVector.write(m, vec);
                    iter += roundSteps;
                    step += roundSteps;
                    steps += roundSteps;
                }
                epochDone(out, epoch, n, loss, t0, comm / 1e9, steps);
            }
        }
    }

    /** Synchronous gradient sharing: every step's gradients are summed over the ring, every rank applies them. */
    private static final class AllReduceEpochs extends BarrierEpochs {
        private static final long serialVersionUID = 1L;

        AllReduceEpochs(BarrierJob job) {
            super(job);
        }

        @Override
        String what() {
            return "all-reduce";
        }

        @Override
        void train(RingAllReduce ring, Worker w, float[] block, int n, int rank, float[] out) {
            Network m = w.model;
            Optimizer inner = m.optimizer();
            inner.setIterations(job.iterations);
            m.setGlobalStep(job.globalStep);
            int steps = 0;
            for (int s : job.sizes) steps = Math.max(steps, Blocks.steps(s, job.batch));
            float[] weights = new float[steps];
            for (int k = 0; k < steps; k++) {
                int global = 0;
                for (int s : job.sizes) global += Blocks.rowsInStep(s, job.batch, k);
                weights[k] = (float) Blocks.rowsInStep(n, job.batch, k) / global;
            }
            GradientSharingOptimizer gs = new GradientSharingOptimizer(inner, ring.fp16(job.fp16), weights);
            m.compile(gs, new ArrayList<>(m.losses()), m.lossWeights(), m.metrics());
            try {
                for (int epoch = job.from; epoch < job.to; epoch++) {
                    long t0 = System.nanoTime(), comm0 = gs.commNanos;
                    gs.startEpoch();
                    double loss = n > 0 ? fitRows(m, block, w.order(n, job.shuffle, job.seed, epoch, rank), 0, n) : 0;
                    padWithZeroGradients(m, gs, steps);
                    epochDone(out, epoch, n, loss, t0, (gs.commNanos - comm0) / 1e9, steps);
                }
            } finally {
                m.compile(inner, new ArrayList<>(m.losses()), m.lossWeights(), m.metrics());
            }
        }

        /** Once this rank's rows run out, it shares zero gradients until every rank has done {@code steps}. */
        private static void padWithZeroGradients(Network m, GradientSharingOptimizer gs, int steps) {
            List<Parameter> params = m.parameters();
            while (gs.stepsDone() < steps) {
                try (MemoryScope s = MemoryScope.open()) {
                    for (Parameter p : params) {
                        if (p.trainable) p.value().setGrad(NDArray.zeros(p.value().dtype(), p.value().shape()));
                    }
                    gs.step(params);
                    for (Parameter p : params) p.value().setGrad(null);
                }
            }
        }
    }

    // ---- native memory -------------------------------------------------------------------------------------
    /**
     * Native (off-heap) bytes one training task needs, by part: its model replica ("parameters"), "gradients" and
     * "optimizer_slots" (of the trainable parameters), the "rows" it holds as arrays at once (all-reduce: its whole
     * partition; averaging: one round's rows) and the "activations" of a minibatch (3 x the layers' outputs:
     * kept for backward, their gradients, temporaries). Not counted: pydl's cache of freed blocks
     * (PYDL_ALLOC_CACHE_MB, default min(256 MiB, RAM / 8); spark.executorEnv.PYDL_ALLOC_CACHE_MB sets it).
     */
    public Map<String, Long> nativeMemoryEstimate(Network model, long rowsHeld) {
        long params = 0, trainable = 0, activations = 0;
        for (Parameter p : model.parameters()) {
            long b = p.value().byteSize();
            params += b;
            if (p.trainable) trainable += b;
        }
        for (org.pydl.nn.Layer l : model.layers()) {
            long[] out = l.outputShape();
            long n = 1;
            if (out != null) for (long d : out) n *= d;
            activations += 3L * batchSize * n * 4;
        }
        Shapes shapes = Shapes.of(model);
        Map<String, Long> m = new LinkedHashMap<>();
        m.put("parameters", params);
        m.put("gradients", trainable);
        m.put("optimizer_slots", trainable * model.optimizer().slotNames().length);
        m.put("rows", rowsHeld * (shapes.featureWidth + shapes.labelWidth) * 4L);
        m.put("activations", activations);
        return m;
    }

    /**
     * Before training: the native memory a task needs against what the executors are given beyond their heap
     * (spark.executor.memoryOverhead, or its default max(384 MiB, memoryOverheadFactor x executor memory)), shared
     * by the tasks an executor runs at once. YARN and Kubernetes kill an executor that exceeds it, so there the
     * shortfall is an error naming the setting to raise; other masters (standalone, local) do not enforce it, so
     * it is printed (verbose) only.
     */
    private void checkNativeMemory(Network model, int[] sizes) {
        int maxRows = Arrays.stream(sizes).max().orElse(0);
        long held = ALLREDUCE.equals(strategy) ? maxRows : Math.min(maxRows, (long) batchSize * averagingFrequency);
        Map<String, Long> parts = nativeMemoryEstimate(model, held);
        long need = parts.values().stream().mapToLong(Long::longValue).sum();
        org.apache.spark.SparkConf c = sc.getConf();
        long execMb = c.getSizeAsMb("spark.executor.memory", "1g");
        double factor = c.getDouble("spark.executor.memoryOverheadFactor", 0.1);
        long overheadMb = c.contains("spark.executor.memoryOverhead") ? c.getSizeAsMb("spark.executor.memoryOverhead")
                : Math.max(384, (long) (factor * execMb));
        int tasks = Math.max(1, c.getInt("spark.executor.cores", 1) / Math.max(1, c.getInt("spark.task.cpus", 1)));
        String advice = nativeMemoryAdvice(sc.master(), overheadMb, tasks, need, parts);
        if (advice != null) throw new IllegalArgumentException(advice);
        if (verbose) {
            System.err.printf("pydl.spark native memory per task: about %d MiB %s; executors have %d MiB beyond the heap "
                    + "for %d task(s)%n", mib(need), mibs(parts), overheadMb, tasks);
        }
    }

    /** The error for a task needing {@code needBytes} of native memory, or null (enough, or not enforced). */
    public static String nativeMemoryAdvice(String master, long overheadMb, int tasksPerExecutor, long needBytes,
                                            Map<String, ? extends Number> parts) {
        boolean enforced = master != null && (master.startsWith("yarn") || master.startsWith("k8s"));
        long needMb = mib(needBytes) * tasksPerExecutor + 64;   // + the native library and JNI's own use
        if (!enforced || needMb <= overheadMb) return null;
        return "SparkTrainer: each training task needs about " + mib(needBytes) + " MiB of native (off-heap) memory "
                + mibs(parts) + ", " + tasksPerExecutor + " task(s) per executor, but executors get " + overheadMb
                + " MiB beyond their heap, and " + master + " kills executors that exceed it: set "
                + "spark.executor.memoryOverhead=" + (needMb + 255) / 256 * 256 + "m (or fewer rows per worker: more "
                + "workers, a smaller batch_size or averaging_frequency)";
    }

    private static long mib(long bytes) {
        return (bytes + (1 << 20) - 1) >> 20;
    }

    private static String mibs(Map<String, ? extends Number> parts) {
        StringBuilder b = new StringBuilder("(");
        for (Map.Entry<String, ? extends Number> e : parts.entrySet()) {
            if (b.length() > 1) b.append(", ");
            b.append(e.getKey().replace('_', ' ')).append(' ').append(mib(e.getValue().longValue())).append(" MiB");
        }
        return b.append(')').toString();
    }

    // ---- metrics -------------------------------------------------------------------------------------------
    /**
     * One round's (averaging through the driver) or epoch's (barrier modes) figures. {@code startup}: its share of
     * the one-time cost of a barrier job (launch, model and ring set-up, result collection), part of
     * {@code wall} and of scheduling_s; {@code wall - startup} is the steady-state time (0 for driver rounds,
     * whose every round is a Spark job).
     */
    private void record(int epoch, int round, double loss, double rows, double wall, double compute, double comm,
                        double startup, int workers, int threads) {
        Map<String, Object> r = new LinkedHashMap<>();
        r.put("epoch", epoch);
        r.put("round", round);
        r.put("loss", loss);
        r.put("samples", (long) rows);
        r.put("workers", workers);
        wall = Math.max(wall, compute + comm);
        r.put("seconds", wall);
        r.put("samples_per_s", rows / wall);
        r.put("compute_s", compute);
        r.put("comm_s", comm);
        r.put("scheduling_s", Math.max(0, wall - compute - comm));
        r.put("startup_s", startup);
        r.put("native_threads", threads);
        metrics.add(r);
    }

    private void progress(int epoch, int epochs, double loss, double rows, double seconds) {
        if (!verbose) return;
        double compute = 0, comm = 0, sched = 0;
        for (Map<String, Object> r : metrics) {
            if ((int) r.get("epoch") != epoch) continue;
            compute += (double) r.get("compute_s");
            comm += (double) r.get("comm_s");
            sched += (double) r.get("scheduling_s");
        }
        double t = Math.max(1e-9, compute + comm + sched);
        System.err.printf("pydl.spark %s epoch %d/%d - loss %.4f - %,.0f samples/s - compute %.0f%% comm %.0f%% "
                        + "scheduling %.0f%%%n", strategy, epoch + 1, epochs, loss, rows / seconds, 100 * compute / t,
                100 * comm / t, 100 * sched / t);
    }
}
