package org.pydl.nd;

import org.pydl.ops.Backend;
import org.pydl.ops.CpuBackend;

/**
 * Where an array's memory lives. Every op asks its inputs' device for the {@link Backend} that runs its kernels,
 * so a CUDA backend adds an entry here and a Backend implementation; layers and training never change.
 */
public enum Device {
    CPU;

    public Backend backend() {
        return CpuBackend.INSTANCE;
    }
}
