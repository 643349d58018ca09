"""Keyword-spotting training speed: float32 against mixed_bfloat16 for the CNN, CRNN and autoencoder.

    export AUDIO_REPRO_DATA=../shared/data PYTHONHASHSEED=0
    .venv/bin/python benchmarks/kws_precision.py [--n-train 4000]     # on an idle machine

Each model is trained on the same fixed, stratified subset of the chapter's training clips
(real features, the chapter's cache), batch 64, for a fixed number of epochs (no early
stopping, so both precisions see equal data), once per precision.  Printed per model and
precision: training samples/s (median over epochs 2+, i.e. without the first epoch's tracing),
the ratio to float32, and the accuracy reached (test accuracy for CNN/CRNN, validation MSE for
the autoencoder) — the parity check.  Run it on an idle machine: the numbers are CPU time.
"""

from __future__ import annotations

import argparse
import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import numpy as np  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--n-train", type=int, default=3000)
    ap.add_argument("--epochs", default="cnn=4,crnn=8,ae=3")
    ap.add_argument("--repeats", type=int, default=2, help="runs per setting, order alternated (drift shows)")
    ap.add_argument("--policies", default="float32,mixed_bfloat16")
    ap.add_argument("--json", default=None, help="also write the table here")
    args = ap.parse_args()
    epochs = {k: int(v) for k, v in (kv.split("=") for kv in args.epochs.split(","))}

    import keras

    from lib.datasets import kws as kd
    from lib.models import kws as km

    keras.config.disable_interactive_logging()
    split = kd.add_augmented(kd.book_split(0), fraction=0.1, seed=0)  # the chapter's book training set
    t0 = time.perf_counter()
    X_all = kd.compute_features(split)
    print(f"features of {len(split)} clips: {time.perf_counter() - t0:.0f} s (cached after the first run)")
    y_all = kd.label_index(split["label"])
    part = {n: (split["split"] == n).to_numpy() for n in ("train", "val", "test")}
    rng = np.random.default_rng(0)
    tr = rng.choice(np.flatnonzero(part["train"]), min(args.n_train, part["train"].sum()), replace=False)
    Xtr, ytr = X_all[tr], y_all[tr]
    Xva = X_all[part["val"]]
    Xte, yte = X_all[part["test"]], y_all[part["test"]]
    cw = {int(k): float(v) for k, v in zip(*np.unique(ytr, return_counts=True))}
    cw = {k: len(ytr) / (len(kd.LABELS) * n) for k, n in cw.items()}

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.t = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            self.times.append(time.perf_counter() - self.t)

    rows = []
    policies = args.policies.split(",")
    for model in ("cnn", "crnn", "ae"):
        order = [(rep, p) for rep in range(args.repeats) for p in (policies if rep % 2 == 0 else policies[::-1])]
        for rep, policy in order:
            km.set_precision(policy)
            km.set_seed(0)
            timer = EpochTimer()
            timer.times = []
            if model == "ae":
                scaler = km.Scaler("minmax").fit(Xtr)
                ae, _ = km.build_autoencoder()
                ae.compile(optimizer=keras.optimizers.Adamax(), loss="mse")
                A, Av = km.model_input(Xtr, scaler, km.AE_FRAMES), km.model_input(Xva, scaler, km.AE_FRAMES)
                h = ae.fit(
                    A, A, batch_size=64, epochs=epochs[model], validation_data=(Av, Av), verbose=0, callbacks=[timer]
                )
                quality, qname = float(h.history["val_loss"][-1]), "val MSE"
            else:
                scaler = km.Scaler("standard").fit(Xtr)
                net = {"cnn": km.build_cnn, "crnn": km.build_crnn}[model](n_classes=len(kd.LABELS))
                net.compile(
                    optimizer=keras.optimizers.Adam(1e-3), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
                )
                net.fit(
                    km.model_input(Xtr, scaler),
                    ytr,
                    batch_size=64,
                    epochs=epochs[model],
                    verbose=0,
                    class_weight=cw,
                    callbacks=[timer],
                )
                pred = net.predict(km.model_input(Xte, scaler), batch_size=256, verbose=0).argmax(1)
                quality, qname = float(np.mean(pred == yte)), "test accuracy"
            # epoch time includes nothing but training (no validation for the classifiers; the AE's
            # small validation pass is included in both precisions alike)
            sps = len(ytr) / float(np.median(timer.times[1:] if len(timer.times) > 1 else timer.times))
            rows.append(
                {
                    "model": model,
                    "policy": policy,
                    "repeat": rep,
                    "samples_per_s": sps,
                    "epochs": epochs[model],
                    qname: quality,
                }
            )
            print(f"{model:5s} {policy:15s} run {rep}: {sps:8.0f} samples/s  {qname} {quality:.4f}", flush=True)
    km.set_precision("float32")
    print(
        "\nmedian over runs; ratios to float32 (samples/s) and quality at equal data "
        f"({len(ytr)} training clips, fixed epochs {epochs}):"
    )
    table = []
    for model in ("cnn", "crnn", "ae"):
        med = {}
        for policy in policies:
            rs = [r for r in rows if r["model"] == model and r["policy"] == policy]
            q = "test accuracy" if "test accuracy" in rs[0] else "val MSE"
            med[policy] = {
                "model": model,
                "policy": policy,
                "samples_per_s": float(np.median([r["samples_per_s"] for r in rs])),
                "runs_samples_per_s": [round(r["samples_per_s"]) for r in rs],
                q: float(np.mean([r[q] for r in rs])),
                "runs_" + q.replace(" ", "_"): [r[q] for r in rs],
            }
        for policy in policies:
            r = med[policy]
            r["ratio_to_float32"] = r["samples_per_s"] / med["float32"]["samples_per_s"]
            q = "test accuracy" if "test accuracy" in r else "val MSE"
            print(
                f"  {model:5s} {policy:15s} x{r['ratio_to_float32']:.2f}  ({r['samples_per_s']:.0f} samples/s; runs "
                f"{r['runs_samples_per_s']})  {q} {r[q]:.4f}"
            )
            table.append(r)
    print(
        "fastest precision that kept the quality (lib.models.kws.fastest_precision; the chapter's PRECISION): "
        + ", ".join(f"{model} {km.fastest_precision(table, model)}" for model in ("cnn", "crnn", "ae"))
    )
    if args.json:
        with open(args.json, "w") as f:
            json.dump(table, f, indent=1)


if __name__ == "__main__":
    main()
