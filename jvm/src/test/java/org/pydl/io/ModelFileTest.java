package org.pydl.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.Enumeration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.function.UnaryOperator;
import java.util.stream.Collectors;
import java.util.stream.Stream;
import java.util.zip.ZipEntry;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.nn.Activation;
import org.pydl.nn.Loss;
import org.pydl.nn.Optimizer;
import org.pydl.nn.Parameter;
import org.pydl.nn.Sequential;
import org.pydl.train.DataSet;

/** Model files: round trips, atomic saves and rejection of corrupt, foreign or mismatched files. */
class ModelFileTest {
    @TempDir
    Path dir;

    static DataSet data(long seed, int n) {
        Random r = new Random(seed);
        float[] x = new float[n * 3];
        int[] y = new int[n];
        for (int i = 0; i < n; i++) {
            y[i] = r.nextInt(2);
            for (int j = 0; j < 3; j++) x[i * 3 + j] = (float) ((y[i] == 0 ? -1 : 1) * (j + 1) + r.nextGaussian());
        }
        return new DataSet(MemoryScope.detach(NDArray.of(x, n, 3)), MemoryScope.detach(NDArray.of(y)));
    }

    static Sequential model(long seed) {
        return Sequential.builder().name("mf").input(3).dense(5, Activation.TANH).dropout(0.25)
                .dense(2, Activation.SOFTMAX).seed(seed).build();
    }

    static Sequential trained(Path where) throws IOException {
        Sequential m = model(9);
        m.compile(new Optimizer.Adam(0.01), Loss.of("sparse_categorical_crossentropy"), List.of("accuracy"));
        m.fit(data(1, 40), new Sequential.FitOptions().epochs(2).batchSize(8).seed(3));
        ModelFile.save(m, where);
        return m;
    }

    private static Map<String, byte[]> entries(Path zip) throws IOException {
        Map<String, byte[]> m = new LinkedHashMap<>();
        try (ZipFile zf = new ZipFile(zip.toFile())) {
            Enumeration<? extends ZipEntry> en = zf.entries();
            while (en.hasMoreElements()) {
                ZipEntry e = en.nextElement();
                try (InputStream in = zf.getInputStream(e)) {
                    m.put(e.getName(), in.readAllBytes());
                }
            }
        }
        return m;
    }

    private static void writeZip(Path zip, Map<String, byte[]> entries) throws IOException {
        try (OutputStream fo = Files.newOutputStream(zip); ZipOutputStream z = new ZipOutputStream(fo)) {
            for (Map.Entry<String, byte[]> e : entries.entrySet()) {
                z.putNextEntry(new ZipEntry(e.getKey()));
                z.write(e.getValue());
                z.closeEntry();
            }
        }
    }

    /** A copy of {@code src} with pydl.json rewritten by {@code edit}. */
    private Path withJson(Path src, String name, UnaryOperator<String> edit) throws IOException {
        Map<String, byte[]> e = entries(src);
        e.put("pydl.json", edit.apply(new String(e.get("pydl.json"), StandardCharsets.UTF_8)).getBytes(StandardCharsets.UTF_8));
        Path out = dir.resolve(name);
        writeZip(out, e);
        return out;
    }

    private static byte[] npy(String descr, long[] shape, int count, int itemSize) throws IOException {
        ByteArrayOutputStream bo = new ByteArrayOutputStream();
        ByteBuffer b = ByteBuffer.allocate(count * itemSize).order(ByteOrder.LITTLE_ENDIAN);
        Npy.write(bo, descr, shape, b);
        return bo.toByteArray();
    }

    private static IllegalArgumentException loadFails(Path p) {
        return assertThrows(IllegalArgumentException.class, () -> ModelFile.load(p));
    }

    private static float[][] weights(Sequential m) {
        return m.parameters().stream().map(p -> p.value().toFloatArray()).toArray(float[][]::new);
    }

