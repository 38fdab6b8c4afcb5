package org.pydl.spark;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.pydl.io.Json;

/**
 * Per-epoch checkpoints of a training run in one directory of any Hadoop FileSystem (a local path, {@code file://},
 * {@code hdfs://}, ...): {@code epoch-NNNNNN.pydl} is the pydl model file (parameters, optimizer slots, step
 * counters) after NNNNNN epochs, and {@code latest.json} names the newest one with its epoch and round. Both are
 * written to a temporary name and renamed, the model first, so a run killed while saving leaves the previous
 * checkpoint intact. The two newest model files are kept.
 */
final class Checkpoints {
    static final String LATEST = "latest.json";
    private static final int KEEP = 2;

    private final FileSystem fs;
    private final Path dir;

    Checkpoints(Configuration conf, String dir) throws IOException {
        this.dir = new Path(dir);
        this.fs = this.dir.getFileSystem(conf);
    }

    /** A saved checkpoint: its model file bytes and the epochs done. */
    static final class Saved {
        final byte[] model;
        final int epochsDone;
        final String path;

        Saved(byte[] model, int epochsDone, String path) {
            this.model = model;
            this.epochsDone = epochsDone;
            this.path = path;
        }
    }

    static String fileName(int epochsDone) {
        return String.format("epoch-%06d.pydl", epochsDone);
    }

    void save(byte[] model, int epochsDone, String strategy) throws IOException {
        fs.mkdirs(dir);
        String name = fileName(epochsDone);
        write(new Path(dir, name), model);
        Map<String, Object> meta = new LinkedHashMap<>();
        meta.put("epoch", epochsDone);
        meta.put("round", 0);
        meta.put("model", name);
        meta.put("strategy", strategy);
        write(new Path(dir, LATEST), Json.write(meta, false).getBytes(StandardCharsets.UTF_8));
        List<Path> old = new ArrayList<>();
        for (FileStatus st : fs.listStatus(dir)) {
            String n = st.getPath().getName();
            if (n.matches("epoch-\\d+\\.pydl") && n.compareTo(name) < 0) old.add(st.getPath());
        }
        old.sort(null);
        for (int i = 0; i < old.size() - (KEEP - 1); i++) fs.delete(old.get(i), false);
    }

    /** The newest checkpoint, or null when the directory holds none. */
    Saved latest() throws IOException {
        Path p = new Path(dir, LATEST);
        if (!fs.exists(p)) return null;
        @SuppressWarnings("unchecked")
        Map<String, Object> meta = (Map<String, Object>) Json.parse(new String(read(p), StandardCharsets.UTF_8));
        Path model = new Path(dir, Json.getString(meta, "model"));
        return new Saved(read(model), (int) Json.getLong(meta, "epoch"), model.toString());
    }

    private void write(Path p, byte[] data) throws IOException {
        Path tmp = new Path(dir, "." + p.getName() + ".tmp");
        try (OutputStream out = fs.create(tmp, true)) {
            out.write(data);
        }
        if (fs.exists(p)) fs.delete(p, false);   // HDFS's rename does not replace
        if (!fs.rename(tmp, p)) throw new IOException("SparkTrainer: could not rename " + tmp + " to " + p);
    }

    private byte[] read(Path p) throws IOException {
        try (InputStream in = fs.open(p)) {
            ByteArrayOutputStream b = new ByteArrayOutputStream();
            in.transferTo(b);
            return b.toByteArray();
        }
    }
}
