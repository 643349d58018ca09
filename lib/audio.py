"""Audio decoding: find a file's existing format, load one or many files, scan a corpus for bad files.

A file may exist as ``.wav``, ``.flac`` or ``.opus`` for the same stem (the offline mirror stores
Opus, the official archives WAV/FLAC); :func:`resolve_audio` finds whichever exists.  Audio is
read with soundfile.  Part of :mod:`lib.data` (which re-exports every name here).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

from lib.corpora import AudioError, DataError, DataMissingError

AUDIO_EXTENSIONS = (".wav", ".flac", ".opus")


# --------------------------------------------------------------------------
# Audio
# --------------------------------------------------------------------------
def resolve_audio(path: str | os.PathLike) -> Path:
    """Return the existing file for ``path``'s stem among .wav, .flac and .opus."""
    path = Path(path)
    if path.is_file():
        return path
    stem = path.with_suffix("") if path.suffix.lower() in AUDIO_EXTENSIONS else path
    for ext in AUDIO_EXTENSIONS:
        candidate = stem.with_suffix(ext)
        if candidate.is_file():
            return candidate
    raise DataMissingError(f"{path}: no such audio file (also tried {', '.join(AUDIO_EXTENSIONS)} for the stem)")


def load_audio(path: str | os.PathLike, sr: int | None = 16000, mono: bool = True) -> tuple[np.ndarray, int]:
    """Read an audio file as float32, downmixed to mono and resampled to ``sr``.

    Raises :class:`AudioError` naming the file when it is empty, cannot be decoded
    (truncated, not audio) or holds NaN/Inf samples.  ``sr=None`` keeps the file's rate.
    """
    file = resolve_audio(path)
    if file.stat().st_size == 0:
        raise AudioError(f"{file}: empty file (0 bytes)")
    try:
        y, file_sr = sf.read(file, dtype="float32", always_2d=True)
    except Exception as exc:  # soundfile raises LibsndfileError / RuntimeError for bad bytes
        raise AudioError(f"{file}: cannot decode as audio ({exc})") from exc
    if y.shape[0] == 0:
        raise AudioError(f"{file}: decodes to zero samples")
    if not np.isfinite(y).all():
        raise AudioError(f"{file}: contains NaN or infinite samples")
    y = y.mean(axis=1) if mono else y.T
    if sr is not None and file_sr != sr:
        import librosa

        y = librosa.resample(y, orig_sr=file_sr, target_sr=sr, res_type="soxr_hq").astype(np.float32)
        file_sr = sr
    return np.ascontiguousarray(y, dtype=np.float32), file_sr


def load_many(paths, sr: int = 16000, n_jobs: int = 1) -> list[np.ndarray]:
    """Load a list of files; ``n_jobs>1`` decodes in a thread pool (libsndfile releases the GIL)."""
    if n_jobs == 1:
        return [load_audio(p, sr)[0] for p in paths]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(n_jobs) as pool:
        return list(pool.map(lambda p: load_audio(p, sr)[0], paths))


def scan_audio(paths, n_jobs: int = 2) -> pd.DataFrame:
    """Decode every file; returns one row per rejected file with the reason (never drops silently)."""

    def check(p):
        try:
            load_audio(p, sr=None)
            return None
        except DataError as exc:
            return {"path": str(p), "reason": str(exc)}

    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(n_jobs) as pool:
        rejected = [r for r in pool.map(check, list(paths)) if r is not None]
    return pd.DataFrame(rejected, columns=["path", "reason"])
