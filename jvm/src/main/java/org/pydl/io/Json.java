package org.pydl.io;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Minimal, dependency-free JSON reader/writer (RFC 8259) plus typed getters for config maps.
 *
 * <p>Parsed values map to Java types as follows: object → {@code LinkedHashMap<String,Object>}
 * (insertion order kept), array → {@code ArrayList<Object>}, string → {@code String}, integer
 * literal that fits in a long → {@code Long}, any other number → {@code Double}, true/false →
 * {@code Boolean}, null → {@code null}.
 */
public final class Json {

    /** Maximum nesting depth of arrays/objects accepted by the parser and the writer. */
    public static final int MAX_DEPTH = 512;

    private Json() {}

    // ------------------------------------------------------------------------------------------
    // Parsing
    // ------------------------------------------------------------------------------------------

    /**
     * Parses a complete JSON text.
     *
     * @param text the JSON document
     * @return the parsed value (Map, List, String, Long, Double, Boolean or null)
     * @throws IllegalArgumentException on malformed input, with line and column of the error
     */
    public static Object parse(String text) {
        if (text == null) {
            throw new IllegalArgumentException("JSON parse error at line 1, column 1: input is null");
        }
        Parser p = new Parser(text);
        // RFC 8259 section 8.1: a leading byte order mark may be ignored.
        if (p.pos < text.length() && text.charAt(p.pos) == '\uFEFF') {
            p.pos++;
        }
        p.skipWhitespace();
        Object v = p.readValue(0);
        p.skipWhitespace();
        if (p.pos < text.length()) {
            throw p.error("unexpected trailing content " + p.describeCharAt(p.pos));
        }
        return v;
    }

    private static final class Parser {
        private final String s;
        private int pos;

        Parser(String s) {
            this.s = s;
        }

        IllegalArgumentException error(String what) {
            return errorAt(pos, what);
        }

        IllegalArgumentException errorAt(int at, String what) {
            int line = 1;
            int lineStart = 0;
            int end = Math.min(at, s.length());
            for (int i = 0; i < end; i++) {
                if (s.charAt(i) == '\n') {
                    line++;
                    lineStart = i + 1;
                }
            }
            int column = at - lineStart + 1;
            return new IllegalArgumentException(
                    "JSON parse error at line " + line + ", column " + column + ": " + what);
        }

        String describeCharAt(int i) {
            if (i >= s.length()) {
                return "end of input";
            }
            char c = s.charAt(i);
            if (c < 0x20 || c == 0x7f) {
                return String.format("control character U+%04X", (int) c);
            }
            return "'" + c + "'";
        }

        void skipWhitespace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        Object readValue(int depth) {
            if (pos >= s.length()) {
                throw error("unexpected end of input, expected a value");
            }
            char c = s.charAt(pos);
            switch (c) {
                case '{':
                    return readObject(depth + 1);
                case '[':
                    return readArray(depth + 1);
                case '"':
                    return readString();
                case 't':
                    expectWord("true");
                    return Boolean.TRUE;
                case 'f':
                    expectWord("false");
                    return Boolean.FALSE;
                case 'n':
                    expectWord("null");
                    return null;
                default:
                    if (c == '-' || (c >= '0' && c <= '9')) {
                        return readNumber();
                    }
                    throw error("unexpected " + describeCharAt(pos) + ", expected a value");
            }
        }

        void expectWord(String word) {
            if (s.startsWith(word, pos)) {
                int after = pos + word.length();
                if (after >= s.length() || !Character.isLetterOrDigit(s.charAt(after))) {
                    pos = after;
                    return;
                }
            }
            throw error("invalid literal, expected a value");
        }

        void checkDepth(int depth) {
            if (depth > MAX_DEPTH) {
                throw error("nesting depth exceeds " + MAX_DEPTH);
            }
        }

