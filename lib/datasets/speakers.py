"""Speaker sets for the Siamese speaker-embedding chapter.

* :func:`speech_commands_speakers` — every Speech Commands clip that has a speaker id (the hash before
  ``_nohash_``), from ``speech_commands_v0.02`` + ``speech_commands_v0.01_extra`` (+ optionally
  ``speech_commands_train_keywords``).  The same hash in two folders is the same person, so splits are
  made on the union and are speaker-disjoint across folders.
* :func:`timit_speakers` — a TIMIT directory the user owns (``TRAIN/DR*/SPEAKER/*.WAV``, also ``TEST``).
* :func:`librispeech_crops` — random 1–3 s crops of Mini LibriSpeech utterances (cross-corpus test).
* :func:`sample_pairs` — random same/different-speaker *training* pairs with a chosen ratio (drawn with
  replacement, fresh every epoch); by default both recordings of a pair carry *different* words/sentences,
  so that matching the word cannot help.
* :func:`distinct_trials` — *evaluation* trials: distinct pairs without replacement, at most a fixed number
  of same-speaker pairs per speaker (so that a few prolific speakers cannot dominate), and as many
  different-speaker pairs starting from each speaker; every trial carries its first speaker as the
  resampling group for speaker-level bootstrap intervals.  :func:`trial_concentration` says how much the
  cap matters.
* :func:`clip_features` / :func:`crop_features` — normalised log-mel spectrograms and MFCC statistics,
  cached on disk once per file list and parameters.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from lib import data, features

#: Front end shared by training and :func:`embed_files` (stored in every checkpoint).
FEATURE_PARAMS = {"sr": 16000, "n_fft": 512, "win_length": 400, "hop_length": 160, "n_mels": 40}


# --------------------------------------------------------------------------
# Front end
# --------------------------------------------------------------------------
def log_mel_normalised(y, params: dict | None = None) -> np.ndarray:
    """Log-mel spectrogram(s) of equal-length waveform(s), each normalised to zero mean and unit variance.

    ``y``: ``(n_samples,)`` or ``(n_clips, n_samples)``; returns ``(..., n_mels, n_frames)`` float32.
    The per-spectrogram mean/std normalisation is the article's "subtract the mean and divide by the
    standard deviation"; it needs no training statistics, so unseen recordings are treated identically.
    ``params["norm"] = "band"`` adds :func:`band_normalise` (per-band normalisation over time).
    """
    p = {**FEATURE_PARAMS, **(params or {})}
    S = features.log_mel(
        y, sr=p["sr"], n_fft=p["n_fft"], hop_length=p["hop_length"], win_length=p["win_length"], n_mels=p["n_mels"]
    )
    out = features.per_clip_normalize(S[None])[0] if S.ndim == 2 else features.per_clip_normalize(S)
    if p.get("norm", "clip") == "band":
        out = band_normalise(out)
    return out


def band_normalise(X: np.ndarray, eps: float = 1e-6) -> np.ndarray:
    """Per-utterance normalisation of every mel band over time (CMVN): ``(..., n_mels, n_frames)``.

    Removes each recording's long-term spectral envelope, which carries the microphone and room as
    well as part of the voice; the chapter's cross-corpus remedy.
    """
    X = np.asarray(X, dtype=np.float32)
    return ((X - X.mean(axis=-1, keepdims=True)) / (X.std(axis=-1, keepdims=True) + eps)).astype(np.float32)


def mfcc_stats(y, n_mfcc: int = 20, params: dict | None = None) -> np.ndarray:
    """Mean and standard deviation over time of ``n_mfcc`` MFCCs: ``(..., 2 * n_mfcc)``."""
    p = {**FEATURE_PARAMS, **(params or {})}
    M = features.mfcc(
        y,
        sr=p["sr"],
        n_mfcc=n_mfcc,
        n_fft=p["n_fft"],
        hop_length=p["hop_length"],
        win_length=p["win_length"],
        n_mels=p["n_mels"],
    )
    return np.concatenate([M.mean(axis=-1), M.std(axis=-1)], axis=-1).astype(np.float32)


SPEECH_COMMANDS = ("speech_commands_v0.02", "speech_commands_v0.01_extra")
SPEECH_COMMANDS_EXTRA = "speech_commands_train_keywords"


# --------------------------------------------------------------------------
# Tables: one row per recording with columns abs_path, speaker, text, corpus
# --------------------------------------------------------------------------
def speech_commands_speakers(
    include_train_keywords: bool = True, n_speakers: int | None = None, seed: int = 0
) -> pd.DataFrame:
    """Speech Commands clips with a speaker: ``abs_path, path, speaker, text (the word), corpus``.

    ``n_speakers`` keeps a random subset of speakers (for small profiles).  ``_silence_`` clips
    (no speaker) are left out.
    """
    names = list(SPEECH_COMMANDS) + ([SPEECH_COMMANDS_EXTRA] if include_train_keywords else [])
    frames = []
    for name in names:
        df = data.manifest(name)
        df = df[df["speaker"].fillna("").astype(str) != ""]
        frames.append(
            pd.DataFrame(
                {
                    "abs_path": df["abs_path"],
                    "path": df["path"],
                    "speaker": df["speaker"].astype(str),
                    "text": df["word"].astype(str),
                    "corpus": name,
                }
            )
        )
    out = pd.concat(frames, ignore_index=True)
    if n_speakers is not None:
        keep = _pick(sorted(out["speaker"].unique()), n_speakers, seed)
        out = out[out["speaker"].isin(keep)]
    return out.sort_values(["speaker", "path"]).reset_index(drop=True)


def timit_speakers(root: str | os.PathLike) -> pd.DataFrame:
    """A TIMIT corpus in its standard layout: ``<root>/{TRAIN,TEST}/DR<n>/<SPEAKER>/<SENTENCE>.WAV``.

    Returns ``abs_path, path, speaker, text (sentence id, e.g. SA1), corpus, official_split (train/test),
    dialect, sex``.  Upper- or lower-case names are accepted.  A missing folder or one without
    TIMIT files raises :class:`lib.data.DataMissingError` naming it.
    """
    root = Path(root)
    if not root.is_dir():
        raise data.DataMissingError(f"{root}: TIMIT folder not found (expected TRAIN/DR*/SPEAKER/*.WAV inside)")
    rows = []
    for f in sorted(root.rglob("*")):
        if f.suffix.lower() not in {".wav", ".flac", ".opus"} or f.name.startswith("."):
            continue
        rel = f.relative_to(root)
        parts = rel.parts
        if len(parts) < 4 or parts[-4].lower() not in {"train", "test"} or not parts[-3].lower().startswith("dr"):
            continue
        if f.stem.upper().endswith(".WAV"):  # some copies hold both X.WAV (SPHERE) and X.WAV.wav
            continue
        speaker = parts[-2].upper()
        rows.append(
            {
                "abs_path": str(f),
                "path": rel.as_posix(),
                "speaker": speaker,
                "text": f.stem.upper(),
                "corpus": "timit",
                "official_split": parts[-4].lower(),
                "dialect": parts[-3].upper(),
                "sex": speaker[0],
            }
        )
    if not rows:
        raise data.DataMissingError(f"{root}: no TIMIT recordings found (expected TRAIN/DR*/SPEAKER/*.WAV)")
    return pd.DataFrame(rows)


def split_speakers(df: pd.DataFrame, fractions: dict[str, float], seed: int = 0) -> pd.DataFrame:
    """Add a speaker-disjoint ``split`` column (checked).  Rows with an ``official_split`` of ``test``
    (TIMIT) stay test; the fractions then divide the remaining speakers."""
    df = df.copy()
    if "official_split" in df.columns:
        test = df["official_split"].eq("test").to_numpy()
        rest = {k: v for k, v in fractions.items() if k != "test"}
        total = sum(rest.values())
        rest = {k: v / total for k, v in rest.items()}
        split = np.full(len(df), "test", dtype=object)
        split[~test] = data.speaker_disjoint_split(df.loc[~test, "speaker"], rest, seed=seed)
        df["split"] = split
    else:
        df["split"] = data.speaker_disjoint_split(df["speaker"], fractions, seed=seed)
    data.check_disjoint(df["speaker"], df["split"])
    return df


def librispeech_crops(
    n_per_speaker: int, min_s: float = 1.0, max_s: float = 3.0, seed: int = 0, corpus: str = "mini_librispeech"
) -> pd.DataFrame:
    """Random crops of LibriSpeech utterances: ``n_per_speaker`` per speaker, each from a different
    utterance where possible, length uniform in ``[min_s, max_s]`` (10-ms steps), position uniform.

    Returns ``abs_path, speaker, text (utterance id), start_s, duration_s, corpus``.
    """
    man = data.manifest(corpus)
    rng = np.random.default_rng(seed)
    rows = []
    for speaker, utts in man.groupby("speaker", sort=True):
        take = rng.choice(len(utts), size=n_per_speaker, replace=n_per_speaker > len(utts))
        for k in take:
            u = utts.iloc[int(k)]
            total = float(u["duration_s"])
            dur = min(round(float(rng.uniform(min_s, max_s)), 2), total)
            start = round(float(rng.uniform(0, max(total - dur, 0))), 2)
            rows.append(
                {
                    "abs_path": u["abs_path"],
                    "speaker": str(speaker),
                    "text": Path(u["path"]).stem,
                    "start_s": start,
                    "duration_s": dur,
                    "corpus": corpus,
                }
            )
    return pd.DataFrame(rows)


def _pick(items, n, seed):
    items = list(items)
    if n >= len(items):
        return items
    rng = np.random.default_rng(seed)
    return [items[i] for i in sorted(rng.choice(len(items), size=n, replace=False))]


# --------------------------------------------------------------------------
# Pairs
# --------------------------------------------------------------------------
def sample_pairs(
    speaker, text, n_pairs: int, same_fraction: float = 0.5, seed: int = 0, different_text: bool = True
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Random pairs of recordings ``(i, j, same)``: ``round(n_pairs · same_fraction)`` same-speaker pairs.

    Same-speaker pairs pick a speaker uniformly (among those with two usable recordings), then two
    different recordings of it; different-speaker pairs pick two recordings uniformly whose speakers
    differ.  With ``different_text`` the two recordings of every pair carry different text (word,
    sentence, utterance), for target and non-target pairs alike.  Pairs come in random order.
    """
    speaker = np.asarray(speaker).astype(str)
    text = np.asarray(text).astype(str)
    if speaker.shape != text.shape:
        raise ValueError("speaker and text must have one entry per recording")
    if not 0.0 <= same_fraction <= 1.0:
        raise ValueError(f"same_fraction must be in [0, 1], got {same_fraction}")
    rng = np.random.default_rng(seed)
    n_same = int(round(n_pairs * same_fraction))
    n_diff = n_pairs - n_same
    by_speaker = pd.Series(np.arange(len(speaker))).groupby(speaker).apply(np.asarray).to_dict()
    usable = [s for s, idx in by_speaker.items() if len(idx) >= 2 and (not different_text or len(set(text[idx])) >= 2)]
    if n_same and not usable:
        raise ValueError("no speaker has two recordings (with different text) to form a same-speaker pair")
    if n_diff and len(by_speaker) < 2:
        raise ValueError("different-speaker pairs need at least two speakers")
    i_same = np.empty(n_same, dtype=np.int64)
    j_same = np.empty(n_same, dtype=np.int64)
    for k, s in enumerate(rng.choice(len(usable), size=n_same)):
        idx = by_speaker[usable[s]]
        a = idx[rng.integers(len(idx))]
        ok = idx[(idx != a) & ((text[idx] != text[a]) if different_text else True)]
        while len(ok) == 0:  # only reachable without alternatives for this recording
            a = idx[rng.integers(len(idx))]
            ok = idx[(idx != a) & ((text[idx] != text[a]) if different_text else True)]
        i_same[k], j_same[k] = a, ok[rng.integers(len(ok))]
    i_diff = rng.integers(len(speaker), size=n_diff)
    j_diff = rng.integers(len(speaker), size=n_diff)
    for _ in range(1000):
        bad = (speaker[i_diff] == speaker[j_diff]) | ((text[i_diff] == text[j_diff]) if different_text else False)
        if not bad.any():
            break
        j_diff[bad] = rng.integers(len(speaker), size=int(bad.sum()))
    else:
        raise ValueError("could not draw different-speaker pairs with different text")
    i = np.r_[i_same, i_diff]
    j = np.r_[j_same, j_diff]
    same = np.r_[np.ones(n_same, dtype=np.int8), np.zeros(n_diff, dtype=np.int8)]
    order = rng.permutation(n_pairs)
    return i[order], j[order], same[order]


