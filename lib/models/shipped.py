"""Where the book's trained models live, and how a model argument a reader passes is found.

Every public function that loads a shipped model takes ``None`` for the shipped file, or a path; a
relative path that does not exist from the current folder is looked up from the project root, so the
README's ``"book/models/kws_cnn"`` works from any folder.
"""

from __future__ import annotations

from pathlib import Path

from lib.provenance import ROOT

#: The folder the chapters' ``book`` runs write their small trained models to.
FOLDER = ROOT / "book" / "models"


def resolve(path, default: Path) -> Path:
    """``path`` as given, or ``default`` when ``None``; a relative path missing here is taken from the project root."""
    if path is None:
        return Path(default)
    path = Path(path)
    if not path.is_absolute() and not path.exists() and (ROOT / path).exists():
        return ROOT / path
    return path
