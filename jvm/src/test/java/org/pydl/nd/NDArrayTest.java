package org.pydl.nd;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.lang.ref.WeakReference;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicReference;

import org.junit.jupiter.api.Test;
import org.pydl.jni.NativeOps;
import org.pydl.ops.Ops;

/** Creation, element access, views, lifetimes (close, scopes, GC) of {@link NDArray}. */
class NDArrayTest {
    static {
        org.pydl.jni.NativeLoader.load();
    }

    /** Lets pending Cleaners run so allocatedBytes is stable before a measurement. */
    private static long settledAllocatedBytes() throws InterruptedException {
        long prev = -1, cur = NativeOps.allocatedBytes();
        long deadline = System.nanoTime() + 3_000_000_000L;
        while (cur != prev && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(30);
            prev = cur;
            cur = NativeOps.allocatedBytes();
        }
        return cur;
    }

    // ---- creation and reading ------------------------------------------------------------------------------
    @Test
    void creation() {
        try (MemoryScope s = MemoryScope.open()) {
            NDArray z = NDArray.zeros(DType.FLOAT32, 2, 3);
            assertArrayEquals(new long[] {2, 3}, z.shape());
            assertArrayEquals(new long[] {3, 1}, z.strides());
            assertEquals(6, z.size());
            assertEquals(2, z.rank());
            assertEquals(24, z.byteSize());
            assertEquals(DType.FLOAT32, z.dtype());
            assertEquals(Device.CPU, z.device());
            assertTrue(z.isContiguous());
            assertArrayEquals(new float[6], z.toFloatArray());
            assertArrayEquals(new double[] {1, 1, 1, 1}, NDArray.ones(DType.FLOAT64, 4).toDoubleArray());
            assertArrayEquals(new double[] {2.5, 2.5}, NDArray.full(DType.FLOAT64, 2.5, 1, 2).toDoubleArray());
            NDArray sc = NDArray.scalar(-3.25, DType.FLOAT64);
            assertEquals(0, sc.rank());
            assertEquals(1, sc.size());
            assertEquals(-3.25, sc.getDouble());
            NDArray f = NDArray.of(new float[] {1, 2, 3, 4, 5, 6}, 3, 2);
            assertArrayEquals(new long[] {3, 2}, f.shape());
            assertEquals(4.0, f.getDouble(1, 1));
            assertArrayEquals(new long[] {3}, NDArray.of(new double[] {1, 2, 3}).shape(), "no shape = 1-D");
            NDArray m = NDArray.of(new float[][] {{1, 2}, {3, 4}, {5, 6}});
            assertArrayEquals(new long[] {3, 2}, m.shape());
            assertArrayEquals(new float[] {1, 2, 3, 4, 5, 6}, m.toFloatArray());
            NDArray e = NDArray.empty(DType.FLOAT64, 0, 5);
            assertEquals(0, e.size());
            assertArrayEquals(new double[0], e.toDoubleArray());
            // shape() and strides() are copies
            long[] sh = f.shape();
            sh[0] = 99;
            assertEquals(3, f.shape(0));
            assertEquals(2, f.shape(-1));
            // errors
            IllegalArgumentException ex = assertThrows(IllegalArgumentException.class,
                    () -> NDArray.of(new float[] {1, 2, 3}, 2, 2));
            assertTrue(ex.getMessage().contains("3") && ex.getMessage().contains("[2, 2]"), ex.getMessage());
            assertThrows(IllegalArgumentException.class, () -> NDArray.zeros(DType.FLOAT32, 2, -1));
            assertThrows(IllegalArgumentException.class, () -> NDArray.of(new float[][] {{1, 2}, {3}}));
            assertThrows(ArithmeticException.class, () -> NDArray.empty(DType.FLOAT64, Long.MAX_VALUE, 2));
            assertThrows(IllegalArgumentException.class, () -> f.shape(2));
        }
    }

