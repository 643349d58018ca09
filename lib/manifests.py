"""Manifests (one row per item of a corpus), CSV tables with malformed rows, group-disjoint splits.

Part of :mod:`lib.data` (which re-exports every name here).
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from lib.audio import AUDIO_EXTENSIONS, resolve_audio
from lib.corpora import DataError, DataMissingError, corpus_dir
from lib.provenance import record_corpus_use


# --------------------------------------------------------------------------
# Manifests
# --------------------------------------------------------------------------
def _speech_commands_from_layout(folder: Path) -> pd.DataFrame:
    keywords = {"yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"}
    rows = []
    for word_dir in sorted(p for p in folder.iterdir() if p.is_dir()):
        word = word_dir.name
        if word == "_background_noise_":
            continue
        for f in sorted(word_dir.iterdir()):
            if f.suffix.lower() not in AUDIO_EXTENSIONS:
                continue
            speaker = f.stem.split("_nohash_")[0] if "_nohash_" in f.stem else ""
            label = word if word in keywords or word == "_silence_" else "_unknown_"
            rows.append({"path": f"{word}/{f.name}", "word": word, "label12": label, "speaker": speaker})
    return pd.DataFrame(rows)


def _librispeech_from_layout(folder: Path) -> pd.DataFrame:
    rows = []
    for trans in sorted(folder.rglob("*.trans.txt")):
        for line in trans.read_text().splitlines():
            utt, _, text = line.partition(" ")
            rel = (trans.parent / f"{utt}.flac").relative_to(folder)
            rows.append({"path": str(rel), "transcript": text, "speaker": utt.split("-")[0]})
    return pd.DataFrame(rows)


EMODB_EMOTIONS = {
    "W": "anger",
    "L": "boredom",
    "E": "disgust",
    "A": "fear",
    "F": "happiness",
    "T": "sadness",
    "N": "neutral",
}


def _emodb_from_layout(folder: Path) -> pd.DataFrame:
    rows = []
    for f in sorted((folder / "wav").iterdir()):
        if f.suffix.lower() not in AUDIO_EXTENSIONS or len(f.stem) != 7:
            continue
        rows.append(
            {
                "path": f"wav/{f.name}",
                "speaker": f.stem[:2],
                "text": f.stem[2:5],
                "emotion": EMODB_EMOTIONS[f.stem[5]],
                "version": f.stem[6],
            }
        )
    df = pd.DataFrame(rows)
    ratings = folder / "erkennung.txt"
    if ratings.exists():
        r = pd.read_csv(ratings, sep="\t", encoding="latin-1", decimal=",")
        r.columns = [c.strip() for c in r.columns]
        r["stem"] = r["Satz"].str.strip().str.replace(r"\.\w+$", "", regex=True)
        r = r.rename(columns={"erkannt": "recognition_pct", "natuerlich": "naturalness_pct"})
        df["stem"] = df["path"].map(lambda p: Path(p).stem)
        df = df.merge(r[["stem", "recognition_pct", "naturalness_pct"]], on="stem", how="left").drop(columns="stem")
    return df


_LAYOUT_BUILDERS = {
    "speech_commands_v0.02": _speech_commands_from_layout,
    "speech_commands_v0.01_extra": _speech_commands_from_layout,
    "speech_commands_train_keywords": _speech_commands_from_layout,
    "mini_librispeech": _librispeech_from_layout,
    "librispeech_100": _librispeech_from_layout,
    "emodb": _emodb_from_layout,
}


def manifest(name: str, duplicates: str = "warn") -> pd.DataFrame:
    """The corpus table, one row per item, with ``abs_path`` pointing at the existing audio file.

    Uses the corpus's ``manifest.csv`` when present (the offline mirror), otherwise
    builds it from the official folder layout.  Rows whose audio is missing raise
    :class:`DataMissingError` listing the first few, except for corpora that carry
    an ``audio_available`` column (votes without audio).

    A file listed twice is an error with ``duplicates="error"``; with ``"warn"``
    (default) one row is kept — the one whose ``duration_s`` matches the file —
    a warning names the file, and ``df.attrs["duplicates"]`` lists what was dropped.
    """
    folder = corpus_dir(name)
    file = folder / "manifest.csv"
    if name == "emodb":
        df = _emodb_from_layout(folder)
    elif file.exists():
        df = pd.read_csv(file, keep_default_na=False, na_values=[""])
    elif name in _LAYOUT_BUILDERS:
        df = _LAYOUT_BUILDERS[name](folder)
    else:
        raise DataMissingError(f"{file}: no manifest.csv for corpus '{name}' and no layout rule to build one")
    if "path" in df.columns and "audio_available" not in df.columns:
        df["abs_path"] = [_existing(folder / p) for p in df["path"]]
        missing = df.loc[df["abs_path"].isna(), "path"].tolist()
        if missing:
            raise DataMissingError(
                f"{file}: {len(missing)} listed files are missing under {folder}, e.g. {missing[:3]}"
            )
        df = _resolve_duplicates(df, file, duplicates)
    record_corpus_use(name)
    return df


def _resolve_duplicates(df: pd.DataFrame, file: Path, policy: str) -> pd.DataFrame:
    duplicated = df["abs_path"].duplicated(keep=False)
    df.attrs["duplicates"] = []
    if not duplicated.any():
        return df
    names = sorted(set(df.loc[duplicated, "path"]))
    if policy == "error":
        raise DataError(f"{file}: {len(names)} files are listed more than once, e.g. {names[:3]}")
    keep = pd.Series(True, index=df.index)
    for _, rows in df[duplicated].groupby("abs_path"):
        best = rows.index[0]
        if "duration_s" in rows.columns:
            actual = sf.info(rows["abs_path"].iloc[0]).duration
            best = (rows["duration_s"].astype(float) - actual).abs().idxmin()
        keep[rows.index.drop(best)] = False
    dropped = df.loc[~keep, "path"].tolist()
    df.attrs["duplicates"] = dropped
    warnings.warn(
        f"{file}: {len(dropped)} duplicate row(s) dropped, kept the row matching the file: {names[:5]}", stacklevel=3
    )
    out = df[keep].reset_index(drop=True)
    out.attrs["duplicates"] = dropped
    return out


def read_table(path: str | os.PathLike, **kwargs) -> pd.DataFrame:
    """Read a CSV table; malformed rows (e.g. a truncated last row) are reported, not silently lost.

    The rows that cannot be parsed are dropped with a warning naming the file and the
    line; ``df.attrs["bad_lines"]`` keeps their count.
    """
    path = Path(path)
    if not path.is_file():
        raise DataMissingError(f"{path}: no such table")
    try:
        df = pd.read_csv(path, **kwargs)
        df.attrs["bad_lines"] = 0
        return df
    except pd.errors.ParserError as exc:
        first_error = str(exc)
    bad: list = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        df = pd.read_csv(path, engine="python", on_bad_lines="warn", **kwargs)
    messages = [str(w.message).strip() for w in caught if issubclass(w.category, pd.errors.ParserWarning)]
    bad.extend(messages)
    warnings.warn(
        f"{path}: {len(bad) or 1} malformed row(s) skipped ({first_error}; {'; '.join(bad)[:200]})", stacklevel=2
    )
    df.attrs["bad_lines"] = len(bad) or 1
    return df


def _existing(path: Path) -> str | None:
    try:
        return str(resolve_audio(path))
    except DataMissingError:
        return None


# --------------------------------------------------------------------------
# Splits
# --------------------------------------------------------------------------
def speaker_disjoint_split(
    groups,
    fractions: dict[str, float],
    seed: int = 0,
) -> np.ndarray:
    """Assign every item to a split so that no group (speaker, source recording) spans two splits.

    ``fractions`` maps split name to the wanted share of *groups*, e.g.
    ``{"train": .8, "val": .1, "test": .1}``.  Returns an array of split names.
    """
    groups = np.asarray(groups)
    if not np.isclose(sum(fractions.values()), 1.0):
        raise ValueError(f"split fractions must sum to 1, got {fractions}")
    unique = np.array(sorted(set(groups.tolist())))
    rng = np.random.default_rng(seed)
    rng.shuffle(unique)
    bounds = np.cumsum([0.0] + list(fractions.values())) * len(unique)
    bounds = np.round(bounds).astype(int)
    assignment = {}
    for name, lo, hi in zip(fractions, bounds[:-1], bounds[1:]):
        for g in unique[lo:hi]:
            assignment[g] = name
    return np.array([assignment[g] for g in groups.tolist()])


def check_disjoint(groups, splits) -> None:
    """Raise if any group occurs in more than one split."""
    df = pd.DataFrame({"g": np.asarray(groups), "s": np.asarray(splits)})
    spread = df.groupby("g")["s"].nunique()
    leaking = spread[spread > 1]
    if len(leaking):
        raise DataError(f"{len(leaking)} groups occur in more than one split, e.g. {leaking.index[:3].tolist()}")
