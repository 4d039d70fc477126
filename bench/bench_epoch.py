"""Time one training epoch of a ReLU/softmax MLP, ours vs PyTorch CPU.

Both train on the same 60,000 random float32 samples (784 inputs, 10 classes) with the same
optimizer, batch size and number of threads, in the same benchmark run, alternating repeats.
Each measurement runs in a fresh process, so neither library's idle worker threads (OpenMP
and OpenBLAS spin-wait after parallel work) steal cores from the other.  Reports medians and
the ratio ours / PyTorch (lower is better).

    .venv/bin/pip install torch==2.13.0   # only for this benchmark
    .venv/bin/python bench/bench_epoch.py [--repeats 5] [--threads 2]      # 784-128-10, SGD
    .venv/bin/python bench/bench_epoch.py --hidden 512 256 --optimizer adam --batches 64
                                                       # configs/mnist.yaml's network

Set the thread count before numpy loads: this script re-executes itself with
OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from torch_reference import import_torch, pin_threads

N, D_IN, N_OUT = 60_000, 784, 10


def ours_epoch(x, y, batch, seed, hidden, optimizer):
    import numpy as np

    from nn.network import Network
    from nn.train import TrainConfig, Trainer

    net = Network([D_IN, *hidden, N_OUT], ["relu"] * len(hidden) + ["softmax"],
                  rng=np.random.default_rng(seed))
    cfg = TrainConfig(epochs=1, batch_size=batch, optimizer=optimizer,
                      lr=0.05 if optimizer == "sgd" else 0.001, momentum=0.9, l2=0.0,
                      decay=0.0, validation_fraction=0.0, seed=seed)
    trainer = Trainer(net, cfg, progress=False)
    t0 = time.perf_counter()
    trainer.fit(x, y)
    return time.perf_counter() - t0


def torch_epoch(x, y, batch, seed, hidden, optimizer):
    import torch

    torch.manual_seed(seed)
    layers, n_in = [], D_IN
    for h in hidden:
        layers += [torch.nn.Linear(n_in, h), torch.nn.ReLU()]
        n_in = h
    model = torch.nn.Sequential(*layers, torch.nn.Linear(n_in, N_OUT))
    opt = (torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9) if optimizer == "sgd"
           else torch.optim.Adam(model.parameters(), lr=0.001))
    loss_fn = torch.nn.CrossEntropyLoss()
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    perm = torch.randperm(len(x), generator=g)
    for lo in range(0, len(x), batch):
        idx = perm[lo:lo + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt[idx]), yt[idx])
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def measure(lib: str, batch: int, seed: int, args) -> float:
    """One epoch in a fresh process; returns its seconds."""
    import subprocess

    cmd = [sys.executable, __file__, "--worker", lib, "--batches", str(batch), "--seed",
           str(seed), "--threads", str(args.threads), "--optimizer", args.optimizer,
           "--hidden", *map(str, args.hidden)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def worker(args) -> None:
    import numpy as np

    rng = np.random.default_rng(0)
    x = rng.random((N, D_IN), dtype=np.float32)
    y = rng.integers(0, N_OUT, N).astype(np.int64)
    fn = ours_epoch if args.worker == "ours" else torch_epoch
    if args.worker == "torch":
        import torch

        torch.set_num_threads(args.threads)
    batch = args.batches[0]
    fn(x[:5000], y[:5000], batch, args.seed, args.hidden, args.optimizer)  # warm up
    print(fn(x, y, batch, args.seed, args.hidden, args.optimizer))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--batches", type=int, nargs="+", default=[32, 128])
    ap.add_argument("--hidden", type=int, nargs="+", default=[128])
    ap.add_argument("--optimizer", choices=["sgd", "adam"], default="sgd")
    ap.add_argument("--worker", choices=["ours", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    pin_threads(args.threads)

    if args.worker:
        worker(args)
        return
    import numpy as np

    torch = import_torch("bench_epoch")
    sizes = "-".join(map(str, [D_IN, *args.hidden, N_OUT]))
    print(f"numpy {np.__version__}, torch {torch.__version__}, threads {args.threads}, "
          f"{N} samples, {sizes} relu/softmax, {args.optimizer}, a fresh process per epoch")
    print("| batch | ours (s, median) | PyTorch (s, median) | ratio ours/PyTorch |")
    print("|---:|---:|---:|---:|")
    for batch in args.batches:
        t_ours, t_torch = [], []
        for r in range(args.repeats):
            t_ours.append(measure("ours", batch, r, args))
            t_torch.append(measure("torch", batch, r, args))
        mo, mt = statistics.median(t_ours), statistics.median(t_torch)
        print(f"| {batch} | {mo:.3f} | {mt:.3f} | {mo / mt:.2f} |", flush=True)


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    main()
