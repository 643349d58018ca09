"""The results store: a chapter's :class:`Run` (metrics per seed, tables, timings, notes, claims) and its file.

A chapter opens a :class:`Run` (``lib.chapter.start`` does), logs every metric (one value per
seed), fills the paper's claims (:meth:`Run.claim`) and saves it; the JSON it writes carries the
parameters, data fingerprint, seeds, code version, wall time and peak memory, and is written
atomically.  :meth:`Run.save` is the results file's one writer; what goes into the provenance
(and the run key) is computed by :mod:`lib.provenance`, shared with the runner.  How results
are shown on the page is :mod:`lib.page`'s job.
"""

from __future__ import annotations

import json
import os
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pandas as pd

from lib import provenance

ROOT = provenance.ROOT


class Run:
    """Collects a chapter's metrics (one value per seed) and writes them with provenance."""

    def __init__(self, chapter: str, params: dict, output_dir: str | os.PathLike | None = None):
        self.chapter = chapter
        self.params = dict(params)
        # A relative folder (as the runner passes it) is relative to the project, whatever the kernel's cwd.
        self.output_dir = ROOT / Path(output_dir or Path("runs") / params.get("profile", "manual") / chapter)
        self.output_dir.mkdir(parents=True, exist_ok=True)
        self.started = time.time()
        self.metrics: dict[str, dict] = defaultdict(dict)
        self.tables: dict[str, list] = {}
        self.timings: dict[str, float] = {}
        self.notes: list[str] = []
        self.claims: list[dict] = []

    @property
    def artifacts(self) -> Path:
        folder = self.output_dir / "artifacts"
        folder.mkdir(parents=True, exist_ok=True)
        return folder

    def log(self, name: str, value: float, seed: int | str = "all") -> None:
        """Record ``value`` of metric ``name`` for ``seed`` (a seed logged twice keeps the last value)."""
        if value is None or not np.isfinite(value):
            raise ValueError(f"metric {name!r} for seed {seed} is {value!r}: refusing to record a non-number")
        self.metrics[name][str(seed)] = float(value)

    def values(self, name: str) -> list[float]:
        return list(self.metrics[name].values())

    def summary(self, name: str) -> tuple[float, float, int]:
        v = np.array(self.values(name))
        return float(v.mean()), float(v.std(ddof=1)) if len(v) > 1 else 0.0, len(v)

    def claim(
        self, claim_id: str, interval, *, n_desc: str = "", comparable: bool | None = None, note: str = ""
    ) -> dict:
        """Fill one of the paper's claims (``book/claims/NN_name.yml``) with our effect and its 95 % interval.

        ``interval`` is a :class:`lib.metrics.Interval` (estimate, low, high, n, method); the
        verdict is computed by :func:`lib.claims.judge`, never typed.  ``n_desc`` says what n
        counts (e.g. "1,212 test clips × 3 seeds"); ``note`` is one line a reader needs.
        """
        from lib import claims

        row = claims.judge(claim_id, interval.estimate, interval.low, interval.high, comparable)
        if row["chapter"] != self.chapter:
            raise claims.ClaimError(f"claim {claim_id!r} belongs to {row['chapter']}, not {self.chapter}")
        row.update(
            n=int(interval.n),
            n_groups=interval.n_groups,
            n_desc=n_desc,
            method=interval.method,
            p_value=interval.p_value,
            level=interval.level,
            note=note,
        )
        self.claims = [c for c in self.claims if c["id"] != claim_id] + [row]
        return row

    def log_table(self, name: str, df: pd.DataFrame) -> None:
        self.tables[name] = json.loads(df.to_json(orient="records"))

    def time(self, name: str):
        """Context manager recording the wall time of a block under ``name``."""
        run = self

        class _Timer:
            def __enter__(self):
                self.t0 = time.perf_counter()
                return self

            def __exit__(self, *exc):
                run.timings[name] = run.timings.get(name, 0.0) + time.perf_counter() - self.t0
                return False

        return _Timer()

    def to_dict(self) -> dict:
        from lib import data

        summary = {}
        for name in self.metrics:
            mean, std, n = self.summary(name)
            summary[name] = {"mean": mean, "std": std, "n": n, "per_seed": self.metrics[name]}
        return {
            "chapter": self.chapter,
            "params": self.params,
            "metrics": summary,
            "tables": self.tables,
            "timings_s": self.timings,
            "notes": self.notes,
            "claims": self.claims,
            "provenance": {
                # 2: claims with intervals, result box, no plumbing on the page (tests/test_book_standard.py)
                "reader_standard": 2,
                "code": provenance.code_version(),
                "data_fingerprint": data.data_fingerprint(data.corpora_used()),
                "data_dir": str(data.data_dir()),
                "versions": provenance.package_versions(),
                "wall_time_s": round(time.time() - self.started, 1),
                "peak_memory_mib": round(provenance.peak_memory_mib(), 1),
                "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "host_cpus": os.cpu_count(),
                "devices": provenance.compute_devices(),
            },
        }

    def save(self) -> Path:
        """Write ``results.json``: the one writer of the results file.

        Under the runner (which says so in ``AUDIO_REPRO_RUN``) the file also gets the run key and
        the runner's record, and machine paths are shown relative to the data setting and the project.
        """
        path = self.output_dir / "results.json"
        results = self.to_dict()
        context = provenance.runner_context()
        if context is not None:
            results = provenance.stamp_run(results, context)
        provenance.write_json_atomic(path, results, portable=context is not None)
        return path