        Map<String, Object> readObject(int depth) {
            checkDepth(depth);
            pos++; // '{'
            Map<String, Object> map = new LinkedHashMap<>();
            skipWhitespace();
            if (pos < s.length() && s.charAt(pos) == '}') {
                pos++;
                return map;
            }
            while (true) {
                skipWhitespace();
                if (pos >= s.length()) {
                    throw error("unexpected end of input, expected an object key");
                }
                if (s.charAt(pos) != '"') {
                    if (s.charAt(pos) == '}') {
                        throw error("trailing comma in object");
                    }
                    throw error("unexpected " + describeCharAt(pos) + ", expected a string key");
                }
                int keyStart = pos;
                String key = readString();
                skipWhitespace();
                if (pos >= s.length() || s.charAt(pos) != ':') {
                    throw error("unexpected " + describeCharAt(pos) + ", expected ':'");
                }
                pos++;
                skipWhitespace();
                Object value = readValue(depth);
                if (map.containsKey(key)) {
                    throw errorAt(keyStart, "duplicate key \"" + key + "\"");
                }
                map.put(key, value);
                skipWhitespace();
                if (pos >= s.length()) {
                    throw error("unexpected end of input, expected ',' or '}'");
                }
                char c = s.charAt(pos);
                if (c == ',') {
                    pos++;
                } else if (c == '}') {
                    pos++;
                    return map;
                } else {
                    throw error("unexpected " + describeCharAt(pos) + ", expected ',' or '}'");
                }
            }
        }

        List<Object> readArray(int depth) {
            checkDepth(depth);
            pos++; // '['
            List<Object> list = new ArrayList<>();
            skipWhitespace();
            if (pos < s.length() && s.charAt(pos) == ']') {
                pos++;
                return list;
            }
            while (true) {
                skipWhitespace();
                if (pos < s.length() && s.charAt(pos) == ']') {
                    throw error("trailing comma in array");
                }
                list.add(readValue(depth));
                skipWhitespace();
                if (pos >= s.length()) {
                    throw error("unexpected end of input, expected ',' or ']'");
                }
                char c = s.charAt(pos);
                if (c == ',') {
                    pos++;
                } else if (c == ']') {
                    pos++;
                    return list;
                } else {
                    throw error("unexpected " + describeCharAt(pos) + ", expected ',' or ']'");
                }
            }
        }

        String readString() {
            int start = pos;
            pos++; // opening quote
            StringBuilder sb = null;
            int runStart = pos;
            while (true) {
                if (pos >= s.length()) {
                    throw errorAt(start, "unterminated string");
                }
                char c = s.charAt(pos);
                if (c == '"') {
                    String result;
                    if (sb == null) {
                        result = s.substring(runStart, pos);
                    } else {
                        sb.append(s, runStart, pos);
                        result = sb.toString();
                    }
                    pos++;
                    return result;
                }
                if (c < 0x20) {
                    throw error(String.format("unescaped control character U+%04X in string", (int) c));
                }
                if (c != '\\') {
                    pos++;
                    continue;
                }
                if (sb == null) {
                    sb = new StringBuilder();
                }
                sb.append(s, runStart, pos);
                int escStart = pos;
                pos++;
                if (pos >= s.length()) {
                    throw errorAt(start, "unterminated string");
                }
                char e = s.charAt(pos);
                switch (e) {
                    case '"': sb.append('"'); break;
                    case '\\': sb.append('\\'); break;
                    case '/': sb.append('/'); break;
                    case 'b': sb.append('\b'); break;
                    case 'f': sb.append('\f'); break;
                    case 'n': sb.append('\n'); break;
                    case 'r': sb.append('\r'); break;
                    case 't': sb.append('\t'); break;
                    case 'u': {
                        if (pos + 4 >= s.length()) {
                            throw errorAt(escStart, "incomplete \\u escape");
                        }
                        int code = 0;
                        for (int i = 1; i <= 4; i++) {
                            int d = hexValue(s.charAt(pos + i));
                            if (d < 0) {
                                throw errorAt(escStart, "invalid \\u escape");
                            }
                            code = (code << 4) | d;
                        }
                        // Surrogate pairs written as two escapes decode naturally into the
                        // two UTF-16 code units Java uses for the code point.
                        sb.append((char) code);
                        pos += 4;
                        break;
                    }
                    default:
                        throw errorAt(escStart, "invalid escape sequence \\" + (e < 0x20 ? "?" : String.valueOf(e)));
                }
                pos++;
                runStart = pos;
            }
        }

