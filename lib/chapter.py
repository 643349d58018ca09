"""One preamble for every chapter: the run, the profile's sizes, the seeds, threads, quiet output.

    from lib import chapter
    ch = chapter.start("05_pdds_emotion", profile, SIZES, seed=seed, output_dir=output_dir, data_dir=data_dir)
    ch.run, ch.size["epochs"], ch.seeds, ch.threads

Thread policy (measured by ``benchmarks/training_threads.py`` on an idle 2-core machine): every
core is an intra-op thread of the one training process (PyTorch conv/attention models gain
1.4–1.9× from the second thread; the recurrent recogniser 1.1×), with no DataLoader worker
processes (a worker made the in-memory loaders 0.7× as fast).  Two chapters never run at once:
two trainings on two cores thrash.  Results do not depend on the thread count.

What the reader must not see (warnings on stderr, TensorFlow's start-up log lines, progress
bars) is kept out of the published page here: under the runner (:func:`lib.provenance.runner_context`)
each warning is recorded in the results' notes instead, so a warning that matters can be turned
into a sentence in the chapter.  A reader re-running a chapter in JupyterLab sees warnings as
Python shows them: outside the runner they are left alone.
"""

from __future__ import annotations

import logging
import os
import warnings
from dataclasses import dataclass, field

from lib import provenance, results

# Before TensorFlow is imported anywhere: its C++ start-up lines go to stderr otherwise.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("TQDM_DISABLE", "1")

# `make test-full` runs each chapter's `full` profile on fixtures of a handful of clips per class: it may shrink
# repeat counts (seeds, epochs, sweeps) through this variable, never the code path, and the results say so.
SIZE_OVERRIDES_ENV = "AUDIO_REPRO_FULL_SIZE_OVERRIDES"

# The book's text column is 784 px wide: figures are drawn for it, fonts readable at 1:1.
FIGURE_WIDTH_IN = 7.6
FIGURE_DPI = 100


@dataclass
class Chapter:
    run: results.Run
    profile: str
    size: dict
    seeds: list[int]
    threads: int
    params: dict = field(default_factory=dict)


def full_size_overrides(profile: str, size: dict) -> dict:
    """The repeat counts a fixture run of the ``full`` profile shrinks (JSON in ``$AUDIO_REPRO_FULL_SIZE_OVERRIDES``).

    Only for ``full``, only for keys the profile has; anything else is an error naming the key.
    """
    import json

    text = os.environ.get(SIZE_OVERRIDES_ENV, "").strip()
    if not text:
        return {}
    if profile != "full":
        raise ValueError(f"${SIZE_OVERRIDES_ENV} applies to the full profile only, not {profile!r}")
    overrides = json.loads(text)
    unknown = sorted(set(overrides) - set(size))
    if unknown:
        raise ValueError(f"${SIZE_OVERRIDES_ENV}: {unknown} are not sizes of the full profile ({sorted(size)})")
    return overrides


def use_book_style() -> None:
    """Matplotlib/seaborn defaults for the 784 px column and a colour-blind-safe palette."""
    import matplotlib as mpl
    import seaborn as sns

    sns.set_theme(style="whitegrid", context="paper", palette="colorblind", font_scale=1.1)
    mpl.rcParams.update(
        {
            "figure.figsize": (FIGURE_WIDTH_IN, 3.4),
            "figure.dpi": FIGURE_DPI,
            "savefig.dpi": FIGURE_DPI,
            "legend.frameon": False,
            "axes.titlesize": 11,
            "axes.labelsize": 10,
            "xtick.labelsize": 9,
            "ytick.labelsize": 9,
            "legend.fontsize": 9,
            "figure.constrained_layout.use": True,
        }
    )


def set_threads(n: int | None = None) -> int:
    """All cores as intra-op threads of this process (PyTorch and, if loaded, TensorFlow)."""
    import sys

    n = n or os.cpu_count() or 1
    if "torch" in sys.modules or _importable("torch"):
        import torch

        torch.set_num_threads(n)
    if "tensorflow" in sys.modules:
        import tensorflow as tf

        try:
            tf.config.threading.set_intra_op_parallelism_threads(n)
        except RuntimeError:  # already initialised: its own default is all cores too
            pass
    return n


def _importable(name: str) -> bool:
    from importlib.util import find_spec

    return find_spec(name) is not None


def _record_warnings(run: results.Run) -> None:
    """Under the runner, warnings go to ``run.notes`` instead of stderr; otherwise they are left alone."""

    def show(message, category, filename, lineno, file=None, line=None):
        note = f"warning: {category.__name__}: {message} ({os.path.basename(filename)}:{lineno})"
        if note not in run.notes:
            run.notes.append(note)

    if provenance.runner_context() is not None:
        warnings.showwarning = show
    logging.getLogger("absl").setLevel(logging.ERROR)
    logging.getLogger("tensorflow").setLevel(logging.ERROR)


def start(
    chapter: str,
    profile: str,
    sizes: dict[str, dict],
    *,
    seed: int = 0,
    output_dir=None,
    data_dir=None,
    extra_params: dict | None = None,
    threads: int | None = None,
) -> Chapter:
    """Open a chapter: data setting, sizes of ``profile``, seeds, threads, plot style and its Run.

    ``sizes`` maps each profile (smoke, book, full) to the only things a profile may change
    (sizes, epochs, number of seeds); ``sizes[profile]["n_seeds"]`` seeds start at ``seed``.
    """
    from lib import data

    if profile not in sizes:
        raise ValueError(f"profile must be one of {sorted(sizes)}, got {profile!r}")
    if data_dir:
        value = os.path.expandvars(str(data_dir))
        if "$" not in value:
            os.environ[data.DATA_ENV] = value
    size = dict(sizes[profile])
    overrides = full_size_overrides(profile, size)
    size.update(overrides)
    seeds = [seed + k for k in range(int(size.get("n_seeds", 1)))]
    n_threads = set_threads(threads)
    use_book_style()
    params = {"profile": profile, "seed": seed, "seeds": seeds, "threads": n_threads, **size, **(extra_params or {})}
    if overrides:
        params["size_overrides"] = overrides
    run = results.Run(chapter, params, output_dir)
    _record_warnings(run)
    return Chapter(run=run, profile=profile, size=size, seeds=seeds, threads=n_threads, params=params)
