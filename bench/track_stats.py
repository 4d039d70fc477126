"""Statistics of procedural tracks by difficulty, next to the shipped tracks' (no timing).

    .venv/bin/python bench/track_stats.py [--seeds 50] [--difficulties 0 0.25 0.5 0.75 1]
                                          [--plot tracks.png --plot-seeds 8] [--max-ms MS]

For each difficulty, over seeds 0..N-1, prints a markdown table of the medians (and the
minimum of min_radius) of `sims.procedural.track_features`, the share of tracks with at least
one hairpin / chicane / S-bend, and the slowest and median generation time per track (cache
bypassed). Then the same features of each shipped track. `--plot` draws the first seeds at
every difficulty (matplotlib) into one PNG. `--max-ms MS`: the floor for generation speed;
exits with status 1 when the mean time per track, over every difficulty, exceeds MS
(the test suite once asserted 200 ms).
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from sims.procedural import procedural_track, track_features
from sims.track import load_track, shipped_tracks


def row(name: str, feats: list[dict[str, float]], times: list[float] | None = None) -> str:
    col = {k: np.array([f[k] for f in feats]) for k in feats[0]}
    cells = [
        name,
        f"{np.median(col['min_radius']):.1f} / {col['min_radius'].min():.1f}",
        f"{col['width'].min():.1f}-{col['width'].max():.1f}",
        f"{np.median(col['length']):.0f} ({col['length'].min():.0f}-{col['length'].max():.0f})",
        f"{np.median(col['tight_bends']):.0f}",
        f"{np.median(col['hairpins']):.0f} ({np.mean(col['hairpins'] > 0):.0%})",
        f"{np.median(col['chicanes']):.0f} ({np.mean(col['chicanes'] > 0):.0%})",
        f"{np.median(col['sbends']):.0f} ({np.mean(col['sbends'] > 0):.0%})",
        f"{np.median(col['braking']):.0f}",
    ]
    if times is not None:
        cells.append(f"{np.median(times) * 1e3:.0f} / {max(times) * 1e3:.0f}")
    return "| " + " | ".join(cells) + " |"


HEAD = ("| track | min radius m (median / min) | width m | length m | bends < 30 m | hairpins "
        "(share) | chicanes (share) | S-bends (share) | braking straight m |")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--seeds", type=int, default=50)
    p.add_argument("--difficulties", type=float, nargs="+", default=[0, 0.25, 0.5, 0.75, 1.0])
    p.add_argument("--plot", help="write a PNG of the first --plot-seeds tracks")
    p.add_argument("--plot-seeds", type=int, default=8)
    p.add_argument("--max-ms", type=float,
                   help="fail (exit 1) when the mean generation time per track exceeds this")
    args = p.parse_args()

    print(HEAD + " generation ms (median / max) |")
    print("|" + "---|" * 10)
    tracks, every_time = {}, []
    for d in args.difficulties:
        feats, times = [], []
        for s in range(args.seeds):
            t0 = time.perf_counter()
            track = procedural_track.__wrapped__(s, d)  # bypass the cache
            times.append(time.perf_counter() - t0)
            feats.append(track_features(track))
            tracks[s, d] = track
        print(row(f"procedural d={d:g}", feats, times))
        every_time += times
    print()
    print(HEAD)
    print("|" + "---|" * 9)
    for name in shipped_tracks():
        print(row(name, [track_features(load_track(name))]))

    if args.plot:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        nd, ns = len(args.difficulties), min(args.plot_seeds, args.seeds)
        fig, axes = plt.subplots(nd, ns, figsize=(2.6 * ns, 2.6 * nd), squeeze=False)
        for a, d in enumerate(args.difficulties):
            for b in range(ns):
                ax, tr = axes[a, b], tracks[b, d]
                for wall in tr.wall_polylines():
                    loop = np.vstack([wall, wall[:1]])
                    ax.plot(loop[:, 0], loop[:, 1], "k-", lw=0.6)
                ax.plot(*tr.points[0], "ro", ms=3)
                f = track_features(tr)
                ax.set_title(f"{b}:{d:g} r{f['min_radius']:.0f} h{f['hairpins']} "
                             f"c{f['chicanes']} s{f['sbends']}", fontsize=7)
                ax.set_aspect("equal")
                ax.axis("off")
        fig.tight_layout()
        fig.savefig(args.plot, dpi=110)
        print(f"\nwrote {args.plot}")

    mean_ms = float(np.mean(every_time)) * 1e3
    print(f"\nmean generation time: {mean_ms:.0f} ms a track")
    if args.max_ms is not None and mean_ms > args.max_ms:
        print(f"slower than the floor of {args.max_ms:g} ms a track")
        raise SystemExit(1)


if __name__ == "__main__":
    main()
