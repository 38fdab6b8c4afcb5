package org.pydl.io;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;

/**
 * Reader/writer for the NumPy {@code .npy} format.
 *
 * <p>Writes format version 1.0 (falling back to 2.0 only if the header would not fit in 64 KiB);
 * reads versions 1.0, 2.0 and 3.0. Supported dtypes: {@code <f4}, {@code <f8}, {@code <i4},
 * {@code <i8}, {@code |b1} and {@code |u1}, C order only. Data bytes are little-endian and are
 * copied verbatim, so ByteBuffers passed in should hold little-endian values.
 */
public final class Npy {

    /** Largest header (dict text) accepted when reading. */
    public static final int MAX_HEADER_LEN = 1 << 20;

    private static final byte[] MAGIC = {(byte) 0x93, 'N', 'U', 'M', 'P', 'Y'};
    private static final int ALIGN = 64;
    private static final int CHUNK = 1 << 16;

    private Npy() {}

    /**
     * Parsed {@code .npy} header.
     *
     * @param descr the dtype descriptor, e.g. {@code "<f4"}
     * @param fortranOrder whether the data is stored in Fortran (column-major) order
     * @param shape the array dimensions ({@code []} for a scalar); defensively copied
     */
    public record Header(String descr, boolean fortranOrder, long[] shape) {

        /** Validates the header: non-null descr and shape, no negative dimensions. */
        public Header {
            if (descr == null) {
                throw new IllegalArgumentException("descr must not be null");
            }
            if (shape == null) {
                throw new IllegalArgumentException("shape must not be null");
            }
            shape = shape.clone();
            for (long d : shape) {
                if (d < 0) {
                    throw new IllegalArgumentException(
                            "negative dimension in shape " + Arrays.toString(shape));
                }
            }
        }

        /** Returns a copy of the shape. */
        @Override
        public long[] shape() {
            return shape.clone();
        }

        /**
         * Number of elements (product of the shape; 1 for a scalar).
         *
         * @throws IllegalArgumentException if the product overflows a long
         */
        public long count() {
            return elementCount(shape);
        }

        /**
         * Number of data bytes ({@code count() * itemSize(descr)}).
         *
         * @throws IllegalArgumentException if descr is unsupported or the size overflows a long
         */
        public long byteSize() {
            return dataBytes(descr, shape);
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Header h
                    && descr.equals(h.descr)
                    && fortranOrder == h.fortranOrder
                    && Arrays.equals(shape, h.shape);
        }

        @Override
        public int hashCode() {
            return (descr.hashCode() * 31 + Boolean.hashCode(fortranOrder)) * 31 + Arrays.hashCode(shape);
        }

        @Override
        public String toString() {
            return "Header[descr=" + descr + ", fortranOrder=" + fortranOrder
                    + ", shape=" + Arrays.toString(shape) + "]";
        }
    }

    /**
     * Size in bytes of one element of the given dtype descriptor.
     *
     * @throws IllegalArgumentException for unsupported descriptors (including big-endian ones)
     */
    public static int itemSize(String descr) {
        if (descr == null) {
            throw new IllegalArgumentException("descr must not be null");
        }
        switch (descr) {
            case "<f4":
            case "<i4":
                return 4;
            case "<f8":
            case "<i8":
                return 8;
            case "|b1":
            case "|u1":
                return 1;
            default:
                if (descr.startsWith(">")) {
                    throw new IllegalArgumentException("big-endian dtype '" + descr
                            + "' is not supported (only little-endian data)");
                }
                throw new IllegalArgumentException("unsupported dtype descr '" + descr
                        + "' (supported: <f4, <f8, <i4, <i8, |b1, |u1)");
        }
    }

    private static long elementCount(long[] shape) {
        long n = 1;
        for (long d : shape) {
            if (d < 0) {
                throw new IllegalArgumentException("negative dimension in shape " + Arrays.toString(shape));
            }
            try {
                n = Math.multiplyExact(n, d);
            } catch (ArithmeticException e) {
                throw new IllegalArgumentException(
                        "element count of shape " + Arrays.toString(shape) + " overflows a long");
            }
        }
        return n;
    }

    private static long dataBytes(String descr, long[] shape) {
        int item = itemSize(descr);
        try {
            return Math.multiplyExact(elementCount(shape), (long) item);
        } catch (ArithmeticException e) {
            throw new IllegalArgumentException(
                    "byte size of shape " + Arrays.toString(shape) + " overflows a long");
        }
    }

