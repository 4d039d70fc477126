"""Time one training epoch of a convolutional network, ours vs PyTorch CPU.

Both train the same layers (convolutions, ReLU, 2x2 max pooling, dense layers, softmax and
cross-entropy) with Adam on the same random float32 images, with the same batch size and
number of threads, in the same benchmark run, alternating repeats.  Each measurement runs
in a fresh process (neither library's idle worker threads then steal cores from the other).
PyTorch runs in its fastest layout for these layers on a CPU (channels-last).  Reports
medians and the ratio ours / PyTorch (lower is better).

    .venv/bin/pip install torch==2.13.0   # only for this benchmark
    .venv/bin/python bench/bench_conv.py --net lenet          # LeNet-5 on 60,000 28x28 images
    .venv/bin/python bench/bench_conv.py --net mnist-cnn      # configs/mnist-cnn.yaml's network
    .venv/bin/python bench/bench_conv.py --net cifar10-cnn    # configs/cifar10-cnn.yaml's, 15,200

The shipped networks are read from their configs (``model.layers``), so the benchmark
follows them.  The thread count is set before numpy loads: this script re-executes itself
with OMP_NUM_THREADS / OPENBLAS_NUM_THREADS / MKL_NUM_THREADS set.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time

from torch_reference import import_torch, pin_threads

LENET = [{"conv": 6, "kernel": 5, "padding": 2}, {"pool": 2}, {"conv": 16, "kernel": 5},
         {"pool": 2}, {"dense": 120}, {"dense": 84}, {"dense": 10}]
# name -> (layers or a shipped config, input shape, samples per epoch, batch)
NETS = {"lenet": (LENET, (28, 28, 1), 60_000, 64),
        "mnist-cnn": ("mnist-cnn", (28, 28, 1), 54_000, None),
        "cifar10-cnn": ("cifar10-cnn", (32, 32, 3), 15_200, None)}


def network_spec(name: str):
    """``(layers, input shape, samples, batch)`` for ``name``."""
    layers, shape, n, batch = NETS[name]
    if isinstance(layers, str):
        from common.config import load_config, named_config
        from nn.config import TrainRunConfig

        cfg = load_config(TrainRunConfig, named_config(layers))
        layers, batch = cfg.model.layers, cfg.train.batch_size
    return layers, shape, n, batch


def ours_epoch(x, y, batch, seed, layers, shape):
    import numpy as np

    from nn.network import Network
    from nn.train import TrainConfig, Trainer

    net = Network(layers=layers, input_shape=shape, rng=np.random.default_rng(seed))
    cfg = TrainConfig(epochs=1, batch_size=batch, optimizer="adam", lr=0.001, l2=0.0,
                      decay=0.0, validation_fraction=0.0, seed=seed)
    trainer = Trainer(net, cfg, progress=False)
    t0 = time.perf_counter()
    trainer.fit(x, y)
    return time.perf_counter() - t0


def torch_model(layers, shape):
    """The same network in PyTorch (our weights in PyTorch's layout are tested in
    tests/nn/test_torch_conv.py)."""
    import numpy as np
    import torch

    mods, (h, w, c), flat = [], shape, None
    for i, spec in enumerate(layers):
        last = i == len(layers) - 1
        if "conv" in spec:
            k, s, p = spec.get("kernel", 3), spec.get("stride", 1), spec.get("padding", 0)
            p = (k - 1) // 2 if p == "same" else p
            mods += [torch.nn.Conv2d(c, spec["conv"], k, s, p), torch.nn.ReLU()]
            h, w, c = (h + 2 * p - k) // s + 1, (w + 2 * p - k) // s + 1, spec["conv"]
        elif "pool" in spec:
            mods.append(torch.nn.MaxPool2d(spec["pool"]))
            h, w = h // spec["pool"], w // spec["pool"]
        elif "dropout" in spec:
            mods.append(torch.nn.Dropout(spec["dropout"]))
        elif "dense" in spec:
            if flat is None:
                mods.append(torch.nn.Flatten())
                flat = int(np.prod((h, w, c)))
            mods.append(torch.nn.Linear(flat, spec["dense"]))
            flat = spec["dense"]
            if not last:
                mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods)


def torch_epoch(x, y, batch, seed, layers, shape):
    import torch

    torch.manual_seed(seed)
    model = torch_model(layers, shape).to(memory_format=torch.channels_last)
    opt = torch.optim.Adam(model.parameters(), lr=0.001)
    loss_fn = torch.nn.CrossEntropyLoss()
    h, w, c = shape
    # (N, C, H, W) with channels-last strides: the same bytes as our (N, H, W, C)
    xt = torch.from_numpy(x).reshape(len(x), h, w, c).permute(0, 3, 1, 2)
    yt = torch.from_numpy(y)
    g = torch.Generator().manual_seed(seed)
    t0 = time.perf_counter()
    perm = torch.randperm(len(x), generator=g)
    for lo in range(0, len(x), batch):
        idx = perm[lo:lo + batch]
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(xt[idx].contiguous(memory_format=torch.channels_last)), yt[idx])
        loss.backward()
        opt.step()
    return time.perf_counter() - t0


def measure(lib: str, seed: int, args) -> float:
    """One epoch in a fresh process; returns its seconds."""
    import subprocess

    cmd = [sys.executable, __file__, "--worker", lib, "--net", args.net, "--seed", str(seed),
           "--threads", str(args.threads)]
    if args.samples:
        cmd += ["--samples", str(args.samples)]
    out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
    return float(out.strip().splitlines()[-1])


def worker(args) -> None:
    import numpy as np

    layers, shape, n, batch = network_spec(args.net)
    n = args.samples or n
    rng = np.random.default_rng(0)
    x = rng.random((n, int(np.prod(shape))), dtype=np.float32)
    y = rng.integers(0, 10, n).astype(np.int64)
    fn = ours_epoch if args.worker == "ours" else torch_epoch
    if args.worker == "torch":
        import torch

        torch.set_num_threads(args.threads)
    fn(x[:2000], y[:2000], batch, args.seed, layers, shape)  # warm up
    print(fn(x, y, batch, args.seed, layers, shape))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--net", choices=list(NETS), default="lenet")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--samples", type=int, default=0, help="samples per epoch (default: the "
                    "net's training set)")
    ap.add_argument("--worker", choices=["ours", "torch"], help=argparse.SUPPRESS)
    ap.add_argument("--seed", type=int, default=0, help=argparse.SUPPRESS)
    args = ap.parse_args()
    pin_threads(args.threads)
    if args.worker:
        worker(args)
        return
    import numpy as np

    torch = import_torch("bench_conv")
    from nn.network import Network

    layers, shape, n, batch = network_spec(args.net)
    net = Network(layers=layers, input_shape=shape)
    print(f"numpy {np.__version__}, torch {torch.__version__}, threads {args.threads}, "
          f"{args.samples or n} samples {'x'.join(map(str, shape))}, {net.describe()} "
          f"({net.num_params:,} parameters), Adam, batch {batch}, a fresh process per epoch")
    print("| net | ours (s, median) | PyTorch (s, median) | ratio ours/PyTorch |")
    print("|---|---:|---:|---:|")
    t_ours, t_torch = [], []
    for r in range(args.repeats):
        t_ours.append(measure("ours", r, args))
        t_torch.append(measure("torch", r, args))
    mo, mt = statistics.median(t_ours), statistics.median(t_torch)
    print(f"| {args.net} | {mo:.2f} | {mt:.2f} | {mo / mt:.2f} |", flush=True)
    print(f"(ours: {', '.join(f'{t:.2f}' for t in t_ours)}; PyTorch: "
          f"{', '.join(f'{t:.2f}' for t in t_torch)})")


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
    main()
