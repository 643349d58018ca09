"""Training throughput of each chapter's main model on this machine, by thread setting.

    .venv/bin/python benchmarks/training_threads.py [--batches 20]

For every model, one forward+backward+optimizer step on synthetic inputs of the chapter's
shape is timed with 1 and with 2 intra-op threads (each setting in its own subprocess, so
the framework's thread pools start fresh), plus, for one PyTorch model, a DataLoader with 0
vs 1 worker process (data-loading overlap).  Prints samples/s per setting and the ratio
2 threads / 1 thread, side by side in one run.  Run it on an otherwise idle machine: the
ratios, not the absolute numbers, are what carries over.
"""

import argparse
import json
import subprocess
import sys
import time

MODELS = {
    # name: (framework, batch size, description)
    "kws_cnn": ("keras", 64, "paper 000 CNN, 101x40x1 MFCC+delta (Keras)"),
    "kws_crnn": ("keras", 64, "paper 000 CRNN (Keras)"),
    "siamese_embedder": ("torch", 64, "paper 001 CNN-GRU embedder, 40x101 log-mel"),
    "triple_header_cnn": ("torch", 64, "paper 002 2-layer CNN embedder, 64x50 log-mel"),
    "asr_rescnn_bigru": ("torch", 8, "paper 003 CNN+ResCNN+BiGRU (book sizes), 40 mels x 500 frames (5 s)"),
    "cltnet_audio": ("torch", 64, "paper 004 CLTNet audio branch, 25x160 log-mel"),
    "head_to_head_mlp": ("torch", 64, "head-to-head pooled MLP, 160-d"),
}


def measure(name: str, threads: int, batches: int, workers: int = 0) -> float:
    framework, batch, _ = MODELS[name]
    if framework == "keras":
        import numpy as np
        import tensorflow as tf

        tf.config.threading.set_intra_op_parallelism_threads(threads)
        tf.config.threading.set_inter_op_parallelism_threads(1)
        from lib.models import kws

        model = kws.build_cnn() if name == "kws_cnn" else kws.build_crnn()
        model.compile("adam", "sparse_categorical_crossentropy")
        X = np.random.randn(batch * batches, *model.input_shape[1:]).astype("float32")
        y = np.random.randint(0, 12, len(X))
        model.fit(X[: batch * 2], y[: batch * 2], batch_size=batch, epochs=1, verbose=0)
        t0 = time.perf_counter()
        model.fit(X, y, batch_size=batch, epochs=1, verbose=0)
        return len(X) / (time.perf_counter() - t0)

    import torch
    import torch.nn.functional as F
    from torch.utils.data import DataLoader, TensorDataset

    torch.set_num_threads(threads)
    torch.manual_seed(0)
    if name == "siamese_embedder":
        from lib.models.siamese import Embedder

        model, shape = Embedder(), (40, 101)
        loss_of = lambda out, y: out.pow(2).mean()  # noqa: E731
    elif name == "triple_header_cnn":
        from lib.models.triple_header import make_embedder

        model, shape = make_embedder("cnn"), (64, 50)
        loss_of = lambda out, y: out.sum()  # noqa: E731
    elif name == "asr_rescnn_bigru":
        from lib.models.asr import build_model

        model = build_model(
            "cnn_rescnn_bigru", n_mels=40, cnn_channels=8, n_res_blocks=2, rnn_dim=96, n_rnn_layers=2, time_stride=3
        )  # the chapter's `book` sizes
        shape = (1, 40, 500)
        loss_of = lambda out, y: out.float().mean()  # noqa: E731
    elif name == "cltnet_audio":
        from lib.models.cltnet import CLTNet

        model, shape = CLTNet(7, audio_dim=160), (25, 160)
        loss_of = lambda out, y: F.cross_entropy(out, y % 7)  # noqa: E731
    else:
        from lib.models.head_to_head import PooledNet

        model, shape = PooledNet(160, 12), (160,)
        loss_of = lambda out, y: F.cross_entropy(out, y % 12)  # noqa: E731
    X = torch.randn(batch * batches, *shape)
    y = torch.randint(0, 100, (len(X),))
    loader = DataLoader(TensorDataset(X, y), batch_size=batch, num_workers=workers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    model.train()

    def epoch():
        for xb, yb in loader:
            opt.zero_grad()
            out = model(xb)
            out = out[0] if isinstance(out, tuple) else out
            loss_of(out, yb).backward()
            opt.step()

    epoch()  # warm-up
    t0 = time.perf_counter()
    epoch()
    return len(X) / (time.perf_counter() - t0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--batches", type=int, default=20)
    ap.add_argument("--one", nargs=3, help=argparse.SUPPRESS)  # child process: name threads workers
    args = ap.parse_args()
    if args.one:
        name, threads, workers = args.one
        print(json.dumps(measure(name, int(threads), args.batches, int(workers))))
        return

    def child(name, threads, workers=0):
        out = subprocess.run(
            [sys.executable, __file__, "--batches", str(args.batches), "--one", name, str(threads), str(workers)],
            capture_output=True,
            text=True,
        )
        if out.returncode != 0:
            return float("nan"), out.stderr.strip().splitlines()[-1][:80]
        return json.loads(out.stdout.strip().splitlines()[-1]), ""

    print(f"{'model':22s} {'1 thread':>10s} {'2 threads':>10s} {'2/1':>6s}  description")
    for name, (_, _, desc) in MODELS.items():
        one, err1 = child(name, 1)
        two, err2 = child(name, 2)
        print(f"{name:22s} {one:10.1f} {two:10.1f} {two / one:6.2f}  {desc} {err1 or err2}", flush=True)
    w0, _ = child("siamese_embedder", 2, 0)
    w1, _ = child("siamese_embedder", 2, 1)
    print(f"\nDataLoader overlap (siamese, 2 threads): 0 workers {w0:.1f}/s, 1 worker {w1:.1f}/s, ratio {w1 / w0:.2f}")


if __name__ == "__main__":
    main()