        Object readNumber() {
            int start = pos;
            if (s.charAt(pos) == '-') {
                pos++;
            }
            if (pos >= s.length() || !isDigit(s.charAt(pos))) {
                throw errorAt(start, "invalid number, expected a digit after '-'");
            }
            if (s.charAt(pos) == '0') {
                pos++;
                if (pos < s.length() && isDigit(s.charAt(pos))) {
                    throw errorAt(start, "invalid number, leading zeros are not allowed");
                }
            } else {
                while (pos < s.length() && isDigit(s.charAt(pos))) {
                    pos++;
                }
            }
            boolean integral = true;
            if (pos < s.length() && s.charAt(pos) == '.') {
                integral = false;
                pos++;
                if (pos >= s.length() || !isDigit(s.charAt(pos))) {
                    throw errorAt(start, "invalid number, expected a digit after '.'");
                }
                while (pos < s.length() && isDigit(s.charAt(pos))) {
                    pos++;
                }
            }
            if (pos < s.length() && (s.charAt(pos) == 'e' || s.charAt(pos) == 'E')) {
                integral = false;
                pos++;
                if (pos < s.length() && (s.charAt(pos) == '+' || s.charAt(pos) == '-')) {
                    pos++;
                }
                if (pos >= s.length() || !isDigit(s.charAt(pos))) {
                    throw errorAt(start, "invalid number, expected a digit in exponent");
                }
                while (pos < s.length() && isDigit(s.charAt(pos))) {
                    pos++;
                }
            }
            String lit = s.substring(start, pos);
            if (integral) {
                // At most 19 digits (plus sign) can fit in a long; avoid exceptions for huge ones.
                if (lit.length() <= 20) {
                    try {
                        return Long.parseLong(lit);
                    } catch (NumberFormatException ignored) {
                        // falls through to double
                    }
                }
            }
            return Double.parseDouble(lit);
        }

        private static int hexValue(char c) {
            if (c >= '0' && c <= '9') {
                return c - '0';
            }
            if (c >= 'a' && c <= 'f') {
                return c - 'a' + 10;
            }
            if (c >= 'A' && c <= 'F') {
                return c - 'A' + 10;
            }
            return -1;
        }

        private static boolean isDigit(char c) {
            return c >= '0' && c <= '9';
        }
    }

    // ------------------------------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------------------------------

    /**
     * Serializes a value as compact JSON.
     *
     * @param value Map (String keys), List, array, String, Number, Boolean or null
     * @return the JSON text
     * @throws IllegalArgumentException for unsupported types, non-String keys or non-finite numbers
     */
    public static String write(Object value) {
        return write(value, false);
    }

    /**
     * Serializes a value as JSON, optionally pretty-printed with a 2-space indent.
     *
     * <p>Integral numbers (Byte/Short/Integer/Long/BigInteger) are written as integers. Doubles
     * are written with {@link Double#toString(double)} (round-trips exactly); Floats with
     * {@link Float#toString(float)} (parsing it back and casting to float yields the same float).
     *
     * @param value Map (String keys), List, Object[]/long[]/int[]/double[]/float[]/boolean[],
     *     String, Number, Boolean or null
     * @param pretty true for multi-line output with 2-space indentation
     * @return the JSON text
     * @throws IllegalArgumentException for unsupported types, non-String keys or non-finite
     *     numbers; the message names the offending path (e.g. {@code $.optimizer.lr})
     */
    public static String write(Object value, boolean pretty) {
        StringBuilder sb = new StringBuilder();
        new Writer(sb, pretty).write(value, "$", 0);
        return sb.toString();
    }

    private static final class Writer {
        private final StringBuilder sb;
        private final boolean pretty;

        Writer(StringBuilder sb, boolean pretty) {
            this.sb = sb;
            this.pretty = pretty;
        }

        private void newline(int depth) {
            if (pretty) {
                sb.append('\n');
                for (int i = 0; i < depth; i++) {
                    sb.append("  ");
                }
            }
        }

