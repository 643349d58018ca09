"""Provenance, one module for the results file and the runner: what a chapter's results depend on.

* the corpora a process read (:func:`record_corpus_use`, filled by :func:`lib.manifests.manifest`)
  and their fingerprints; the set lives here and only here (:mod:`lib.data` re-exports the object);
* the code (:func:`code_version`, :func:`lib_hash` of normalised syntax trees), the installed
  packages, the peak memory;
* the run key (:func:`run_key`): the chapter's code for the profile (:func:`chapter_code_hash`),
  lib modules, parameters, data; equal keys mean nothing to re-execute;
* the results file's one writer, :meth:`lib.results.Run.save`, learns from the runner through
  ``AUDIO_REPRO_RUN`` (:func:`runner_context`) which chapter and parameters the key is for, and
  stamps the key in (:func:`stamp_run`) before the single write (:func:`write_json_atomic`).
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import resource
import subprocess
import sys
import time
from functools import cache
from pathlib import Path

import numpy as np

from lib.corpora import CORPORA, corpus_dir, data_dir

ROOT = Path(__file__).resolve().parents[1]
#: Set by the runner for the notebook kernel: JSON with the chapter file, the run-key parameters,
#: the start time and the profile (read by :func:`runner_context`).
RUN_ENV = "AUDIO_REPRO_RUN"

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
# Code, packages, memory (the results file's provenance)
# --------------------------------------------------------------------------
def code_version() -> dict:
    """Git commit of the project (with a dirty flag) and a hash of lib's sources."""

    def git(*args):
        try:
            return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10).stdout.strip()
        except (OSError, subprocess.SubprocessError):
            return ""

    modules = lib_modules_used()
    return {
        "git_commit": git("rev-parse", "--short", "HEAD") or "unknown",
        "git_dirty": bool(git("status", "--porcelain", "--", "lib", "chapters")),
        "lib_modules": modules,
        "lib_sha256": lib_hash(modules),
    }


def lib_hash(files=None) -> str:
    """Hash of lib's code: of ``files`` (paths relative to the project) or of every module.

    Each module is hashed as its normalised syntax tree without docstrings, so comments,
    docstrings and formatting never invalidate a chapter's results; any change to what the
    code does (a statement, a constant, a name) does.
    """
    paths = sorted(ROOT / f for f in files) if files is not None else sorted((ROOT / "lib").rglob("*.py"))
    h = hashlib.sha256()
    for f in paths:
        h.update(f.relative_to(ROOT).as_posix().encode() + b"\0" + (code_fingerprint(f) if f.exists() else b"<gone>"))
    return h.hexdigest()[:16]


