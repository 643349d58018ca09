"""Keyword spotting models of Isgandarov's paper in Keras: CNN (Table 1), CRNN (Table 2), Autoencoder (Table 3) + SVM.

Input: the ``(101, 40, 1)`` MFCC+delta block of :mod:`lib.datasets.kws` (101 frames × 20 MFCCs and
20 deltas).  Choices the paper leaves open, kept identical in every run:

* **padding** — Keras' default ``"valid"`` for the CNN and the CRNN (the tables give none); the
  autoencoder uses ``"same"``, the only padding for which its decoder's ``Dense(26*10*128)`` →
  ``Reshape((26, 10, 128))`` → two stride-2 transposed convolutions returns the input size
  (104 × 40: the 101 frames are zero-padded to 104 for it);
* **activations** — ReLU in the CNN/CRNN convolutions (the tables name none); the CRNN's Conv1D
  treats the 40 feature rows as channels and convolves over time;
* **normalisation** — per-feature-row standardisation fitted on the training set for the
  CNN/CRNN; min–max scaling to [0, 1] (training set) for the autoencoder, whose output is a sigmoid.

Saved models are folders (:func:`save` / :func:`load`) that :func:`predict_files` can run on
any audio file.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from lib.datasets import kws as kd  # noqa: E402
from lib.models import shipped  # noqa: E402

AE_FRAMES = 104  # the autoencoder's time axis (26 × 4)
SVM_GRID = {"C": [0.1, 1, 10, 100, 1000], "gamma": [1, 0.1, 0.01, 0.001, 0.0001]}


def _quiet_import():
    """Import TensorFlow and Keras with file descriptor 2 pointed at /dev/null.

    TensorFlow's C++ start-up lines ("oneDNN custom operations are on", the absl notice) are
    written before its log level applies, straight to the process's stderr, which a notebook
    kernel shows as a stderr stream; nothing else is written during the import.
    """
    import sys

    if "tensorflow" in sys.modules and "keras" in sys.modules:
        return
    saved = os.dup(2)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        sys.stderr.flush()
        os.dup2(devnull, 2)
        import keras  # noqa: F401
        import tensorflow as tf

        tf.zeros(1)  # the first op loads the remaining kernels (and prints the notice again)
    finally:
        sys.stderr.flush()
        os.dup2(saved, 2)
        os.close(saved)
        os.close(devnull)


def _keras():
    _quiet_import()
    import keras
    import tensorflow as tf

    tf.get_logger().setLevel("ERROR")  # no retracing chatter in the notebooks
    return keras


def set_seed(seed: int, threads: int | None = None) -> None:
    """Seed Python, NumPy and TensorFlow (``keras.utils.set_random_seed``); optionally fix TF's threads."""
    keras = _keras()
    keras.utils.set_random_seed(int(seed))
    if threads:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(threads)
            tf.config.threading.set_inter_op_parallelism_threads(1)
        except RuntimeError:  # already initialised: keep the existing setting
            pass


def set_precision(policy: str = "float32") -> str:
    """Keras' global dtype policy: ``"float32"`` or ``"mixed_bfloat16"`` (bf16 compute, fp32 weights).

    Output layers (softmax, the code, the sigmoid reconstruction) are always float32.  On a CPU
    with AVX-512 BF16, ``benchmarks/kws_precision.py`` measures the speed-up and the accuracy parity.
    """
    keras = _keras()
    keras.mixed_precision.set_global_policy(policy)
    return keras.mixed_precision.global_policy().name


def fastest_precision(bench: list[dict], model: str, max_acc_drop: float = 0.02, max_mse_rise: float = 0.10) -> str:
    """The policy of ``benchmarks/kws_precision.py``'s table ``bench`` that trained ``model`` ("cnn", "crnn",
    "ae") fastest while keeping its quality: test accuracy within ``max_acc_drop`` of float32 (CNN, CRNN) or
    validation MSE within ``max_mse_rise`` of it (autoencoder); float32 when none is faster or ``model``
    was not measured.  The chapter's ``PRECISION`` holds what this gave for the stored measurement
    (``book/models/kws_precision_benchmark.json``)."""
    rs = {r["policy"]: r for r in bench if r["model"] == model}
    if "float32" not in rs:
        return "float32"
    base = rs["float32"]
    keeps = {
        p: (r["test accuracy"] >= base["test accuracy"] - max_acc_drop)
        if "test accuracy" in r
        else (r["val MSE"] <= base["val MSE"] * (1 + max_mse_rise))
        for p, r in rs.items()
    }
    return max((p for p in rs if keeps[p]), key=lambda p: rs[p]["ratio_to_float32"])