        void write(Object v, String path, int depth) {
            if (depth > MAX_DEPTH) {
                throw new IllegalArgumentException(
                        "cannot write JSON: nesting depth exceeds " + MAX_DEPTH + " at " + path
                                + " (cyclic structure?)");
            }
            if (v == null) {
                sb.append("null");
            } else if (v instanceof String str) {
                quote(sb, str);
            } else if (v instanceof Boolean b) {
                sb.append(b.booleanValue() ? "true" : "false");
            } else if (v instanceof Number n) {
                writeNumber(n, path);
            } else if (v instanceof Character ch) {
                quote(sb, String.valueOf(ch));
            } else if (v instanceof Map<?, ?> map) {
                writeMap(map, path, depth);
            } else if (v instanceof List<?> list) {
                int n = list.size();
                beginArray(n);
                int i = 0;
                for (Object e : list) {
                    element(i, depth);
                    write(e, path + "[" + i + "]", depth + 1);
                    i++;
                }
                endArray(n, depth);
            } else if (v instanceof Object[] arr) {
                beginArray(arr.length);
                for (int i = 0; i < arr.length; i++) {
                    element(i, depth);
                    write(arr[i], path + "[" + i + "]", depth + 1);
                }
                endArray(arr.length, depth);
            } else if (v instanceof long[] arr) {
                beginArray(arr.length);
                for (int i = 0; i < arr.length; i++) {
                    element(i, depth);
                    sb.append(arr[i]);
                }
                endArray(arr.length, depth);
            } else if (v instanceof int[] arr) {
                beginArray(arr.length);
                for (int i = 0; i < arr.length; i++) {
                    element(i, depth);
                    sb.append(arr[i]);
                }
                endArray(arr.length, depth);
            } else if (v instanceof double[] arr) {
                beginArray(arr.length);
                for (int i = 0; i < arr.length; i++) {
                    element(i, depth);
                    writeDouble(arr[i], path + "[" + i + "]");
                }
                endArray(arr.length, depth);
            } else if (v instanceof float[] arr) {
                beginArray(arr.length);
                for (int i = 0; i < arr.length; i++) {
                    element(i, depth);
                    writeFloat(arr[i], path + "[" + i + "]");
                }
                endArray(arr.length, depth);
            } else if (v instanceof boolean[] arr) {
                beginArray(arr.length);
                for (int i = 0; i < arr.length; i++) {
                    element(i, depth);
                    sb.append(arr[i] ? "true" : "false");
                }
                endArray(arr.length, depth);
            } else {
                throw new IllegalArgumentException(
                        "cannot write JSON: unsupported type " + v.getClass().getName() + " at " + path);
            }
        }

        private void beginArray(int n) {
            sb.append('[');
        }

        private void element(int i, int depth) {
            if (i > 0) {
                sb.append(',');
            }
            newline(depth + 1);
        }

        private void endArray(int n, int depth) {
            if (n > 0) {
                newline(depth);
            }
            sb.append(']');
        }

        private void writeMap(Map<?, ?> map, String path, int depth) {
            sb.append('{');
            int i = 0;
            for (Map.Entry<?, ?> e : map.entrySet()) {
                Object k = e.getKey();
                if (!(k instanceof String key)) {
                    throw new IllegalArgumentException("cannot write JSON: map key at " + path
                            + " must be a String, got "
                            + (k == null ? "null" : k.getClass().getName()));
                }
                if (i > 0) {
                    sb.append(',');
                }
                newline(depth + 1);
                quote(sb, key);
                sb.append(pretty ? ": " : ":");
                write(e.getValue(), childPath(path, key), depth + 1);
                i++;
            }
            if (i > 0) {
                newline(depth);
            }
            sb.append('}');
        }

        private static String childPath(String path, String key) {
            boolean simple = !key.isEmpty();
            for (int i = 0; i < key.length() && simple; i++) {
                char c = key.charAt(i);
                simple = Character.isLetterOrDigit(c) || c == '_';
            }
            if (simple) {
                return path + "." + key;
            }
            StringBuilder b = new StringBuilder(path).append('[');
            quote(b, key);
            return b.append(']').toString();
        }

        private void writeNumber(Number n, String path) {
            if (n instanceof Double d) {
                writeDouble(d, path);
            } else if (n instanceof Float f) {
                writeFloat(f, path);
            } else if (n instanceof Long || n instanceof Integer || n instanceof Short
                    || n instanceof Byte || n instanceof BigInteger || n instanceof AtomicLong
                    || n instanceof AtomicInteger) {
                sb.append(n.toString());
            } else if (n instanceof BigDecimal bd) {
                // BigDecimal.toString uses forms like "1E+3", which are valid JSON numbers.
                sb.append(bd.toString());
            } else {
                throw new IllegalArgumentException("cannot write JSON: unsupported number type "
                        + n.getClass().getName() + " at " + path);
            }
        }

        private void writeDouble(double d, String path) {
            if (!Double.isFinite(d)) {
                throw new IllegalArgumentException(
                        "cannot write JSON: non-finite number " + d + " at " + path);
            }
            // Double.toString always yields a valid JSON number for finite values
            // (e.g. "1.0", "-0.0", "1.0E-5"), and parses back to the identical double.
            sb.append(Double.toString(d));
        }

        private void writeFloat(float f, String path) {
            if (!Float.isFinite(f)) {
                throw new IllegalArgumentException(
                        "cannot write JSON: non-finite number " + f + " at " + path);
            }
            sb.append(Float.toString(f));
        }
    }

