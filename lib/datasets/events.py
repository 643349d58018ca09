"""Rare acoustic events (dog bark, baby cry, gun shot vs background) for the triple-header chapter.

Everything the chapter needs between the corpus (:func:`lib.data.manifest` of
``acoustic_events``) and the model input:

* :func:`source_groups` — the source recording of every clip, so that a split never puts two
  cuts of one recording on both sides (UrbanSound8K: the ``fsID``, the first number of the
  file name; ESC-50 and SESA: the manifest's ``fold`` group id; Donate-a-Cry: the uploader's
  id, the UUID that starts the file name).  UrbanSound8K and ESC-50 both cut Freesound
  recordings, so both are keyed ``freesound:<id>`` and a recording shared by the two corpora
  stays in one split.
* :func:`split` — train/validation/test by source recording (70/20/10 of the recordings,
  stratified by the rarest label a recording carries).
* :func:`ratio_subset` — the paper's training ratios (6:1:2:16, 2:2:1:26) by subsampling.
* :func:`logmel_features` — every clip at 8 kHz and only the band below ``FMAX`` = 3.5 kHz
  (removes the bandwidth confound: Donate-a-Cry is 8 kHz, the rest 16 kHz, and resampling
  alone leaves a trace in the 3.5–4 kHz band, where the 8 kHz recordings' own anti-alias
  filter rolls off), the loudest ``crop_s`` seconds, 64 log-mel energies with 25 ms frames
  and a 10 ms hop; cached on disk once per file list and parameters.
* :func:`bandwidth_features` and :func:`bandwidth_confound` — the check that a classifier
  seeing only bandwidth descriptors can tell 8 kHz recordings apart before resampling, and
  whether it still can in the band the models see.
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from lib import balancing, data, features

CORPUS = "acoustic_events"
EVENTS = ("dog_bark", "baby_cry", "gun_shot")
BACKGROUND = "background"
LABELS = EVENTS + (BACKGROUND,)  # class index = position (background is the last class)
SPLITS = {"train": 0.7, "val": 0.2, "test": 0.1}
RATIO_6_1_2_16 = {"dog_bark": 6, "baby_cry": 1, "gun_shot": 2, "background": 16}
RATIO_2_2_1_26 = {"dog_bark": 2, "baby_cry": 2, "gun_shot": 1, "background": 26}


# --------------------------------------------------------------------------
# Manifest, groups, split
# --------------------------------------------------------------------------
def load_manifest() -> pd.DataFrame:
    """The corpus table with ``group`` (source recording) and ``y`` (class index into :data:`LABELS`)."""
    df = data.manifest(CORPUS)
    return annotate(df)


def annotate(df: pd.DataFrame) -> pd.DataFrame:
    unknown = sorted(set(df["label"]) - set(LABELS))
    if unknown:
        raise data.DataError(f"acoustic_events manifest: unknown labels {unknown} (expected {LABELS})")
    df = df.copy()
    df["group"] = source_groups(df)
    df["y"] = df["label"].map({lab: i for i, lab in enumerate(LABELS)}).astype(int)
    return df


def source_groups(df: pd.DataFrame) -> pd.Series:
    """Source-recording id of every row (see the module docstring); raises naming the file it cannot group."""
    out = []
    for path, corpus, fold in zip(df["path"], df["corpus"], df.get("fold", pd.Series([None] * len(df)))):
        name = os.path.basename(str(path))
        c = str(corpus).lower()
        if "urbansound" in c:
            fsid = name.split("-")[0]
            if not fsid.isdigit():
                raise data.DataError(f"{path}: UrbanSound8K file name does not start with a numeric fsID")
            out.append(f"freesound:{fsid}")
        elif "donateacry" in c or "donate" in c:
            uid = name[:36]
            if len(uid) < 36 or uid.count("-") != 4:
                raise data.DataError(f"{path}: Donate-a-Cry file name does not start with the uploader's UUID")
            out.append(f"donateacry:{uid}")
        else:
            if fold is None or (isinstance(fold, float) and np.isnan(fold)) or str(fold) == "":
                raise data.DataError(f"{path}: {corpus} row has no source-recording group id in column 'fold'")
            out.append(str(fold))
    return pd.Series(out, index=df.index, name="group")


def split(df: pd.DataFrame, fractions: dict | None = None, seed: int = 0) -> np.ndarray:
    """Train/val/test by source recording, stratified by the rarest label of each recording.

    Fractions are shares of recordings within each stratum (70/20/10 by default); returns
    an array of split names aligned with ``df`` and checks that no recording spans two splits.
    """
    fractions = fractions or SPLITS
    counts = df["label"].value_counts()
    rarest = df.groupby("group")["label"].agg(lambda s: min(s, key=lambda lab: counts[lab]))
    out = pd.Series("", index=df.index, dtype=object)
    for stratum, groups in rarest.groupby(rarest):  # noqa: B007 (grouping only)
        rows = df["group"].isin(groups.index)
        out[rows] = data.speaker_disjoint_split(df.loc[rows, "group"].to_numpy(), fractions, seed=seed)
    data.check_disjoint(df["group"], out)
    return out.to_numpy()


def cross_validation_folds(df: pd.DataFrame, n_folds: int = 5, val_share: float = 0.2, seed: int = 0) -> pd.DataFrame:
    """k-fold cross-validation by source recording: every clip is tested exactly once.

    Returns one column per fold, ``fold0`` …, holding ``train`` / ``val`` / ``test`` for every row.
    The test parts are the folds of :class:`sklearn.model_selection.StratifiedGroupKFold` (groups: source
    recordings, strata: labels); within the other folds, about ``val_share`` of the recordings go to a
    validation part (again grouped and stratified) for early stopping.  No recording ever spans two parts
    of one fold (checked).
    """
    from sklearn.model_selection import StratifiedGroupKFold

    y, groups = df["label"].to_numpy(), df["group"].to_numpy()
    outer = StratifiedGroupKFold(n_splits=n_folds, shuffle=True, random_state=seed)
    out = pd.DataFrame(index=df.index)
    for k, (rest, test) in enumerate(outer.split(np.zeros(len(df)), y, groups)):
        inner = StratifiedGroupKFold(n_splits=max(2, int(round(1 / val_share))), shuffle=True, random_state=seed + k)
        tr, va = next(inner.split(np.zeros(len(rest)), y[rest], groups[rest]))
        part = np.empty(len(df), dtype=object)
        part[test], part[rest[tr]], part[rest[va]] = "test", "train", "val"
        data.check_disjoint(df["group"], part)
        out[f"fold{k}"] = part
    return out


def ratio_subset(labels, ratio: dict, seed: int = 0, max_unit: int | None = None) -> tuple[np.ndarray, dict]:
    """Indices of a subsample whose class counts follow ``ratio`` (label -> parts), and those counts.

    The counts are the largest that the available clips allow (:func:`lib.balancing.counts_for_ratio`),
    optionally with at most ``max_unit`` clips per ratio part (a smaller profile).
    """
    labels = np.asarray(labels)
    available = {lab: int((labels == lab).sum()) for lab in ratio}
    counts = balancing.counts_for_ratio(available, ratio)
    unit = counts[next(iter(ratio))] // ratio[next(iter(ratio))]
    if max_unit is not None and unit > max_unit:
        counts = {lab: int(max_unit * r) for lab, r in ratio.items()}
    return balancing.subsample_to_counts(labels, counts, seed=seed), counts


# --------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------
SR = 8000
FMAX = 3500.0  # the mel filters' upper edge: below the 8 kHz recordings' anti-alias roll-off
FRAME = dict(n_fft=256, win_length=200, hop_length=80)  # 25 ms frames, 10 ms hop at 8 kHz


def logmel_clip_batch(waves: np.ndarray, sr: int = SR, n_mels: int = 64, fmax: float = FMAX) -> np.ndarray:
    """64 log-mel energies (dB) of equal-length waveforms over 0–``fmax`` Hz, shape (n, n_mels, n_frames)."""
    return features.log_mel(waves, sr=sr, n_mels=n_mels, fmax=fmax, **FRAME)


def logmel_files(
    paths, crop_s: float, n_mels: int = 64, fmax: float = FMAX, n_jobs: int = 2, chunk: int = 256
) -> np.ndarray:
    """The models' input for any audio files: each decoded at 8 kHz (mono), its loudest ``crop_s`` s
    (zero-padded if shorter), 64 log-mel energies over 0–``fmax`` Hz; float32 ``(n_files, n_mels, n_frames)``.

    A file that cannot be decoded raises an error naming it (:func:`lib.data.load_audio`).
    """
    paths = [str(p) for p in paths]
    n = int(round(crop_s * SR))
    out = []
    for start in range(0, len(paths), chunk):
        waves = data.load_many(paths[start : start + chunk], sr=SR, n_jobs=n_jobs)
        batch = np.stack([features.loudest_window(w, n, hop=FRAME["hop_length"]) for w in waves])
        out.append(logmel_clip_batch(batch, SR, n_mels, fmax))
    return np.concatenate(out).astype(np.float32)


def logmel_features(
    df: pd.DataFrame, crop_s: float, n_mels: int = 64, fmax: float = FMAX, n_jobs: int = 2, chunk: int = 256
) -> np.ndarray:
    """Log-mel features (0–``fmax`` Hz) of every row of ``df`` at 8 kHz: the loudest ``crop_s`` s (zero-padded if shorter).

    Cached on disk (key: corpus fingerprint, the file list, every parameter).
    Returns float32 ``(n_clips, n_mels, n_frames)``.
    """
    paths = [str(p) for p in df["abs_path"]]

    def compute():
        return {"X": logmel_files(paths, crop_s, n_mels, fmax, n_jobs, chunk)}

    rel = [os.path.relpath(p, data.corpus_dir(CORPUS)) for p in paths]
    return features.cached(
        "events_logmel",
        compute,
        corpus=data.fingerprint(CORPUS),
        files=rel,
        sr=SR,
        crop_s=crop_s,
        n_mels=n_mels,
        fmax=fmax,
        frame=FRAME,
    )["X"]


def normalise(X_train: np.ndarray, *others: np.ndarray):
    """Per-mel-band mean/variance normalisation with training statistics only."""
    st = features.Standardizer(axis=(0, -1)).fit(X_train)
    return (st.transform(X_train), *[st.transform(X) for X in others])


# --------------------------------------------------------------------------
# The bandwidth confound
# --------------------------------------------------------------------------
BANDWIDTH_FEATURES = ("top_eighth_db", "top_quarter_db", "rolloff95", "rolloff99", "cutoff60")


def bandwidth_features(y: np.ndarray, sr: int, fmax: float | None = None) -> np.ndarray:
    """Descriptors of how far up the band 0–``fmax`` Hz (default: Nyquist) a clip's spectrum reaches.

    Energy share (dB) of the top eighth and top quarter of the band, the 95 % and 99 % roll-off
    frequencies and the highest frequency within 60 dB of the spectral peak, as fractions of
    the band's upper edge.  They describe bandwidth, not the sound's content.  With ``fmax``
    below Nyquist only what a model restricted to that band could see is described.
    """
    from scipy.signal import welch

    if len(y) < 256:
        y = np.pad(y, (0, 256 - len(y)))
    f, p = welch(y.astype(np.float64), fs=sr, nperseg=256)
    nyq = sr / 2 if fmax is None else min(float(fmax), sr / 2)
    inside = f <= nyq
    f, p = f[inside], p[inside] + 1e-20
    total = p.sum()
    cum = np.cumsum(p) / total
    top8 = p[f >= nyq * 7 / 8].sum() / total
    top4 = p[f >= nyq * 3 / 4].sum() / total
    r95 = f[np.searchsorted(cum, 0.95)] / nyq
    r99 = f[min(np.searchsorted(cum, 0.99), len(f) - 1)] / nyq
    above = np.flatnonzero(10 * np.log10(p / p.max()) > -60)
    cut = f[above[-1]] / nyq if len(above) else 0.0
    return np.array([10 * np.log10(top8), 10 * np.log10(top4), r95, r99, cut], dtype=np.float64)


def bandwidth_table(df: pd.DataFrame, sr: int, fmax: float | None = None, n_jobs: int = 2) -> np.ndarray:
    """:func:`bandwidth_features` of every clip decoded at analysis rate ``sr``, band 0–``fmax`` (cached)."""
    paths = [str(p) for p in df["abs_path"]]

    def compute():
        waves = data.load_many(paths, sr=sr, n_jobs=n_jobs)
        return {"F": np.stack([bandwidth_features(w, sr, fmax) for w in waves])}

    rel = [os.path.relpath(p, data.corpus_dir(CORPUS)) for p in paths]
    return features.cached(
        "events_bandwidth", compute, corpus=data.fingerprint(CORPUS), files=rel, sr=sr, fmax=fmax, version=2
    )["F"]


def bandwidth_confound(F: np.ndarray, target, groups, n_splits: int = 5, seed: int = 0) -> dict:
    """Cross-validated balanced accuracy and ROC AUC of a logistic regression on bandwidth-only features.

    Folds never split a source recording (``groups``).  Chance level is 0.5 for both numbers.
    """
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import balanced_accuracy_score, roc_auc_score
    from sklearn.model_selection import StratifiedGroupKFold, cross_val_predict
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    target = np.asarray(target).astype(int)
    clf = make_pipeline(StandardScaler(), LogisticRegression(class_weight="balanced", max_iter=1000))
    cv = StratifiedGroupKFold(n_splits=n_splits, shuffle=True, random_state=seed)
    proba = cross_val_predict(clf, F, target, groups=np.asarray(groups), cv=cv, method="predict_proba")[:, 1]
    return {
        "balanced_accuracy": float(balanced_accuracy_score(target, proba >= 0.5)),
        "roc_auc": float(roc_auc_score(target, proba)),
    }
