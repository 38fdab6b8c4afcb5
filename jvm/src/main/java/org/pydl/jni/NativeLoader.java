package org.pydl.jni;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.nio.file.StandardCopyOption;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * The one class that loads pydl's native library. Search order:
 * <ol>
 *   <li>the directory named by system property {@code pydl.native.dir} or environment variable
 *       {@code PYDL_NATIVE_DIR} (must hold {@code libpydl.so}; an OpenBLAS beside it is loaded first);</li>
 *   <li>the copy bundled in the jar under {@code org/pydl/native/<os>-<arch>/}, extracted once into
 *       {@code $PYDL_CACHE_DIR} (default {@code ~/.cache/pydl}) under a folder named by its content hash.</li>
 * </ol>
 * What was loaded is logged (System.Logger "org.pydl", level DEBUG) and available from {@link #loadedFrom()}.
 * Failure raises {@link UnsatisfiedLinkError} listing every place tried.
 */
public final class NativeLoader {
    private static final String LIB = "libpydl.so";
    private static final String BLAS = "libscipy_openblas.so";
    private static volatile Path loadedFrom;

    private NativeLoader() {}

    public static Path loadedFrom() {
        return loadedFrom;
    }

    public static String platform() {
        String os = System.getProperty("os.name").toLowerCase().startsWith("linux") ? "linux" : System.getProperty("os.name").toLowerCase().replace(' ', '_');
        String arch = System.getProperty("os.arch");
        if (arch.equals("amd64") || arch.equals("x86_64")) arch = "x86_64";
        if (arch.equals("arm64")) arch = "aarch64";
        return os + "-" + arch;
    }

    public static synchronized void load() {
        if (loadedFrom != null) return;
        List<String> tried = new ArrayList<>();
        String dir = System.getProperty("pydl.native.dir");
        if (dir == null || dir.isEmpty()) dir = System.getenv("PYDL_NATIVE_DIR");
        if (dir != null && !dir.isEmpty()) {
            Path lib = Paths.get(dir).toAbsolutePath().resolve(LIB);
            if (Files.isRegularFile(lib)) {
                loadFrom(lib);
                return;
            }
            tried.add(lib + " (pydl.native.dir / PYDL_NATIVE_DIR): not found");
        }
        String res = "/org/pydl/native/" + platform() + "/";
        try {
            Path extracted = extract(res);
            if (extracted != null) {
                loadFrom(extracted);
                return;
            }
            tried.add("jar resource " + res + LIB + ": not in the jar (no build for " + platform() + ")");
        } catch (IOException | UnsatisfiedLinkError e) {
            tried.add("jar resource " + res + LIB + ": " + e);
        }
        throw new UnsatisfiedLinkError("pydl native library not found. Tried:\n  " + String.join("\n  ", tried)
                + "\nRebuild with `pip install .` or set PYDL_NATIVE_DIR to a folder holding " + LIB + ".");
    }

    private static void loadFrom(Path lib) {
        Path blas = lib.resolveSibling(BLAS);
        if (Files.isRegularFile(blas)) System.load(blas.toString());
        System.load(lib.toString());
        loadedFrom = lib;
        System.getLogger("org.pydl").log(System.Logger.Level.DEBUG, "loaded " + lib + ": " + NativeOps.version());
    }

    private static Path extract(String res) throws IOException {
        byte[] lib;
        byte[] blas;
        try (InputStream in = NativeLoader.class.getResourceAsStream(res + LIB)) {
            if (in == null) return null;
            lib = in.readAllBytes();
        }
        try (InputStream in = NativeLoader.class.getResourceAsStream(res + BLAS)) {
            blas = in == null ? null : in.readAllBytes();
        }
        String hash;
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            md.update(lib);
            if (blas != null) md.update(blas);
            hash = HexFormat.of().formatHex(md.digest()).substring(0, 16);
        } catch (java.security.NoSuchAlgorithmException e) {
            throw new IOException(e);
        }
        String base = System.getenv("PYDL_CACHE_DIR");
        Path root = base != null && !base.isEmpty() ? Paths.get(base)
                : Paths.get(System.getProperty("user.home"), ".cache", "pydl");
        Path dir = root.resolve("native").resolve(platform() + "-" + hash);
        Files.createDirectories(dir);
        writeAtomically(dir.resolve(LIB), lib);
        if (blas != null) writeAtomically(dir.resolve(BLAS), blas);
        return dir.resolve(LIB);
    }

    private static void writeAtomically(Path target, byte[] data) throws IOException {
        if (Files.isRegularFile(target) && Files.size(target) == data.length) return;
        Path tmp = Files.createTempFile(target.getParent(), target.getFileName().toString(), ".tmp");
        try {
            Files.write(tmp, data);
            Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE, StandardCopyOption.REPLACE_EXISTING);
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    /** Loads the library and prints its path (used by tests and to check an installation). */
    public static void main(String[] args) {
        load();
        System.out.println(loadedFrom());
    }
}