    // ------------------------------------------------------------------------------------------
    // Writing
    // ------------------------------------------------------------------------------------------

    /**
     * Writes a complete {@code .npy} file (header and data) in C order.
     *
     * @param out destination stream (not closed)
     * @param descr one of {@code <f4, <f8, <i4, <i8, |b1, |u1}
     * @param shape array dimensions ({@code []} for a scalar)
     * @param data little-endian element bytes from position to limit; its position is not changed
     * @throws IllegalArgumentException if descr is unsupported, a dimension is negative, or
     *     {@code data.remaining()} differs from count * itemSize
     * @throws IOException if writing fails
     */
    public static void write(OutputStream out, String descr, long[] shape, ByteBuffer data) throws IOException {
        if (out == null) {
            throw new IllegalArgumentException("output stream must not be null");
        }
        if (shape == null) {
            throw new IllegalArgumentException("shape must not be null");
        }
        if (data == null) {
            throw new IllegalArgumentException("data must not be null");
        }
        long expected = dataBytes(descr, shape);
        if (data.remaining() != expected) {
            throw new IllegalArgumentException("data has " + data.remaining() + " bytes but dtype "
                    + descr + " with shape " + Arrays.toString(shape) + " needs " + expected);
        }
        out.write(encodeHeader(descr, shape));

        ByteBuffer src = data.duplicate();
        if (src.hasArray()) {
            out.write(src.array(), src.arrayOffset() + src.position(), src.remaining());
        } else {
            byte[] chunk = new byte[Math.min(CHUNK, src.remaining())];
            while (src.hasRemaining()) {
                int n = Math.min(chunk.length, src.remaining());
                src.get(chunk, 0, n);
                out.write(chunk, 0, n);
            }
        }
    }

    /** Builds magic + version + length + padded header dict, total a multiple of 64 bytes. */
    private static byte[] encodeHeader(String descr, long[] shape) {
        StringBuilder dict = new StringBuilder();
        dict.append("{'descr': '").append(descr).append("', 'fortran_order': False, 'shape': (");
        for (int i = 0; i < shape.length; i++) {
            if (i > 0) {
                dict.append(", ");
            }
            dict.append(shape[i]);
        }
        if (shape.length == 1) {
            dict.append(',');
        }
        dict.append("), }");
        byte[] text = dict.toString().getBytes(StandardCharsets.US_ASCII);

        int prefix = 10; // magic(6) + version(2) + uint16 length
        int major = 1;
        int unpadded = prefix + text.length + 1; // + '\n'
        int total = (unpadded + ALIGN - 1) / ALIGN * ALIGN;
        if (total - prefix > 0xFFFF) {
            prefix = 12; // version 2.0 uses a uint32 length
            major = 2;
            unpadded = prefix + text.length + 1;
            total = (unpadded + ALIGN - 1) / ALIGN * ALIGN;
        }
        int headerLen = total - prefix;

        byte[] buf = new byte[total];
        System.arraycopy(MAGIC, 0, buf, 0, MAGIC.length);
        buf[6] = (byte) major;
        buf[7] = 0;
        buf[8] = (byte) headerLen;
        buf[9] = (byte) (headerLen >>> 8);
        if (major == 2) {
            buf[10] = (byte) (headerLen >>> 16);
            buf[11] = (byte) (headerLen >>> 24);
        }
        System.arraycopy(text, 0, buf, prefix, text.length);
        Arrays.fill(buf, prefix + text.length, total - 1, (byte) ' ');
        buf[total - 1] = '\n';
        return buf;
    }

    // ------------------------------------------------------------------------------------------
    // Reading
    // ------------------------------------------------------------------------------------------

