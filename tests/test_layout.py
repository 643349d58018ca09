"""lib reads one way: chapters → lib.models → lib.datasets → lib.features / lib.data (corpora, audio, manifests, provenance).

Nothing under lib/datasets, lib/features, the data modules, lib.balancing, lib.metrics or the results and page
modules (lib.results, lib.page, lib.formatting) may import lib.models.  The recipes
that once lived upstairs (the recogniser's text map and features, the Siamese front end, the pretrained
speech embedding) now live in lib/datasets/<task>.py and lib.models re-exports them; KNOWN lists
exceptions and stays empty.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOWER = sorted(
    [
        *(ROOT / "lib" / "datasets").glob("*.py"),
        ROOT / "lib" / "features.py",
        ROOT / "lib" / "data.py",
        ROOT / "lib" / "corpora.py",
        ROOT / "lib" / "audio.py",
        ROOT / "lib" / "manifests.py",
        ROOT / "lib" / "provenance.py",
        ROOT / "lib" / "balancing.py",
        ROOT / "lib" / "metrics.py",
        ROOT / "lib" / "formatting.py",
        ROOT / "lib" / "results.py",
        ROOT / "lib" / "page.py",
    ]
)
KNOWN: set[tuple[str, str]] = set()  # every exception has been moved down; keep it empty


def upward_imports(path: Path) -> set[tuple[str, str]]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        for name in names:
            if name.startswith("lib.models"):
                module = ".".join(name.split(".")[:3]) if name.count(".") >= 2 else name
                found.add((path.relative_to(ROOT).as_posix(), module))
    return {f for f in found if f[1] != "lib.models"} or found


def test_lower_layers_do_not_import_models():
    found = set().union(*(upward_imports(p) for p in LOWER))
    assert found - KNOWN == set(), f"new upward imports: {sorted(found - KNOWN)}"


def test_the_list_of_known_exceptions_only_shrinks():
    found = set().union(*(upward_imports(p) for p in LOWER))
    assert KNOWN - found == set(), f"fixed, remove from KNOWN: {sorted(KNOWN - found)}"
