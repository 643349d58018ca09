"""LibriSpeech-style corpora for the speech-recognition chapter: speaker-disjoint splits and cached features.

* ``mini_librispeech`` (train-clean-5, 28 speakers): one corpus, split here by speaker
  into train / dev / test (:func:`speaker_split`).
* ``librispeech_100`` (profile ``full``): the official ``train-clean-100`` /
  ``dev-clean`` / ``test-clean`` subsets, whose speakers are already disjoint
  (:func:`official_split`).

Features (normalised log-mel, :func:`lib.models.asr.asr_features`) are computed once per
corpus fingerprint + file list + parameters and cached on disk (:func:`lib.features.cached`).
"""

from __future__ import annotations

from dataclasses import asdict

import numpy as np
import pandas as pd
import soundfile as sf

from lib import data, features
from lib.models.asr import TEXT, FeatureConfig, asr_features


def load_manifest(corpus: str = "mini_librispeech") -> pd.DataFrame:
    """The corpus table with ``utt``, normalised ``text`` and ``duration_s`` (read from headers if absent)."""
    df = data.manifest(corpus).copy()
    if "transcript" not in df.columns:
        raise data.DataError(f"{data.corpus_dir(corpus)}: manifest has no 'transcript' column")
    df["utt"] = df["path"].map(lambda p: str(p).rsplit("/", 1)[-1].rsplit(".", 1)[0])
    # A missing transcript would otherwise become the text "nan" (or an empty target CTC cannot learn from).
    text = df["transcript"].where(df["transcript"].notna(), "").astype(str).map(TEXT.normalize)
    empty = df.loc[text == "", "abs_path"].astype(str).tolist()
    if empty:
        raise data.DataError(f"{corpus}: {len(empty)} utterances have no transcript, e.g. {empty[:3]}")
    df["text"] = text
    if "duration_s" not in df.columns:
        df["duration_s"] = df["abs_path"].map(lambda p: sf.info(p).duration)
    df["speaker"] = df["speaker"].astype(str)
    return df


def speaker_split(df: pd.DataFrame, fractions: dict[str, float] | None = None, seed: int = 0) -> pd.DataFrame:
    """Add a ``split`` column so that no speaker is in two splits (checked)."""
    fractions = fractions or {"train": 22 / 28, "dev": 3 / 28, "test": 3 / 28}
    out = df.copy()
    out["split"] = data.speaker_disjoint_split(out["speaker"], fractions, seed=seed)
    data.check_disjoint(out["speaker"], out["split"])
    return out


def official_split(df: pd.DataFrame) -> pd.DataFrame:
    """``split`` from the LibriSpeech subset folder: train-clean-100 → train, dev-clean → dev, test-clean → test."""
    names = {
        "train-clean-100": "train",
        "train-clean-5": "train",
        "dev-clean": "dev",
        "dev-clean-2": "dev",
        "test-clean": "test",
    }
    subset = df["path"].map(lambda p: next((part for part in str(p).split("/") if part in names), None))
    if subset.isna().any():
        bad = df.loc[subset.isna(), "path"].iloc[0]
        raise data.DataError(f"{bad}: not under a known LibriSpeech subset folder ({', '.join(names)})")
    out = df.copy()
    out["split"] = subset.map(names)
    data.check_disjoint(out["speaker"], out["split"])
    return out


def select(
    df: pd.DataFrame, split: str, max_utts: int | None = None, max_duration_s: float | None = None, seed: int = 0
) -> pd.DataFrame:
    """Utterances of one split, optionally at most ``max_duration_s`` long and a random subset of ``max_utts``."""
    part = df[df["split"] == split]
    if max_duration_s is not None:
        part = part[part["duration_s"] <= max_duration_s]
    if max_utts is not None and len(part) > max_utts:
        part = part.sample(max_utts, random_state=seed)
    return part.sort_values("utt").reset_index(drop=True)


def compute_features(paths, cfg: FeatureConfig = FeatureConfig(), n_jobs: int = 2) -> list[np.ndarray]:  # noqa: B008 (a frozen config)
    """Features of each file, decoded in chunks (bounded memory)."""
    out = []
    paths = list(paths)
    for i in range(0, len(paths), 64):
        for y in data.load_many(paths[i : i + 64], sr=cfg.sr, n_jobs=n_jobs):
            out.append(asr_features(y, cfg).astype(np.float16))
    return out


def cached_features(df: pd.DataFrame, corpus: str, cfg: FeatureConfig = FeatureConfig()) -> list[np.ndarray]:  # noqa: B008
    """Features for the rows of ``df`` (in order), cached on disk per corpus fingerprint, files and parameters."""
    utts = df["utt"].tolist()

    def compute():
        feats = compute_features(df["abs_path"], cfg)
        lengths = np.array([f.shape[1] for f in feats], dtype=np.int64)
        return {"feats": np.concatenate(feats, axis=1), "lengths": lengths}

    arrays = features.cached(
        "asr_logmel",
        compute,
        corpus=corpus,
        fingerprint=data.fingerprint(corpus),
        utts=utts,
        cfg=asdict(cfg),
        version=1,
    )
    bounds = np.r_[0, np.cumsum(arrays["lengths"])]
    return [arrays["feats"][:, a:b] for a, b in zip(bounds[:-1], bounds[1:])]
