"""Events chapter training speed: float32 against bfloat16 autocast, one process with 2 threads against
two processes with one thread each.

    export AUDIO_REPRO_DATA=../shared/data PYTHONHASHSEED=0
    .venv/bin/python benchmarks/events_throughput.py            # on an idle machine, ~2 min

The chapter trains many small, independent models (folds × seeds × methods), so what matters for its
plan is the machine's *aggregate* training throughput.  Each setting trains the chapter's baseline
detector (CNN or LSTM, batch 64) for a few epochs on the same fixed Table-1-sized subset of real
clips (the chapter's feature cache); the printed samples/s is the median over epochs 2+ summed over
the concurrent processes, with its ratio to "float32, 1 process × 2 threads".  Accuracy parity of
bf16 is not judged here (too few epochs): the chapter checks it on its own folds.
"""

from __future__ import annotations

import argparse
import json
import time

import numpy as np


def train_once(arch: str, autocast: bool, threads: int, X, y, epochs: int, channels_last: bool = True) -> float:
    """Median training samples/s of one baseline detector (epochs 2+)."""
    import torch

    from lib.models import training
    from lib.models import triple_header as th

    torch.set_num_threads(threads)
    training.set_seed(0)
    n_va = len(X) // 5
    _, hist = th.train_baseline(
        th.make_embedder(arch, channels_last=channels_last),
        X[n_va:],
        y[n_va:],
        X[:n_va],
        y[:n_va],
        epochs=epochs,
        seed=0,
        autocast=autocast,
    )
    return float(np.median([h["samples_per_s"] for h in hist[1:]]))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--epochs", type=int, default=4)
    ap.add_argument("--json", default=None, help="also write the table here")
    args = ap.parse_args()

    from joblib import Parallel, delayed

    from lib.datasets import events as ev

    df = ev.load_manifest()
    idx, _ = ev.ratio_subset(df["label"].to_numpy(), ev.RATIO_6_1_2_16, seed=0, max_unit=50)
    df = df.iloc[idx].reset_index(drop=True)
    X = ev.logmel_features(df, 0.5)
    X = (X - X.mean(axis=(0, 2), keepdims=True)) / (X.std(axis=(0, 2), keepdims=True) + 1e-6)
    y = df["y"].to_numpy()
    rows = []
    for arch in ("cnn", "lstm"):
        for autocast in (False, True):
            t0 = time.perf_counter()
            one = train_once(arch, autocast, 2, X, y, args.epochs)
            rows.append(
                {
                    "model": arch,
                    "precision": "bf16 autocast" if autocast else "float32",
                    "processes × threads": "1 × 2",
                    "samples_per_s": one,
                    "wall_s": time.perf_counter() - t0,
                }
            )
            t0 = time.perf_counter()
            two = Parallel(n_jobs=2, backend="loky")(
                delayed(train_once)(arch, autocast, 1, X, y, args.epochs) for _ in range(2)
            )
            rows.append(
                {
                    "model": arch,
                    "precision": "bf16 autocast" if autocast else "float32",
                    "processes × threads": "2 × 1",
                    "samples_per_s": float(sum(two)),
                    "wall_s": time.perf_counter() - t0,
                }
            )
    # The CNN's weight layout, at the chapter's setting (bf16, 2 processes x 1 thread): contiguous against
    # channels-last (the default of make_embedder, used by every row above).
    t0 = time.perf_counter()
    two = Parallel(n_jobs=2, backend="loky")(
        delayed(train_once)("cnn", True, 1, X, y, args.epochs, False) for _ in range(2)
    )
    rows.append(
        {
            "model": "cnn",
            "precision": "bf16 autocast",
            "processes × threads": "2 × 1",
            "layout": "contiguous",
            "samples_per_s": float(sum(two)),
            "wall_s": time.perf_counter() - t0,
        }
    )
    for r in rows:
        r.setdefault("layout", "channels-last" if r["model"] == "cnn" else "-")
        base = next(
            q
            for q in rows
            if q["model"] == r["model"]
            and q["precision"] == "float32"
            and q["processes × threads"] == "1 × 2"
            and q.get("layout") != "contiguous"
        )
        r["ratio"] = r["samples_per_s"] / base["samples_per_s"]
    print(f"{len(X) * 4 // 5} training clips, {args.epochs} epochs per run")
    print(f"{'model':6} {'precision':14} {'procs×thr':9} {'layout':13} {'samples/s':>10} {'ratio':>6}")
    for r in rows:
        print(
            f"{r['model']:6} {r['precision']:14} {r['processes × threads']:9} {r['layout']:13} {r['samples_per_s']:10.0f} "
            f"{r['ratio']:6.2f}"
        )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
