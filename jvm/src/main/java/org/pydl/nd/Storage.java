package org.pydl.nd;

import java.lang.ref.Cleaner;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.LongConsumer;

/**
 * A block of device memory shared by an array and its views. Reference counted by the arrays that use it:
 * the last {@link NDArray#close()} frees it at once; a {@link Cleaner} frees it if every array using it is
 * garbage-collected without being closed (the safety net, never the plan).
 */
public final class Storage {
    private static final Cleaner CLEANER = Cleaner.create();

    private final long address;
    private final long bytes;
    private final Device device;
    private final AtomicInteger refs = new AtomicInteger();
    private final Cleaner.Cleanable cleanable;
    private volatile boolean freed;

    /** Frees the block exactly once; holds no reference to the Storage so the Cleaner can run it. */
    private static final class Release implements Runnable {
        private final long address;
        private final LongConsumer free;
        private boolean done;

        Release(long address, LongConsumer free) {
            this.address = address;
            this.free = free;
        }

        @Override
        public synchronized void run() {
            if (!done) {
                done = true;
                free.accept(address);
            }
        }
    }

    public Storage(long address, long bytes, Device device, LongConsumer free) {
        this.address = address;
        this.bytes = bytes;
        this.device = device;
        this.cleanable = CLEANER.register(this, new Release(address, free));
    }

    /** The block's address; throws if it was freed (using a closed array is an error, never a crash). */
    public long address() {
        if (freed) {
            throw new IllegalStateException("this NDArray's memory was already freed (the array, or the scope that "
                    + "owned it, was closed); keep arrays you still need with MemoryScope.keep(...)");
        }
        return address;
    }

    public long bytes() {
        return bytes;
    }

    public Device device() {
        return device;
    }

    public boolean isFreed() {
        return freed;
    }

    void retain() {
        refs.incrementAndGet();
    }

    void release() {
        if (refs.decrementAndGet() == 0) {
            freed = true;
            cleanable.clean();
        }
    }
}
