package org.pydl.nd;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import org.pydl.jni.NativeLoader;
import org.pydl.jni.NativeOps;
import org.pydl.ops.Autograd;
import org.pydl.ops.Ops;

/**
 * An n-dimensional array whose data lives off-heap on a {@link Device}: shape, element strides and an offset
 * into a shared {@link Storage}, so transpose, slice and reshape of contiguous data are views.
 *
 * <p>Memory: {@link #close()} frees at once (views share storage, freed when the last one closes);
 * {@link MemoryScope} closes everything created inside it; the GC frees what was forgotten.
 *
 * <p>Autograd: an array with {@code requiresGrad} records the ops applied to it; {@link #backward()} fills
 * {@link #grad()} of every leaf that requires a gradient. Naming follows ND4J/DJL: {@code add} returns a new
 * array.
 */
public final class NDArray implements AutoCloseable {
    static {
        NativeLoader.load();
    }

    private final Storage storage;
    private final DType dtype;
    private final long[] shape;
    private final long[] strides;
    private final long offset;
    private final long size;
    private final boolean contiguous;   // shape and strides never change
    private boolean closed;
    MemoryScope scope;

    // autograd state (see org.pydl.ops.Autograd)
    private boolean requiresGrad;
    private NDArray grad;
    private Autograd.Node gradFn;

    NDArray(Storage storage, DType dtype, long[] shape, long[] strides, long offset) {
        this.storage = storage;
        this.dtype = dtype;
        this.shape = shape;
        this.strides = strides;
        this.offset = offset;
        this.size = Shapes.size(shape);
        this.contiguous = size <= 1 || Shapes.isContiguous(shape, strides);
        storage.retain();
        MemoryScope.register(this);
    }

    // ---- creation ------------------------------------------------------------------------------------------
    /** Uninitialised contiguous array. */
    public static NDArray empty(DType dtype, long... shape) {
        return empty(Device.CPU, dtype, shape);
    }

    public static NDArray empty(Device device, DType dtype, long... shape) {
        long[] s = Shapes.check(shape);
        long n = Shapes.size(s);
        long bytes = Math.multiplyExact(n, (long) dtype.size);
        Storage st = device.backend().allocate(bytes);
        return new NDArray(st, dtype, s, Shapes.contiguousStrides(s), 0);
    }

    public static NDArray zeros(DType dtype, long... shape) {
        return full(dtype, 0.0, shape);
    }

    public static NDArray ones(DType dtype, long... shape) {
        return full(dtype, 1.0, shape);
    }

    public static NDArray full(DType dtype, double value, long... shape) {
        NDArray a = empty(dtype, shape);
        a.device().backend().fill(a, value);
        return a;
    }

    public static NDArray scalar(double value, DType dtype) {
        return full(dtype, value, new long[0]);
    }

    public static NDArray of(float[] data, long... shape) {
        NDArray a = empty(DType.FLOAT32, shape.length == 0 ? new long[] {data.length} : shape);
        checkCount(a, data.length);
        a.buffer().asFloatBuffer().put(data);
        return a;
    }

    public static NDArray of(double[] data, long... shape) {
        NDArray a = empty(DType.FLOAT64, shape.length == 0 ? new long[] {data.length} : shape);
        checkCount(a, data.length);
        a.buffer().asDoubleBuffer().put(data);
        return a;
    }

    public static NDArray of(int[] data, long... shape) {
        NDArray a = empty(DType.INT32, shape.length == 0 ? new long[] {data.length} : shape);
        checkCount(a, data.length);
        a.buffer().asIntBuffer().put(data);
        return a;
    }

    /** A float32 matrix from rows (all of equal length). */
    public static NDArray of(float[][] rows) {
        int cols = rows.length == 0 ? 0 : rows[0].length;
        float[] flat = new float[rows.length * cols];
        for (int i = 0; i < rows.length; i++) {
            if (rows[i].length != cols) {
                throw new IllegalArgumentException("ragged rows: row 0 has " + cols + " values, row " + i + " has "
                        + rows[i].length);
            }
            System.arraycopy(rows[i], 0, flat, i * cols, cols);
        }
        return of(flat, rows.length, cols);
    }

    private static void checkCount(NDArray a, int n) {
        if (a.size != n) {
            throw new IllegalArgumentException("data has " + n + " values but shape " + Arrays.toString(a.shape)
                    + " needs " + a.size);
        }
    }

    // ---- views (package-private constructor keeps storage shared) -----------------------------------------
    /** A view of the same storage with another shape/strides/offset (elements). Bounds are checked. */
    public NDArray view(long[] newShape, long[] newStrides, long newOffset) {
        if (isClosed()) {
            throw new IllegalStateException("cannot take a view of NDArray " + Arrays.toString(shape)
                    + ": it was closed");
        }
        long[] s = Shapes.check(newShape);
        if (newStrides.length != s.length) throw new IllegalArgumentException("strides rank != shape rank");
        long maxOff = newOffset;
        for (int i = 0; i < s.length; i++) {
            if (newStrides[i] < 0) throw new IllegalArgumentException("negative strides are not supported");
            if (s[i] > 0) maxOff += (s[i] - 1) * newStrides[i];
        }
        long n = Shapes.size(s);
        if (newOffset < 0 || (n > 0 && (maxOff + 1) * dtype.size > storage.bytes())) {
            throw new IllegalArgumentException("view " + Arrays.toString(s) + " at offset " + newOffset
                    + " exceeds the storage of " + storage.bytes() / dtype.size + " elements");
        }
        return new NDArray(storage, dtype, s, newStrides.clone(), newOffset);
    }

    // ---- accessors -----------------------------------------------------------------------------------------
    public DType dtype() {
        return dtype;
    }