def gru_steps(padding: str = "valid", frames: int = kd.N_FRAMES) -> int:
    """Time steps the CRNN's GRU sees: 4 × (Conv1D kernel 20/10/5/3 → MaxPool 2) over ``frames``."""
    t = frames
    for k in (20, 10, 5, 3):
        t = t - k + 1 if padding == "valid" else t
        t //= 2
    return t


# --------------------------------------------------------------------------
# Architectures (Tables 1-3)
# --------------------------------------------------------------------------
def build_cnn(input_shape=(kd.N_FRAMES, kd.N_ROWS, 1), n_classes: int = 12, padding: str = "valid"):
    """Table 1 (cnn-trad-fpool3-like): 3 × [Conv2D → MaxPool 2×2 → BN], Flatten, Dropout 0.2, softmax."""
    keras = _keras()
    L = keras.layers
    x = keras.Input(input_shape, name="mfcc_delta")
    h = x
    for filters, kernel in [(32, (20, 8)), (64, (10, 6)), (128, (5, 3))]:
        h = L.Conv2D(filters, kernel, padding=padding, activation="relu")(h)
        h = L.MaxPooling2D((2, 2))(h)
        h = L.BatchNormalization()(h)
    h = L.Flatten()(h)
    h = L.Dropout(0.2)(h)
    out = L.Dense(n_classes, activation="softmax", dtype="float32")(h)
    return keras.Model(x, out, name="cnn")


def build_crnn(input_shape=(kd.N_FRAMES, kd.N_ROWS, 1), n_classes: int = 12, padding: str = "valid"):
    """Table 2: 4 × [Conv1D (32/64/128/256, kernels 20/10/5/3) → MaxPool1D 2 → BN], GRU 128 (sequences),
    Dropout 0.2, Flatten, softmax.  Takes the same ``(101, 40, 1)`` block as the CNN (reshaped to 101 × 40)."""
    keras = _keras()
    L = keras.layers
    x = keras.Input(input_shape, name="mfcc_delta")
    h = L.Reshape((input_shape[0], int(np.prod(input_shape[1:]))))(x)
    for filters, kernel in [(32, 20), (64, 10), (128, 5), (256, 3)]:
        h = L.Conv1D(filters, kernel, strides=1, padding=padding, activation="relu")(h)
        h = L.MaxPooling1D(2)(h)
        h = L.BatchNormalization()(h)
    h = L.GRU(128, return_sequences=True)(h)
    h = L.Dropout(0.2)(h)
    h = L.Flatten()(h)
    out = L.Dense(n_classes, activation="softmax", dtype="float32")(h)
    return keras.Model(x, out, name="crnn")


def build_autoencoder(input_shape=(AE_FRAMES, kd.N_ROWS, 1), bottleneck: int = 128):
    """Table 3: encoder Conv2D 32 / 64 (3×3, ELU, 'same') each + MaxPool 2×2, Flatten, Dropout 0.2,
    Dense 128 (linear); decoder Dense 26·10·128 (ELU), Reshape, Conv2DTranspose 64 and 32 (stride 2,
    ELU), Conv2DTranspose 1 (sigmoid).  Returns ``(autoencoder, encoder)``."""
    keras = _keras()
    L = keras.layers
    t, f = input_shape[0] // 4, input_shape[1] // 4
    x = keras.Input(input_shape, name="mfcc_delta_01")
    h = L.Conv2D(32, (3, 3), padding="same", activation="elu")(x)
    h = L.MaxPooling2D((2, 2))(h)
    h = L.Conv2D(64, (3, 3), padding="same", activation="elu")(h)
    h = L.MaxPooling2D((2, 2))(h)
    h = L.Flatten()(h)
    h = L.Dropout(0.2)(h)
    z = L.Dense(bottleneck, activation=None, name="code", dtype="float32")(h)
    encoder = keras.Model(x, z, name="encoder")
    h = L.Dense(t * f * 128, activation="elu")(z)
    h = L.Reshape((t, f, 128))(h)
    h = L.Conv2DTranspose(64, (3, 3), strides=(2, 2), padding="same", activation="elu")(h)
    h = L.Conv2DTranspose(32, (3, 3), strides=(2, 2), padding="same", activation="elu")(h)
    out = L.Conv2DTranspose(
        input_shape[2], (3, 3), strides=(1, 1), padding="same", activation="sigmoid", dtype="float32"
    )(h)
    return keras.Model(x, out, name="autoencoder"), encoder


