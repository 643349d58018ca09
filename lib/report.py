"""Results with provenance, paper-vs-ours tables, and the book's figure helpers.

A chapter opens a :class:`Run`, logs every metric (one value per seed), and
saves it; the JSON it writes carries the parameters, data fingerprint, seeds,
code version, wall time and peak memory, and is written atomically.  What goes
into the provenance (and the run key) is computed by :mod:`lib.provenance`,
shared with the runner.
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
from lib.provenance import (  # noqa: F401 (re-exported: report.lib_hash, report.write_json_atomic, ...)
    _jsonable,
    code_fingerprint,
    code_version,
    lib_hash,
    lib_modules_used,
    package_versions,
    peak_memory_mib,
    write_json_atomic,
)

ROOT = Path(__file__).resolve().parents[1]


# --------------------------------------------------------------------------
# A run's results
# --------------------------------------------------------------------------
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
        self.headlines: list[dict] = []
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

    def headline(
        self,
        quantity: str,
        metric: str,
        paper: float | None,
        tolerance: float,
        data_used: str,
        scale: float = 1.0,
        reason: str = "",
    ) -> dict:
        """Declare a headline number for the book's scoreboard: the paper's value beside ours.

        The verdict is computed, not typed: "reproduced" when |ours − paper| ≤ ``tolerance``,
        "partly" within twice that, otherwise "not reproduced"; ``reason`` says why in one line.
        """
        mean, std, n = self.summary(metric)
        mean, std = mean * scale, std * scale
        if paper is None:
            verdict = "no number in the paper"
        else:
            gap = abs(mean - paper)
            verdict = "reproduced" if gap <= tolerance else "partly" if gap <= 2 * tolerance else "not reproduced"
        row = {
            "quantity": quantity,
            "metric": metric,
            "paper": paper,
            "ours_mean": mean,
            "ours_std": std,
            "n_seeds": n,
            "tolerance": tolerance,
            "data_used": data_used,
            "verdict": verdict,
            "reason": reason,
        }
        self.headlines = [h for h in self.headlines if h["quantity"] != quantity] + [row]
        return row

    def claim(
        self, claim_id: str, interval, *, n_desc: str = "", comparable: bool | None = None, note: str = ""
    ) -> dict:
        """Fill one of the paper's claims (``book/claims.yml``) with our effect and its 95 % interval.

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
            "headlines": self.headlines,
            "claims": self.claims,
            "provenance": {
                # 2: claims with intervals, result box, no plumbing on the page (tests/test_book_standard.py)
                "reader_standard": 2,
                "code": code_version(),
                "data_fingerprint": data.data_fingerprint(data.corpora_used()),
                "data_dir": str(data.data_dir()),
                "versions": package_versions(),
                "wall_time_s": round(time.time() - self.started, 1),
                "peak_memory_mib": round(peak_memory_mib(), 1),
                "finished_utc": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
                "host_cpus": os.cpu_count(),
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
        write_json_atomic(path, results, portable=context is not None)
        return path


# --------------------------------------------------------------------------
# Tables
# --------------------------------------------------------------------------
def mean_std(values, scale: float = 1.0, digits: int = 2) -> str:
    v = np.asarray(list(values), dtype=float) * scale
    if len(v) == 0:
        return "—"
    if len(v) == 1:
        return f"{v[0]:.{digits}f} (1 seed)"
    return f"{v.mean():.{digits}f} ± {v.std(ddof=1):.{digits}f}"


def paper_vs_ours(rows: list[dict], scale: float = 1.0, digits: int = 2, unit: str = "") -> pd.DataFrame:
    """Side-by-side table: the paper's number, ours (mean ± std over seeds), the difference, a note.

    Each row: ``{"quantity": str, "paper": float | None, "ours": list[float], "note": str}``;
    ``ours`` values are multiplied by ``scale`` (e.g. 100 for %); ``paper`` is given already scaled.
    A paper value of ``None`` shows as "not reported".
    """
    out = []
    for r in rows:
        ours = np.asarray(r["ours"], dtype=float) * scale
        paper = r.get("paper")
        diff = "—" if paper is None or len(ours) == 0 else f"{ours.mean() - paper:+.{digits}f}"
        out.append(
            {
                "quantity": r["quantity"],
                f"paper{unit}": "not reported" if paper is None else f"{paper:.{digits}f}",
                f"ours{unit} (mean ± std, n={len(ours)})": mean_std(ours, 1.0, digits),
                "ours − paper": diff,
                "note": r.get("note", ""),
            }
        )
    return pd.DataFrame(out)


# --------------------------------------------------------------------------
# Figures
# --------------------------------------------------------------------------
def plot_confusion(cm: np.ndarray, labels, ax=None, normalize: bool = True, title: str = ""):
    import matplotlib.pyplot as plt
    import seaborn as sns

    if ax is None:
        _, ax = plt.subplots(figsize=(0.55 * len(labels) + 2, 0.5 * len(labels) + 1.5))
    data = cm / np.maximum(cm.sum(axis=1, keepdims=True), 1) if normalize else cm
    sns.heatmap(
        data,
        annot=cm,
        fmt="d",
        cmap="Blues",
        xticklabels=labels,
        yticklabels=labels,
        cbar=False,
        ax=ax,
        annot_kws={"size": 7},
    )
    ax.set_xlabel("predicted")
    ax.set_ylabel("true")
    ax.set_title(title)
    return ax


def plot_det(curves: dict, ax=None, title: str = ""):
    """DET curves on normal-deviate axes; ``curves`` maps a label to ``(fpr, fnr)``."""
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    if ax is None:
        _, ax = plt.subplots(figsize=(4.5, 4.5))
    ticks = np.array([0.001, 0.01, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8])
    for label, (fpr, fnr) in curves.items():
        fpr = np.clip(np.asarray(fpr), 1e-4, 1 - 1e-4)
        fnr = np.clip(np.asarray(fnr), 1e-4, 1 - 1e-4)
        ax.plot(norm.ppf(fpr), norm.ppf(fnr), label=label)
    ax.plot(norm.ppf([1e-3, 0.99]), norm.ppf([1e-3, 0.99]), color="grey", lw=0.5, ls=":")
    ax.set_xticks(norm.ppf(ticks), [f"{t:g}" for t in ticks * 100])
    ax.set_yticks(norm.ppf(ticks), [f"{t:g}" for t in ticks * 100])
    ax.set_xlim(norm.ppf(0.001), norm.ppf(0.9))
    ax.set_ylim(norm.ppf(0.001), norm.ppf(0.9))
    ax.set_xlabel("false alarm rate (%)")
    ax.set_ylabel("miss rate (%)")
    ax.set_title(title)
    ax.legend(fontsize=8)
    return ax


def plot_learning_curves(history: pd.DataFrame, x: str = "epoch", metrics=None, hue: str | None = None, axes=None):
    """One panel per metric column of ``history`` (long format if ``hue`` names a column)."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    metrics = metrics or [c for c in history.columns if c not in {x, hue, "seed"}]
    if axes is None:
        _, axes = plt.subplots(1, len(metrics), figsize=(3.6 * len(metrics), 3), squeeze=False)
        axes = axes[0]
    for ax, m in zip(axes, metrics):
        sns.lineplot(data=history, x=x, y=m, hue=hue, ax=ax, errorbar="sd")
        ax.set_title(m)
    return axes


# --------------------------------------------------------------------------
# What the reader sees: claims, the result box, tables without plumbing
# --------------------------------------------------------------------------
VERDICT_MARK = {
    "holds": "✅ holds",
    "contradicted": "❌ contradicted",
    "inconclusive": "➖ inconclusive",
    "within": "within",
    "below": "below",
    "above": "above",
    "not comparable": "not comparable",
    "awaiting re-run": "⏳ awaiting re-run",
}


def format_interval(row: dict, digits: int = 2) -> str:
    return (
        f"{row['estimate']:+.{digits}f} [{row['low']:+.{digits}f}, {row['high']:+.{digits}f}]"
        if row["kind"] == "relative"
        else f"{row['estimate']:.{digits}f} [{row['low']:.{digits}f}, {row['high']:.{digits}f}]"
    )


def verdict_text(row: dict) -> str:
    text = VERDICT_MARK.get(row["verdict"], row["verdict"])
    if row.get("direction"):
        text += f" ({row['direction']})"
    return text


def claims_table(claims: list[dict], kind: str | None = None, digits: int = 2) -> pd.DataFrame:
    """One row per filled claim: the paper's statement, our effect with its 95 % CI, n, the verdict."""
    rows = []
    for c in claims:
        if kind and c["kind"] != kind:
            continue
        row = {"verdict": verdict_text(c), "claim (paper)": c["statement"]}
        if c["kind"] == "absolute":
            row["paper"] = f"{c['paper']:g}"
            row["ours, 95 % CI"] = format_interval(c, digits)
        else:
            row["effect"] = c["effect"]
            row["ours, 95 % CI"] = format_interval(c, digits)
        row["n"] = c.get("n_desc") or str(c.get("n", ""))
        rows.append(row)
    # Relative and absolute claims fill different columns: a blank, not "nan", where a column does not apply.
    return pd.DataFrame(rows).fillna("")


def result_box(run: Run, lead: str = "", evidence: str = "#claims-and-verdicts") -> str:
    """MyST admonition summarising the chapter's answer (rendered under the title via ``glue``)."""
    rel = [c for c in run.claims if c["kind"] == "relative"]
    counts = {v: sum(c["verdict"] == v for c in rel) for v in ("holds", "contradicted", "inconclusive")}
    lines = ["```{admonition} The answer, in short", ":class: tip", ""]
    if lead:
        lines += [lead, ""]
    if rel:
        lines += [
            f"**{counts['holds']} of {len(rel)} claims hold, {counts['contradicted']} contradicted, "
            f"{counts['inconclusive']} inconclusive** (95 % intervals; details [below]({evidence})).",
            "",
        ]
        for c in rel:
            lines.append(
                f"- {verdict_text(c)} — {c['statement']} Ours: {c['effect']} = {format_interval(c)}"
                f" (n = {c.get('n_desc') or c.get('n')})."
            )
    ab = [c for c in run.claims if c["kind"] == "absolute"]
    if ab:
        lines.append("")
        for c in ab:
            lines.append(
                f"- Paper's number: {c['statement']} {c['paper']:g}; ours {format_interval(c)} — {verdict_text(c)}."
            )
    lines += ["```"]
    return "\n".join(lines)


def publish_result_box(run: Run, lead: str = "", evidence: str = "#claims-and-verdicts") -> str:
    """Glue the result box as ``result_box`` so the chapter's first section shows it (myst-nb glue)."""
    from IPython.display import Markdown
    from myst_nb import glue

    text = result_box(run, lead, evidence)
    glue("result_box", Markdown(text), display=False)
    return text


def show_table(df: pd.DataFrame, digits: int | None = None):
    """Display a table the book's way: Markdown, no index column, full notes, readable headers."""
    from IPython.display import Markdown, display

    if digits is not None:
        df = df.round(digits)
    display(Markdown(df.to_markdown(index=False)))


def glue_value(name: str, value, fmt: str = "{}"):
    """Glue one number for prose ({glue:text}`name`), so a sentence cannot go stale."""
    from myst_nb import glue

    glue(name, fmt.format(value), display=False)
