package org.pydl.spark;

import java.io.BufferedInputStream;
import java.io.BufferedOutputStream;
import java.io.DataInputStream;
import java.io.DataOutputStream;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;

/**
 * Sum of a float vector over W ranks, every rank ending with the same values: a ring (reduce-scatter, then
 * all-gather), each rank sending to the next and receiving from the previous over TCP. Each rank moves
 * 2(W-1)/W of the vector, whatever W; nothing goes through the Spark driver. Every wait is bounded by the timeout:
 * a dead peer fails the task (and so the barrier stage) instead of hanging it. With {@link #fp16} every chunk travels
 * as IEEE halves (half the bytes; {@link Fp16}); partial sums are still added in float, and each finished chunk is
 * rounded to half on its owner too, so that every rank ends with identical values.
 */
final class RingAllReduce implements AutoCloseable {
    private final int rank, size;
    private final Socket toNext, fromPrev;
    private final DataOutputStream out;
    private final DataInputStream in;
    private final ExecutorService sender;
    private final long timeoutMs;
    private byte[] sendBytes = new byte[0], recvBytes = new byte[0];
    private float[] recv = new float[0];
    private boolean fp16;
    long bytesSent;

    /** A ring of one: sums are the identity. */
    static RingAllReduce single() {
        return new RingAllReduce(0, 1, null, null, 0);
    }

    private RingAllReduce(int rank, int size, Socket toNext, Socket fromPrev, long timeoutMs) {
        this.rank = rank;
        this.size = size;
        this.toNext = toNext;
        this.fromPrev = fromPrev;
        this.timeoutMs = timeoutMs;
        try {
            out = toNext == null ? null : new DataOutputStream(new BufferedOutputStream(toNext.getOutputStream(), 1 << 16));
            in = fromPrev == null ? null : new DataInputStream(new BufferedInputStream(fromPrev.getInputStream(), 1 << 16));
        } catch (IOException e) {
            throw new IllegalStateException("all-reduce: " + e.getMessage(), e);
        }
        sender = size > 1 ? Executors.newSingleThreadExecutor(r -> {
            Thread t = new Thread(r, "pydl-allreduce-send");
            t.setDaemon(true);
            return t;
        }) : null;
    }

    /**
     * Connects rank {@code rank} to {@code addresses[(rank+1) % W]} ("host:port") and accepts the previous rank on
     * {@code server} (already listening, its address published to the others).
     */
    static RingAllReduce connect(int rank, String[] addresses, ServerSocket server, long timeoutMs) throws IOException {
        int w = addresses.length;
        if (w == 1) return single();
        String next = addresses[(rank + 1) % w];
        int colon = next.lastIndexOf(':');
        String host = next.substring(0, colon);
        int port = Integer.parseInt(next.substring(colon + 1));
        long deadline = System.currentTimeMillis() + timeoutMs;
        Socket out = null;
        IOException last = null;
        while (out == null && System.currentTimeMillis() < deadline) {
            Socket s = new Socket();
            try {
                s.connect(new InetSocketAddress(host, port), (int) Math.max(1, Math.min(timeoutMs, 10_000)));
                out = s;
            } catch (IOException e) {
                s.close();
                last = e;
                try {
                    Thread.sleep(100);
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                    throw new IOException("interrupted while connecting to " + next, ie);
                }
            }
        }
        if (out == null) {
            throw new IOException("all-reduce: rank " + rank + " could not connect to rank " + (rank + 1) % w + " at "
                    + next + " within " + timeoutMs + " ms: " + (last == null ? "timeout" : last.getMessage()));
        }
        out.setTcpNoDelay(true);
        out.setSoTimeout((int) timeoutMs);
        DataOutputStream hello = new DataOutputStream(out.getOutputStream());
        hello.writeInt(rank);
        hello.flush();
        server.setSoTimeout((int) timeoutMs);
        Socket in;
        try {
            in = server.accept();
        } catch (SocketTimeoutException e) {
            out.close();
            throw new IOException("all-reduce: rank " + rank + " waited " + timeoutMs + " ms for rank "
                    + (rank + w - 1) % w + " to connect", e);
        }
        in.setTcpNoDelay(true);
        in.setSoTimeout((int) timeoutMs);
        int from = new DataInputStream(in.getInputStream()).readInt();
        if (from != (rank + w - 1) % w) {
            in.close();
            out.close();
            throw new IOException("all-reduce: rank " + rank + " expected rank " + (rank + w - 1) % w
                    + " to connect, got rank " + from);
        }
        return new RingAllReduce(rank, w, out, in, timeoutMs);
    }