    /**
     * Reads and validates the header of a {@code .npy} stream, leaving the stream positioned at
     * the first data byte.
     *
     * @param in source stream
     * @return the header (descr is one of the supported dtypes, fortranOrder is false)
     * @throws IllegalArgumentException for a bad magic string, unsupported version, oversized or
     *     malformed header, unsupported dtype, Fortran order, negative dimensions, or a
     *     truncated header
     * @throws IOException if reading fails
     */
    public static Header readHeader(InputStream in) throws IOException {
        if (in == null) {
            throw new IllegalArgumentException("input stream must not be null");
        }
        byte[] pre = readFully(in, 8, "magic string and version");
        for (int i = 0; i < MAGIC.length; i++) {
            if (pre[i] != MAGIC[i]) {
                throw new IllegalArgumentException("not a .npy file: bad magic string");
            }
        }
        int major = pre[6] & 0xFF;
        int minor = pre[7] & 0xFF;
        if (major < 1 || major > 3 || minor != 0) {
            throw new IllegalArgumentException("unsupported .npy format version " + major + "." + minor);
        }
        long headerLen;
        if (major == 1) {
            byte[] b = readFully(in, 2, "header length");
            headerLen = (b[0] & 0xFF) | ((b[1] & 0xFF) << 8);
        } else {
            byte[] b = readFully(in, 4, "header length");
            headerLen = (b[0] & 0xFFL) | ((b[1] & 0xFFL) << 8) | ((b[2] & 0xFFL) << 16) | ((b[3] & 0xFFL) << 24);
        }
        if (headerLen > MAX_HEADER_LEN) {
            throw new IllegalArgumentException(
                    ".npy header length " + headerLen + " exceeds limit of " + MAX_HEADER_LEN + " bytes");
        }
        byte[] raw = readFully(in, (int) headerLen, "header");
        String text = new String(raw, major == 3 ? StandardCharsets.UTF_8 : StandardCharsets.ISO_8859_1);
        Header h = new HeaderParser(text).parse();
        itemSize(h.descr()); // rejects unsupported / big-endian dtypes
        if (h.fortranOrder()) {
            throw new IllegalArgumentException("fortran_order arrays are not supported");
        }
        h.byteSize(); // rejects shapes whose byte size overflows
        return h;
    }

    private static byte[] readFully(InputStream in, int n, String what) throws IOException {
        byte[] b = in.readNBytes(n);
        if (b.length != n) {
            throw new IllegalArgumentException("truncated .npy " + what + ": expected " + n
                    + " bytes, got " + b.length);
        }
        return b;
    }

    /**
     * Reads the data section described by {@code h} into {@code dst}, filling it from its position
     * to its limit. The position of {@code dst} is not changed (like {@link #write}), so the
     * buffer can be used directly afterwards; the bytes are little-endian.
     *
     * @param in stream positioned at the first data byte (e.g. right after {@link #readHeader})
     * @param h the header
     * @param dst destination; {@code dst.remaining()} must equal {@code h.count() * itemSize}
     * @throws IllegalArgumentException on a size mismatch, unsupported header, or truncated data
     * @throws IOException if reading fails
     */
    public static void readData(InputStream in, Header h, ByteBuffer dst) throws IOException {
        if (in == null || h == null || dst == null) {
            throw new IllegalArgumentException("input stream, header and destination must not be null");
        }
        if (h.fortranOrder()) {
            throw new IllegalArgumentException("fortran_order arrays are not supported");
        }
        long expected = h.byteSize();
        if (dst.remaining() != expected) {
            throw new IllegalArgumentException("destination buffer has " + dst.remaining()
                    + " bytes remaining but the .npy data has " + expected + " bytes");
        }
        if (dst.isReadOnly()) {
            throw new IllegalArgumentException("destination buffer is read-only");
        }
        int n = (int) expected;
        ByteBuffer target = dst.duplicate();
        int got = 0;
        if (target.hasArray()) {
            got = in.readNBytes(target.array(), target.arrayOffset() + target.position(), n);
        } else {
            byte[] chunk = new byte[Math.min(CHUNK, Math.max(n, 1))];
            while (got < n) {
                int r = in.readNBytes(chunk, 0, Math.min(chunk.length, n - got));
                target.put(chunk, 0, r);
                got += r;
                if (r == 0) {
                    break;
                }
            }
        }
        if (got != n) {
            throw new IllegalArgumentException(
                    "truncated .npy data: expected " + expected + " bytes, got " + got);
        }
    }

    // ------------------------------------------------------------------------------------------
    // Header dict parser (the tiny subset of Python literal syntax that numpy writes)
    // ------------------------------------------------------------------------------------------

    private static final class HeaderParser {
        private final String s;
        private int pos;

        HeaderParser(String s) {
            this.s = s;
        }

