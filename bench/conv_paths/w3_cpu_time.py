"""Usage: PYTHONPATH=. PYDL_JAR=... python bench/conv_paths/w3_cpu_time.py [rounds]
W3 at one thread, CPU time of the calling thread per training step (robust to waiting for a core on a busy
machine): pydl (fit inside Java, same OS thread through JPype) vs PyTorch, alternating rounds."""
import sys, time, statistics, numpy as np
sys.path.insert(0, __import__("os").path.join(__import__("os").path.dirname(__import__("os").path.abspath(__file__)), ".."))
import bench_w3, common
import pydl, torch
from pydl import layers
pydl.set_num_threads(1); torch.set_num_threads(1)
STEPS = 30
x, y = bench_w3.data()
n = 64 * (common.WARMUP + STEPS)
def pydl_round():
    m = pydl.Sequential([layers.Input((28, 28, 1)), layers.Conv2D(20, 5), layers.MaxPooling2D(2),
                         layers.Conv2D(50, 5), layers.MaxPooling2D(2), layers.Flatten(),
                         layers.Dense(500, activation="relu"), layers.Dense(10, activation="softmax")], seed=0)
    m.compile(optimizer=pydl.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy"); m.build()
    common.pydl_step_seconds(m, x[:64 * 13], y[:64 * 13], 64)  # warm-up epoch (JIT)
    t0 = time.thread_time(); common.pydl_step_seconds(m, x[:n], y[:n], 64); t = time.thread_time() - t0
    return 64 * (common.WARMUP + STEPS) / t
def torch_round():
    net = bench_w3.torch_net(); opt = torch.optim.Adam(net.parameters(), lr=1e-3); lossf = torch.nn.CrossEntropyLoss()
    xt = torch.from_numpy(np.ascontiguousarray(x[:n].transpose(0, 3, 1, 2))); yt = torch.from_numpy(y[:n].astype(np.int64))
    def step(i):
        opt.zero_grad(set_to_none=True); loss = lossf(net(xt[i*64:(i+1)*64]), yt[i*64:(i+1)*64]); loss.backward(); opt.step(); loss.item()
    for i in range(common.WARMUP): step(i)
    t0 = time.thread_time()
    for i in range(common.WARMUP + STEPS): step(i)
    return 64 * (common.WARMUP + STEPS) / (time.thread_time() - t0)
rs = []
for r in range(int(sys.argv[1]) if len(sys.argv) > 1 else 3):
    p, t = pydl_round(), torch_round()
    rs.append((p, t)); print(f"round {r}: pydl {p:.0f}  torch {t:.0f}  ratio {p/t:.2f}", flush=True)
print(f"median: pydl {statistics.median(p for p,_ in rs):.0f} torch {statistics.median(t for _,t in rs):.0f} "
      f"ratio {statistics.median(p/t for p,t in rs):.2f}")