    private static void quote(StringBuilder sb, String str) {
        sb.append('"');
        int n = str.length();
        for (int i = 0; i < n; i++) {
            char c = str.charAt(i);
            switch (c) {
                case '"': sb.append("\\\""); break;
                case '\\': sb.append("\\\\"); break;
                case '\n': sb.append("\\n"); break;
                case '\r': sb.append("\\r"); break;
                case '\t': sb.append("\\t"); break;
                case '\b': sb.append("\\b"); break;
                case '\f': sb.append("\\f"); break;
                default:
                    if (c < 0x20 || c == 0x7f || c == '\u2028' || c == '\u2029') {
                        appendUnicodeEscape(sb, c);
                    } else if (Character.isHighSurrogate(c)) {
                        if (i + 1 < n && Character.isLowSurrogate(str.charAt(i + 1))) {
                            sb.append(c).append(str.charAt(i + 1));
                            i++;
                        } else {
                            appendUnicodeEscape(sb, c); // lone surrogate: keep it representable
                        }
                    } else if (Character.isLowSurrogate(c)) {
                        appendUnicodeEscape(sb, c);
                    } else {
                        sb.append(c);
                    }
            }
        }
        sb.append('"');
    }

    private static void appendUnicodeEscape(StringBuilder sb, char c) {
        String hex = "0123456789abcdef";
        sb.append("\\u")
                .append(hex.charAt((c >> 12) & 0xF))
                .append(hex.charAt((c >> 8) & 0xF))
                .append(hex.charAt((c >> 4) & 0xF))
                .append(hex.charAt(c & 0xF));
    }

    // ------------------------------------------------------------------------------------------
    // Typed getters for config maps
    // ------------------------------------------------------------------------------------------

    private static Object require(Map<String, Object> m, String key) {
        if (m == null) {
            throw new IllegalArgumentException("config is null (looking up key '" + key + "')");
        }
        if (!m.containsKey(key)) {
            throw new IllegalArgumentException("config key '" + key + "' is missing");
        }
        return m.get(key);
    }

    private static boolean absent(Map<String, Object> m, String key) {
        return m == null || m.get(key) == null;
    }

    private static IllegalArgumentException wrongType(String key, String expected, Object v) {
        return new IllegalArgumentException(
                "config key '" + key + "' must be " + expected + ", received " + describe(v));
    }

    /** Renders a value for an error message: JSON when possible, truncated to ~80 chars. */
    private static String describe(Object v) {
        String text;
        try {
            text = write(v);
        } catch (IllegalArgumentException e) {
            text = String.valueOf(v);
        }
        if (text.length() > 80) {
            text = text.substring(0, 77) + "...";
        }
        return text;
    }

    /**
     * Returns the string value of {@code key}.
     *
     * @throws IllegalArgumentException if the key is missing or not a string
     */
    public static String getString(Map<String, Object> m, String key) {
        Object v = require(m, key);
        if (v instanceof String s) {
            return s;
        }
        throw wrongType(key, "a string", v);
    }

    /**
     * Returns the string value of {@code key}, or {@code dflt} if the key is missing or null.
     *
     * @throws IllegalArgumentException if present with another type
     */
    public static String getString(Map<String, Object> m, String key, String dflt) {
        return absent(m, key) ? dflt : getString(m, key);
    }

    private static Long asLong(Object v) {
        if (v instanceof Long || v instanceof Integer || v instanceof Short || v instanceof Byte) {
            return ((Number) v).longValue();
        }
        if (v instanceof Double || v instanceof Float) {
            // Accept integral floating values (e.g. 64.0 written by another tool).
            double d = ((Number) v).doubleValue();
            if (d == Math.rint(d) && d >= -0x1p63 && d < 0x1p63) {
                return (long) d;
            }
        }
        if (v instanceof BigInteger bi && bi.bitLength() < 64) {
            return bi.longValue();
        }
        return null;
    }

    /**
     * Returns the integer value of {@code key}. Integral floating values such as {@code 64.0} are
     * accepted.
     *
     * @throws IllegalArgumentException if the key is missing or not an integer
     */
    public static long getLong(Map<String, Object> m, String key) {
        Object v = require(m, key);
        Long l = asLong(v);
        if (l == null) {
            throw wrongType(key, "an integer", v);
        }
        return l;
    }

