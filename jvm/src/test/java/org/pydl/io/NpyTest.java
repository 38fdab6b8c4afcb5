package org.pydl.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class NpyTest {

    private static final String[] DESCRS = {"<f4", "<f8", "<i4", "<i8", "|b1", "|u1"};

    // ---------------------------------------------------------------- helpers

    /** Deterministic, value-diverse little-endian data for a dtype. */
    private static ByteBuffer sampleData(String descr, long count, long seed) {
        int item = Npy.itemSize(descr);
        ByteBuffer b = ByteBuffer.allocate((int) (count * item)).order(ByteOrder.LITTLE_ENDIAN);
        Random r = new Random(seed);
        for (long i = 0; i < count; i++) {
            switch (descr) {
                case "<f4" -> b.putFloat(i == 0 ? Float.NaN : i == 1 ? Float.NEGATIVE_INFINITY
                        : i == 2 ? -0.0f : (float) (r.nextGaussian() * 100));
                case "<f8" -> b.putDouble(i == 0 ? Double.POSITIVE_INFINITY : i == 1 ? Double.MIN_VALUE
                        : r.nextGaussian() * 1e-3);
                case "<i4" -> b.putInt(i == 0 ? Integer.MIN_VALUE : i == 1 ? Integer.MAX_VALUE : r.nextInt());
                case "<i8" -> b.putLong(i == 0 ? Long.MIN_VALUE : i == 1 ? Long.MAX_VALUE : r.nextLong());
                case "|b1" -> b.put((byte) (r.nextBoolean() ? 1 : 0));
                case "|u1" -> b.put((byte) (i == 0 ? 255 : r.nextInt(256)));
                default -> throw new AssertionError(descr);
            }
        }
        b.flip();
        return b;
    }

    /** Element i of a little-endian buffer as the bit pattern numpy reports via view(uintN). */
    private static long bits(String descr, ByteBuffer b, int i) {
        ByteBuffer le = b.duplicate().order(ByteOrder.LITTLE_ENDIAN);
        int base = le.position();
        return switch (descr) {
            case "<f4" -> Integer.toUnsignedLong(le.getInt(base + 4 * i));
            case "<i4" -> le.getInt(base + 4 * i);
            case "<f8", "<i8" -> le.getLong(base + 8 * i);
            case "|b1", "|u1" -> le.get(base + i) & 0xFF;
            default -> throw new AssertionError(descr);
        };
    }

    /** Element i as decimal text: unsigned bit pattern for floats, the value for integers/bools. */
    private static String bitsText(String descr, ByteBuffer b, int i) {
        long v = bits(descr, b, i);
        return descr.startsWith("<f") ? Long.toUnsignedString(v) : Long.toString(v);
    }

    private static byte[] npyBytes(String descr, long[] shape, ByteBuffer data) throws IOException {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        Npy.write(out, descr, shape, data);
        return out.toByteArray();
    }

    /** Builds a raw .npy file with a custom header dict (version 1.0). */
    private static byte[] rawNpy(String dict, byte[] data) {
        return rawNpy(1, dict.getBytes(StandardCharsets.ISO_8859_1), data);
    }

    private static byte[] rawNpy(int major, byte[] dict, byte[] data) {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        out.writeBytes(new byte[] {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', (byte) major, 0});
        if (major == 1) {
            out.write(dict.length & 0xFF);
            out.write(dict.length >>> 8);
        } else {
            ByteBuffer len = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(dict.length);
            out.writeBytes(len.array());
        }
        out.writeBytes(dict);
        out.writeBytes(data);
        return out.toByteArray();
    }

    private static Npy.Header header(byte[] file) throws IOException {
        return Npy.readHeader(new ByteArrayInputStream(file));
    }

    private static IllegalArgumentException headerFails(String dict) {
        return assertThrows(IllegalArgumentException.class, () -> header(rawNpy(dict, new byte[0])));
    }

    // ---------------------------------------------------------------- round trips in Java

    @Test
    void roundTripAllDtypesAndShapes() throws IOException {
        long[][] shapes = {{}, {5}, {2, 3}, {0, 3}, {2, 3, 4}, {1, 1, 1, 1, 7}, {0}};
        for (String descr : DESCRS) {
            for (long[] shape : shapes) {
                long count = new Npy.Header(descr, false, shape).count();
                ByteBuffer data = sampleData(descr, count, 7);
                byte[] file = npyBytes(descr, shape, data);
                assertEquals(0, (file.length - data.remaining()) % 64, "header alignment");

                InputStream in = new ByteArrayInputStream(file);
                Npy.Header h = Npy.readHeader(in);
                assertEquals(new Npy.Header(descr, false, shape), h);
                ByteBuffer back = ByteBuffer.allocate((int) h.byteSize());
                Npy.readData(in, h, back);
                assertEquals(0, back.position(), "readData leaves the position unchanged");
                assertEquals(data, back, descr + " " + java.util.Arrays.toString(shape));
                assertEquals(-1, in.read(), "no trailing bytes");
            }
        }
    }

    @Test
    void headerBytesMatchNumpyLayout() throws IOException {
        byte[] file = npyBytes("<f4", new long[] {2, 3}, ByteBuffer.allocate(24));
        assertEquals(128 + 24, file.length);
        assertEquals((byte) 0x93, file[0]);
        assertEquals("NUMPY", new String(file, 1, 5, StandardCharsets.US_ASCII));
        assertEquals(1, file[6]);
        assertEquals(0, file[7]);
        assertEquals(118, (file[8] & 0xFF) | (file[9] & 0xFF) << 8);
        String dict = new String(file, 10, 118, StandardCharsets.US_ASCII);
        assertTrue(dict.startsWith("{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"), dict);
        assertTrue(dict.endsWith(" \n"), dict);
        assertEquals(dict.strip(), "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }");

        byte[] scalar = npyBytes("<f8", new long[0], ByteBuffer.allocate(8));
        assertEquals(128 + 8, scalar.length);
        assertEquals("{'descr': '<f8', 'fortran_order': False, 'shape': (), }",
                new String(scalar, 10, 118, StandardCharsets.US_ASCII).strip());
        byte[] oneD = npyBytes("|u1", new long[] {5}, ByteBuffer.allocate(5));
        assertEquals(128 + 5, oneD.length);
        assertEquals("{'descr': '|u1', 'fortran_order': False, 'shape': (5,), }",
                new String(oneD, 10, 118, StandardCharsets.US_ASCII).strip());
        // Headers needing more than 64 bytes grow in steps of 64.
        long[] manyDims = new long[40];
        java.util.Arrays.fill(manyDims, 1);
        byte[] many = npyBytes("<i8", manyDims, ByteBuffer.allocate(8));
        assertEquals(0, (many.length - 8) % 64);
        assertEquals(many.length - 8 - 10, (many[8] & 0xFF) | (many[9] & 0xFF) << 8);
        assertEquals('\n', many[many.length - 9]);
    }

    @Test
    void writeDoesNotMoveCallerBufferAndHonoursPositionAndLimit() throws IOException {
        ByteBuffer big = sampleData("<i4", 10, 3);
        ByteBuffer view = big.duplicate();
        view.position(8).limit(20); // elements 2..4
        byte[] file = npyBytes("<i4", new long[] {3}, view);
        assertEquals(8, view.position());
        assertEquals(20, view.limit());
        InputStream in = new ByteArrayInputStream(file);
        Npy.Header h = Npy.readHeader(in);
        ByteBuffer back = ByteBuffer.allocate(12);
        Npy.readData(in, h, back);
        for (int i = 0; i < 3; i++) {
            assertEquals(bits("<i4", big, i + 2), bits("<i4", back, i));
        }
    }

    @Test
    void directBuffersAndLargeArrays() throws IOException {
        int n = 100_000; // several I/O chunks
        ByteBuffer data = ByteBuffer.allocateDirect(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        for (int i = 0; i < n; i++) {
            data.putDouble(i * 0.5);
        }
        data.flip();
        byte[] file = npyBytes("<f8", new long[] {n / 4, 4}, data);
        assertEquals(0, data.position());
        InputStream in = new ByteArrayInputStream(file);
        Npy.Header h = Npy.readHeader(in);
        ByteBuffer back = ByteBuffer.allocateDirect(n * 8).order(ByteOrder.LITTLE_ENDIAN);
        Npy.readData(in, h, back);
        assertEquals(0, back.position());
        assertEquals(data, back);
        assertEquals(12345 * 0.5, back.getDouble(12345 * 8));
    }

    @Test
    void readDataIntoSliceAtOffset() throws IOException {
        ByteBuffer data = sampleData("<i8", 4, 9);
        byte[] file = npyBytes("<i8", new long[] {4}, data);
        InputStream in = new ByteArrayInputStream(file);
        Npy.Header h = Npy.readHeader(in);
        ByteBuffer dst = ByteBuffer.allocate(64);
        dst.position(16).limit(48);
        Npy.readData(in, h, dst);
        assertEquals(16, dst.position());
        assertEquals(data, dst);
        ByteBuffer all = dst.duplicate().clear();
        assertEquals(0, all.get(0));
        assertEquals(0, all.get(15));
        assertEquals(0, all.get(48));
        assertEquals(0, all.get(63));
    }

    // ---------------------------------------------------------------- write errors

    @Test
    void writeRejectsBadArguments() {
        OutputStream out = new ByteArrayOutputStream();
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Npy.write(out, "<f4", new long[] {2, 3}, ByteBuffer.allocate(20)));
        assertTrue(e.getMessage().contains("20") && e.getMessage().contains("24"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Npy.write(out, "<c8", new long[] {1}, ByteBuffer.allocate(8)));
        assertThrows(IllegalArgumentException.class,
                () -> Npy.write(out, ">f4", new long[] {1}, ByteBuffer.allocate(4)));
        assertThrows(IllegalArgumentException.class,
                () -> Npy.write(out, "<f4", new long[] {-1}, ByteBuffer.allocate(0)));
        assertThrows(IllegalArgumentException.class,
                () -> Npy.write(out, "<f4", new long[] {Long.MAX_VALUE, 2}, ByteBuffer.allocate(0)));
        assertThrows(IllegalArgumentException.class,
                () -> Npy.write(out, "<f4", new long[] {Long.MAX_VALUE / 2}, ByteBuffer.allocate(0)));
        assertThrows(IllegalArgumentException.class, () -> Npy.write(out, "<f4", null, ByteBuffer.allocate(0)));
        assertThrows(IllegalArgumentException.class, () -> Npy.write(out, "<f4", new long[] {1}, null));
        assertThrows(IllegalArgumentException.class, () -> Npy.write(out, null, new long[] {1}, ByteBuffer.allocate(4)));
        assertEquals(0, ((ByteArrayOutputStream) out).size(), "nothing written on error");
    }

    // ---------------------------------------------------------------- header parsing

    @Test
    void headerParserIsTolerant() throws IOException {
        Npy.Header expected = new Npy.Header("<f8", false, new long[] {3, 4});
        assertEquals(expected, header(rawNpy("{'shape': (3, 4), 'fortran_order': False, 'descr': '<f8'}\n", new byte[0])));
        assertEquals(expected, header(rawNpy("{ \"descr\" :\"<f8\",'fortran_order':False,'shape':(3,4,),}", new byte[0])));
        assertEquals(expected, header(rawNpy("{'descr': '<f8', 'fortran_order': False, 'shape': (3L, 4L), }          \n", new byte[0])));
        assertEquals(new Npy.Header("|b1", false, new long[] {}),
                header(rawNpy("{'descr': '|b1', 'fortran_order': False, 'shape': ( ), }", new byte[0])));
        assertEquals(new Npy.Header("<i4", false, new long[] {7}),
                header(rawNpy("{'descr':'<i4','fortran_order':False,'shape':(7,)}", new byte[0])));
    }

    @Test
    void headerRejectsMalformedDicts() {
        String ok = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }";
        assertTrue(headerFails(ok.replace("False", "True")).getMessage()
                .contains("fortran_order arrays are not supported"));
        assertTrue(headerFails(ok.replace("<f4", "<c8")).getMessage().contains("unsupported dtype"));
        assertTrue(headerFails(ok.replace("<f4", ">f4")).getMessage().contains("big-endian"));
        assertTrue(headerFails(ok.replace("(2, 3)", "(2, -3)")).getMessage().contains("negative"));
        assertTrue(headerFails(ok.replace("(2, 3)", "(5)")).getMessage().contains("tuple"));
        assertTrue(headerFails(ok.replace("(2, 3)", "(99999999999999999999,)")).getMessage().contains("too large"));
        assertTrue(headerFails(ok.replace("(2, 3)", "(4611686018427387904, 4)")).getMessage().contains("overflow"));
        assertTrue(headerFails(ok.replace("(2, 3)", "(4611686018427387904,)")).getMessage().contains("overflow"));
        assertTrue(headerFails(ok.replace("'shape'", "'shapes'")).getMessage().contains("unexpected key"));
        assertTrue(headerFails(ok.replace(", }", ", 'descr': '<f4'}")).getMessage().contains("duplicate"));
        assertTrue(headerFails("{'descr': '<f4', 'shape': (2, 3)}").getMessage().contains("must contain"));
        String[] bad = {
            "", "{", "}", "[]", ok.replace("}", ""), ok + "x", ok.replace("False", "false"),
            ok.replace("False", "0"), ok.replace("(2, 3)", "[2, 3]"), ok.replace("(2, 3)", "(2 3)"),
            ok.replace("(2, 3)", "(2, 3.0)"), ok.replace("(2, 3)", "(,)"), ok.replace("'<f4'", "'<f4"),
            ok.replace("'<f4'", "[('a', '<f4')]"), ok.replace("'descr': ", "'descr' "),
            ok.replace(", 'fortran", " 'fortran"), ok.replace("'<f4'", "'<f\\x34'"),
        };
        for (String dict : bad) {
            headerFails(dict);
        }
    }

    @Test
    void headerRejectsBadPreamble() throws IOException {
        byte[] good = npyBytes("<f4", new long[] {1}, ByteBuffer.allocate(4));

        byte[] magic = good.clone();
        magic[1] = 'X';
        assertTrue(assertThrows(IllegalArgumentException.class, () -> header(magic)).getMessage().contains("magic"));

        for (int[] version : new int[][] {{0, 0}, {4, 0}, {1, 1}, {255, 0}}) {
            byte[] v = good.clone();
            v[6] = (byte) version[0];
            v[7] = (byte) version[1];
            assertTrue(assertThrows(IllegalArgumentException.class, () -> header(v)).getMessage().contains("version"));
        }

        // Truncated at various points: empty, inside magic, inside length, inside dict.
        for (int len : new int[] {0, 3, 9, 40}) {
            byte[] cut = java.util.Arrays.copyOf(good, len);
            assertTrue(assertThrows(IllegalArgumentException.class, () -> header(cut)).getMessage().contains("truncated"));
        }

        // Header length above 1 MiB (uint32 in a v2 header) is rejected before any allocation.
        byte[] huge = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 2, 0, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF, (byte) 0xFF};
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> header(huge));
        assertTrue(e.getMessage().contains("4294967295") && e.getMessage().contains("exceeds"), e.getMessage());
        byte[] justOver = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y', 3, 0, 1, 0, 0x10, 0};
        assertThrows(IllegalArgumentException.class, () -> header(justOver));
        assertThrows(IllegalArgumentException.class, () -> Npy.readHeader(null));
    }

    @Test
    void readsVersion2And3Headers() throws IOException {
        String dict = "{'descr': '<i4', 'fortran_order': False, 'shape': (2,), }      \n";
        byte[] data = {1, 0, 0, 0, 2, 0, 0, 0};
        for (int major : new int[] {2, 3}) {
            InputStream in = new ByteArrayInputStream(rawNpy(major, dict.getBytes(StandardCharsets.UTF_8), data));
            Npy.Header h = Npy.readHeader(in);
            assertEquals(new Npy.Header("<i4", false, new long[] {2}), h);
            ByteBuffer dst = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            Npy.readData(in, h, dst);
            assertEquals(1, dst.getInt(0));
            assertEquals(2, dst.getInt(4));
        }
    }

    // ---------------------------------------------------------------- readData errors

    @Test
    void readDataRejectsSizeMismatchAndTruncation() throws IOException {
        byte[] file = npyBytes("<f4", new long[] {2, 3}, sampleData("<f4", 6, 1));
        Npy.Header h = header(file);

        InputStream in1 = new ByteArrayInputStream(file);
        Npy.readHeader(in1);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Npy.readData(in1, h, ByteBuffer.allocate(23)));
        assertTrue(e.getMessage().contains("23") && e.getMessage().contains("24"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Npy.readData(in1, h, ByteBuffer.allocate(25)));
        assertThrows(IllegalArgumentException.class,
                () -> Npy.readData(in1, h, ByteBuffer.allocate(24).asReadOnlyBuffer()));

        for (boolean direct : new boolean[] {false, true}) {
            InputStream in2 = new ByteArrayInputStream(java.util.Arrays.copyOf(file, file.length - 5));
            Npy.Header h2 = Npy.readHeader(in2);
            ByteBuffer dst = direct ? ByteBuffer.allocateDirect(24) : ByteBuffer.allocate(24);
            e = assertThrows(IllegalArgumentException.class, () -> Npy.readData(in2, h2, dst));
            assertEquals("truncated .npy data: expected 24 bytes, got 19", e.getMessage());
        }

        InputStream in3 = new ByteArrayInputStream(file);
        Npy.readHeader(in3);
        e = assertThrows(IllegalArgumentException.class,
                () -> Npy.readData(in3, new Npy.Header("<f4", true, new long[] {2, 3}), ByteBuffer.allocate(24)));
        assertTrue(e.getMessage().contains("fortran_order"), e.getMessage());
        assertThrows(IllegalArgumentException.class,
                () -> Npy.readData(in3, new Npy.Header(">f4", false, new long[] {2, 3}), ByteBuffer.allocate(24)));
    }

    // ---------------------------------------------------------------- Header record

    @Test
    void headerRecordBehaviour() {
        Npy.Header a = new Npy.Header("<f4", false, new long[] {2, 3});
        assertEquals(6, a.count());
        assertEquals(24, a.byteSize());
        assertEquals(1, new Npy.Header("<f4", false, new long[0]).count());
        assertEquals(0, new Npy.Header("<f4", false, new long[] {4, 0, 5}).count());
        assertEquals(a, new Npy.Header("<f4", false, new long[] {2, 3}));
        assertEquals(a.hashCode(), new Npy.Header("<f4", false, new long[] {2, 3}).hashCode());
        assertNotEquals(a, new Npy.Header("<f4", false, new long[] {3, 2}));
        assertNotEquals(a, new Npy.Header("<f8", false, new long[] {2, 3}));
        assertTrue(a.toString().contains("[2, 3]"), a.toString());

        long[] shape = {2, 3};
        Npy.Header b = new Npy.Header("<f4", false, shape);
        shape[0] = 99;
        b.shape()[1] = 99;
        assertArrayEquals(new long[] {2, 3}, b.shape(), "defensive copies");

        Npy.Header huge = new Npy.Header("<f4", false, new long[] {1L << 32, 1L << 32});
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, huge::count);
        assertTrue(e.getMessage().contains("overflow"), e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> new Npy.Header("<f4", false, new long[] {-2}));
        assertThrows(IllegalArgumentException.class, () -> new Npy.Header(null, false, new long[] {1}));
        assertThrows(IllegalArgumentException.class, () -> new Npy.Header("<f4", false, null));
    }

    @Test
    void itemSizes() {
        assertEquals(4, Npy.itemSize("<f4"));
        assertEquals(8, Npy.itemSize("<f8"));
        assertEquals(4, Npy.itemSize("<i4"));
        assertEquals(8, Npy.itemSize("<i8"));
        assertEquals(1, Npy.itemSize("|b1"));
        assertEquals(1, Npy.itemSize("|u1"));
        for (String bad : new String[] {"<f2", "<u4", ">i8", "f4", "", "<U5", "|O"}) {
            assertThrows(IllegalArgumentException.class, () -> Npy.itemSize(bad), bad);
        }
        assertThrows(IllegalArgumentException.class, () -> Npy.itemSize(null));
    }

    // ---------------------------------------------------------------- interop with real NumPy

    private static String python() {
        try {
            Process p = new ProcessBuilder("python3", "--version").redirectErrorStream(true).start();
            p.getInputStream().readAllBytes();
            if (p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0) {
                return "python3";
            }
        } catch (IOException e) {
            // not found
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        return null;
    }

    /** Runs a Python snippet (argv[1..] = args) and returns its stdout; fails on non-zero exit. */
    private static String runPython(String script, String... args) throws Exception {
        String py = python();
        Assumptions.assumeTrue(py != null, "python3 not found");
        List<String> cmd = new ArrayList<>(List.of(py, "-c", script));
        cmd.addAll(List.of(args));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        byte[] out = p.getInputStream().readAllBytes();
        assertTrue(p.waitFor(120, TimeUnit.SECONDS), "python timed out");
        String text = new String(out, StandardCharsets.UTF_8);
        assertEquals(0, p.exitValue(), () -> "python failed:\n" + text);
        return text;
    }

    /** Python that prints a JSON description of an .npy file with bit-exact element values. */
    private static final String DESCRIBE = String.join("\n",
            "import sys, json, numpy as np",
            "out = []",
            "for path in sys.argv[1:]:",
            "    a = np.load(path, allow_pickle=False)",
            "    v = a.ravel()",
            "    if v.dtype.kind == 'f':",
            "        v = v.view(np.uint32 if v.dtype.itemsize == 4 else np.uint64)",
            "    out.append({'descr': a.dtype.str, 'shape': list(a.shape),",
            "                'bits': [str(int(x)) for x in v.tolist()]})",
            "print(json.dumps(out))");

    @Test
    void numpyReadsFilesWrittenByJava(@TempDir Path dir) throws Exception {
        long[][] shapes = {{}, {5}, {2, 3}, {0, 4}, {3, 1, 2}};
        List<String> paths = new ArrayList<>();
        List<Object[]> expected = new ArrayList<>();
        int seed = 0;
        for (String descr : DESCRS) {
            for (long[] shape : shapes) {
                long count = new Npy.Header(descr, false, shape).count();
                ByteBuffer data = sampleData(descr, count, seed++);
                Path f = dir.resolve("a" + paths.size() + ".npy");
                try (OutputStream out = Files.newOutputStream(f)) {
                    Npy.write(out, descr, shape, data);
                }
                paths.add(f.toString());
                expected.add(new Object[] {descr, shape, data});
            }
        }
        List<?> results = (List<?>) Json.parse(runPython(DESCRIBE, paths.toArray(new String[0])).strip());
        assertEquals(expected.size(), results.size());
        for (int k = 0; k < results.size(); k++) {
            @SuppressWarnings("unchecked")
            Map<String, Object> r = (Map<String, Object>) results.get(k);
            String descr = (String) expected.get(k)[0];
            long[] shape = (long[]) expected.get(k)[1];
            ByteBuffer data = (ByteBuffer) expected.get(k)[2];
            String what = descr + " " + java.util.Arrays.toString(shape);
            assertEquals(descr, Json.getString(r, "descr"), what);
            assertArrayEquals(shape, Json.getLongArray(r, "shape"), what);
            List<Object> values = Json.getList(r, "bits");
            assertEquals(data.remaining() / Npy.itemSize(descr), values.size(), what);
            for (int i = 0; i < values.size(); i++) {
                assertEquals(bitsText(descr, data, i), values.get(i), what + " element " + i);
            }
        }
    }

    /** Python that writes arrays with numpy and prints their bit-exact values as JSON. */
    private static final String GENERATE = String.join("\n",
            "import sys, json, os, numpy as np",
            "d = sys.argv[1]",
            "rng = np.random.default_rng(42)",
            "arrays = {",
            "  'f4_2x3': (rng.standard_normal((2, 3)) * 10).astype('<f4'),",
            "  'f4_special': np.array([np.nan, np.inf, -np.inf, -0.0, 1e-45, 3.4e38], dtype='<f4'),",
            "  'f8_scalar': np.array(np.pi, dtype='<f8'),",
            "  'f8_3d': rng.standard_normal((2, 3, 4)),",
            "  'i4_1d': np.array([-2**31, 2**31 - 1, 0, -1, 7], dtype='<i4'),",
            "  'i8_2d': np.array([[-2**63, 2**63 - 1], [123456789012345, -5]], dtype='<i8'),",
            "  'b1_1d': np.array([True, False, True, True]),",
            "  'u1_2d': np.arange(0, 256, dtype=np.uint8).reshape(16, 16),",
            "  'f4_empty': np.zeros((0, 5), dtype='<f4'),",
            "  'i8_big': np.arange(100000, dtype='<i8') * 3 - 7,",
            "  'f4_sliced': (np.arange(24, dtype='<f4').reshape(4, 6))[:, ::2],",  // non-contiguous source
            "}",
            "out = {}",
            "for name, a in arrays.items():",
            "    np.save(os.path.join(d, name + '.npy'), a)",
            "    v = np.ascontiguousarray(a).ravel()",
            "    if v.dtype.kind == 'f':",
            "        v = v.view(np.uint32 if v.dtype.itemsize == 4 else np.uint64)",
            "    out[name] = {'descr': a.dtype.str, 'shape': list(a.shape),",
            "                 'bits': [str(int(x)) for x in v.tolist()]}",
            "# other header versions and layouts",
            "for ver in [(1, 0), (2, 0), (3, 0)]:",
            "    with open(os.path.join(d, 'v%d.npy' % ver[0]), 'wb') as f:",
            "        np.lib.format.write_array(f, np.array([[1, 2, 3]], dtype='<i4'), version=ver)",
            "np.save(os.path.join(d, 'fortran.npy'), np.asfortranarray(np.ones((2, 3), dtype='<f4')))",
            "np.save(os.path.join(d, 'bigendian.npy'), np.ones(3, dtype='>f4'))",
            "np.save(os.path.join(d, 'float16.npy'), np.ones(3, dtype='<f2'))",
            "np.save(os.path.join(d, 'structured.npy'), np.zeros(2, dtype=[('a', '<f4'), ('b', '<i4')]))",
            "print(json.dumps(out))");

    @Test
    void javaReadsFilesWrittenByNumpy(@TempDir Path dir) throws Exception {
        @SuppressWarnings("unchecked")
        Map<String, Object> expected = (Map<String, Object>) Json.parse(runPython(GENERATE, dir.toString()).strip());
        assertEquals(11, expected.size());
        for (Map.Entry<String, Object> entry : expected.entrySet()) {
            String name = entry.getKey();
            @SuppressWarnings("unchecked")
            Map<String, Object> e = (Map<String, Object>) entry.getValue();
            String descr = Json.getString(e, "descr");
            try (InputStream in = Files.newInputStream(dir.resolve(name + ".npy"))) {
                Npy.Header h = Npy.readHeader(in);
                assertEquals(descr, h.descr(), name);
                assertEquals(false, h.fortranOrder(), name);
                assertArrayEquals(Json.getLongArray(e, "shape"), h.shape(), name);
                ByteBuffer data = ByteBuffer.allocate((int) h.byteSize());
                Npy.readData(in, h, data);
                assertEquals(-1, in.read(), name + ": whole file consumed");
                List<Object> bits = Json.getList(e, "bits");
                assertEquals(h.count(), bits.size(), name);
                for (int i = 0; i < bits.size(); i++) {
                    assertEquals(bits.get(i), bitsText(descr, data, i), name + " element " + i);
                }
            }
        }

        // Spot-check actual values, not just bits.
        try (InputStream in = Files.newInputStream(dir.resolve("f8_scalar.npy"))) {
            Npy.Header h = Npy.readHeader(in);
            assertArrayEquals(new long[0], h.shape());
            ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN);
            Npy.readData(in, h, b);
            assertEquals(Math.PI, b.getDouble(0));
        }
        try (InputStream in = Files.newInputStream(dir.resolve("f4_sliced.npy"))) {
            Npy.Header h = Npy.readHeader(in);
            assertArrayEquals(new long[] {4, 3}, h.shape());
            ByteBuffer b = ByteBuffer.allocate(48).order(ByteOrder.LITTLE_ENDIAN);
            Npy.readData(in, h, b);
            assertEquals(10f, b.getFloat(5 * 4)); // row 1, column 2 -> original [1, 4]
        }

        for (int v = 1; v <= 3; v++) {
            try (InputStream in = Files.newInputStream(dir.resolve("v" + v + ".npy"))) {
                Npy.Header h = Npy.readHeader(in);
                assertEquals(new Npy.Header("<i4", false, new long[] {1, 3}), h, "version " + v);
                ByteBuffer b = ByteBuffer.allocate(12).order(ByteOrder.LITTLE_ENDIAN);
                Npy.readData(in, h, b);
                assertEquals(3, b.getInt(8));
            }
        }

        Map<String, String> rejected = Map.of(
                "fortran.npy", "fortran_order arrays are not supported",
                "bigendian.npy", "big-endian",
                "float16.npy", "unsupported dtype",
                "structured.npy", "only simple string dtype");
        for (Map.Entry<String, String> r : rejected.entrySet()) {
            try (InputStream in = Files.newInputStream(dir.resolve(r.getKey()))) {
                IllegalArgumentException ex = assertThrows(IllegalArgumentException.class, () -> Npy.readHeader(in));
                assertTrue(ex.getMessage().contains(r.getValue()), r.getKey() + ": " + ex.getMessage());
            }
        }
    }
}