    // ---- round trip ----------------------------------------------------------------------------------------
    @Test
    void roundTripRestoresWeightsConfigAndOptimizerState() throws IOException {
        Path f = dir.resolve("model.pydl");
        Sequential m = trained(f);
        Sequential l = ModelFile.load(f);
        assertEquals(Json.write(m.config()), Json.write(l.config()), "config");
        assertEquals("mf", l.name());
        assertEquals(m.seed(), l.seed());
        assertTrue(l.isCompiled());
        assertEquals("Adam", l.optimizer().type());
        assertEquals(Json.write(m.optimizer().config()), Json.write(l.optimizer().config()));
        assertEquals(m.loss().name(), l.loss().name());
        assertEquals(List.of("accuracy"), l.metrics());
        assertEquals(m.optimizer().iterations(), l.optimizer().iterations());
        assertEquals(10, l.optimizer().iterations(), "2 epochs x 5 steps");
        assertEquals(m.globalStep(), l.globalStep());
        float[][] wm = weights(m), wl = weights(l);
        assertEquals(4, wl.length);
        for (int i = 0; i < wm.length; i++) assertArrayEquals(wm[i], wl[i], "weights " + i);
        for (int i = 0; i < wm.length; i++) {
            Parameter pm = m.parameters().get(i), pl = l.parameters().get(i);
            assertEquals(pm.name, pl.name);
            assertTrue(pl.value().requiresGrad(), "loaded parameters are trainable");
            assertTrue(l.optimizer().hasSlots(pl), "slots of " + pl.name);
            NDArray[] sm = m.optimizer().slotsOf(pm), sl = l.optimizer().slotsOf(pl);
            assertEquals(2, sl.length);
            for (int s = 0; s < sm.length; s++) assertArrayEquals(sm[s].toFloatArray(), sl[s].toFloatArray(), "slot " + s);
        }
        // the file is a zip with pydl.json, weights/ and optimizer/ entries numpy can read
        Map<String, byte[]> e = entries(f);
        assertTrue(e.containsKey("pydl.json"));
        assertTrue(e.containsKey("weights/dense/kernel.npy") && e.containsKey("weights/dense_1/bias.npy"), e.keySet().toString());
        assertTrue(e.keySet().stream().anyMatch(k -> k.startsWith("optimizer/dense/kernel/")), e.keySet().toString());
        // continued training is identical for the original and the loaded model (state fully restored)
        DataSet more = data(2, 24);
        m.fit(more, new Sequential.FitOptions().epochs(1).batchSize(8).seed(4));
        l.fit(more, new Sequential.FitOptions().epochs(1).batchSize(8).seed(4));
        wm = weights(m);
        wl = weights(l);
        for (int i = 0; i < wm.length; i++) assertArrayEquals(wm[i], wl[i], "weights after continued training " + i);
        // predictions
        assertArrayEquals(m.output(more.features()).toFloatArray(), l.output(more.features()).toFloatArray());
    }

    @Test
    void uncompiledAndFloat64ModelsRoundTrip() throws IOException {
        Sequential m = Sequential.builder().input(2, 3).dense(4, Activation.GELU).dense(1).dtype(DType.FLOAT64).seed(3).build();
        Path f = dir.resolve("plain.pydl");
        ModelFile.save(m, f);
        Sequential l = ModelFile.load(f);
        assertFalse(l.isCompiled());
        assertEquals(DType.FLOAT64, l.dtype());
        assertArrayEquals(new long[] {2, 3}, l.inputShape());
        for (int i = 0; i < 4; i++) {
            assertArrayEquals(m.parameters().get(i).value().toDoubleArray(), l.parameters().get(i).value().toDoubleArray());
        }
        assertFalse(entries(f).keySet().stream().anyMatch(k -> k.startsWith("optimizer/")));
    }

    // ---- atomic save ---------------------------------------------------------------------------------------
    @Test
    void saveIsAtomicAndLeavesNoTempFile() throws IOException {
        Path sub = dir.resolve("a/b");
        Path f = sub.resolve("m.pydl");
        Sequential m = trained(f); // creates missing directories
        Sequential other = model(123);
        ModelFile.save(other, f); // overwrite
        try (Stream<Path> s = Files.list(sub)) {
            assertEquals(List.of("m.pydl"), s.map(p -> p.getFileName().toString()).collect(Collectors.toList()),
                    "only the target remains");
        }
        Sequential l = ModelFile.load(f);
        assertFalse(l.isCompiled(), "overwritten by the uncompiled model");
        assertArrayEquals(weights(other)[0], weights(l)[0]);
        assertFalse(java.util.Arrays.equals(weights(m)[0], weights(l)[0]));
        // saving onto a directory fails and leaves nothing behind
        Path target = dir.resolve("isadir");
        Files.createDirectories(target.resolve("child"));
        assertThrows(IOException.class, () -> ModelFile.save(other, target));
        try (Stream<Path> s = Files.list(dir)) {
            List<String> names = s.map(p -> p.getFileName().toString()).sorted().collect(Collectors.toList());
            assertEquals(List.of("a", "isadir"), names, "no temp file after a failed save");
        }
    }

