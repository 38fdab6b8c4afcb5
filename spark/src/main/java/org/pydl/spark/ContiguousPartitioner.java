package org.pydl.spark;

/**
 * Row i of n goes to worker floor(i * W / n): W contiguous ranges of the DataFrame's order whose sizes differ by at
 * most one. Deterministic, so a run can be reproduced (and compared with one process) row for row.
 */
public final class ContiguousPartitioner extends org.apache.spark.Partitioner {
    private static final long serialVersionUID = 1L;
    private final int workers;
    private final long rows;

    public ContiguousPartitioner(int workers, long rows) {
        if (workers <= 0 || rows < workers) {
            throw new IllegalArgumentException("ContiguousPartitioner: need rows >= workers > 0, received " + rows
                    + " rows for " + workers + " workers");
        }
        this.workers = workers;
        this.rows = rows;
    }

    @Override
    public int numPartitions() {
        return workers;
    }

    @Override
    public int getPartition(Object key) {
        long i = (Long) key;
        return (int) Math.min(workers - 1, Math.floorDiv(Math.multiplyExact(i, (long) workers), rows));
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof ContiguousPartitioner && ((ContiguousPartitioner) o).workers == workers
                && ((ContiguousPartitioner) o).rows == rows;
    }

    @Override
    public int hashCode() {
        return Long.hashCode(rows) * 31 + workers;
    }
}
