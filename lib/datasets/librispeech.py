"""LibriSpeech-style corpora for the speech-recognition chapter: speaker-disjoint splits and cached features.

* ``mini_librispeech`` (train-clean-5, 28 speakers): one corpus, split here by speaker
  into train / dev / test (:func:`speaker_split`).
* ``librispeech_100`` (profile ``full``): the official ``train-clean-100`` /
  ``dev-clean`` / ``test-clean`` subsets, whose speakers are already disjoint
  (:func:`official_split`).

Features (normalised log-mel, :func:`asr_features`) are computed once per
corpus fingerprint + file list + parameters and cached on disk (:func:`lib.features.cached`).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np
import pandas as pd
import soundfile as sf

from lib import data, features

# --------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------
CHARS = ["'", "<SPACE>"] + [chr(c) for c in range(ord("a"), ord("z") + 1)]


class TextTransform:
    """Map characters to integers and back (apostrophe 0, ``<SPACE>`` 1, a–z 2–27; blank = 28).

    Text is lower-cased; any other character raises ``ValueError`` naming it
    (use :meth:`normalize` first for free text).
    """

    def __init__(self):
        self.char_map = {c: i for i, c in enumerate(CHARS)}
        self.index_map = {i: c for c, i in self.char_map.items()}
        self.blank = len(CHARS)
        self.n_classes = len(CHARS) + 1

    @staticmethod
    def normalize(text: str) -> str:
        """Lower-case, keep letters, apostrophes and single spaces (drop everything else)."""
        kept = "".join(ch if ("a" <= ch <= "z" or ch == "'") else " " for ch in text.lower())
        return " ".join(kept.split())

    def text_to_int(self, text: str) -> list[int]:
        out = []
        for ch in text.lower():
            key = "<SPACE>" if ch == " " else ch
            if key not in self.char_map:
                raise ValueError(f"character {ch!r} is not in the character map (text: {text[:60]!r})")
            out.append(self.char_map[key])
        return out

    def int_to_text(self, labels) -> str:
        return "".join(self.index_map[int(i)] for i in labels).replace("<SPACE>", " ")


TEXT = TextTransform()


# --------------------------------------------------------------------------
# Features
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class FeatureConfig:
    sr: int = 16000
    n_fft: int = 400
    hop_length: int = 160
    n_mels: int = 64


def asr_features(y: np.ndarray, cfg: FeatureConfig = FeatureConfig()) -> np.ndarray:
    """Log-mel spectrogram (dB) of one waveform, normalised per utterance: ``(n_mels, n_frames)`` float32."""
    S = features.log_mel(y, sr=cfg.sr, n_fft=cfg.n_fft, hop_length=cfg.hop_length, n_mels=cfg.n_mels)
    return features.per_clip_normalize(S[None])[0]


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