    // ---- corrupt, foreign, future files --------------------------------------------------------------------
    @Test
    void missingFile() {
        assertThrows(NoSuchFileException.class, () -> ModelFile.load(dir.resolve("none.pydl")));
    }

    @Test
    void foreignAndCorruptFilesAreRejected() throws IOException {
        Path text = dir.resolve("text.pydl");
        Files.writeString(text, "hello, not a model");
        IllegalArgumentException e = loadFails(text);
        assertTrue(e.getMessage().contains("not a pydl model file"), e.getMessage());
        Path empty = dir.resolve("empty.pydl");
        Files.write(empty, new byte[0]);
        e = loadFails(empty);
        assertTrue(e.getMessage().contains("not a pydl model file"), e.getMessage());
        // a zip without pydl.json
        Path foreign = dir.resolve("foreign.zip");
        writeZip(foreign, Map.of("readme.txt", "hi".getBytes(StandardCharsets.UTF_8)));
        e = loadFails(foreign);
        assertTrue(e.getMessage().contains("pydl.json"), e.getMessage());
        // truncated file
        Path good = dir.resolve("good.pydl");
        trained(good);
        byte[] all = Files.readAllBytes(good);
        for (int cut : new int[] {all.length / 2, all.length - 10, 30}) {
            Path t = dir.resolve("trunc" + cut + ".pydl");
            Files.write(t, java.util.Arrays.copyOf(all, cut));
            e = loadFails(t);
            assertTrue(e.getMessage().contains("pydl model file"), e.getMessage());
        }
        // pydl.json that is not JSON, not an object, or another format
        e = loadFails(withJson(good, "notjson.pydl", s -> s.substring(0, s.length() / 2)));
        assertTrue(e.getMessage().toLowerCase().contains("json"), e.getMessage());
        e = loadFails(withJson(good, "array.pydl", s -> "[1, 2]"));
        assertTrue(e.getMessage().contains("not an object"), e.getMessage());
        e = loadFails(withJson(good, "keras.pydl", s -> s.replace("\"pydl-model\"", "\"keras\"")));
        assertTrue(e.getMessage().contains("not a pydl model file") && e.getMessage().contains("keras"), e.getMessage());
    }

    /** Offset of the (compressed) data of {@code entry} in the zip file, from its local file header. */
    private static int dataOffset(byte[] zip, String entry) {
        byte[] name = entry.getBytes(StandardCharsets.UTF_8);
        outer:
        for (int i = 30; i + name.length <= zip.length; i++) {
            for (int j = 0; j < name.length; j++) if (zip[i + j] != name[j]) continue outer;
            int h = i - 30;
            if (zip[h] != 0x50 || zip[h + 1] != 0x4b || zip[h + 2] != 3 || zip[h + 3] != 4) continue;
            int extra = (zip[i - 2] & 0xff) | (zip[i - 1] & 0xff) << 8;
            return i + name.length + extra;
        }
        throw new AssertionError("no local header for " + entry);
    }

    @Test
    void corruptedBytesInsideTheZipAreRejected() throws IOException {
        Path good = dir.resolve("good.pydl");
        trained(good);
        byte[] all = Files.readAllBytes(good);
        long csize;
        try (ZipFile zf = new ZipFile(good.toFile())) {
            csize = zf.getEntry("weights/dense/kernel.npy").getCompressedSize();
        }
        int off = dataOffset(all, "weights/dense/kernel.npy");
        // flip one byte near the end of the kernel's compressed data (the tensor values, past the .npy header)
        for (int k = 1; k <= 3; k++) {
            byte[] bad = all.clone();
            bad[off + (int) csize - 4 * k] ^= 0x01;
            Path f = dir.resolve("flipped" + k + ".pydl");
            Files.write(f, bad);
            Exception e = assertThrows(Exception.class, () -> ModelFile.load(f),
                    "a model file whose kernel data was corrupted (byte " + (off + csize - 4 * k)
                            + ") loads without error: entry CRCs are not checked");
            assertTrue(e instanceof IllegalArgumentException, "corruption must be reported as "
                    + "IllegalArgumentException, was " + e);
        }
    }