    int size() {
        return size;
    }

    /** Sends halves instead of floats from now on (gradient compression). */
    RingAllReduce fp16(boolean on) {
        fp16 = on;
        return this;
    }

    /** Replaces {@code v} by the element-wise sum of every rank's {@code v} (same length on every rank). */
    void sum(float[] v) throws IOException {
        if (size == 1) return;
        int w = size;
        int[] start = new int[w + 1];
        for (int i = 0; i <= w; i++) start[i] = (int) ((long) v.length * i / w);
        for (int s = 0; s < w - 1; s++) {   // reduce-scatter: rank r ends with the full sum of chunk r+1
            int send = Math.floorMod(rank - s, w), recvChunk = Math.floorMod(rank - s - 1, w);
            exchange(v, start[send], start[send + 1] - start[send], start[recvChunk + 1] - start[recvChunk]);
            int o = start[recvChunk];
            for (int i = 0, k = start[recvChunk + 1] - o; i < k; i++) v[o + i] += recv[i];
        }
        if (fp16) {   // this rank's finished chunk, as the others will receive it
            int own = Math.floorMod(rank + 1, w);
            for (int i = start[own]; i < start[own + 1]; i++) v[i] = Fp16.fromHalf(Fp16.toHalf(v[i]));
        }
        for (int s = 0; s < w - 1; s++) {   // all-gather: pass the finished chunks around
            int send = Math.floorMod(rank + 1 - s, w), recvChunk = Math.floorMod(rank - s, w);
            int k = start[recvChunk + 1] - start[recvChunk];
            exchange(v, start[send], start[send + 1] - start[send], k);
            System.arraycopy(recv, 0, v, start[recvChunk], k);
        }
    }

    /** Sends v[off..off+len) to the next rank while receiving {@code recvLen} floats from the previous one. */
    private void exchange(float[] v, int off, int len, int recvLen) throws IOException {
        int width = fp16 ? 2 : 4;
        if (sendBytes.length < width * len) sendBytes = new byte[width * len];
        if (fp16) {
            Fp16.encode(v, off, len, sendBytes);
        } else {
            ByteBuffer.wrap(sendBytes).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().put(v, off, len);
        }
        final int n = width * len;
        Future<?> f = sender.submit(() -> {
            out.write(sendBytes, 0, n);
            out.flush();
            return null;
        });
        if (recvBytes.length < width * recvLen) recvBytes = new byte[width * recvLen];
        if (recv.length < recvLen) recv = new float[recvLen];
        try {
            in.readFully(recvBytes, 0, width * recvLen);
        } catch (SocketTimeoutException e) {
            f.cancel(true);
            throw new IOException("all-reduce: rank " + rank + " received nothing from rank " + Math.floorMod(rank - 1, size)
                    + " for " + timeoutMs + " ms (peer lost?)", e);
        }
        if (fp16) {
            Fp16.decode(recvBytes, recvLen, recv);
        } else {
            ByteBuffer.wrap(recvBytes, 0, 4 * recvLen).order(ByteOrder.LITTLE_ENDIAN).asFloatBuffer().get(recv, 0, recvLen);
        }
        try {
            f.get(timeoutMs, TimeUnit.MILLISECONDS);
        } catch (Exception e) {
            f.cancel(true);
            throw new IOException("all-reduce: rank " + rank + " could not send to rank " + (rank + 1) % size + ": " + e, e);
        }
        bytesSent += n;
    }

    @Override
    public void close() {
        if (sender != null) sender.shutdownNow();
        for (Socket s : new Socket[] {toNext, fromPrev}) {
            if (s == null) continue;
            try {
                s.close();
            } catch (IOException ignored) {
                // closing: nothing left to do
            }
        }
    }
}
