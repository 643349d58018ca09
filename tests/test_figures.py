"""Figures as a reader sees them in the 784-px column: lib.page.check_figure, on chapter 04's old hit@5
figure (its code as it was, on made-up numbers of the same shape) and on the layout that replaces it."""

import warnings

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
import seaborn as sns  # noqa: E402

from lib import chapter, page  # noqa: E402

SYSTEMS = {  # chapter 04's systems, shortened for the legend the way its old figure did
    "ours_combined": "our adapted recogniser → greedy transcript → paper's combination",
    "sphinx_kws": "PocketSphinx keyword spotting over the catalogue",
    "base_decoder": "our recogniser before adaptation → catalogue decoder (ours)",
    "ours_decoder": "our adapted recogniser → catalogue decoder (ours)",
}


# the legend labels the replacement gives the same systems
SHORT = {
    "ours_combined": "adapted recogniser → paper's combination",
    "sphinx_kws": "PocketSphinx keyword spotting",
    "base_decoder": "unadapted recogniser → catalogue decoder",
    "ours_decoder": "adapted recogniser → catalogue decoder",
}


def hit_rows(old_labels=True):
    rng = np.random.default_rng(0)
    rows = []
    for set_name in ["template-phrased", "freely phrased"]:
        for key, label in SYSTEMS.items():
            for kind in ["title", "artist", "mood", "genre"]:
                # the old cell's shortening: first and last step (a one-step name came out twice)
                short = label.split(" → ")[0] + " → " + label.split(" → ")[-1] if old_labels else SHORT[key]
                rows.append({"requests": set_name, "system": short, "kind": kind, "hit@5": rng.uniform(0.3, 1)})
    return pd.DataFrame(rows)


@pytest.fixture(autouse=True)
def book_style():
    chapter.use_book_style()
    yield
    plt.close("all")


def old_chapter_04_figure(plot_rows):
    """Chapter 04's hit@5 figure as it was published (its cell's code)."""
    test_sets = ["template-phrased", "freely phrased"]
    fig, axes = plt.subplots(1, 2, figsize=(7.6, 3.0), sharey=True)
    for ax, set_name in zip(axes, test_sets):
        sns.barplot(
            data=plot_rows.query("requests == @set_name"),
            x="kind",
            y="hit@5",
            hue="system",
            ax=ax,
            legend=set_name == test_sets[-1],
        )
        ax.set_title(set_name)
        ax.set_ylim(0, 1)
    axes[-1].legend(fontsize=7, bbox_to_anchor=(1.02, 1), loc="upper left")
    with warnings.catch_warnings():  # matplotlib says the layout engine changed: it did, in the old cell too
        warnings.simplefilter("ignore")
        plt.tight_layout()
    return fig


def test_chapter_04s_old_figure_fails_the_reader_check():
    problems = page.check_figure(old_chapter_04_figure(hit_rows()))
    assert any("px wide" in p for p in problems), problems
    assert any("pt on the page" in p for p in problems), problems
    assert any("title 'template-phrased' overlaps" in p for p in problems), problems


def test_its_replacement_passes():
    fig, _ = page.bar_panels(
        hit_rows(old_labels=False), panel="requests", x="kind", y="hit@5", hue="system", ylim=(0, 1)
    )
    assert page.check_figure(fig) == []


def test_overlapping_tick_labels_and_a_legend_over_another_panel_are_caught():
    fig, axes = plt.subplots(1, 2, figsize=(7.6, 3), layout="none")  # no layout engine to make room
    axes[0].bar([f"a rather long category name {k}" for k in range(8)], np.arange(8))
    axes[0].plot([0, 1], label="a legend label long enough to run over the next panel")
    axes[0].legend(loc="center left", bbox_to_anchor=(1.0, 0.5))
    axes[1].plot([0, 1])
    problems = page.check_figure(fig)
    assert any("overlaps" in p and "tick label" in p for p in problems), problems
    assert any("lies over axes 1" in p for p in problems), problems


def test_show_refuses_an_unreadable_figure():
    with pytest.raises(ValueError, match="not readable"):
        page.show(old_chapter_04_figure(hit_rows()))