    @Test
    void conversions() {
        try (MemoryScope s = MemoryScope.open()) {
            NDArray d = NDArray.of(new double[] {1.5, -2.25, 1e10, 0.1});
            assertArrayEquals(new double[] {1.5, -2.25, 1e10, 0.1}, d.toDoubleArray());
            assertArrayEquals(new float[] {1.5f, -2.25f, 1e10f, 0.1f}, d.toFloatArray());
            assertArrayEquals(new int[] {1, -2, Integer.MAX_VALUE, 0}, d.toIntArray());
            NDArray f = NDArray.of(new float[] {0.1f, 3f});
            assertArrayEquals(new double[] {(double) 0.1f, 3.0}, f.toDoubleArray());
            assertEquals((double) 0.1f, f.getDouble(0));
            // of a strided view
            NDArray t = Ops.transpose(NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3));
            assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, t.toDoubleArray());
            assertArrayEquals(new float[] {1, 4, 2, 5, 3, 6}, t.toFloatArray());
            assertEquals(5.0, t.getDouble(1, 1));
            assertEquals(3.0, t.getDouble(2, 0));
            // getDouble checks
            assertThrows(IllegalArgumentException.class, () -> t.getDouble(1));
            assertThrows(IndexOutOfBoundsException.class, () -> t.getDouble(3, 0));
            assertThrows(IndexOutOfBoundsException.class, () -> t.getDouble(0, -1));
            assertTrue(t.toString().contains("float64") && t.toString().contains("[3, 2]"), t.toString());
        }
    }

    @Test
    void int32Arrays() {
        try (MemoryScope s = MemoryScope.open()) {
            NDArray i = NDArray.of(new int[] {1, -2, 3, Integer.MIN_VALUE}, 2, 2);
            assertEquals(DType.INT32, i.dtype());
            assertEquals(4, i.dtype().size);
            assertArrayEquals(new int[] {1, -2, 3, Integer.MIN_VALUE}, i.toIntArray());
            assertArrayEquals(new double[] {1, -2, 3, Integer.MIN_VALUE}, i.toDoubleArray());
            assertEquals(-2.0, i.getDouble(0, 1));
            assertArrayEquals(new int[] {7, 7, 7}, NDArray.full(DType.INT32, 7, 3).toIntArray());
            assertArrayEquals(new int[] {1, 3, -2, Integer.MIN_VALUE}, Ops.transpose(i).toIntArray(), "strided int32 view");
            assertArrayEquals(new float[] {1, -2, 3, Integer.MIN_VALUE}, i.cast(DType.FLOAT32).toFloatArray());
            assertFalse(i.dtype().isFloat());
            assertEquals(DType.INT32, DType.of("int32"));
            assertEquals(DType.FLOAT32, DType.of("<f4"));
            assertThrows(IllegalArgumentException.class, () -> DType.of("int64"));
        }
    }

    // ---- views ---------------------------------------------------------------------------------------------
    @Test
    void viewBoundsAreChecked() {
        try (MemoryScope s = MemoryScope.open()) {
            NDArray a = NDArray.zeros(DType.FLOAT64, 2, 3);
            NDArray ok = a.view(new long[] {3}, new long[] {2}, 1);
            assertArrayEquals(new long[] {3}, ok.shape());
            IllegalArgumentException e = assertThrows(IllegalArgumentException.class,
                    () -> a.view(new long[] {3}, new long[] {2}, 2));
            assertTrue(e.getMessage().contains("exceeds"), e.getMessage());
            assertThrows(IllegalArgumentException.class, () -> a.view(new long[] {7}, new long[] {1}, 0));
            assertThrows(IllegalArgumentException.class, () -> a.view(new long[] {2}, new long[] {1}, -1));
            assertThrows(IllegalArgumentException.class, () -> a.view(new long[] {2}, new long[] {-1}, 1));
            assertThrows(IllegalArgumentException.class, () -> a.view(new long[] {2, 2}, new long[] {1}, 0));
            assertDoesNotThrow(() -> a.view(new long[] {0}, new long[] {1}, 6), "empty view at the end");
            assertDoesNotThrow(() -> a.view(new long[] {4, 3}, new long[] {0, 1}, 3), "broadcast (stride 0) view");
        }
    }

    @Test
    void viewsKeepStorageAliveUntilTheLastCloses() throws InterruptedException {
        long before = settledAllocatedBytes();
        NDArray base = NDArray.of(new double[] {1, 2, 3, 4, 5, 6}, 2, 3);
        NDArray t = Ops.transpose(base);
        NDArray s = Ops.slice(base, 1, 1, 3);
        assertSame(base.storage(), t.storage());
        long during = NativeOps.allocatedBytes();
        assertTrue(during >= before + 48, "allocation counted");
        base.close();
        assertTrue(base.isClosed());
        assertFalse(t.isClosed());
        assertThrows(IllegalStateException.class, base::toDoubleArray);
        assertArrayEquals(new double[] {1, 4, 2, 5, 3, 6}, t.toDoubleArray(), "view still readable");
        t.close();
        assertArrayEquals(new double[] {2, 3, 5, 6}, s.toDoubleArray());
        assertFalse(base.storage().isFreed());
        s.close();
        assertTrue(base.storage().isFreed());
        assertTrue(s.isClosed());
        assertEquals(before, NativeOps.allocatedBytes(), "storage freed when the last view closed");
    }

    // ---- close ---------------------------------------------------------------------------------------------
    @Test
    void closeIsIdempotentAndClosedArraysThrow() {
        NDArray a = NDArray.of(new float[] {1, 2, 3, 4}, 2, 2);
        NDArray other = NDArray.of(new float[] {1, 2, 3, 4}, 2, 2);
        a.close();
        a.close();
        assertTrue(a.isClosed());
        assertThrows(IllegalStateException.class, a::toFloatArray);
        assertThrows(IllegalStateException.class, a::toDoubleArray);
        assertThrows(IllegalStateException.class, () -> a.getDouble(0, 0));
        assertThrows(IllegalStateException.class, a::buffer);
        assertThrows(IllegalStateException.class, a::address);
        assertThrows(IllegalStateException.class, () -> Ops.relu(a));
        assertThrows(IllegalStateException.class, () -> Ops.add(a, other));
        assertThrows(IllegalStateException.class, () -> Ops.add(other, a));
        assertThrows(IllegalStateException.class, () -> Ops.matmul(a, other));
        assertThrows(IllegalStateException.class, () -> Ops.sum(a));
        assertThrows(IllegalStateException.class, () -> Ops.transpose(a), "a view of a closed array");
        assertThrows(IllegalStateException.class, () -> Ops.slice(a, 0, 0, 1));
        assertThrows(IllegalStateException.class, () -> Ops.reshape(a, 4));
        assertThrows(IllegalStateException.class, () -> a.cast(DType.FLOAT64));
        assertTrue(a.toString().contains("[2, 2]"), "toString of a closed array works");
        assertArrayEquals(new long[] {2, 2}, a.shape(), "metadata stays readable");
        // the other array is untouched
        assertArrayEquals(new float[] {1, 2, 3, 4}, other.toFloatArray());
        other.close();
    }

    // ---- scopes --------------------------------------------------------------------------------------------
    @Test
    void scopeClosesArraysCreatedInside() throws InterruptedException {
        long before = settledAllocatedBytes();
        NDArray outside = NDArray.zeros(DType.FLOAT32, 10);
        NDArray inside, kept, detached;
        try (MemoryScope s = MemoryScope.open()) {
            inside = NDArray.zeros(DType.FLOAT32, 1000);
            NDArray tmp = Ops.exp(inside);
            kept = MemoryScope.keep(Ops.add(tmp, 1.0));
            detached = MemoryScope.detach(Ops.relu(tmp));
            assertEquals(2, s.size(), "inside and tmp (kept/detached removed)");
            Ops.transpose(outside); // a view of an outer array belongs to this scope, not the outer array
        }
        assertTrue(inside.isClosed());
        assertFalse(kept.isClosed(), "keep() without an enclosing scope leaves the array unowned");
        assertFalse(detached.isClosed());
        assertFalse(outside.isClosed());
        try (NDArray head = Ops.slice(kept, 0, 0, 3)) {
            assertArrayEquals(new float[] {2, 2, 2}, head.toFloatArray());
        }
        kept.close();
        detached.close();
        outside.close();
        assertEquals(before, NativeOps.allocatedBytes(), "allocatedBytes back to baseline");
    }

    @Test
    void nestedScopesAndKeep() throws InterruptedException {
        long before = settledAllocatedBytes();
        NDArray a, b, c, d;
        try (MemoryScope outer = MemoryScope.open()) {
            a = NDArray.zeros(DType.FLOAT64, 8);
            try (MemoryScope inner = MemoryScope.open()) {
                b = NDArray.zeros(DType.FLOAT64, 8);
                c = MemoryScope.keep(NDArray.ones(DType.FLOAT64, 8));
                d = MemoryScope.detach(NDArray.ones(DType.FLOAT64, 8));
                assertEquals(1, inner.size());
                assertEquals(2, outer.size());
            }
            assertTrue(b.isClosed());
            assertFalse(c.isClosed(), "kept into the outer scope");
            assertFalse(a.isClosed());
            assertEquals(8.0, Ops.sum(c).getDouble());
        }
        assertTrue(a.isClosed());
        assertTrue(c.isClosed(), "closed with the outer scope");
        assertFalse(d.isClosed());
        d.close();
        assertEquals(before, NativeOps.allocatedBytes());
        // a closed scope is idempotent
        MemoryScope s = MemoryScope.open();
        s.close();
        s.close();
    }

    @Test
    void outOfOrderCloseThrowsAndCanRecover() {
        MemoryScope outer = MemoryScope.open();
        NDArray a = NDArray.zeros(DType.FLOAT32, 4);
        MemoryScope inner = MemoryScope.open();
        NDArray b = NDArray.zeros(DType.FLOAT32, 4);
        IllegalStateException e = assertThrows(IllegalStateException.class, outer::close);
        assertTrue(e.getMessage().contains("out of order"), e.getMessage());
        assertFalse(a.isClosed());
        inner.close();
        assertTrue(b.isClosed());
        // closing the outer scope again now works and frees its arrays; the scope no longer captures arrays
        outer.close();
        assertTrue(a.isClosed(), "outer scope frees its arrays after a failed out-of-order close");
        NDArray later = NDArray.zeros(DType.FLOAT32, 4);
        try (MemoryScope probe = MemoryScope.open()) {
            assertEquals(0, probe.size());
        }
        assertFalse(later.isClosed(), "arrays created after all scopes closed belong to no scope");
        later.close();
    }

    @Test
    void scopesArePerThread() throws Exception {
        AtomicReference<NDArray> fromOtherThread = new AtomicReference<>();
        try (MemoryScope s = MemoryScope.open()) {
            Thread t = new Thread(() -> fromOtherThread.set(NDArray.zeros(DType.FLOAT32, 3)));
            t.start();
            t.join();
            assertEquals(0, s.size());
        }
        assertFalse(fromOtherThread.get().isClosed());
        fromOtherThread.get().close();
    }

    @Test
    void allocatedBytesReturnsToBaselineAfterOps() throws InterruptedException {
        long before = settledAllocatedBytes();
        try (MemoryScope s = MemoryScope.open()) {
            NDArray x = NDArray.ones(DType.FLOAT32, 64, 32).setRequiresGrad(true);
            NDArray w = NDArray.ones(DType.FLOAT32, 32, 16).setRequiresGrad(true);
            NDArray y = Ops.mean(Ops.softmax(Ops.relu(Ops.matmul(x, Ops.transpose(Ops.transpose(w)))), -1));
            y.backward();
            assertArrayEquals(new long[] {32, 16}, w.grad().shape());
            assertTrue(NativeOps.allocatedBytes() > before + 64 * 32 * 4);
        }
        assertEquals(before, NativeOps.allocatedBytes());
    }

    // ---- GC ------------------------------------------------------------------------------------------------
    @Test
    void cleanerFreesForgottenArrays() throws InterruptedException {
        long before = settledAllocatedBytes();
        List<WeakReference<NDArray>> refs = new ArrayList<>();
        for (int i = 0; i < 8; i++) refs.add(new WeakReference<>(NDArray.zeros(DType.FLOAT64, 128, 1024)));
        long bytes = 8L * 128 * 1024 * 8;
        assertTrue(NativeOps.allocatedBytes() >= before + bytes);
        long deadline = System.nanoTime() + 10_000_000_000L;
        while (NativeOps.allocatedBytes() > before && System.nanoTime() < deadline) {
            System.gc();
            Thread.sleep(20);
        }
        assertTrue(NativeOps.allocatedBytes() <= before, "forgotten arrays were not freed within 10 s: "
                + (NativeOps.allocatedBytes() - before) + " bytes remain");
        for (WeakReference<NDArray> r : refs) assertSame(null, r.get());
    }

    @Test
    void cleanerDoesNotFreeReachableViewStorage() throws InterruptedException {
        NDArray view;
        {
            NDArray base = NDArray.of(new double[] {1, 2, 3, 4}, 2, 2);
            view = Ops.transpose(base);
        }
        for (int i = 0; i < 5; i++) {
            System.gc();
            Thread.sleep(10);
        }
        assertNotSame(null, view);
        assertArrayEquals(new double[] {1, 3, 2, 4}, view.toDoubleArray(), "a live view keeps its storage");
        view.close();
    }
}