def _target_candidates(idx: np.ndarray, text: np.ndarray, different_text: bool) -> list[tuple[int, int]]:
    """Every unordered pair of two recordings of one speaker (with different text if asked)."""
    out = []
    for a in range(len(idx)):
        for b in range(a + 1, len(idx)):
            if not different_text or text[idx[a]] != text[idx[b]]:
                out.append((int(idx[a]), int(idx[b])))
    return out


def distinct_trials(
    speaker,
    text,
    max_targets_per_speaker: int = 50,
    nontargets_per_target: float = 1.0,
    seed: int = 0,
    different_text: bool = True,
) -> dict[str, np.ndarray]:
    """Verification trials as *distinct* pairs drawn without replacement.

    For every speaker with two usable recordings: all its distinct same-speaker pairs (different text),
    or ``max_targets_per_speaker`` of them drawn without replacement when it has more — the cap keeps a
    few speakers with many recordings from dominating the target trials.  Then, for each such speaker,
    ``round(n_targets · nontargets_per_target)`` different-speaker pairs whose first recording is that
    speaker's and whose second is a random recording of another speaker (different text); no unordered
    pair occurs twice among all trials.

    Returns a dict of arrays ``i, j, same (int8), group (the first recording's speaker)``; ``group`` is
    the unit for :func:`lib.metrics.bootstrap_ci` (every group holds targets and non-targets, so a
    speaker resample always has both classes).
    """
    speaker = np.asarray(speaker).astype(str)
    text = np.asarray(text).astype(str)
    if speaker.shape != text.shape:
        raise ValueError("speaker and text must have one entry per recording")
    if max_targets_per_speaker < 1:
        raise ValueError("max_targets_per_speaker must be at least 1")
    rng = np.random.default_rng(seed)
    by_speaker = pd.Series(np.arange(len(speaker))).groupby(speaker).apply(np.asarray).to_dict()
    seen: set[tuple[int, int]] = set()
    i_all, j_all, same_all, group_all = [], [], [], []
    for s in sorted(by_speaker):
        cands = _target_candidates(by_speaker[s], text, different_text)
        if not cands:
            continue
        take = rng.choice(len(cands), size=min(len(cands), max_targets_per_speaker), replace=False)
        for k in sorted(take):
            a, b = cands[k]
            seen.add((a, b))
            i_all.append(a), j_all.append(b), same_all.append(1), group_all.append(s)
        n_non = int(round(len(take) * nontargets_per_target))
        own = by_speaker[s]
        others = np.flatnonzero(speaker != s)
        got, tries = 0, 0
        while got < n_non:
            tries += 1
            if tries > 100 * n_non + 1000:
                raise ValueError(f"speaker {s}: could not draw {n_non} distinct different-speaker pairs")
            a = int(own[rng.integers(len(own))])
            b = int(others[rng.integers(len(others))])
            if different_text and text[a] == text[b]:
                continue
            key = (min(a, b), max(a, b))
            if key in seen:
                continue
            seen.add(key)
            i_all.append(a), j_all.append(b), same_all.append(0), group_all.append(s)
            got += 1
    if not i_all:
        raise ValueError("no speaker has two recordings (with different text) to form a same-speaker pair")
    return {
        "i": np.array(i_all, dtype=np.int64),
        "j": np.array(j_all, dtype=np.int64),
        "same": np.array(same_all, dtype=np.int8),
        "group": np.array(group_all),
    }