    public Device device() {
        return storage.device();
    }

    public long[] shape() {
        return shape.clone();
    }

    public long shape(int axis) {
        return shape[Shapes.axis(axis, shape.length)];
    }

    public long[] strides() {
        return strides.clone();
    }

    public long offset() {
        return offset;
    }

    public int rank() {
        return shape.length;
    }

    public long size() {
        return size;
    }

    public Storage storage() {
        return storage;
    }

    /** Address of element 0 of this view. */
    public long address() {
        if (closed) throw new IllegalStateException("NDArray " + Arrays.toString(shape) + " was closed");
        return storage.address() + offset * dtype.size;
    }

    public long byteSize() {
        return size * dtype.size;
    }

    public boolean isContiguous() {
        return contiguous;
    }

    /** This array if contiguous, otherwise a contiguous copy. */
    public NDArray contiguous() {
        return isContiguous() ? this : Ops.contiguous(this);
    }

    /** A direct ByteBuffer in native byte order over this (contiguous) array's data: no copy. */
    public ByteBuffer buffer() {
        if (!isContiguous()) throw new IllegalStateException("buffer() needs a contiguous array; call contiguous()");
        if (device() != Device.CPU) throw new IllegalStateException("buffer() needs a CPU array");
        return NativeOps.wrap(address(), byteSize()).order(ByteOrder.nativeOrder());
    }

    public float[] toFloatArray() {
        try (NDArray c = cast(DType.FLOAT32)) {
            float[] out = new float[Math.toIntExact(size)];
            c.buffer().asFloatBuffer().get(out);
            return out;
        }
    }

    public double[] toDoubleArray() {
        try (NDArray c = cast(DType.FLOAT64)) {
            double[] out = new double[Math.toIntExact(size)];
            c.buffer().asDoubleBuffer().get(out);
            return out;
        }
    }

    public int[] toIntArray() {
        try (NDArray c = cast(DType.INT32)) {
            int[] out = new int[Math.toIntExact(size)];
            c.buffer().asIntBuffer().get(out);
            return out;
        }
    }

    /** One element as a double. */
    public double getDouble(long... index) {
        if (index.length != shape.length) {
            throw new IllegalArgumentException("index " + Arrays.toString(index) + " for shape " + Arrays.toString(shape));
        }
        long off = 0;
        for (int i = 0; i < index.length; i++) {
            if (index[i] < 0 || index[i] >= shape[i]) {
                throw new IndexOutOfBoundsException("index " + Arrays.toString(index) + " out of bounds for shape "
                        + Arrays.toString(shape));
            }
            off += index[i] * strides[i];
        }
        ByteBuffer b = NativeOps.wrap(address() + off * dtype.size, dtype.size).order(ByteOrder.nativeOrder());
        switch (dtype) {
            case FLOAT32: return b.getFloat(0);
            case FLOAT64: return b.getDouble(0);
            default: return b.getInt(0);
        }
    }

    /** A copy converted to {@code target} (a contiguous copy even when the dtype already matches). */
    public NDArray cast(DType target) {
        return Ops.cast(this, target);
    }

    // ---- autograd ------------------------------------------------------------------------------------------
    public boolean requiresGrad() {
        return requiresGrad;
    }

    /** Marks a leaf as needing a gradient (parameters). Returns this. */
    public NDArray setRequiresGrad(boolean value) {
        if (value && !dtype.isFloat()) throw new IllegalArgumentException("only float arrays can require gradients");
        this.requiresGrad = value;
        return this;
    }

    public NDArray grad() {
        return grad;
    }

    public void setGrad(NDArray g) {
        this.grad = g;
    }

    public Autograd.Node gradFn() {
        return gradFn;
    }

    public void setGradFn(Autograd.Node node) {
        this.gradFn = node;
        this.requiresGrad = node != null || requiresGrad;
    }

    /** Reverse-mode autodiff from this scalar (or from ones of this shape). */
    public void backward() {
        Autograd.backward(this);
    }

    // ---- op sugar (all ops live in org.pydl.ops.Ops) -------------------------------------------------------
    public NDArray add(NDArray o) { return Ops.add(this, o); }
    public NDArray sub(NDArray o) { return Ops.sub(this, o); }
    public NDArray mul(NDArray o) { return Ops.mul(this, o); }
    public NDArray div(NDArray o) { return Ops.div(this, o); }
    public NDArray matmul(NDArray o) { return Ops.matmul(this, o); }
    public NDArray neg() { return Ops.neg(this); }
    public NDArray exp() { return Ops.exp(this); }
    public NDArray log() { return Ops.log(this); }
    public NDArray relu() { return Ops.relu(this); }
    public NDArray sum() { return Ops.sum(this); }
    public NDArray mean() { return Ops.mean(this); }
    public NDArray reshape(long... newShape) { return Ops.reshape(this, newShape); }
    public NDArray transpose(int... perm) { return Ops.transpose(this, perm); }

    // ---- lifetime ------------------------------------------------------------------------------------------
    public boolean isClosed() {
        return closed || storage.isFreed();
    }

    /** Frees this array's hold on its storage (idempotent). The storage is freed when its last array closes. */
    @Override
    public void close() {
        if (!closed) {
            closed = true;
            storage.release();
        }
    }

    @Override
    public String toString() {
        StringBuilder sb = new StringBuilder("NDArray(").append(dtype.pyName).append(", ")
                .append(Arrays.toString(shape)).append(", ").append(device().name().toLowerCase()).append(')');
        if (!isClosed() && size <= 100) {
            double[] v = toDoubleArray();
            sb.append(' ').append(Arrays.toString(v));
        }
        return sb.toString();
    }
}
