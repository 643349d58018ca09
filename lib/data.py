"""Corpora, manifests, audio loading and splits.

One setting decides where the data lives: the environment variable
``AUDIO_REPRO_DATA`` (a folder holding one sub-folder per corpus, e.g. the
offline mirror ``../shared/data``).  When it is unset the data live in
``~/.cache/audio-repro/data`` and, with ``AUDIO_REPRO_DOWNLOAD=1``, a missing
corpus that has an official archive is downloaded there and verified against
its published checksum.

Audio is read with soundfile.  A file may exist as ``.wav``, ``.flac`` or
``.opus`` for the same stem (the offline mirror stores Opus, the official
archives WAV/FLAC); :func:`resolve_audio` finds whichever exists.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import warnings
import zipfile
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

DATA_ENV = "AUDIO_REPRO_DATA"
DOWNLOAD_ENV = "AUDIO_REPRO_DOWNLOAD"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = Path("~/.cache/audio-repro/data").expanduser()
AUDIO_EXTENSIONS = (".wav", ".flac", ".opus")


class DataError(Exception):
    """Base class for every data problem; the message always names the file."""


class DataMissingError(DataError, FileNotFoundError):
    """A corpus or file is not where the data-directory setting says."""


class AudioError(DataError, ValueError):
    """An audio file exists but cannot be used (empty, truncated, not audio, NaN)."""


class ChecksumError(DataError):
    """A downloaded archive does not match its published checksum."""


# --------------------------------------------------------------------------
# The registry
# --------------------------------------------------------------------------
@dataclass(frozen=True)
class Archive:
    url: str
    algorithm: str | None  # "sha256" or "md5"; None where no digest is published
    digest: str | None
    size: int | None = None


@dataclass(frozen=True)
class Corpus:
    name: str
    title: str
    licence: str
    sample_rate: int | None
    description: str
    archives: tuple[Archive, ...] = ()
    # How the official archive unpacks relative to the corpus folder; "" = in place.
    notes: str = ""
    citation: str = ""
    extra: dict = field(default_factory=dict)

    @property
    def downloadable(self) -> bool:
        return bool(self.archives) and all(a.digest for a in self.archives)


CORPORA: dict[str, Corpus] = {
    c.name: c
    for c in [
        Corpus(
            "speech_commands_v0.02",
            "Google Speech Commands v0.02 (official 12-class test set + background noise)",
            "CC BY 4.0",
            16000,
            "Keyword clips of 1 s in <word>/<speaker>_nohash_<n> layout; `_background_noise_/` and the "
            "official testing/validation lists.",
            (
                # The official 12-class test set (sha256 from tensorflow/datasets url_checksums) ...
                Archive(
                    "http://download.tensorflow.org/data/speech_commands_test_set_v0.02.tar.gz",
                    "sha256",
                    "cc2a00c1147c2254e9be3fa0f779d8c17421dc349b86366567a8edfa9acd51df",
                    112563277,
                ),
                # ... and the full dataset (training words, _background_noise_, official lists; profile `full`).
                Archive(
                    "http://download.tensorflow.org/data/speech_commands_v0.02.tar.gz",
                    "sha256",
                    "af14739ee7dc311471de98f5f9d2c9191b18aedfe957f4a6ff791c709868ff58",
                    2428923189,
                ),
            ),
            citation="Warden, P. (2018). Speech Commands: A dataset for limited-vocabulary speech recognition. arXiv:1804.03209.",
        ),
        Corpus(
            "speech_commands_v0.01_extra",
            "Google Speech Commands v0.01 (words bed, cat, happy)",
            "CC BY 4.0",
            16000,
            "Non-keyword words used to enlarge `_unknown_`; official v0.01 lists.",
            (
                # md5 from pytorch/audio torchaudio/datasets/checksums/SPEECHCOMMANDS.txt
                Archive(
                    "http://download.tensorflow.org/data/speech_commands_v0.01.tar.gz",
                    "md5",
                    "3cd23799cb2bbdec517f1cc028f8d43c",
                ),
            ),
            citation="Warden, P. (2018). arXiv:1804.03209.",
        ),
        Corpus(
            "speech_commands_train_keywords",
            "Speech Commands training-portion keyword clips (TensorFlow mini_speech_commands)",
            "CC BY 4.0",
            16000,
            "8 keywords (no on/off) from speakers outside the official test portion.",
            (
                Archive(
                    "http://storage.googleapis.com/download.tensorflow.org/data/mini_speech_commands.zip", None, None
                ),
            ),
            citation="Warden, P. (2018). arXiv:1804.03209.",
        ),
        Corpus(
            "mini_librispeech",
            "Mini LibriSpeech train-clean-5 (OpenSLR 31)",
            "CC BY 4.0",
            16000,
            "LibriSpeech/train-clean-5/<spk>/<chapter>/<utt> with *.trans.txt transcripts.",
            # md5 from openslr resources/31/md5sum.txt (also PaddleSpeech's recipe)
            (
                Archive(
                    "https://www.openslr.org/resources/31/train-clean-5.tar.gz",
                    "md5",
                    "5df7d4e78065366204ca6845bb08f490",
                    332954390,
                ),
            ),
            citation="Panayotov, V. et al. (2015). LibriSpeech: an ASR corpus based on public domain audio books. ICASSP.",
        ),
        Corpus(
            "librispeech_100",
            "LibriSpeech train-clean-100 + dev-clean + test-clean (OpenSLR 12), profile `full` only",
            "CC BY 4.0",
            16000,
            "LibriSpeech/<subset>/<spk>/<chapter>/<utt>.flac with *.trans.txt transcripts.",
            # sha256 from tensorflow/datasets url_checksums/librispeech.txt (also torchaudio)
            (
                Archive(
                    "https://www.openslr.org/resources/12/train-clean-100.tar.gz",
                    "sha256",
                    "d4ddd1d5a6ab303066f14971d768ee43278a5f2a0aa43dc716b0e64ecbbbf6e2",
                    6387309499,
                ),
                Archive(
                    "https://www.openslr.org/resources/12/dev-clean.tar.gz",
                    "sha256",
                    "76f87d090650617fca0cac8f88b9416e0ebf80350acb97b343a85fa903728ab3",
                    337926286,
                ),
                Archive(
                    "https://www.openslr.org/resources/12/test-clean.tar.gz",
                    "sha256",
                    "39fde525e59672dc6d1551919b1478f724438a95aa55f874b576be21967e6c23",
                    346663984,
                ),
            ),
            citation="Panayotov, V. et al. (2015). ICASSP.",
        ),
        Corpus(
            "acoustic_events",
            "Rare acoustic events (UrbanSound8K, Donate-a-Cry, ESC-50, SESA)",
            "UrbanSound8K, ESC-50: CC BY-NC 3.0; SESA: CC BY 4.0; Donate-a-Cry: ODbL 1.0",
            None,
            "dog_bark / baby_cry / gun_shot / background clips gathered from four corpora; "
            "baby_cry is mostly 8 kHz (Donate-a-Cry).",
            (
                # md5 from soundata's urbansound8k loader
                Archive(
                    "https://zenodo.org/record/1203745/files/UrbanSound8K.tar.gz",
                    "md5",
                    "9aa69802bbf37fb986f71ec1483a196e",
                    6023741708,
                ),
                # GitHub branch archives are not byte-stable: no digest can be pinned.
                Archive("https://github.com/karolpiczak/ESC-50/archive/master.zip", None, None),
            ),
            notes="Assembled from four corpora; the mirror's manifest.csv defines the selection.",
            citation="Salamon, J., Jacoby, C., Bello, J. P. (2014). A dataset and taxonomy for urban sound research. ACM MM.",
        ),
        Corpus(
            "emodb",
            "Berlin Database of Emotional Speech (EmoDB)",
            "free for research",
            16000,
            "wav/<speaker><text><emotion><version>; erkennung.txt = % of listeners recognising the emotion.",
            (Archive("http://emodb.bilderbar.info/download/download.zip", None, None),),
            citation="Burkhardt, F. et al. (2005). A database of German emotional speech. Interspeech.",
        ),
        Corpus(
            "crema_d_votes",
            "CREMA-D crowd ratings (votes only, no audio)",
            "ODbL 1.0 + DbCL 1.0",
            None,
            "tabulatedVotes.csv / summaryTable.csv; voice-only rows in manifest.csv.",
            (Archive("https://github.com/CheyneyComputerScience/CREMA-D/archive/refs/heads/master.zip", None, None),),
            citation="Cao, H. et al. (2014). CREMA-D: Crowd-sourced emotional multimodal actors dataset. IEEE TAC.",
        ),
        Corpus(
            "songs",
            "Song catalogues (lyricsfreak subset, Music Dataset 1950-2019 subset, Spotify moods)",
            "research use; lyrics are copyrighted",
            None,
            "Three CSV tables merged into one catalogue by the song-search chapter.",
            notes="User-supplied; no official archive.",
        ),
    ]
}


# --------------------------------------------------------------------------
# Locations
# --------------------------------------------------------------------------
def data_dir() -> Path:
    """The folder holding one sub-folder per corpus (setting: ``AUDIO_REPRO_DATA``)."""
    value = os.environ.get(DATA_ENV)
    if not value:
        return DEFAULT_DATA_DIR
    if "$" in value:
        raise DataMissingError(
            f"{DATA_ENV}={value!r} still holds an unexpanded variable; set it to a folder, "
            f"e.g. export {DATA_ENV}=../shared/data"
        )
    # A relative setting means "relative to the project", wherever the kernel started (JupyterLab
    # starts kernels in chapters/, papermill in the project root): one answer for both.
    path = Path(value).expanduser()
    return (path if path.is_absolute() else PROJECT_ROOT / path).resolve()


def corpus_dir(name: str, download: bool | None = None) -> Path:
    """Folder of corpus ``name``; downloads it when allowed and missing, else explains how to get it."""
    if name not in CORPORA:
        raise KeyError(f"unknown corpus {name!r}; known: {', '.join(sorted(CORPORA))}")
    root = data_dir()
    folder = root / name
    if folder.is_dir() and any(folder.iterdir()):
        return folder
    corpus = CORPORA[name]
    if download is None:
        download = os.environ.get(DOWNLOAD_ENV) == "1"
    if download and corpus.downloadable:
        for archive in corpus.archives:
            fetch_archive(archive, folder)
        return folder
    how = f"set {DATA_ENV} to a folder containing '{name}/' (for example the offline mirror ../shared/data)"
    if corpus.downloadable:
        how += f", or set {DOWNLOAD_ENV}=1 on a machine with internet to fetch {corpus.archives[0].url}"
    elif corpus.archives:
        how += f"; the official source is {corpus.archives[0].url} (no published checksum: download it yourself)"
    setting = os.environ.get(DATA_ENV, f"unset, default {DEFAULT_DATA_DIR}")
    raise DataMissingError(f"corpus '{name}' not found at {folder} ({DATA_ENV} is {setting}). To fix: {how}.")


# --------------------------------------------------------------------------
# Download with verification
# --------------------------------------------------------------------------
def file_digest(path: Path, algorithm: str) -> str:
    h = hashlib.new(algorithm)
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def download(url: str, dest: Path, algorithm: str | None, digest: str | None, timeout: float = 60) -> Path:
    """Download ``url`` to ``dest`` and verify it.

    Written here rather than with pooch (which librosa already installs) because pooch
    restarts an interrupted download from zero: for the 6 GB LibriSpeech and the 2.3 GB
    Speech Commands archives, resuming matters.  The digest check is the same as pooch's.

    An interrupted download leaves ``dest.part``; the next call resumes it with an
    HTTP Range request (or restarts if the server ignores the range).  A file whose
    digest does not match is deleted and :class:`ChecksumError` names it.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() and (digest is None or file_digest(dest, algorithm) == digest):
        return dest
    part = dest.with_name(dest.name + ".part")
    offset = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            resumed = offset and response.status == 206
            with open(part, "ab" if resumed else "wb") as out:
                shutil.copyfileobj(response, out, 1 << 20)
    except urllib.error.URLError as exc:
        raise DataError(f"download of {url} failed ({exc}); partial file kept at {part} and resumed next time") from exc
    if digest is not None:
        got = file_digest(part, algorithm)
        if got != digest:
            part.unlink()
            raise ChecksumError(
                f"{url}: downloaded file has {algorithm} {got}, expected {digest}; the corrupted file was deleted"
            )
    os.replace(part, dest)
    return dest