def trial_concentration(speaker, text, cap: int | None, top: int = 10, different_text: bool = True) -> dict[str, float]:
    """How much of the same-speaker pairs the ``top`` most prolific speakers would hold.

    ``cap=None``: all distinct same-speaker pairs; otherwise at most ``cap`` per speaker.
    Returns ``n_targets``, ``n_speakers`` (with at least one pair), ``top_share`` (of the targets held by
    the ``top`` speakers with most pairs) and ``speaker_share`` (``top`` / ``n_speakers``).
    """
    speaker = np.asarray(speaker).astype(str)
    text = np.asarray(text).astype(str)
    counts = []
    for _, idx in pd.Series(np.arange(len(speaker))).groupby(speaker):
        idx = idx.to_numpy()
        if different_text:
            words = pd.Series(text[idx]).value_counts().to_numpy()
            n = len(idx) * (len(idx) - 1) // 2 - int((words * (words - 1) // 2).sum())
        else:
            n = len(idx) * (len(idx) - 1) // 2
        counts.append(n if cap is None else min(n, cap))
    counts = np.sort(np.array(counts))[::-1]
    counts = counts[counts > 0]
    return {
        "n_targets": int(counts.sum()),
        "n_speakers": int(len(counts)),
        "top_share": float(counts[:top].sum() / counts.sum()),
        "speaker_share": float(top / len(counts)),
    }