    @Test
    void futureFormatVersionIsRejected() throws IOException {
        Path good = dir.resolve("good.pydl");
        trained(good);
        Path f = withJson(good, "v99.pydl", s -> s.replaceFirst("\"format_version\"\\s*:\\s*1", "\"format_version\": 99"));
        IllegalArgumentException e = loadFails(f);
        assertTrue(e.getMessage().contains("format_version 99") && e.getMessage().contains("upgrade"), e.getMessage());
        e = loadFails(withJson(good, "v0.pydl", s -> s.replaceFirst("\"format_version\"\\s*:\\s*1", "\"format_version\": 0")));
        assertTrue(e.getMessage().contains("format_version 0"), e.getMessage());
        e = loadFails(withJson(good, "vmissing.pydl", s -> s.replaceFirst("\"format_version\"\\s*:\\s*1,", "")));
        assertTrue(e.getMessage().contains("format_version"), e.getMessage());
    }

    // ---- mismatched tensors --------------------------------------------------------------------------------
    @Test
    void wrongShapedOrTypedWeightsAreRejected() throws IOException {
        Path good = dir.resolve("good.pydl");
        trained(good);
        Map<String, byte[]> e = entries(good);
        // kernel [3, 5] replaced by [5, 3]
        e.put("weights/dense/kernel.npy", npy("<f4", new long[] {5, 3}, 15, 4));
        Path f = dir.resolve("shape.pydl");
        writeZip(f, e);
        IllegalArgumentException ex = loadFails(f);
        assertTrue(ex.getMessage().contains("weights/dense/kernel.npy") && ex.getMessage().contains("[5, 3]")
                && ex.getMessage().contains("[3, 5]"), ex.getMessage());
        // float64 instead of float32
        e = entries(good);
        e.put("weights/dense/bias.npy", npy("<f8", new long[] {5}, 5, 8));
        writeZip(f, e);
        ex = loadFails(f);
        assertTrue(ex.getMessage().contains("<f8") && ex.getMessage().contains("<f4"), ex.getMessage());
        // an optimizer slot of the wrong shape
        e = entries(good);
        String slot = e.keySet().stream().filter(k -> k.startsWith("optimizer/dense_1/kernel/")).findFirst().orElseThrow();
        e.put(slot, npy("<f4", new long[] {2, 5}, 10, 4));
        writeZip(f, e);
        ex = loadFails(f);
        assertTrue(ex.getMessage().contains(slot), ex.getMessage());
        // declared right but the data is short (truncated .npy)
        e = entries(good);
        byte[] k = e.get("weights/dense/kernel.npy");
        e.put("weights/dense/kernel.npy", java.util.Arrays.copyOf(k, k.length - 8));
        writeZip(f, e);
        Exception any = assertThrows(Exception.class, () -> ModelFile.load(f));
        assertTrue(any instanceof IllegalArgumentException, "truncated tensor data must be an IllegalArgumentException, was "
                + any);
        // a missing entry
        e = entries(good);
        e.remove("weights/dense_1/kernel.npy");
        writeZip(f, e);
        ex = loadFails(f);
        assertTrue(ex.getMessage().contains("weights/dense_1/kernel.npy"), ex.getMessage());
        // the index names an unknown parameter / lacks a parameter
        ex = loadFails(withJson(good, "unknown.pydl", s -> s.replace("\"param\": \"dense/bias\"", "\"param\": \"dense/gamma\"")
                .replace("\"param\":\"dense/bias\"", "\"param\":\"dense/gamma\"")));
        assertTrue(ex.getMessage().contains("dense/gamma"), ex.getMessage());
    }

    @Test
    void configThatDisagreesWithTheTensorsIsRejected() throws IOException {
        Path good = dir.resolve("good.pydl");
        trained(good);
        // the config says 6 units: every stored tensor of that layer now has the wrong shape
        IllegalArgumentException e = loadFails(withJson(good, "units.pydl",
                s -> s.replaceFirst("\"units\"\\s*:\\s*5", "\"units\": 6")));
        assertTrue(e.getMessage().contains("[3, 6]") || e.getMessage().contains("[6]"), e.getMessage());
        // an invalid layer config fails with the layer's message
        e = loadFails(withJson(good, "rate.pydl", s -> s.replaceFirst("\"rate\"\\s*:\\s*0.25", "\"rate\": 2.0")));
        assertTrue(e.getMessage().contains("Dropout") && e.getMessage().contains("rate"), e.getMessage());
        e = loadFails(withJson(good, "cls.pydl", s -> s.replace("\"Sequential\"", "\"Functional\"")));
        assertTrue(e.getMessage().contains("Functional"), e.getMessage());
    }
}
