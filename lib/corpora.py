"""The corpora: registry, where the data live, download with checksum, unpacking; the data errors.

One setting decides where the data lives: the environment variable
``AUDIO_REPRO_DATA`` (a folder holding one sub-folder per corpus, e.g. the
offline mirror ``../shared/data``).  When it is unset the data live in
``~/.cache/audio-repro/data`` and, with ``AUDIO_REPRO_DOWNLOAD=1``, a missing
corpus that has an official archive is downloaded there and verified against
its published checksum.

Part of :mod:`lib.data` (which re-exports every name here).
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tarfile
import urllib.error
import urllib.request
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

DATA_ENV = "AUDIO_REPRO_DATA"
DOWNLOAD_ENV = "AUDIO_REPRO_DOWNLOAD"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = Path("~/.cache/audio-repro/data").expanduser()


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