# --------------------------------------------------------------------------
# Features (cached)
# --------------------------------------------------------------------------
def _corpus_fingerprints(df: pd.DataFrame) -> dict:
    out = {}
    for c in sorted(df["corpus"].unique()):
        out[c] = data.fingerprint(c) if c in data.CORPORA else c
    return out


def clip_features(
    df: pd.DataFrame, clip_s: float = 1.0, n_mfcc: int = 20, crop: str = "start", chunk: int = 1000, n_jobs: int = 2
) -> dict[str, np.ndarray]:
    """Normalised log-mel ``logmel (n, n_mels, frames)`` and MFCC mean+std ``mfcc (n, 2·n_mfcc)`` of
    fixed-length clips (cut/padded to ``clip_s``; ``crop="loudest"`` keeps the loudest window of longer
    recordings).  Cached per file list, corpus fingerprint and parameters."""
    params = FEATURE_PARAMS
    n = int(round(clip_s * params["sr"]))
    paths = df["abs_path"].tolist()

    def compute():
        mels, mfccs = [], []
        for s in range(0, len(paths), chunk):
            waves = data.load_many(paths[s : s + chunk], sr=params["sr"], n_jobs=n_jobs)
            if crop == "loudest":
                batch = np.stack([features.loudest_window(y, n) for y in waves])
            else:
                batch = np.stack([features.fix_length(y, n) for y in waves])
            mels.append(log_mel_normalised(batch, params))
            mfccs.append(mfcc_stats(batch, n_mfcc, params))
        return {"logmel": np.concatenate(mels).astype(np.float32), "mfcc": np.concatenate(mfccs)}

    rel = [os.path.relpath(p, data.data_dir()) for p in paths]
    return features.cached(
        "speakers_clips",
        compute,
        files=rel,
        data=_corpus_fingerprints(df),
        clip_s=clip_s,
        n_mfcc=n_mfcc,
        crop=crop,
        params=params,
    )