def fetch_archive(archive: Archive, folder: Path) -> Path:
    """Download ``archive`` into the cache, verify it, and unpack it into ``folder``."""
    cache = folder.parent / ".downloads"
    path = download(archive.url, cache / Path(archive.url).name, archive.algorithm, archive.digest)
    tmp = folder.with_name(folder.name + ".unpacking")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    if zipfile.is_zipfile(path):
        with zipfile.ZipFile(path) as z:
            z.extractall(tmp)
    else:
        with tarfile.open(path) as t:
            t.extractall(tmp, filter="data")
    if folder.exists():
        for item in tmp.iterdir():
            os.replace(item, folder / item.name)
        tmp.rmdir()
    else:
        os.replace(tmp, folder)
    return folder


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
# Fingerprints (provenance)
# --------------------------------------------------------------------------
_USED: set[str] = set()


def record_corpus_use(name: str) -> None:
    _USED.add(name)


def corpora_used() -> list[str]:
    return sorted(_USED)


@cache
def _fingerprint(folder: str, mtime: float) -> dict:
    h = hashlib.sha256()
    n = size = 0
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for fn in sorted(filenames):
            p = Path(dirpath) / fn
            st = p.stat()
            h.update(f"{p.relative_to(folder)}\0{st.st_size}\n".encode())
            n += 1
            size += st.st_size
    return {"sha256": h.hexdigest()[:16], "files": n, "bytes": size}


def fingerprint(name: str) -> dict:
    """Hash of the corpus's file names and sizes (fast; changes when a file is added, removed or replaced)."""
    folder = corpus_dir(name)
    return _fingerprint(str(folder), folder.stat().st_mtime)


def data_fingerprint(names=None) -> dict:
    names = sorted(names) if names is not None else sorted(n for n in CORPORA if (data_dir() / n).is_dir())
    return {n: fingerprint(n) for n in names}


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
