package org.pydl.io;

import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.zip.ZipEntry;
import java.util.zip.ZipException;
import java.util.zip.ZipFile;
import java.util.zip.ZipOutputStream;

import org.pydl.nd.DType;
import org.pydl.nd.MemoryScope;
import org.pydl.nd.NDArray;
import org.pydl.nn.Layer;
import org.pydl.nn.Layers;
import org.pydl.nn.Loss;
import org.pydl.nn.Optimizer;
import org.pydl.nn.Parameter;
import org.pydl.nn.Model;
import org.pydl.nn.Network;
import org.pydl.nn.Sequential;

/**
 * pydl's one model file, shared by Python and Java: a zip holding
 * <ul>
 *   <li>{@code pydl.json}: format name and version, the model config (layers), the training config
 *       (optimizer, loss, metrics, step counters) and an index of the tensors;</li>
 *   <li>{@code weights/<layer>/<param>.npy}: parameters, readable by {@code numpy.load};</li>
 *   <li>{@code optimizer/<layer>/<param>/<slot>.npy}: optimizer state (Adam's m and v, ...).</li>
 * </ul>
 * Saving writes a temporary file next to the target and renames it over the target (atomic). Loading only parses
 * JSON and .npy data: it never runs code from the file, reads only the entries the index names, and checks every
 * tensor's dtype and shape against the model built from the config before reading its bytes.
 */
public final class ModelFile {
    public static final String FORMAT = "pydl-model";
    public static final int FORMAT_VERSION = 1;
    public static final String VERSION = "0.1.0";
    /** Upper bound on pydl.json's size: a config is never this large. */
    private static final long MAX_JSON = 64L << 20;

    private ModelFile() {}

    public static void save(Network model, Path path) throws IOException {
        Path target = path.toAbsolutePath();
        Path dir = target.getParent();
        if (dir != null) Files.createDirectories(dir);
        Path tmp = Files.createTempFile(dir, "." + target.getFileName(), ".tmp");
        try {
            try (OutputStream fo = Files.newOutputStream(tmp);
                 ZipOutputStream zip = new ZipOutputStream(new BufferedOutputStream(fo, 1 << 16))) {
                write(model, zip);
            } catch (java.nio.file.FileSystemException e) {
                throw e; // names the file already
            } catch (IOException e) {
                throw new IOException("could not save the model to '" + target + "' (the previous file, if any, is "
                        + "unchanged): " + e.getMessage(), e);
            }
            try {
                Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, target, StandardCopyOption.REPLACE_EXISTING);
            }
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** The model file's bytes (what {@link #save} writes), for sending a model over a network (pydl.spark). */
    public static byte[] toBytes(Network model) throws IOException {
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(1 << 16);
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            write(model, zip);
        }
        return bytes.toByteArray();
    }

