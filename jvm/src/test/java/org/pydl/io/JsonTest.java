package org.pydl.io;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class JsonTest {

    private static IllegalArgumentException parseFails(String text) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.parse(text));
        assertTrue(e.getMessage().startsWith("JSON parse error at line "), e.getMessage());
        return e;
    }

    @SuppressWarnings("unchecked")
    private static Map<String, Object> obj(String text) {
        return (Map<String, Object>) Json.parse(text);
    }

    // ---------------------------------------------------------------- parsing: values

    @Test
    void parsesScalars() {
        assertEquals(Boolean.TRUE, Json.parse("true"));
        assertEquals(Boolean.FALSE, Json.parse(" false "));
        assertNull(Json.parse("null"));
        assertEquals("hi", Json.parse("\"hi\""));
        assertEquals(42L, Json.parse("42"));
        assertEquals(-7L, Json.parse("-7"));
        assertEquals(0L, Json.parse("0"));
        assertEquals(1.5, Json.parse("1.5"));
        assertEquals(-0.25, Json.parse("-0.25"));
        assertEquals(1e-5, Json.parse("1E-5"));
        assertEquals(3e10, Json.parse("3e+10"));
        assertEquals(2.0, Json.parse("2e0"));
        assertInstanceOf(Double.class, Json.parse("1.0"));
        assertInstanceOf(Long.class, Json.parse("123"));
    }

    @Test
    void integersBeyondLongBecomeDoubles() {
        assertEquals(Long.MAX_VALUE, Json.parse("9223372036854775807"));
        assertEquals(Long.MIN_VALUE, Json.parse("-9223372036854775808"));
        assertEquals(9.223372036854775808e18, Json.parse("9223372036854775808"));
        assertEquals(1e30, Json.parse("1000000000000000000000000000000"));
    }

    @Test
    void parsesNestedStructuresKeepingOrder() {
        Map<String, Object> m = obj("{\"z\": 1, \"a\": [1, 2.5, \"x\", null, true, {\"k\": []}], \"m\": {}}");
        assertInstanceOf(LinkedHashMap.class, m);
        assertEquals(List.of("z", "a", "m"), new ArrayList<>(m.keySet()));
        List<?> a = (List<?>) m.get("a");
        assertInstanceOf(ArrayList.class, a);
        assertEquals(6, a.size());
        assertEquals(1L, a.get(0));
        assertEquals(2.5, a.get(1));
        assertEquals("x", a.get(2));
        assertNull(a.get(3));
        assertEquals(true, a.get(4));
        assertEquals(Map.of("k", List.of()), a.get(5));
        assertEquals(Map.of(), m.get("m"));
        assertEquals(List.of(), Json.parse("[ ]"));
        assertEquals(Map.of(), Json.parse(" { } "));
    }

    @Test
    void parsesStringEscapes() {
        assertEquals("a\"b\\c/d\b\f\n\r\t", Json.parse("\"a\\\"b\\\\c\\/d\\b\\f\\n\\r\\t\""));
        assertEquals("\u00e9\u4e2d", Json.parse("\"\\u00E9\\u4e2d\""));
        assertEquals("\u0000", Json.parse("\"\\u0000\""));
        // Surrogate pair for U+1F600.
        String s = (String) Json.parse("\"x\\ud83d\\ude00y\"");
        assertEquals(3, s.codePointCount(0, s.length()));
        assertEquals(0x1F600, s.codePointAt(1));
        // Raw non-ASCII (including supplementary characters) passes through.
        assertEquals("\u00fc\uD83D\uDE00", Json.parse("\"\u00fc\uD83D\uDE00\""));
        // DEL and other non-control characters are allowed unescaped.
        assertEquals("\u007f", Json.parse("\"\u007f\""));
    }

    @Test
    void ignoresLeadingByteOrderMark() {
        assertEquals(1L, Json.parse("\uFEFF1"));
    }

    // ---------------------------------------------------------------- parsing: errors

    @ParameterizedTest
    @ValueSource(strings = {
        "", "   ", "[1,]", "{\"a\":1,}", "[,1]", "{,}", "01", "-01", "00", "1.", ".5", "-", "+1",
        "1e", "1e+", "NaN", "Infinity", "-Infinity", "nul", "tru", "True", "[1 2]", "{\"a\" 1}",
        "{\"a\":}", "{a:1}", "{'a':1}", "[1", "{\"a\":1", "\"abc", "\"\\x\"", "\"\\u12\"",
        "\"\\u12G4\"", "1 2", "[1]]", "{} x", "\"a\tb\"", "\"a\nb\"", "\"\u0001\"", "0x10",
        "[1,,2]", "nullx", "\"\\", "[\"a\" : 1]", "{\"a\":1 \"b\":2}", "\u00a01"
    })
    void rejectsInvalidJson(String text) {
        parseFails(text);
    }

    @Test
    void errorReportsLineAndColumn() {
        IllegalArgumentException e = parseFails("{\n  \"a\": 1,\n  \"b\": [1, 2,]\n}");
        assertTrue(e.getMessage().startsWith("JSON parse error at line 3, column 14:"), e.getMessage());
        assertTrue(e.getMessage().contains("trailing comma"), e.getMessage());

        e = parseFails("[1, 2] x");
        assertEquals("JSON parse error at line 1, column 8: unexpected trailing content 'x'", e.getMessage());

        e = parseFails("[NaN]");
        assertTrue(e.getMessage().startsWith("JSON parse error at line 1, column 2:"), e.getMessage());

        e = parseFails("{\"a\": 012}");
        assertTrue(e.getMessage().contains("leading zeros"), e.getMessage());

        e = parseFails("\"ab\u0002\"");
        assertTrue(e.getMessage().contains("control character U+0002"), e.getMessage());
        assertTrue(e.getMessage().contains("column 4"), e.getMessage());
    }

    @Test
    void rejectsDuplicateKeys() {
        IllegalArgumentException e = parseFails("{\"a\": 1, \"a\": 2}");
        assertTrue(e.getMessage().contains("duplicate key \"a\""), e.getMessage());
    }

    @Test
    void depthLimit() {
        String ok = "[".repeat(Json.MAX_DEPTH) + "]".repeat(Json.MAX_DEPTH);
        Object v = Json.parse(ok);
        for (int i = 1; i < Json.MAX_DEPTH; i++) {
            v = ((List<?>) v).get(0);
        }
        assertEquals(List.of(), v);

        IllegalArgumentException e = parseFails("[".repeat(Json.MAX_DEPTH + 1) + "]".repeat(Json.MAX_DEPTH + 1));
        assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());
        // Very deep input must fail cleanly, not with StackOverflowError.
        parseFails("[".repeat(1_000_000));
        parseFails("{\"a\":".repeat(100_000));
    }

    @Test
    void nullInputRejected() {
        assertThrows(IllegalArgumentException.class, () -> Json.parse(null));
    }

    // ---------------------------------------------------------------- writing

    @Test
    void writesCompact() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("name", "dense");
        m.put("units", 64);
        m.put("big", 1L << 40);
        m.put("lr", 0.001);
        m.put("bias", true);
        m.put("act", null);
        m.put("shape", new long[] {2, 3});
        m.put("ints", new int[] {1, -2});
        m.put("ds", new double[] {0.5});
        m.put("fs", new float[] {0.1f});
        m.put("bs", new boolean[] {true, false});
        m.put("objs", new Object[] {"a", 1});
        m.put("list", List.of());
        m.put("map", Map.of());
        assertEquals("{\"name\":\"dense\",\"units\":64,\"big\":1099511627776,\"lr\":0.001,\"bias\":true,"
                + "\"act\":null,\"shape\":[2,3],\"ints\":[1,-2],\"ds\":[0.5],\"fs\":[0.1],"
                + "\"bs\":[true,false],\"objs\":[\"a\",1],\"list\":[],\"map\":{}}", Json.write(m));
        assertEquals("null", Json.write(null));
        assertEquals("1.0E-5", Json.write(1e-5));
        assertEquals("-0.0", Json.write(-0.0));
        assertEquals("12345678901234567890", Json.write(new BigInteger("12345678901234567890")));
        assertEquals("1.5", Json.write(new BigDecimal("1.5")));
        assertEquals("7", Json.write((short) 7));
    }

    @Test
    void writesPretty() {
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("a", 1);
        m.put("b", List.of(1, List.of(), Map.of("c", "d")));
        m.put("e", Map.of());
        String expected = "{\n"
                + "  \"a\": 1,\n"
                + "  \"b\": [\n"
                + "    1,\n"
                + "    [],\n"
                + "    {\n"
                + "      \"c\": \"d\"\n"
                + "    }\n"
                + "  ],\n"
                + "  \"e\": {}\n"
                + "}";
        assertEquals(expected, Json.write(m, true));
        assertEquals(Json.write(m), Json.write(Json.parse(Json.write(m, true))));
        assertEquals("[]", Json.write(List.of(), true));
        assertEquals("5", Json.write(5, true));
    }

    @Test
    void escapesStrings() {
        String s = "q\"b\\s/\n\r\t\b\f\u0001\u001f\u007f\u2028\u00e9\uD83D\uDE00";
        String json = Json.write(s);
        assertEquals("\"q\\\"b\\\\s/\\n\\r\\t\\b\\f\\u0001\\u001f\\u007f\\u2028\u00e9\uD83D\uDE00\"", json);
        assertEquals(s, Json.parse(json));
        // Lone surrogates are escaped so that the text stays valid and round-trips.
        String lone = "a\uD800b\uDC00";
        assertEquals("\"a\\ud800b\\udc00\"", Json.write(lone));
        assertEquals(lone, Json.parse(Json.write(lone)));
    }

    @Test
    void doublesRoundTripExactly() {
        Random r = new Random(1234);
        double[] special = {0.0, -0.0, 1.0, -1.0, 0.1, 1.0 / 3, Double.MIN_VALUE, Double.MAX_VALUE,
            Double.MIN_NORMAL, 1e-300, 1e300, 123456789.125, 1e7, 1e-3, 9007199254740993.0};
        List<Double> values = new ArrayList<>();
        for (double d : special) {
            values.add(d);
        }
        for (int i = 0; i < 2000; i++) {
            values.add(Double.longBitsToDouble(r.nextLong()));
            values.add(r.nextGaussian() * Math.pow(10, r.nextInt(40) - 20));
        }
        for (double d : values) {
            if (!Double.isFinite(d)) {
                continue;
            }
            Object back = Json.parse(Json.write(d));
            assertInstanceOf(Double.class, back, () -> "for " + d);
            assertEquals(Double.doubleToRawLongBits(d), Double.doubleToRawLongBits((Double) back), () -> "for " + d);
        }
        // Floats come back as the same float after a cast.
        for (int i = 0; i < 2000; i++) {
            float f = Float.intBitsToFloat(r.nextInt());
            if (Float.isFinite(f)) {
                assertEquals(f, (float) (double) (Double) Json.parse(Json.write(f)));
            }
        }
    }

    @Test
    void roundTripStructure() {
        String text = "{\"model\":{\"layers\":[{\"type\":\"dense\",\"units\":128,\"dropout\":0.25},"
                + "{\"type\":\"relu\"}],\"name\":\"m\\u00e9\"},\"epochs\":10,\"flags\":[true,false,null],"
                + "\"neg\":-3,\"exp\":1.0E-7}";
        Object v = Json.parse(text);
        assertEquals(v, Json.parse(Json.write(v)));
        assertEquals(v, Json.parse(Json.write(v, true)));
        assertEquals(Json.write(v), Json.write(Json.parse(Json.write(v))));
    }

    @Test
    void writeRejectsNonFiniteNamingThePath() {
        Map<String, Object> inner = new LinkedHashMap<>();
        inner.put("lr", Double.NaN);
        Map<String, Object> m = new LinkedHashMap<>();
        m.put("optimizer", inner);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(m));
        assertTrue(e.getMessage().contains("$.optimizer.lr"), e.getMessage());
        assertTrue(e.getMessage().contains("NaN"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> Json.write(Map.of("w", List.of(1.0, Double.POSITIVE_INFINITY))));
        assertTrue(e.getMessage().contains("$.w[1]"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> Json.write(Map.of("w", new double[] {1, 2, Double.NEGATIVE_INFINITY})));
        assertTrue(e.getMessage().contains("$.w[2]"), e.getMessage());

        e = assertThrows(IllegalArgumentException.class,
                () -> Json.write(Map.of("a b", new float[] {Float.NaN})));
        assertTrue(e.getMessage().contains("$[\"a b\"][0]"), e.getMessage());

        assertThrows(IllegalArgumentException.class, () -> Json.write(Float.POSITIVE_INFINITY));
    }

    @Test
    void writeRejectsUnsupportedTypes() {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                () -> Json.write(Map.of("x", new Object())));
        assertTrue(e.getMessage().contains("$.x"), e.getMessage());
        assertTrue(e.getMessage().contains("java.lang.Object"), e.getMessage());

        Map<Object, Object> badKey = new HashMap<>();
        badKey.put(1, "a");
        e = assertThrows(IllegalArgumentException.class, () -> Json.write(badKey));
        assertTrue(e.getMessage().contains("must be a String"), e.getMessage());

        assertThrows(IllegalArgumentException.class, () -> Json.write(new char[] {'a'}));
        assertThrows(IllegalArgumentException.class, () -> Json.write(new java.util.HashSet<>()));
        assertThrows(IllegalArgumentException.class,
                () -> Json.write(new java.util.concurrent.atomic.DoubleAdder()));
    }

    @Test
    void writeDetectsCycles() {
        List<Object> self = new ArrayList<>();
        self.add(self);
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.write(self));
        assertTrue(e.getMessage().contains("nesting depth"), e.getMessage());
    }

    // ---------------------------------------------------------------- typed getters

    private static final String CONFIG = "{\"name\": \"dense\", \"units\": 64, \"units_f\": 64.0,"
            + " \"lr\": 0.5, \"bias\": true, \"sub\": {\"k\": 1}, \"list\": [1, \"a\"],"
            + " \"shape\": [2, 3, 4], \"bad_shape\": [2, \"x\"], \"frac_shape\": [1.5],"
            + " \"nothing\": null, \"text\": \"abc\", \"half\": 1.5}";

    @Test
    void gettersReturnTypedValues() {
        Map<String, Object> m = obj(CONFIG);
        assertEquals("dense", Json.getString(m, "name"));
        assertEquals(64L, Json.getLong(m, "units"));
        assertEquals(64L, Json.getLong(m, "units_f"));
        assertEquals(0.5, Json.getDouble(m, "lr"));
        assertEquals(64.0, Json.getDouble(m, "units"));
        assertTrue(Json.getBoolean(m, "bias"));
        assertEquals(Map.of("k", 1L), Json.getMap(m, "sub"));
        assertEquals(List.of(1L, "a"), Json.getList(m, "list"));
        assertArrayEquals(new long[] {2, 3, 4}, Json.getLongArray(m, "shape"));
        assertArrayEquals(new long[] {}, Json.getLongArray(obj("{\"s\": []}"), "s"));

        Map<String, Object> javaBuilt = new HashMap<>();
        javaBuilt.put("a", new long[] {5, 6});
        javaBuilt.put("b", new int[] {7});
        javaBuilt.put("c", 3);
        assertArrayEquals(new long[] {5, 6}, Json.getLongArray(javaBuilt, "a"));
        assertArrayEquals(new long[] {7}, Json.getLongArray(javaBuilt, "b"));
        assertEquals(3L, Json.getLong(javaBuilt, "c"));
    }

    @Test
    void gettersWithDefaults() {
        Map<String, Object> m = obj(CONFIG);
        assertEquals("dense", Json.getString(m, "name", "x"));
        assertEquals("x", Json.getString(m, "missing", "x"));
        assertEquals("x", Json.getString(m, "nothing", "x"));
        assertEquals(64L, Json.getLong(m, "units", 1));
        assertEquals(1L, Json.getLong(m, "missing", 1));
        assertEquals(0.5, Json.getDouble(m, "lr", 2.0));
        assertEquals(2.0, Json.getDouble(m, "missing", 2.0));
        assertTrue(Json.getBoolean(m, "bias", false));
        assertFalse(Json.getBoolean(m, "missing", false));
        Map<String, Object> dm = Map.of();
        assertSame(dm, Json.getMap(m, "missing", dm));
        assertEquals(Map.of("k", 1L), Json.getMap(m, "sub", dm));
        List<Object> dl = List.of();
        assertSame(dl, Json.getList(m, "missing", dl));
        long[] da = {9};
        assertSame(da, Json.getLongArray(m, "missing", da));
        assertArrayEquals(new long[] {2, 3, 4}, Json.getLongArray(m, "shape", da));
        // Present with the wrong type is still an error, even with a default.
        assertThrows(IllegalArgumentException.class, () -> Json.getLong(m, "text", 1));
        assertThrows(IllegalArgumentException.class, () -> Json.getString(m, "units", "x"));
        assertThrows(IllegalArgumentException.class, () -> Json.getBoolean(m, "units", true));
        assertThrows(IllegalArgumentException.class, () -> Json.getDouble(m, "text", 1.0));
        assertThrows(IllegalArgumentException.class, () -> Json.getMap(m, "list", dm));
        assertThrows(IllegalArgumentException.class, () -> Json.getList(m, "sub", dl));
        assertThrows(IllegalArgumentException.class, () -> Json.getLongArray(m, "bad_shape", da));
    }

    private static void getterFails(Runnable r, String expectedMessage) {
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, r::run);
        assertEquals(expectedMessage, e.getMessage());
    }

    @Test
    void getterErrorMessages() {
        Map<String, Object> m = obj(CONFIG);
        getterFails(() -> Json.getLong(m, "text"), "config key 'text' must be an integer, received \"abc\"");
        getterFails(() -> Json.getLong(m, "half"), "config key 'half' must be an integer, received 1.5");
        getterFails(() -> Json.getLong(m, "nothing"), "config key 'nothing' must be an integer, received null");
        getterFails(() -> Json.getLong(m, "units_x"), "config key 'units_x' is missing");
        getterFails(() -> Json.getString(m, "units"), "config key 'units' must be a string, received 64");
        getterFails(() -> Json.getDouble(m, "bias"), "config key 'bias' must be a number, received true");
        getterFails(() -> Json.getBoolean(m, "text"), "config key 'text' must be a boolean, received \"abc\"");
        getterFails(() -> Json.getMap(m, "list"), "config key 'list' must be an object, received [1,\"a\"]");
        getterFails(() -> Json.getList(m, "sub"), "config key 'sub' must be a list, received {\"k\":1}");
        getterFails(() -> Json.getLongArray(m, "text"),
                "config key 'text' must be a list of integers, received \"abc\"");
        getterFails(() -> Json.getLongArray(m, "bad_shape"),
                "config key 'bad_shape' must be a list of integers, but element 1 is \"x\" (received [2,\"x\"])");
        getterFails(() -> Json.getLongArray(m, "frac_shape"),
                "config key 'frac_shape' must be a list of integers, but element 0 is 1.5 (received [1.5])");
        // Long values are truncated in messages.
        Map<String, Object> big = new HashMap<>();
        big.put("s", "x".repeat(500));
        IllegalArgumentException e = assertThrows(IllegalArgumentException.class, () -> Json.getLong(big, "s"));
        assertTrue(e.getMessage().length() < 200, e.getMessage());
        assertThrows(IllegalArgumentException.class, () -> Json.getLong(null, "s"));
        // Huge doubles are not silently clamped to a long.
        assertThrows(IllegalArgumentException.class, () -> Json.getLong(obj("{\"x\": 1e30}"), "x"));
        assertEquals(Arrays.toString(new long[] {1}), Arrays.toString(Json.getLongArray(obj("{\"x\": [1.0]}"), "x")));
    }
}