def load_segment(path: str | os.PathLike, start_s: float, duration_s: float, sr: int = 16000) -> np.ndarray:
    """Decode only ``[start_s, start_s + duration_s)`` of a file (mono, resampled to ``sr``)."""
    file = data.resolve_audio(path)
    try:
        info = sf.info(file)
        y, file_sr = sf.read(
            file,
            start=int(start_s * info.samplerate),
            frames=int(round(duration_s * info.samplerate)),
            dtype="float32",
            always_2d=True,
        )
    except Exception as exc:
        raise data.AudioError(f"{file}: cannot decode segment ({exc})") from exc
    y = y.mean(axis=1)
    if len(y) == 0:
        raise data.AudioError(f"{file}: segment at {start_s} s is empty")
    if file_sr != sr:
        import librosa

        y = librosa.resample(y, orig_sr=file_sr, target_sr=sr, res_type="soxr_hq")
    return np.ascontiguousarray(y, dtype=np.float32)


def crop_features(crops: pd.DataFrame, n_mfcc: int = 20, n_jobs: int = 2) -> dict[str, object]:
    """Features of variable-length crops (from :func:`librispeech_crops`): ``logmel`` is a list of
    ``(n_mels, frames)`` matrices, ``mfcc`` an ``(n, 2·n_mfcc)`` array.  Cached."""
    params = FEATURE_PARAMS
    rows = list(crops[["abs_path", "start_s", "duration_s"]].itertuples(index=False))

    def compute():
        from concurrent.futures import ThreadPoolExecutor

        with ThreadPoolExecutor(n_jobs) as pool:
            waves = list(pool.map(lambda r: load_segment(r[0], r[1], r[2], params["sr"]), rows))
        mels = [log_mel_normalised(y, params) for y in waves]
        mfcc = np.stack([mfcc_stats(y, n_mfcc, params) for y in waves])
        return {
            "logmel_flat": np.concatenate(mels, axis=1),
            "lengths": np.array([m.shape[1] for m in mels]),
            "mfcc": mfcc,
        }

    rel = [(os.path.relpath(r[0], data.data_dir()), r[1], r[2]) for r in rows]
    z = features.cached(
        "speakers_crops", compute, crops=rel, data=_corpus_fingerprints(crops), n_mfcc=n_mfcc, params=params
    )
    bounds = np.r_[0, np.cumsum(z["lengths"])]
    return {"logmel": [z["logmel_flat"][:, a:b] for a, b in zip(bounds[:-1], bounds[1:])], "mfcc": z["mfcc"]}
