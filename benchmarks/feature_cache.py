"""Feature cache: the first pass computes MFCC features of N real clips, the second reads them back.

    .venv/bin/python benchmarks/feature_cache.py [--clips 2000]

Prints both times and their ratio (target: the warm pass costs <= 10 % of the cold one).
Uses a fresh temporary cache folder so the cold pass is really cold.
"""

import argparse
import os
import tempfile
import time

import numpy as np

from lib import data, features


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--clips", type=int, default=2000)
    args = ap.parse_args()
    sc = data.manifest("speech_commands_v0.02")
    paths = sc[sc["label12"] != "_silence_"]["abs_path"].sample(args.clips, random_state=0).tolist()
    params = dict(sr=16000, n_mfcc=40, n_fft=480, hop_length=160, n_mels=40)

    def compute():
        Y = np.stack([features.fix_length(y, 16000) for y in data.load_many(paths, 16000, n_jobs=2)])
        return {"X": features.mfcc(Y, **params)}

    with tempfile.TemporaryDirectory() as tmp:
        os.environ[features.CACHE_ENV] = tmp
        key = dict(corpus=data.fingerprint("speech_commands_v0.02"), files=paths, **params)
        t0 = time.perf_counter()
        cold = features.cached("bench", compute, **key)
        t_cold = time.perf_counter() - t0
        t0 = time.perf_counter()
        warm = features.cached("bench", compute, **key)
        t_warm = time.perf_counter() - t0
    assert np.array_equal(cold["X"], warm["X"])
    print(f"clips: {len(paths)}")
    print(f"cold (decode + features + write): {t_cold:7.2f} s")
    print(f"warm (read cache)               : {t_warm:7.2f} s")
    print(f"warm / cold                     : {t_warm / t_cold:7.1%}  (target <= 10 %)")


if __name__ == "__main__":
    main()
