"""Corpora, manifests, audio loading and splits: one import for the data layer.

The data layer is split by job; this module re-exports every public name, so
``from lib import data`` and ``data.X`` keep working everywhere:

* :mod:`lib.corpora` — the corpus registry, where the data live (``AUDIO_REPRO_DATA``),
  download with checksum and unpacking, the data errors;
* :mod:`lib.audio` — decoding audio files (``load_audio``, ``load_many``, ``scan_audio``);
* :mod:`lib.manifests` — manifests, CSV tables with malformed rows, group-disjoint splits;
* :mod:`lib.provenance` — the corpora a process read and their fingerprints.

Module-level state (the set of corpora read, ``_USED``) lives in :mod:`lib.provenance`
only; the name here is the same object.
"""

from __future__ import annotations

from lib.audio import AUDIO_EXTENSIONS, load_audio, load_many, resolve_audio, scan_audio
from lib.corpora import (
    CORPORA,
    DATA_ENV,
    DEFAULT_DATA_DIR,
    DOWNLOAD_ENV,
    PROJECT_ROOT,
    Archive,
    AudioError,
    ChecksumError,
    Corpus,
    DataError,
    DataMissingError,
    corpus_dir,
    data_dir,
    download,
    fetch_archive,
    file_digest,
)
from lib.manifests import (
    _LAYOUT_BUILDERS,
    EMODB_EMOTIONS,
    _emodb_from_layout,
    _existing,
    _librispeech_from_layout,
    _resolve_duplicates,
    _speech_commands_from_layout,
    check_disjoint,
    manifest,
    read_table,
    speaker_disjoint_split,
)
from lib.provenance import _USED, _fingerprint, corpora_used, data_fingerprint, fingerprint, record_corpus_use

__all__ = [
    "AUDIO_EXTENSIONS",
    "CORPORA",
    "DATA_ENV",
    "DEFAULT_DATA_DIR",
    "DOWNLOAD_ENV",
    "EMODB_EMOTIONS",
    "PROJECT_ROOT",
    "Archive",
    "AudioError",
    "ChecksumError",
    "Corpus",
    "DataError",
    "DataMissingError",
    "check_disjoint",
    "corpora_used",
    "corpus_dir",
    "data_dir",
    "data_fingerprint",
    "download",
    "fetch_archive",
    "file_digest",
    "fingerprint",
    "load_audio",
    "load_many",
    "manifest",
    "read_table",
    "record_corpus_use",
    "resolve_audio",
    "scan_audio",
    "speaker_disjoint_split",
]
# Private names other modules and tests reach through ``lib.data`` (the same objects, not copies).
_PRIVATE = (
    _LAYOUT_BUILDERS,
    _USED,
    _emodb_from_layout,
    _existing,
    _fingerprint,
    _librispeech_from_layout,
    _resolve_duplicates,
    _speech_commands_from_layout,
)
