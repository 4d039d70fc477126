"""Data-path speed: loading the real MNIST files (checksums verified) and augmenting a batch.

These were timing assertions in the tests; a test asserts behaviour and a loaded machine
must not fail it, so the times are measured here instead (medians of --repeats) and
recorded in docs/BENCHMARKS.md.

    NEUROEVO_DATA=../shared/datasets .venv/bin/python bench/bench_data.py [--repeats 5]
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def median_seconds(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeats", type=int, default=5)
    args = ap.parse_args()

    from nn.data.augment import Augmenter
    from nn.data.mnist import load_mnist
    from nn.errors import DatasetError

    try:
        load_mnist(download=False, progress=False)
    except DatasetError as e:
        print(f"MNIST load: not measured ({e})")
    else:
        s = median_seconds(lambda: load_mnist(download=False, progress=False), args.repeats)
        print(f"MNIST load (60k + 10k, sha256 checked): median {s:.3f} s")

    rng = np.random.default_rng(0)
    x = rng.random((128, 784), dtype=np.float32)
    aug = Augmenter("lague", (28, 28, 1))
    aug(x, rng)  # warm-up
    s = median_seconds(lambda: aug(x, rng), max(args.repeats, 20))
    print(f"augment one batch of 128 MNIST images ('lague' preset): median {s * 1000:.1f} ms")


if __name__ == "__main__":
    main()