def count_params(model) -> int:
    return int(model.count_params())


# --------------------------------------------------------------------------
# Normalisation (fitted on training data, saved with the model)
# --------------------------------------------------------------------------
@dataclass
class Scaler:
    """Per-feature-row standardisation (``kind="standard"``) or min–max to [0, 1] (``kind="minmax"``)."""

    kind: str = "standard"
    a: np.ndarray | None = None
    b: np.ndarray | None = None

    def fit(self, X: np.ndarray) -> Scaler:
        """``X``: ``(n, 40, 101)`` features; statistics per row (coefficient) over clips and frames."""
        if self.kind == "standard":
            self.a = X.mean(axis=(0, 2), keepdims=True)[0]
            self.b = X.std(axis=(0, 2), keepdims=True)[0] + 1e-6
        elif self.kind == "minmax":
            self.a = X.min(axis=(0, 2), keepdims=True)[0]
            self.b = X.max(axis=(0, 2), keepdims=True)[0] - self.a + 1e-6
        else:
            raise ValueError(f"unknown scaler kind {self.kind!r}")
        return self

    def transform(self, X: np.ndarray) -> np.ndarray:
        out = (X - self.a) / self.b
        if self.kind == "minmax":
            out = np.clip(out, 0.0, 1.0)
        return out.astype(np.float32)

    def to_dict(self) -> dict:
        return {"kind": self.kind, "a": self.a.ravel().tolist(), "b": self.b.ravel().tolist()}

    @classmethod
    def from_dict(cls, d: dict) -> Scaler:
        return cls(d["kind"], np.asarray(d["a"], np.float32)[:, None], np.asarray(d["b"], np.float32)[:, None])


def model_input(X: np.ndarray, scaler: Scaler, frames: int = kd.N_FRAMES) -> np.ndarray:
    """``(n, 40, 101)`` features → scaled ``(n, frames, 40, 1)`` (zero-padded in time when ``frames > 101``)."""
    Z = scaler.transform(X)
    if frames != Z.shape[-1]:
        Z = np.pad(Z, [(0, 0), (0, 0), (0, frames - Z.shape[-1])]) if frames > Z.shape[-1] else Z[..., :frames]
    return kd.to_model_input(Z)


# --------------------------------------------------------------------------
# Training
# --------------------------------------------------------------------------
@dataclass
class Trained:
    """A trained model with everything needed to predict and to report."""

    kind: str  # "cnn" | "crnn" | "ae_svm"
    model: object  # keras classifier, or the encoder for ae_svm
    scaler: Scaler
    history: list = field(default_factory=list)
    train_time_s: float = 0.0
    epochs: int = 0
    best_epoch: int = 0
    svm: object = None
    info: dict = field(default_factory=dict)

    def predict_proba(self, X: np.ndarray, batch_size: int = 256) -> np.ndarray:
        """Class scores for ``(n, 40, 101)`` features (probabilities; SVM decision values for ae_svm)."""
        if self.kind == "ae_svm":
            codes = self.model.predict(model_input(X, self.scaler, AE_FRAMES), batch_size=batch_size, verbose=0)
            return self.svm.decision_function(codes)
        return self.model.predict(model_input(X, self.scaler), batch_size=batch_size, verbose=0)

    def predict(self, X: np.ndarray) -> np.ndarray:
        if self.kind == "ae_svm":
            codes = self.model.predict(model_input(X, self.scaler, AE_FRAMES), batch_size=256, verbose=0)
            return self.svm.predict(codes).astype(np.int64)
        return self.predict_proba(X).argmax(axis=1)


