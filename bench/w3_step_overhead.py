"""W3 at one thread (T=n for more): samples per CPU-second of the training thread and minor page faults per step,
pydl only, one model trained on after a warm-up epoch. Usage: PYTHONPATH=. PYDL_JAR=... python bench/w3_step_overhead.py [rounds] [steps]
Compare builds or settings (PYDL_ALLOC_CACHE_MB=0) by alternating runs."""
import sys, os, time, statistics
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench_w3, common
import pydl
from pydl import layers
pydl.set_num_threads(int(os.environ.get("T", "1")))
STEPS = int(sys.argv[2]) if len(sys.argv) > 2 else 40
x, y = bench_w3.data()
n = 64 * (common.WARMUP + STEPS)
def flt(path):
    with open(path) as f: return int(f.read().rsplit(")", 1)[1].split()[7])
m = pydl.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(20, 5), layers.MaxPooling2D(2),
                     layers.Conv2D(50, 5), layers.MaxPooling2D(2), layers.Flatten(),
                     layers.Dense(500, activation="relu"), layers.Dense(10, activation="softmax")], seed=0)
m.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy"); m.build()
common.pydl_step_seconds(m, x[:64 * 40], y[:64 * 40], 64)  # warm-up (JIT)
rs = []
for r in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
    f0, p0 = flt("/proc/thread-self/stat"), flt("/proc/self/stat")
    t0 = time.thread_time(); w0 = time.perf_counter()
    common.pydl_step_seconds(m, x[:n], y[:n], 64)
    t = time.thread_time() - t0; w = time.perf_counter() - w0
    f1, p1 = flt("/proc/thread-self/stat"), flt("/proc/self/stat")
    steps = common.WARMUP + STEPS
    rs.append(64 * steps / t)
    print(f"round {r}: {64*steps/t:.0f} samples/cpu-s  wall {64*steps/w:.0f}/s  thread faults/step {(f1-f0)/steps:.0f}  proc faults/step {(p1-p0)/steps:.0f}", flush=True)
print(f"median {statistics.median(rs):.0f} samples/cpu-s")
