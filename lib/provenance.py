"""Provenance: which corpora a process read and their fingerprints.

The set of corpora read in this process (:func:`record_corpus_use`, filled by
:func:`lib.manifests.manifest`) lives here and only here; :mod:`lib.data` re-exports
the same object.
"""

from __future__ import annotations

import hashlib
import os
from functools import cache
from pathlib import Path

from lib.corpora import CORPORA, corpus_dir, data_dir

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