def code_fingerprint(path: Path) -> bytes:
    """What a Python file does, without comments, docstrings or layout (``ast.dump`` of the stripped tree)."""
    import ast

    tree = ast.parse(Path(path).read_text())
    for node in ast.walk(tree):
        body = getattr(node, "body", None)
        if (
            isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            node.body = body[1:] or [ast.Pass()]
    return ast.dump(tree, annotate_fields=True, include_attributes=False).encode()


def lib_modules_used() -> list[str]:
    """Project-relative paths of the lib modules imported in this process (what a chapter depends on)."""
    used = set()
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if (name == "lib" or name.startswith("lib.")) and file:
            path = Path(file).resolve()
            if ROOT / "lib" in path.parents:
                used.add(path.relative_to(ROOT).as_posix())
    return sorted(used)


def compute_devices() -> dict:
    """Where this process computed: the CPU, the GPUs PyTorch and TensorFlow see, and what training used.

    ``torch_training_devices`` and ``torch_mixed_precision`` are what :func:`lib.models.training.fit`
    and :func:`lib.models.training.autocast` ran with (``cuda`` when PyTorch sees a GPU, see
    :func:`lib.models.training.training_device`).  Keras places its models on the first GPU
    TensorFlow sees without being asked, so its GPUs count as used; ``keras_dtype_policy`` is its
    precision.  ``gpus_used`` lists every GPU either framework trained on.
    """
    found = {"cpu": platform.processor() or platform.machine(), "cpu_count": os.cpu_count(), "gpus_used": []}
    cpuinfo = Path("/proc/cpuinfo")
    if cpuinfo.is_file():
        for line in cpuinfo.read_text(errors="replace").splitlines():
            if line.startswith("model name"):
                found["cpu"] = line.split(":", 1)[1].strip()
                break
    if "torch" in sys.modules:
        torch = sys.modules["torch"]
        found["torch_cuda_visible"] = [torch.cuda.get_device_name(k) for k in range(torch.cuda.device_count())]
    training = sys.modules.get("lib.models.training")
    if training is not None:
        found["torch_training_devices"] = sorted(training.USED["devices"])
        found["torch_mixed_precision"] = sorted(training.USED["mixed_precision"])
        found["gpus_used"] += [d for d in found["torch_training_devices"] if d.startswith("cuda")]
    if "tensorflow" in sys.modules:
        tf = sys.modules["tensorflow"]
        found["tensorflow_gpus_visible"] = [d.name for d in tf.config.list_physical_devices("GPU")]
        if "keras" in sys.modules:
            found["keras_dtype_policy"] = sys.modules["keras"].mixed_precision.global_policy().name
            found["gpus_used"] += found["tensorflow_gpus_visible"]
    return found


def package_versions() -> dict:
    """Python and every installed distribution's version (what a re-run needs to match)."""
    from importlib import metadata

    versions = {"python": platform.python_version()}
    for dist in metadata.distributions():
        name = dist.metadata["Name"]
        if name:
            versions[name.lower()] = dist.version
    return dict(sorted(versions.items()))


def peak_memory_mib() -> float:
    """Peak resident memory of this process (the notebook kernel) in MiB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def write_json_atomic(path: Path, obj, portable: bool = False) -> None:
    """Write ``obj`` as sorted, indented JSON in one rename; ``portable``: through :func:`portable_paths`."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    text = json.dumps(obj, indent=1, sort_keys=True, default=_jsonable)
    tmp.write_text(portable_paths(text) if portable else text)
    os.replace(tmp, path)


def _jsonable(x):
    if isinstance(x, (np.integer,)):
        return int(x)
    if isinstance(x, (np.floating,)):
        return float(x)
    if isinstance(x, np.ndarray):
        return x.tolist()
    if isinstance(x, Path):
        return str(x)
    raise TypeError(f"not JSON serialisable: {type(x)}")


# --------------------------------------------------------------------------
# Run keys and the runner's part of the results file
# --------------------------------------------------------------------------
def run_key(chapter: Path, params: dict, corpora: list[str] | None, lib_modules: list[str] | None) -> dict:
    """What a chapter's outputs depend on: its source, the lib modules it imported, parameters, data.

    Equal keys mean nothing to re-execute.
    """
    return {
        "chapter_sha256": chapter_code_hash(chapter, params.get("profile")),
        "lib_sha256": lib_hash(lib_modules),
        "params": params,
        "data_fingerprint": data_fingerprint(corpora) if corpora is not None else None,
    }


def chapter_code_hash(chapter: Path, profile: str | None) -> str:
    """Hash of what a chapter *executes* under ``profile``: its code cells, as normalised syntax trees.

    Prose (Markdown cells), cell tags, comments and layout do not count: a change to them is
    presentation, which the runner carries into the executed notebook without executing it
    (:func:`lib.runner.refresh_presentation`).  Of the ``SIZES = {profile: {...}}`` table only the
    entry of ``profile`` counts, so re-sizing the CI profile does not make the book's results stale.
    """
    import jupytext

    notebook = jupytext.read(chapter, fmt="py:percent")
    h = hashlib.sha256()
    for cell in notebook.cells:
        if cell.cell_type == "code":
            h.update(_code_cell_fingerprint(cell.source, profile) + b"\0")
    return h.hexdigest()[:16]


def _code_cell_fingerprint(source: str, profile: str | None) -> bytes:
    import ast

    try:
        tree = ast.parse(source)
    except SyntaxError:  # IPython magics: the text itself, without blank lines
        return "\n".join(line.rstrip() for line in source.splitlines() if line.strip()).encode()
    for node in tree.body:
        if (
            isinstance(node, ast.Assign)
            and [getattr(t, "id", None) for t in node.targets] == ["SIZES"]
            and isinstance(node.value, ast.Dict)
        ):
            kept = [(k, v) for k, v in zip(node.value.keys, node.value.values) if getattr(k, "value", None) == profile]
            node.value.keys, node.value.values = [k for k, _ in kept], [v for _, v in kept]
    return ast.dump(tree, annotate_fields=True, include_attributes=False).encode()


def runner_context() -> dict | None:
    """What the runner told this kernel (``AUDIO_REPRO_RUN``): chapter, params, started, profile; else None."""
    value = os.environ.get(RUN_ENV)
    return json.loads(value) if value else None


def stamp_run(results: dict, context: dict) -> dict:
    """``results`` as the runner publishes them: with the run key and the runner's record.

    The results pass through JSON first, so the key is computed from exactly what the file holds.
    """
    results = json.loads(json.dumps(results, sort_keys=True, default=_jsonable))
    results["run_key"] = run_key(
        Path(context["chapter"]),
        context["params"],
        sorted(results["provenance"]["data_fingerprint"]),
        results["provenance"]["code"]["lib_modules"],
    )
    results["runner"] = {"wall_time_s": round(time.time() - context["started"], 1), "profile": context["profile"]}
    return results


def portable_paths(text: str) -> str:
    """Replace this machine's data folder and project folder by ``$AUDIO_REPRO_DATA`` and ``.``."""
    import re

    for absolute, shown in [(str(data_dir()), "$AUDIO_REPRO_DATA"), (str(ROOT), ".")]:
        text = re.sub(re.escape(absolute) + r"(?![\w.-])", lambda _: shown, text)  # noqa: B023 (used within this iteration)
    # Notebooks executed before the runner stopped injecting data_dir: keep them re-runnable.
    return text.replace('data_dir = \\"$AUDIO_REPRO_DATA\\"', "data_dir = None")