    /**
     * Returns the integer value of {@code key}, or {@code dflt} if the key is missing or null.
     *
     * @throws IllegalArgumentException if present with another type
     */
    public static long getLong(Map<String, Object> m, String key, long dflt) {
        return absent(m, key) ? dflt : getLong(m, key);
    }

    /**
     * Returns the numeric value of {@code key} as a double (integers are converted).
     *
     * @throws IllegalArgumentException if the key is missing or not a number
     */
    public static double getDouble(Map<String, Object> m, String key) {
        Object v = require(m, key);
        if (v instanceof Number n) {
            return n.doubleValue();
        }
        throw wrongType(key, "a number", v);
    }

    /**
     * Returns the numeric value of {@code key}, or {@code dflt} if the key is missing or null.
     *
     * @throws IllegalArgumentException if present with another type
     */
    public static double getDouble(Map<String, Object> m, String key, double dflt) {
        return absent(m, key) ? dflt : getDouble(m, key);
    }

    /**
     * Returns the boolean value of {@code key}.
     *
     * @throws IllegalArgumentException if the key is missing or not a boolean
     */
    public static boolean getBoolean(Map<String, Object> m, String key) {
        Object v = require(m, key);
        if (v instanceof Boolean b) {
            return b;
        }
        throw wrongType(key, "a boolean", v);
    }

    /**
     * Returns the boolean value of {@code key}, or {@code dflt} if the key is missing or null.
     *
     * @throws IllegalArgumentException if present with another type
     */
    public static boolean getBoolean(Map<String, Object> m, String key, boolean dflt) {
        return absent(m, key) ? dflt : getBoolean(m, key);
    }

    /**
     * Returns the object value of {@code key}.
     *
     * @throws IllegalArgumentException if the key is missing or not an object
     */
    @SuppressWarnings("unchecked")
    public static Map<String, Object> getMap(Map<String, Object> m, String key) {
        Object v = require(m, key);
        if (v instanceof Map<?, ?> map) {
            return (Map<String, Object>) map;
        }
        throw wrongType(key, "an object", v);
    }

    /**
     * Returns the object value of {@code key}, or {@code dflt} if the key is missing or null.
     *
     * @throws IllegalArgumentException if present with another type
     */
    public static Map<String, Object> getMap(Map<String, Object> m, String key, Map<String, Object> dflt) {
        return absent(m, key) ? dflt : getMap(m, key);
    }

    /**
     * Returns the array value of {@code key}.
     *
     * @throws IllegalArgumentException if the key is missing or not an array
     */
    @SuppressWarnings("unchecked")
    public static List<Object> getList(Map<String, Object> m, String key) {
        Object v = require(m, key);
        if (v instanceof List<?> list) {
            return (List<Object>) list;
        }
        throw wrongType(key, "a list", v);
    }

    /**
     * Returns the array value of {@code key}, or {@code dflt} if the key is missing or null.
     *
     * @throws IllegalArgumentException if present with another type
     */
    public static List<Object> getList(Map<String, Object> m, String key, List<Object> dflt) {
        return absent(m, key) ? dflt : getList(m, key);
    }

    /**
     * Returns the value of {@code key} as a long array; it must be a list of integers (a
     * {@code long[]} or {@code int[]} stored in a map built in Java is accepted too).
     *
     * @throws IllegalArgumentException if the key is missing or not a list of integers
     */
    public static long[] getLongArray(Map<String, Object> m, String key) {
        Object v = require(m, key);
        if (v instanceof long[] a) {
            return a.clone();
        }
        if (v instanceof int[] a) {
            long[] r = new long[a.length];
            for (int i = 0; i < a.length; i++) {
                r[i] = a[i];
            }
            return r;
        }
        if (v instanceof List<?> list) {
            long[] r = new long[list.size()];
            int i = 0;
            for (Object e : list) {
                Long l = asLong(e);
                if (l == null) {
                    throw new IllegalArgumentException("config key '" + key
                            + "' must be a list of integers, but element " + i + " is "
                            + describe(e) + " (received " + describe(v) + ")");
                }
                r[i++] = l;
            }
            return r;
        }
        throw wrongType(key, "a list of integers", v);
    }

    /**
     * Returns the value of {@code key} as a long array, or {@code dflt} if the key is missing or
     * null.
     *
     * @throws IllegalArgumentException if present but not a list of integers
     */
    public static long[] getLongArray(Map<String, Object> m, String key, long[] dflt) {
        return absent(m, key) ? dflt : getLongArray(m, key);
    }
}