def train_classifier(
    kind: str,
    X_train,
    y_train,
    X_val,
    y_val,
    seed: int = 0,
    epochs: int = 30,
    patience: int = 4,
    batch_size: int = 64,
    class_weight: dict | None = None,
    learning_rate: float = 1e-3,
    verbose: int = 0,
    padding: str = "valid",
) -> Trained:
    """Train the CNN or CRNN: Adam, batch 64, early stopping on validation loss (best weights restored).

    ``epochs`` is only a cap; ``info["hit_cap"]`` says whether the run reached it, i.e. whether
    early stopping had not ended it first."""
    keras = _keras()
    set_seed(seed)
    scaler = Scaler("standard").fit(X_train)
    build = {"cnn": build_cnn, "crnn": build_crnn}[kind]
    model = build(n_classes=len(kd.LABELS), padding=padding)
    model.compile(
        optimizer=keras.optimizers.Adam(learning_rate), loss="sparse_categorical_crossentropy", metrics=["accuracy"]
    )
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=patience, restore_best_weights=True)
    t0 = time.perf_counter()
    hist = model.fit(
        model_input(X_train, scaler),
        np.asarray(y_train),
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(model_input(X_val, scaler), np.asarray(y_val)),
        class_weight=class_weight,
        callbacks=[stop],
        shuffle=True,
        verbose=verbose,
    )
    elapsed = time.perf_counter() - t0
    history = [
        dict(epoch=i + 1, **{k: float(v[i]) for k, v in hist.history.items()}) for i in range(len(hist.history["loss"]))
    ]
    best = int(np.argmin([h["val_loss"] for h in history])) + 1
    info = {
        "hit_cap": len(history) >= epochs and stop.stopped_epoch == 0,
        "epoch_cap": epochs,
        "samples_per_s": len(y_train) * len(history) / elapsed,
        "padding": padding,
    }
    return Trained(kind, model, scaler, history, elapsed, len(history), best, info=info)


def train_autoencoder(
    X_train,
    X_val,
    seed: int = 0,
    epochs: int = 50,
    batch_size: int = 64,
    verbose: int = 0,
    patience: int | None = None,
    min_delta: float = 0.0,
):
    """The autoencoder of Table 3: Adamax, MSE, at most ``epochs`` epochs.

    ``patience=None`` trains all ``epochs`` (the paper: 50); with a patience, training stops when
    the validation MSE has not fallen by ``min_delta`` for ``patience`` epochs (a plateau), and
    the best weights are restored."""
    keras = _keras()
    set_seed(seed)
    scaler = Scaler("minmax").fit(X_train)
    ae, encoder = build_autoencoder()
    ae.compile(optimizer=keras.optimizers.Adamax(), loss="mse")
    A_train, A_val = model_input(X_train, scaler, AE_FRAMES), model_input(X_val, scaler, AE_FRAMES)
    callbacks = []
    if patience is not None:
        callbacks.append(
            keras.callbacks.EarlyStopping(
                monitor="val_loss", patience=patience, min_delta=min_delta, restore_best_weights=True
            )
        )
    t0 = time.perf_counter()
    hist = ae.fit(
        A_train,
        A_train,
        batch_size=batch_size,
        epochs=epochs,
        validation_data=(A_val, A_val),
        shuffle=True,
        verbose=verbose,
        callbacks=callbacks,
    )
    elapsed = time.perf_counter() - t0
    history = [
        dict(epoch=i + 1, **{k: float(v[i]) for k, v in hist.history.items()}) for i in range(len(hist.history["loss"]))
    ]
    return ae, encoder, scaler, history, elapsed


def svm_pipeline(C: float = 1.0, gamma: float = "scale", class_weight=None, seed: int = 0):
    """Standardise the codes (fitted on training codes), then an RBF SVM.

    The paper does not say whether its codes were scaled; an RBF kernel's ``gamma`` grid only
    means something on a known scale, so the codes are standardised first.
    """
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler
    from sklearn.svm import SVC

    return Pipeline(
        [
            ("scale", StandardScaler()),
            ("svc", SVC(kernel="rbf", C=C, gamma=gamma, class_weight=class_weight, random_state=seed, cache_size=1000)),
        ]
    )


def grid_search_svm(
    codes, y, seed: int = 0, subset: int | None = 2000, cv: int = 3, n_jobs: int = 2, class_weight=None
):
    """RBF-SVM hyper-parameters by grid search (C × gamma of the paper) on a stratified subset, macro-F1.

    ``best_params_`` holds ``C`` and ``gamma`` (without the pipeline prefix)."""
    from sklearn.model_selection import GridSearchCV, StratifiedKFold, train_test_split

    codes, y = np.asarray(codes), np.asarray(y)
    if subset is not None and len(y) > subset:
        codes, _, y, _ = train_test_split(codes, y, train_size=subset, stratify=y, random_state=seed)
    grid = {f"svc__{k}": v for k, v in SVM_GRID.items()}
    search = GridSearchCV(
        svm_pipeline(class_weight=class_weight, seed=seed),
        grid,
        scoring="f1_macro",
        cv=StratifiedKFold(cv, shuffle=True, random_state=seed),
        n_jobs=n_jobs,
    )
    search.fit(codes, y)
    search.best_params_ = {k.removeprefix("svc__"): v for k, v in search.best_params_.items()}
    return search


