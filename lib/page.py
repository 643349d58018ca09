"""The page: what a chapter shows its reader — the result box, claims tables, tables, figures.

* the answer: :func:`result_box` (a MyST admonition with the claims and their verdicts) and
  :func:`publish_result_box`, which glues it under the chapter's title; :func:`claims_table`,
  :func:`format_interval` and :func:`verdict_text` for the claims section;
* tables the book's way (:func:`show_table`) and a paragraph of Markdown (:func:`md`);
* figures: confusion matrices, DET curves, learning curves, critical-difference diagrams;
* sound: :func:`player`, a short clip embedded in the page.

What is recorded lives in :mod:`lib.results`; how numbers are written, in :mod:`lib.formatting`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from lib.results import Run


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
    """``estimate [low, high]``; a quantity known exactly (a parameter count: low = high) says so instead."""
    sign = "+" if row["kind"] == "relative" else ""
    if row["low"] == row["high"] == row["estimate"]:
        return f"{row['estimate']:{sign}.{digits}f} (exact, no interval)"
    return f"{row['estimate']:{sign}.{digits}f} [{row['low']:{sign}.{digits}f}, {row['high']:{sign}.{digits}f}]"


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


def md(text: str) -> None:
    """Display ``text`` as Markdown (a paragraph of prose computed from the results)."""
    from IPython.display import Markdown, display

    display(Markdown(text))


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


def nemenyi_cliques(mean_ranks: dict, cd: float) -> list[tuple[int, int]]:
    """Maximal runs (start, end positions in rank order) of methods whose mean ranks lie within ``cd``."""
    r = np.sort(np.asarray(list(mean_ranks.values()), dtype=float))
    runs = []
    for i in range(len(r)):
        j = int(np.searchsorted(r, r[i] + cd, side="right")) - 1
        if j > i and not any(s <= i and j <= e for s, e in runs):
            runs.append((i, j))
    return runs


def cd_diagram(ax, mean_ranks: dict, cd: float, title: str = "", colors: dict | None = None):
    """Critical-difference diagram (Demšar 2006): methods on the mean-rank axis (1 = best, on the left),
    a bar of length CD, and thick lines joining methods that the Nemenyi test cannot tell apart."""
    items = sorted(mean_ranks.items(), key=lambda kv: kv[1])
    k = len(items)
    ax.set_xlim(-2.9, k + 3.4)  # room for the labels on both sides
    ax.set_ylim(0, 1.08)
    ax.axhline(0.78, color="0.2", lw=1)
    for t in range(1, k + 1):
        ax.plot([t, t], [0.78, 0.82], color="0.2", lw=1)
        ax.text(t, 0.85, str(t), ha="center", va="bottom", fontsize=8)
    ax.plot([1, 1 + cd], [0.97, 0.97], color="black", lw=2)
    ax.text(1 + cd / 2, 0.99, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=8)
    half = (k + 1) // 2
    for pos, (name, r) in enumerate(items):
        left = pos < half
        row = pos if left else k - 1 - pos
        y = 0.62 - 0.11 * row
        x_text = 0.5 if left else k + 0.5
        color = (colors or {}).get(name, "0.2")
        ax.plot([r, r, x_text], [0.78, y, y], color=color, lw=1.2)
        ax.text(
            x_text + (-0.05 if left else 0.05),
            y,
            f"{name} ({r:.2f})",
            ha="right" if left else "left",
            va="center",
            fontsize=8,
            color="0.1",
        )
    for n, (s, e) in enumerate(nemenyi_cliques(mean_ranks, cd)):
        ax.plot(
            [items[s][1] - 0.03, items[e][1] + 0.03],
            [0.74 - 0.035 * n] * 2,
            color="black",
            lw=3,
            solid_capstyle="round",
        )
    ax.set_title(title, fontsize=10)
    ax.axis("off")
    return ax


# --------------------------------------------------------------------------
# Sound
# --------------------------------------------------------------------------
# A page embeds each clip as 16-bit WAV (32 kB per second at 16 kHz, a third more in base64): short clips
# keep a chapter light (tests/test_book_standard.py holds every page to a budget).
PLAYER_MAX_S = 3.0
PLAYER_RATE = 16000


def player(wave, sr: int = PLAYER_RATE):
    """A mono player of one clip of at most :data:`PLAYER_MAX_S` seconds at 16 kHz, peak-normalised to 0.9.

    Raises ``ValueError`` for a longer clip or another rate: cut or resample it first, so a page never
    embeds more than it shows.
    """
    from IPython.display import Audio

    w = np.asarray(wave, dtype=np.float32)
    if w.ndim != 1:
        raise ValueError(f"a player takes one mono waveform, got shape {w.shape}")
    if sr != PLAYER_RATE:
        raise ValueError(f"a player embeds {PLAYER_RATE} Hz audio, got {sr} Hz")
    if not 0 < len(w) <= PLAYER_MAX_S * sr:
        raise ValueError(f"a player clip lasts more than 0 and at most {PLAYER_MAX_S:g} s, got {len(w) / sr:.2f} s")
    return Audio(w / max(1e-6, float(np.abs(w).max())) * 0.9, rate=sr, normalize=False)


# --------------------------------------------------------------------------
# Figures as a reader sees them
# --------------------------------------------------------------------------
# The text column is 784 px wide; a wider figure is shown scaled down, and its fonts with it.
COLUMN_PX = 784
MIN_FONT_PT = 8.0  # titles, axis labels, tick labels and legend entries, at the size the page shows them
MIN_AXES_SHARE = 0.15  # an axes narrower (or lower) than this share of the figure is too cramped to read
MIN_AXES_PX = 110


def _visible_texts(fig):
    """(owner, role, Text) for every visible, non-empty title, axis label, tick label and legend entry."""
    found = []
    if fig._suptitle is not None and fig._suptitle.get_visible() and fig._suptitle.get_text():
        found.append(("figure", "suptitle", fig._suptitle))
    for k, ax in enumerate(fig.axes):
        if not ax.get_visible():
            continue
        owner = f"axes {k} ({ax.get_title() or 'untitled'})"
        for role, text in [
            ("title", ax.title),
            ("left title", ax._left_title),
            ("right title", ax._right_title),
            ("x label", ax.xaxis.label),
            ("y label", ax.yaxis.label),
        ]:
            if text.get_visible() and text.get_text():
                found.append((owner, role, text))
        for axis_name, axis in (("x", ax.xaxis), ("y", ax.yaxis)):
            low, high = sorted(axis.get_view_interval())
            span = (high - low) * 1e-9
            for tick, where in zip(axis.get_majorticklabels(), axis.get_majorticklocs()):
                # matplotlib keeps labels for ticks beyond the view limits but does not draw them
                if tick.get_visible() and tick.get_text() and low - span <= where <= high + span:
                    found.append((owner, f"{axis_name} tick label", tick))
    for legend in _legends(fig):
        for text in legend.get_texts():
            if text.get_visible() and text.get_text():
                found.append(("legend", "legend entry", text))
    return found


def _legends(fig):
    legends = [leg for leg in fig.legends if leg.get_visible()]
    legends += [ax.get_legend() for ax in fig.axes if ax.get_legend() is not None and ax.get_legend().get_visible()]
    return legends


def check_figure(fig, column_px: int = COLUMN_PX) -> list[str]:
    """What keeps a reader from reading ``fig`` in the book's column; an empty list when nothing does.

    Checks, on the drawn figure: every axes at least :data:`MIN_AXES_SHARE` of the figure's width and
    height (and :data:`MIN_AXES_PX`); fonts of titles, labels, tick labels and legend entries at least
    :data:`MIN_FONT_PT` at the scale the page shows the figure; no legend over another axes or outside
    the figure; no repeated legend entry; no title, label or tick label overlapping another or cut off.
    """
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    fig_box = fig.bbox
    scale = min(1.0, column_px / fig_box.width)
    problems = []
    axes = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    for k, ax in enumerate(axes):
        box = ax.get_window_extent(renderer)
        name = f"axes {k} ({ax.get_title() or 'untitled'})"
        if box.width < MIN_AXES_SHARE * fig_box.width or box.width * scale < MIN_AXES_PX:
            problems.append(f"{name} is {box.width * scale:.0f} px wide of a {fig_box.width * scale:.0f}-px figure")
        if box.height < MIN_AXES_SHARE * fig_box.height or box.height * scale < MIN_AXES_PX / 2:
            problems.append(f"{name} is {box.height * scale:.0f} px high of a {fig_box.height * scale:.0f}-px figure")
    texts = _visible_texts(fig)
    for owner, role, text in texts:
        size = text.get_fontsize() * scale
        if size < MIN_FONT_PT - 1e-6:
            problems.append(f"{owner}: {role} {text.get_text()!r} is {size:.1f} pt on the page (< {MIN_FONT_PT:g})")
    boxes = [(owner, role, text, text.get_window_extent(renderer)) for owner, role, text in texts]
    for owner, role, text, box in boxes:
        if box.x0 < fig_box.x0 - 2 or box.x1 > fig_box.x1 + 2 or box.y0 < fig_box.y0 - 2 or box.y1 > fig_box.y1 + 2:
            problems.append(f"{owner}: {role} {text.get_text()!r} is cut off at the figure's edge")
    for i in range(len(boxes)):
        for j in range(i + 1, len(boxes)):
            (o1, r1, t1, b1), (o2, r2, t2, b2) = boxes[i], boxes[j]
            if r1 == r2 == "legend entry":
                continue
            if b1.overlaps(b2) and b1.intersection(b1, b2).width > 1 and b1.intersection(b1, b2).height > 1:
                problems.append(f"{o1} {r1} {t1.get_text()!r} overlaps {o2} {r2} {t2.get_text()!r}")
    for legend in _legends(fig):
        box = legend.get_window_extent(renderer)
        labels = [t.get_text() for t in legend.get_texts()]
        repeated = sorted({x for x in labels if labels.count(x) > 1})
        if repeated:
            problems.append(f"legend repeats {repeated}")
        if box.x0 < fig_box.x0 - 2 or box.x1 > fig_box.x1 + 2 or box.y0 < fig_box.y0 - 2 or box.y1 > fig_box.y1 + 2:
            problems.append(f"legend {labels[:2]}… reaches outside the figure")
        for k, ax in enumerate(axes):
            if legend.axes is ax:
                continue
            inter = box.intersection(box, ax.get_window_extent(renderer))
            if inter is not None and inter.width > 2 and inter.height > 2:
                problems.append(f"legend {labels[:2]}… lies over axes {k} ({ax.get_title() or 'untitled'})")
    return problems


def show(fig) -> None:
    """Show ``fig`` in the page once :func:`check_figure` finds nothing wrong; raise naming each problem."""
    import matplotlib.pyplot as plt

    problems = check_figure(fig)
    if problems:
        plt.close(fig)
        raise ValueError("figure not readable in the book's column:\n- " + "\n- ".join(problems))
    plt.show()
    plt.close(fig)


def bar_panels(data: pd.DataFrame, panel: str, x: str, y: str, hue: str, ylim=None, height: float = 3.4):
    """Bars of ``y`` by ``x`` and ``hue``, one panel per value of ``panel``, with one legend below the panels."""
    import matplotlib.pyplot as plt
    import seaborn as sns

    panels = list(dict.fromkeys(data[panel]))
    width = plt.rcParams["figure.figsize"][0]  # the book style's column width (lib.chapter.use_book_style)
    fig, axes = plt.subplots(1, len(panels), figsize=(width, height), sharey=True, squeeze=False)
    for ax, name in zip(axes[0], panels):
        sns.barplot(
            data=data[data[panel] == name],
            x=x,
            y=y,
            hue=hue,
            ax=ax,
            legend=True,
            hue_order=list(dict.fromkeys(data[hue])),
        )
        handles, labels = ax.get_legend_handles_labels()
        ax.get_legend().remove()
        ax.set_title(str(name))
        if ylim is not None:
            ax.set_ylim(*ylim)
    # two columns while the labels are short enough to sit side by side in the column
    fig.legend(handles, labels, loc="outside lower center", ncol=2 if max(map(len, labels)) <= 40 else 1)
    return fig, axes[0]