    /** Loads a model from {@link #toBytes} output (read through a temporary file: zip entries need random access). */
    public static Network fromBytes(byte[] data) throws IOException {
        Path tmp = Files.createTempFile("pydl-model", ".pydl");
        try {
            Files.write(tmp, data);
            return loadNetwork(tmp);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /**
     * The same model (weights, optimizer state and step counters) rebuilt for other input shapes (without the batch
     * axis): what a model imported with variable-length inputs (Keras {@code Input((None,))}) runs for each length.
     * The layers' weights must not depend on the changed sizes (an RNN, Dense or Conv1D over time do not; a Dense
     * after Flatten does, and then building fails with the layer's shape error).
     */
    public static Network withInputShapes(Network model, List<long[]> shapes) throws IOException {
        Map<String, Object> config = model.config();
        if (model instanceof Sequential) {
            if (shapes.size() != 1) {
                throw new IllegalArgumentException("a Sequential model has one input, received " + shapes.size()
                        + " shapes");
            }
            config.put("input_shape", shapes.get(0).clone());
        } else {
            List<Object> ins = new ArrayList<>();
            List<Object> old = Json.getList(config, "inputs");
            if (old.size() != shapes.size()) {
                throw new IllegalArgumentException("model '" + config.get("name") + "' has " + old.size()
                        + " inputs, received " + shapes.size() + " shapes");
            }
            for (int i = 0; i < old.size(); i++) {
                @SuppressWarnings("unchecked")
                Map<String, Object> in = new LinkedHashMap<>((Map<String, Object>) old.get(i));
                in.put("shape", shapes.get(i).clone());
                ins.add(in);
            }
            config.put("inputs", ins);
        }
        java.io.ByteArrayOutputStream bytes = new java.io.ByteArrayOutputStream(1 << 16);
        try (ZipOutputStream zip = new ZipOutputStream(bytes)) {
            write(model, config, zip);
        }
        return fromBytes(bytes.toByteArray());
    }

    private static void write(Network model, ZipOutputStream zip) throws IOException {
        write(model, model.config(), zip);
    }

    private static void write(Network model, Map<String, Object> config, ZipOutputStream zip) throws IOException {
        Map<String, Object> root = new LinkedHashMap<>();
        root.put("format", FORMAT);
        root.put("format_version", FORMAT_VERSION);
        root.put("pydl_version", VERSION);
        root.put("model", config);
        Optimizer opt = model.optimizer();
        if (model.isCompiled()) {
            Map<String, Object> t = new LinkedHashMap<>();
            t.put("optimizer", opt.config());
            t.put("loss", model.loss().config());
            if (model.losses().size() > 1 || model.lossWeights() != null) {
                List<Object> ls = new ArrayList<>();
                for (Loss l : model.losses()) ls.add(l.config());
                t.put("losses", ls);
                if (model.lossWeights() != null) t.put("loss_weights", model.lossWeights());
            }
            t.put("metrics", model.metrics());
            t.put("iterations", opt.iterations());
            t.put("global_step", model.globalStep());
            root.put("training", t);
        }
        List<Object> tensors = new ArrayList<>();
        List<Object[]> blobs = new ArrayList<>();
        for (Map.Entry<String, Parameter> named : model.namedParameters().entrySet()) {
            String pname = named.getKey();
            Parameter p = named.getValue();
            String entry = "weights/" + pname + ".npy";
            tensors.add(index(pname, null, entry, p.value()));
            blobs.add(new Object[] {entry, p.value()});
            if (opt != null && opt.hasSlots(p)) {
                NDArray[] slots = opt.slotsOf(p);
                String[] names = opt.slotNames();
                for (int i = 0; i < slots.length; i++) {
                    String se = "optimizer/" + pname + "/" + names[i] + ".npy";
                    tensors.add(index(pname, names[i], se, slots[i]));
                    blobs.add(new Object[] {se, slots[i]});
                }
            }
        }
        root.put("tensors", tensors);
        zip.putNextEntry(new ZipEntry("pydl.json"));
        zip.write(Json.write(root, true).getBytes(StandardCharsets.UTF_8));
        zip.closeEntry();
        for (Object[] b : blobs) {
            NDArray a = ((NDArray) b[1]).contiguous();
            zip.putNextEntry(new ZipEntry((String) b[0]));
            Npy.write(zip, a.dtype().npyDescr, a.shape(), a.buffer());
            zip.closeEntry();
        }
    }

    private static Map<String, Object> index(String param, String slot, String entry, NDArray a) {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("param", param);
        if (slot != null) m.put("slot", slot);
        m.put("path", entry);
        m.put("dtype", a.dtype().pyName);
        m.put("shape", a.shape());
        return m;
    }

    /** Loads a model (with its optimizer state when the file has one). */
    public static Sequential load(Path path) throws IOException {
        Network n = loadNetwork(path);
        if (!(n instanceof Sequential)) {
            throw new IllegalArgumentException("'" + path + "' holds a functional Model, not a Sequential: use "
                    + "ModelFile.loadNetwork");
        }
        return (Sequential) n;
    }

    /** Loads a Sequential or a functional Model (with its optimizer state when the file has one). */
    public static Network loadNetwork(Path path) throws IOException {
        if (!Files.exists(path)) throw new NoSuchFileException(path.toString(), null, "no such model file");
        ZipFile zf;
        try {
            zf = new ZipFile(path.toFile());
        } catch (ZipException e) {
            throw new IllegalArgumentException("'" + path + "' is not a pydl model file (not a zip archive, or a "
                    + "corrupt/truncated one): " + e.getMessage());
        }
        try (zf) {
            return read(zf, path);
        } catch (ZipException e) {
            throw new IllegalArgumentException("'" + path + "' is a corrupt pydl model file: " + e.getMessage());
        }
    }

    @SuppressWarnings("unchecked")
    private static Network read(ZipFile zf, Path path) throws IOException {
        ZipEntry je = zf.getEntry("pydl.json");
        if (je == null) {
            throw new IllegalArgumentException("'" + path + "' is not a pydl model file: it has no pydl.json entry");
        }
        String text;
        try (java.util.zip.CheckedInputStream in = new java.util.zip.CheckedInputStream(zf.getInputStream(je),
                new java.util.zip.CRC32())) {
            byte[] b = in.readNBytes((int) MAX_JSON + 1);
            if (b.length > MAX_JSON) throw new IllegalArgumentException("pydl.json in '" + path + "' is too large");
            checkCrc(in, je, path);
            text = new String(b, StandardCharsets.UTF_8);
        }
        Object parsed = Json.parse(text);
        if (!(parsed instanceof Map)) throw new IllegalArgumentException("pydl.json in '" + path + "' is not an object");
        Map<String, Object> root = (Map<String, Object>) parsed;
        if (!FORMAT.equals(root.get("format"))) {
            throw new IllegalArgumentException("'" + path + "' is not a pydl model file (format is "
                    + root.get("format") + ")");
        }
        long version = Json.getLong(root, "format_version");
        if (version > FORMAT_VERSION || version < 1) {
            throw new IllegalArgumentException("'" + path + "' has format_version " + version + " but this pydl ("
                    + VERSION + ") reads versions 1.." + FORMAT_VERSION + "; upgrade pydl to load it");
        }
        Map<String, Object> mc = Json.getMap(root, "model");
        String cls = Json.getString(mc, "class");
        Network model;
        if ("Model".equals(cls)) {
            model = Model.fromConfig(mc);
        } else if ("Sequential".equals(cls)) {
            List<Layer> layers = new ArrayList<>();
            for (Object o : Json.getList(mc, "layers")) {
                if (!(o instanceof Map)) throw new IllegalArgumentException("layer entry is not an object: " + o);
                Map<String, Object> lm = (Map<String, Object>) o;
                layers.add(Layers.fromConfig(Json.getString(lm, "class"), Json.getMap(lm, "config")));
            }
            DType dtype = DType.of(Json.getString(mc, "dtype", "float32"));
            model = new Sequential(Json.getString(mc, "name", "sequential"), Json.getLongArray(mc, "input_shape"),
                    dtype, Json.getLong(mc, "seed", 0), layers);
        } else {
            throw new IllegalArgumentException("unsupported model class '" + cls + "'");
        }
        Map<String, Object> training = Json.getMap(root, "training", null);
        Optimizer opt = null;
        if (training != null) {
            opt = Optimizer.fromConfig(Json.getMap(training, "optimizer"));
            List<String> metrics = new ArrayList<>();
            for (Object m : Json.getList(training, "metrics", List.of())) metrics.add(String.valueOf(m));
            List<Object> lossList = Json.getList(training, "losses", null);
            List<Loss> losses = new ArrayList<>();
            if (lossList == null) {
                losses.add(Loss.fromConfig(Json.getMap(training, "loss")));
            } else {
                for (Object o : lossList) losses.add(Loss.fromConfig((Map<String, Object>) o));
            }
            List<Object> w = Json.getList(training, "loss_weights", null);
            double[] weights = null;
            if (w != null) {
                weights = new double[w.size()];
                for (int i = 0; i < weights.length; i++) weights[i] = ((Number) w.get(i)).doubleValue();
            }
            model.compile(opt, losses, weights, metrics);
            opt.setIterations(Json.getLong(training, "iterations", 0));
            model.setGlobalStep(Json.getLong(training, "global_step", 0));
        }
        Map<String, Parameter> params = new LinkedHashMap<>();
        params.putAll(model.namedParameters());
        Map<String, Map<String, NDArray>> slotValues = new LinkedHashMap<>();
        java.util.Set<String> loaded = new java.util.HashSet<>();
        for (Object o : Json.getList(root, "tensors")) {
            Map<String, Object> t = (Map<String, Object>) o;
            String pname = Json.getString(t, "param");
            String slot = Json.getString(t, "slot", null);
            Parameter p = params.get(pname);
            if (p == null) {
                throw new IllegalArgumentException("'" + path + "' has a tensor for '" + pname + "', which the model "
                        + "config does not define");
            }
            NDArray value = readTensor(zf, Json.getString(t, "path"), p.value(), path);
            if (slot == null) {
                p.set(value);
                loaded.add(pname);
            } else {
                if (opt == null) throw new IllegalArgumentException("optimizer state without a training config");
                slotValues.computeIfAbsent(pname, k -> new LinkedHashMap<>()).put(slot, value);
            }
        }
        for (String pname : params.keySet()) {
            if (!loaded.contains(pname)) {
                throw new IllegalArgumentException("'" + path + "' is missing the weights of '" + pname + "'");
            }
        }
        if (opt != null) {
            String[] names = opt.slotNames();
            for (Map.Entry<String, Map<String, NDArray>> e : slotValues.entrySet()) {
                NDArray[] s = new NDArray[names.length];
                for (int i = 0; i < names.length; i++) {
                    s[i] = e.getValue().get(names[i]);
                    if (s[i] == null) {
                        throw new IllegalArgumentException("'" + path + "' lacks optimizer slot '" + names[i]
                                + "' of '" + e.getKey() + "'");
                    }
                }
                opt.setSlots(params.get(e.getKey()), s);
            }
        }
        return model;
    }

    /** Reads one .npy entry after checking it matches {@code like} (dtype and shape): no other size is trusted. */
    private static NDArray readTensor(ZipFile zf, String entry, NDArray like, Path path) throws IOException {
        ZipEntry ze = zf.getEntry(entry);
        if (ze == null) throw new IllegalArgumentException("'" + path + "' lacks the entry '" + entry + "'");
        try (java.util.zip.CheckedInputStream in = new java.util.zip.CheckedInputStream(zf.getInputStream(ze),
                new java.util.zip.CRC32())) {
            Npy.Header h = Npy.readHeader(in);
            if (!h.descr().equals(like.dtype().npyDescr) || !Arrays.equals(h.shape(), like.shape())) {
                throw new IllegalArgumentException("'" + path + "' entry '" + entry + "' holds " + h.descr() + " "
                        + Arrays.toString(h.shape()) + " but the model needs " + like.dtype().npyDescr + " "
                        + Arrays.toString(like.shape()));
            }
            NDArray a = MemoryScope.detach(NDArray.empty(like.dtype(), like.shape()));
            try {
                Npy.readData(in, h, a.buffer());
                if (in.read() != -1) {
                    throw new IllegalArgumentException("'" + path + "' entry '" + entry + "' has data past its "
                            + Arrays.toString(h.shape()) + " values");
                }
                checkCrc(in, ze, path);
            } catch (RuntimeException | IOException e) {
                a.close();
                throw e;
            }
            return a;
        }
    }

    /** Zip entries carry a CRC-32 of their data; ZipFile does not check it, so a flipped byte would load silently. */
    private static void checkCrc(java.util.zip.CheckedInputStream in, ZipEntry ze, Path path) {
        long want = ze.getCrc();
        if (want != -1 && in.getChecksum().getValue() != want) {
            throw new IllegalArgumentException("'" + path + "' is corrupt: entry '" + ze.getName() + "' fails its "
                    + "CRC-32 check (expected " + Long.toHexString(want) + ", computed "
                    + Long.toHexString(in.getChecksum().getValue()) + ")");
        }
    }
}