def fit_svm(codes, y, C: float, gamma: float, resample: str | None = None, seed: int = 0, class_weight=None):
    """Fit the (standardise → RBF SVM) pipeline on encoder codes; ``resample="smoteenn"`` applies
    imblearn's SMOTEENN to the standardised codes first (SMOTE and ENN are distance-based).

    Returns ``(pipeline, counts_after)`` where ``counts_after`` are the class counts the SVM saw.
    """
    from sklearn.preprocessing import StandardScaler

    from lib.balancing import SMOTEENN

    codes, y = np.asarray(codes), np.asarray(y)
    pipe = svm_pipeline(C, gamma, class_weight, seed)
    scaler = StandardScaler().fit(codes)
    Z = scaler.transform(codes)
    if resample == "smoteenn":
        Z, y = SMOTEENN(random_state=seed).fit_resample(Z, y)
    elif resample is not None:
        raise ValueError(f"unknown resampler {resample!r}")
    pipe.steps[0] = ("scale", scaler)
    pipe.named_steps["svc"].fit(Z, y)
    labels, counts = np.unique(y, return_counts=True)
    return pipe, dict(zip(labels.tolist(), counts.tolist()))


# --------------------------------------------------------------------------
# Save / load / predict
# --------------------------------------------------------------------------
#: The keyword spotter shipped with the book and used by default: the CRNN (``book/models/kws_crnn``).
#: The CNN and the AE-SVM are shipped beside it (``kws_cnn``, ``kws_ae_svm``).
DEFAULT_MODEL = shipped.FOLDER / "kws_crnn"