        IllegalArgumentException error(String what) {
            String shown = s.length() > 200 ? s.substring(0, 200) + "..." : s;
            return new IllegalArgumentException("malformed .npy header at offset " + pos + ": " + what
                    + " (header: " + shown.strip() + ")");
        }

        void skipSpace() {
            while (pos < s.length()) {
                char c = s.charAt(pos);
                if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
                    pos++;
                } else {
                    break;
                }
            }
        }

        boolean peek(char c) {
            skipSpace();
            return pos < s.length() && s.charAt(pos) == c;
        }

        void expect(char c) {
            if (!peek(c)) {
                throw error("expected '" + c + "'");
            }
            pos++;
        }

        Header parse() {
            String descr = null;
            Boolean fortran = null;
            long[] shape = null;
            expect('{');
            while (!peek('}')) {
                String key = readString();
                expect(':');
                switch (key) {
                    case "descr":
                        if (descr != null) {
                            throw error("duplicate key 'descr'");
                        }
                        skipSpace();
                        if (pos < s.length() && s.charAt(pos) != '\'' && s.charAt(pos) != '"') {
                            throw error("only simple string dtype descriptors are supported");
                        }
                        descr = readString();
                        break;
                    case "fortran_order":
                        if (fortran != null) {
                            throw error("duplicate key 'fortran_order'");
                        }
                        fortran = readBool();
                        break;
                    case "shape":
                        if (shape != null) {
                            throw error("duplicate key 'shape'");
                        }
                        shape = readShape();
                        break;
                    default:
                        throw error("unexpected key '" + key + "'");
                }
                if (peek(',')) {
                    pos++;
                } else if (!peek('}')) {
                    throw error("expected ',' or '}'");
                }
            }
            pos++; // '}'
            skipSpace();
            if (pos != s.length()) {
                throw error("unexpected content after the header dict");
            }
            if (descr == null || fortran == null || shape == null) {
                throw error("header must contain 'descr', 'fortran_order' and 'shape'");
            }
            return new Header(descr, fortran, shape);
        }

        String readString() {
            skipSpace();
            if (pos >= s.length()) {
                throw error("expected a string");
            }
            char q = s.charAt(pos);
            if (q != '\'' && q != '"') {
                throw error("expected a string");
            }
            int end = s.indexOf(q, pos + 1);
            if (end < 0) {
                throw error("unterminated string");
            }
            String v = s.substring(pos + 1, end);
            if (v.indexOf('\\') >= 0) {
                throw error("escape sequences are not supported in header strings");
            }
            pos = end + 1;
            return v;
        }

        boolean readBool() {
            skipSpace();
            if (s.startsWith("True", pos)) {
                pos += 4;
                return true;
            }
            if (s.startsWith("False", pos)) {
                pos += 5;
                return false;
            }
            throw error("expected True or False");
        }

        long[] readShape() {
            expect('(');
            long[] dims = new long[4];
            int n = 0;
            boolean trailingComma = false;
            while (!peek(')')) {
                long d = readDim();
                if (n == dims.length) {
                    dims = Arrays.copyOf(dims, n * 2);
                }
                dims[n++] = d;
                trailingComma = false;
                if (peek(',')) {
                    pos++;
                    trailingComma = true;
                } else if (!peek(')')) {
                    throw error("expected ',' or ')' in shape");
                }
            }
            // A 1-tuple must be written "(5,)"; "(5)" is just a parenthesised int in Python.
            if (n == 1 && !trailingComma) {
                throw error("shape must be a tuple, e.g. (5,)");
            }
            pos++; // ')'
            return Arrays.copyOf(dims, n);
        }

        long readDim() {
            skipSpace();
            if (pos < s.length() && s.charAt(pos) == '-') {
                throw error("negative dimension in shape");
            }
            int start = pos;
            long v = 0;
            while (pos < s.length() && s.charAt(pos) >= '0' && s.charAt(pos) <= '9') {
                int digit = s.charAt(pos) - '0';
                if (v > (Long.MAX_VALUE - digit) / 10) {
                    throw error("dimension too large");
                }
                v = v * 10 + digit;
                pos++;
            }
            if (pos == start) {
                throw error("expected a non-negative integer dimension");
            }
            // Python 2 era files may carry a long suffix, e.g. (3L, 4L).
            if (pos < s.length() && s.charAt(pos) == 'L') {
                pos++;
            }
            return v;
        }
    }
}
