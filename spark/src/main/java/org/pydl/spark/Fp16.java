package org.pydl.spark;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * IEEE 754 binary16 ("half") conversion for compressing all-reduce gradients: round to nearest, ties to even;
 * magnitudes beyond the largest half (65504) saturate to it instead of becoming infinite (an infinite gradient
 * would turn the whole model into NaN), magnitudes below 2^-25 become zero, NaN stays NaN.
 */
public final class Fp16 {
    /** The largest finite half, 65504, as bits. */
    private static final short MAX = 0x7bff;

    private Fp16() {
    }

    public static short toHalf(float f) {
        int x = Float.floatToRawIntBits(f);
        int sign = (x >>> 16) & 0x8000;
        int e = (x >>> 23) & 0xff, m = x & 0x7fffff;
        if (e == 0xff) return (short) (sign | (m != 0 ? 0x7e00 : MAX));   // NaN stays NaN; infinity saturates
        int he = e - 127 + 15;
        if (he >= 0x1f) return (short) (sign | MAX);
        if (he <= 0) {                                                   // a subnormal half, or zero
            if (he < -10) return (short) sign;
            m |= 0x800000;
            int shift = 14 - he;
            return (short) (sign | roundShift(m, shift));
        }
        int r = (he << 10) + roundShift(m, 13);                        // a carry may bump the exponent: correct
        return (short) (sign | Math.min(r, MAX));
    }

    /** m >> shift, rounded to nearest, ties to even. */
    private static int roundShift(int m, int shift) {
        int q = m >>> shift, rem = m & ((1 << shift) - 1), half = 1 << (shift - 1);
        return rem > half || (rem == half && (q & 1) != 0) ? q + 1 : q;
    }

    public static float fromHalf(short h) {
        int s = (h & 0x8000) << 16, e = (h >>> 10) & 0x1f, m = h & 0x3ff;
        if (e == 0) {
            float v = m * 0x1p-24f;
            return s != 0 ? -v : v;
        }
        if (e == 0x1f) return Float.intBitsToFloat(s | 0x7f800000 | (m << 13));
        return Float.intBitsToFloat(s | ((e - 15 + 127) << 23) | (m << 13));
    }

    /** Encodes v[off, off+n) into {@code out} as little-endian halves (2n bytes). */
    static void encode(float[] v, int off, int n, byte[] out) {
        for (int i = 0; i < n; i++) {
            short h = toHalf(v[off + i]);
            out[2 * i] = (byte) h;
            out[2 * i + 1] = (byte) (h >>> 8);
        }
    }

    /** Decodes n little-endian halves from {@code in} into out[0, n). */
    static void decode(byte[] in, int n, float[] out) {
        for (int i = 0; i < n; i++) out[i] = fromHalf((short) ((in[2 * i] & 0xff) | (in[2 * i + 1] << 8)));
    }

    /** Every float of {@code littleEndianFloats} rounded to the nearest half and back (what the ring sends). */
    public static byte[] roundTrip(byte[] littleEndianFloats) {
        ByteBuffer in = ByteBuffer.wrap(littleEndianFloats).order(ByteOrder.LITTLE_ENDIAN);
        ByteBuffer out = ByteBuffer.allocate(littleEndianFloats.length).order(ByteOrder.LITTLE_ENDIAN);
        while (in.remaining() >= 4) out.putFloat(fromHalf(toHalf(in.getFloat())));
        return out.array();
    }
}