def save(trained: Trained, folder, operating_point: dict | None = None) -> Path:
    """Write ``model.keras`` (the classifier, or the encoder for ae_svm), ``svm.joblib`` and ``meta.json``.

    ``operating_point``: the decision threshold chosen for the model, stored in ``meta.json`` and applied
    by :func:`predict_files`, e.g. ``{"threshold": t, "rule": ..., "chosen_on": ..., "false_keyword_rate_val":
    ...}`` with ``t`` from :func:`threshold_for_rate` on validation scores (only ``threshold`` is required;
    the firing rule is :func:`fires`).  Without it the model has none and is used by arg-max.
    """
    if operating_point is not None:
        if trained.kind == "ae_svm":
            raise ValueError("the AE-SVM's scores are SVM decision values: no operating point is defined for them")
        if not 0.0 <= float(operating_point.get("threshold", -1.0)) <= 1.0:
            raise ValueError(f"operating_point needs a 'threshold' in [0, 1], got {operating_point!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    trained.model.save(folder / "model.keras")
    if trained.svm is not None:
        import joblib

        joblib.dump(trained.svm, folder / "svm.joblib", compress=3)
    meta = {
        "kind": trained.kind,
        "labels": kd.LABELS,
        "features": kd.FEATURE_PARAMS,
        "scaler": trained.scaler.to_dict(),
        "epochs": trained.epochs,
        "best_epoch": trained.best_epoch,
        "train_time_s": trained.train_time_s,
        "input": "(frames, 40, 1): 20 MFCC + 20 delta rows",
        "long_clips": "cut to the loudest 1-s window (lib.features.loudest_window)",
    }
    if operating_point is not None:
        meta["operating_point"] = {**operating_point, "threshold": float(operating_point["threshold"])}
    (folder / "meta.json").write_text(json.dumps(meta, indent=1))
    return folder


def model_size_mib(folder) -> float:
    """Size on disk of a saved model folder (all files)."""
    return sum(f.stat().st_size for f in Path(folder).rglob("*") if f.is_file()) / 2**20


def load(folder=None) -> Trained:
    """A model folder written by :func:`save` (default: the shipped CRNN, :data:`DEFAULT_MODEL`); its
    ``meta.json`` (features, scaler, operating point) is in ``.info``."""
    folder = shipped.resolve(folder, DEFAULT_MODEL)
    meta_file = folder / "meta.json"
    if not meta_file.is_file():
        raise FileNotFoundError(f"{folder}: not a saved keyword-spotting model (no meta.json)")
    meta = json.loads(meta_file.read_text())
    model = _keras().models.load_model(folder / "model.keras", compile=False)
    svm = None
    if meta["kind"] == "ae_svm":
        import joblib

        svm = joblib.load(folder / "svm.joblib")
    return Trained(
        meta["kind"],
        model,
        Scaler.from_dict(meta["scaler"]),
        epochs=meta.get("epochs", 0),
        best_epoch=meta.get("best_epoch", 0),
        svm=svm,
        info=meta,
    )


def operating_threshold(trained: Trained) -> float | None:
    """The threshold of the operating point stored with a model (``meta.json``), or ``None`` when it has none."""
    op = (trained.info or {}).get("operating_point")
    return None if not op else float(op["threshold"])


def predict_files(paths, model_dir=None, *, threshold="stored", raw: bool = False):
    """Label audio files with a saved keyword spotter (default: the shipped CRNN, :data:`DEFAULT_MODEL`).

    ``paths``: audio files (or one path); ``model_dir``: a folder written by :func:`save` (e.g.
    ``"book/models/kws_cnn"``; a relative folder is also looked up from the project root) or a loaded
    :class:`Trained`.  The old argument order ``predict_files(model_dir, paths)`` still works.

    Any of WAV/FLAC/Opus, any sample rate (resampled to 16 kHz), mono or stereo (averaged to
    mono), any length: a clip shorter than 1 s is zero-padded (with a warning naming the file and its
    duration), a longer one is cut to its **loudest 1-second window** (highest energy,
    :func:`lib.features.loudest_window`), where a keyword in a longer recording most likely is.  The
    features are the ones stored with the model (``meta.json``).  A file that cannot be read raises
    :class:`lib.data.DataError` naming it.

    **Decision.**  ``threshold="stored"`` (default) applies the model's stored operating point
    (``meta.json`` ``operating_point``, chosen on validation data in the book run; the shipped CNN and
    CRNN have one, the AE-SVM has none and is labelled by the SVM): a clip whose winning class is a
    keyword with a probability below the threshold does not fire (the rule of :func:`fires`) and is
    labelled ``_unknown_``; ``_silence_`` and ``_unknown_`` wins stay as they are.  ``threshold=None``: the
    arg-max class (no operating point); a number: that threshold.  A model without a stored operating
    point is labelled by arg-max; ``out.attrs["threshold"]`` says which threshold was applied (``None``: none).

    Returns a DataFrame with columns ``path``, ``label`` and ``score`` (the winning class's probability,
    also when a keyword below the threshold became ``_unknown_``; the SVM decision value for the AE-SVM).
    ``raw=True`` returns the score table instead: ``path`` and one column per label (probabilities; SVM
    decision values for the AE-SVM), before any threshold.
    """
    import os
    import warnings

    import pandas as pd
    import soundfile as sf

    from lib import data

    if isinstance(paths, (str, os.PathLike, Trained)) and not isinstance(model_dir, (str, os.PathLike, Trained)):
        if model_dir is not None:  # the old order: predict_files(model_dir, paths)
            paths, model_dir = model_dir, paths
    if isinstance(paths, (str, os.PathLike)):
        paths = [paths]
    trained = model_dir if isinstance(model_dir, Trained) else load(model_dir)
    paths = [str(p) for p in paths]
    if threshold == "stored":
        threshold = operating_threshold(trained)
    elif threshold is not None and trained.kind == "ae_svm":
        raise ValueError("the AE-SVM's scores are SVM decision values: pass threshold=None or 'stored'")
    if not paths:
        out = pd.DataFrame(columns=["path", *kd.LABELS] if raw else ["path", "label", "score"])
        out.attrs["threshold"] = None if raw else threshold
        return out
    waves = []
    for p in paths:
        try:
            waves.append(kd.load_for_prediction(p))
        except data.DataError:
            raise
        except Exception as exc:  # anything else still names the file
            raise data.AudioError(f"{p}: cannot be used for keyword spotting ({type(exc).__name__}: {exc})") from exc
        try:
            seconds = sf.info(str(data.resolve_audio(p))).duration
        except Exception:  # noqa: BLE001 (decoded above; a header soundfile cannot describe only skips the check)
            seconds = None
        if seconds is not None and seconds < kd.CLIP / kd.SR - 1e-3:
            warnings.warn(
                f"{p}: {seconds:.2f} s is shorter than the keyword spotter's 1-s window; zero-padded", stacklevel=2
            )
    X = kd.features(np.stack(waves), trained.info.get("features") if trained.info else None)
    scores = trained.predict_proba(X)
    if raw:
        out = pd.DataFrame(np.asarray(scores, dtype=float), columns=kd.LABELS)
        out.insert(0, "path", paths)
        out.attrs["threshold"] = None
        return out
    if trained.kind == "ae_svm":
        idx = trained.predict(X)
    elif threshold is None:
        idx = scores.argmax(axis=1)
    else:
        fired, idx = fires(scores, float(threshold))
        idx = np.where(np.isin(idx, KEYWORD_IDX) & ~fired, kd.LABELS.index("_unknown_"), idx)
    labels = [kd.LABELS[i] for i in idx]
    top = scores.max(axis=1) if scores.ndim == 2 else scores
    out = pd.DataFrame({"path": paths, "label": labels, "score": top.astype(float)})
    out.attrs["threshold"] = None if trained.kind == "ae_svm" else threshold
    return out


class MemoryPeak:
    """Context manager: the peak resident memory (MiB) of this process while the block runs, and its rise.

    Samples ``psutil``'s RSS every ``interval`` seconds in a thread (TensorFlow's allocations are
    invisible to ``tracemalloc``).
    """

    def __init__(self, interval: float = 0.05):
        self.interval = interval
        self.peak_mib = self.start_mib = 0.0

    def __enter__(self):
        import threading

        import psutil

        self._proc = psutil.Process()
        self.start_mib = self.peak_mib = self._proc.memory_info().rss / 2**20
        self._stop = threading.Event()

        def watch():
            while not self._stop.wait(self.interval):
                self.peak_mib = max(self.peak_mib, self._proc.memory_info().rss / 2**20)

        self._thread = threading.Thread(target=watch, daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()
        self.peak_mib = max(self.peak_mib, self._proc.memory_info().rss / 2**20)
        return False

    @property
    def rise_mib(self) -> float:
        return self.peak_mib - self.start_mib


# --------------------------------------------------------------------------
# Keyword-spotting trade-off: keyword recall against false keywords
# --------------------------------------------------------------------------
KEYWORD_IDX = np.arange(len(kd.KEYWORDS))  # keywords are the first ten labels


def fires(scores: np.ndarray, threshold: float) -> tuple[np.ndarray, np.ndarray]:
    """``(fired, keyword)``: a clip fires when its winning class is a keyword whose score is ≥ ``threshold``."""
    scores = np.asarray(scores)
    win = scores.argmax(axis=1)
    top = scores.max(axis=1)
    fired = np.isin(win, KEYWORD_IDX) & (top >= threshold)
    return fired, win


def tradeoff(scores: np.ndarray, y: np.ndarray, thresholds):
    """Per threshold: keyword recall (keyword clips whose own keyword fires) and the false-keyword rate
    (share of non-keyword clips — `_unknown_` and `_silence_` — on which any keyword fires)."""
    import pandas as pd

    y = np.asarray(y)
    is_kw = np.isin(y, KEYWORD_IDX)
    rows = []
    for t in thresholds:
        fired, win = fires(scores, t)
        rows.append(
            {
                "threshold": float(t),
                "keyword_recall": float(np.mean(fired[is_kw] & (win[is_kw] == y[is_kw]))),
                "false_keyword_rate": float(np.mean(fired[~is_kw])),
            }
        )
    return pd.DataFrame(rows)


def threshold_for_rate(scores: np.ndarray, y: np.ndarray, target: float) -> float:
    """The lowest threshold whose false-keyword rate on (``scores``, ``y``) is ≤ ``target``."""
    y = np.asarray(y)
    neg = ~np.isin(y, KEYWORD_IDX)
    fired, _ = fires(scores, 0.0)
    top = np.asarray(scores).max(axis=1)
    # just above each firing non-keyword clip's score: that clip stops firing there
    cand = np.unique(np.concatenate([[0.0], np.nextafter(top[neg & fired], np.inf)]))
    for t in cand:
        f, _ = fires(scores, t)
        if np.mean(f[neg]) <= target:
            return float(t)
    return float(np.nextafter(top.max(), np.inf))
