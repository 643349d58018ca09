"""Batched feature extraction vs the plain per-file librosa loop, side by side on real clips.

    .venv/bin/python benchmarks/features_batched.py [--clips 2000]

Both paths start from the files on disk and end with the same 40x101 MFCC (+ delta) arrays.
The reference is the loop a reader would write: ``librosa.load`` + ``librosa.feature.mfcc`` +
``librosa.feature.delta`` per file.  The batched path decodes with soundfile in a thread
pool (``lib.data.load_many``) and computes one vectorised STFT/mel/DCT over all clips
(``lib.features.mfcc``).  Prints the times, the speed-up ratio and the largest deviation.
"""

import argparse
import os
import time

import librosa
import numpy as np

from lib import data, features

KW = dict(sr=16000, n_mfcc=40, n_fft=480, hop_length=160, n_mels=40)


def per_file_librosa(paths):
    out = []
    for p in paths:
        y, _ = librosa.load(p, sr=16000)
        y = librosa.util.fix_length(y, size=16000)
        m = librosa.feature.mfcc(y=y, **KW)
        out.append(np.concatenate([m, librosa.feature.delta(m)]))
    return np.stack(out)


def librosa_features_only(Y):
    out = []
    for y in Y:
        m = librosa.feature.mfcc(y=y, **KW)
        out.append(np.concatenate([m, librosa.feature.delta(m)]))
    return np.stack(out)


def batched(paths, chunk=512):
    waves = data.load_many(paths, sr=16000, n_jobs=os.cpu_count() or 2)
    Y = np.stack([features.fix_length(y, 16000) for y in waves])
    return batched_features_only(Y, chunk)


def batched_features_only(Y, chunk=512):
    out = []
    for i in range(0, len(Y), chunk):
        m = features.mfcc(Y[i : i + chunk], **KW)
        out.append(np.concatenate([m, features.deltas(m)], axis=1))
    return np.concatenate(out)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=2000)
    args = ap.parse_args()
    sc = data.manifest("speech_commands_v0.02")
    paths = sc[sc["label12"] != "_silence_"]["abs_path"].sample(args.clips, random_state=0).tolist()
    per_file_librosa(paths[:5]), batched(paths[:5])  # warm-up: imports, JIT, FFT plans
    t0 = time.perf_counter()
    ref = per_file_librosa(paths)
    t_ref = time.perf_counter() - t0
    t0 = time.perf_counter()
    ours = batched(paths)
    t_ours = time.perf_counter() - t0
    err = np.abs(ours - ref).max() / np.abs(ref).max()
    Y = np.stack([features.fix_length(y, 16000) for y in data.load_many(paths, 16000)])
    t0 = time.perf_counter()
    librosa_features_only(Y)
    t_ref_f = time.perf_counter() - t0
    t0 = time.perf_counter()
    batched_features_only(Y)
    t_ours_f = time.perf_counter() - t0
    print(f"clips: {len(paths)}  cores: {os.cpu_count()}")
    print(f"per-file librosa load+mfcc+delta : {t_ref:7.2f} s  ({1000 * t_ref / len(paths):.2f} ms/clip)")
    print(f"batched lib.features             : {t_ours:7.2f} s  ({1000 * t_ours / len(paths):.2f} ms/clip)")
    print(
        f"speed-up ratio, end to end       : {t_ref / t_ours:7.2f}x   (target >= 5x; Opus decoding is common to both)"
    )
    print(
        f"features only (decoded clips)    : librosa {t_ref_f:.2f} s vs batched {t_ours_f:.2f} s = "
        f"{t_ref_f / t_ours_f:.1f}x"
    )
    print(f"max |ours - librosa| / max|librosa|: {err:.2e}  (tolerance 1e-3)")


if __name__ == "__main__":
    main()
