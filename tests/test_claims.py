"""Verdicts are computed from intervals with a fixed vocabulary, and follow the data."""

import numpy as np
import pytest

from lib import claims as C
from lib import metrics as M


@pytest.mark.parametrize(
    "low,high,expect,verdict",
    [
        (0.2, 1.0, ">0", "holds"),
        (-1.0, -0.2, ">0", "contradicted"),
        (-0.2, 1.0, ">0", "inconclusive"),
        (-1.0, -0.2, "<0", "holds"),
        (0.2, 1.0, "<0", "contradicted"),
        (-0.2, 0.2, "<0", "inconclusive"),
    ],
)
def test_relative_verdicts(low, high, expect, verdict):
    assert C.relative_verdict(low, high, expect) == verdict


def test_about_equal_claims_use_the_margin():
    assert C.relative_verdict(-0.5, 0.8, "~0", margin=1.0) == "holds"
    assert C.relative_verdict(1.5, 3.0, "~0", margin=1.0) == "contradicted"
    assert C.relative_verdict(0.5, 3.0, "~0", margin=1.0) == "inconclusive"
    with pytest.raises(C.ClaimError):
        C.relative_verdict(0, 1, "~0")


def test_absolute_verdicts_are_direction_aware_and_respect_comparability():
    assert C.absolute_verdict(80, 90, 85, comparable=True) == "within"
    assert C.absolute_verdict(60, 70, 91.76, comparable=True) == "below"
    assert C.absolute_verdict(60, 70, 50, comparable=True) == "above"
    assert C.absolute_verdict(60, 70, 91.76, comparable=False) == "not comparable"
    row = C.judge("kws_cnn_accuracy", 65, 60, 70, comparable=True)
    assert row["verdict"] == "below" and row["direction"] == "worse"
    row = C.judge("music_rescnn_cer", 0.15, 0.1, 0.18, comparable=True)
    assert row["verdict"] == "below" and row["direction"] == "better"  # lower CER is better
    with pytest.raises(C.ClaimError):
        C.judge("kws_cnn_accuracy", 65, 60, 70)  # comparability must be stated


def test_a_verdict_flips_when_the_data_do():
    """Same claim, same code: a system that is better, equal or worse on the test items."""
    rng = np.random.default_rng(0)
    y = rng.integers(0, 5, 1500)
    base = np.where(rng.random(1500) < 0.6, y, (y + 1) % 5)
    acc = lambda t, p: 100 * np.mean(t == p)  # noqa: E731
    verdicts = []
    for shift in (+0.1, 0.0, -0.1):
        other = base.copy()
        idx = rng.choice(1500, int(abs(shift) * 1500), replace=False)
        other[idx] = y[idx] if shift > 0 else (y[idx] + 2) % 5
        d = M.paired_difference(acc, y, other, base, n_boot=500)
        verdicts.append(C.judge("pdds_raises_ua", d.estimate, d.low, d.high)["verdict"])
    assert verdicts == ["holds", "inconclusive", "contradicted"]


def test_catalogue_is_well_formed_and_every_chapter_has_claims():
    cat = C.catalogue()
    assert {c["chapter"] for c in cat.values()} >= {
        "01_keyword_spotting",
        "02_siamese_speakers",
        "03_triple_header_events",
        "04_voice_music_search",
        "05_pdds_emotion",
        "06_imbalance_head_to_head",
    }
    for c in cat.values():
        assert c["statement"] and c["source"]
    with pytest.raises(C.ClaimError):
        C.judge("no_such_claim", 0, -1, 1)


def test_an_exact_quantity_shows_no_zero_width_interval():
    from lib.page import format_interval

    exact = {"kind": "relative", "estimate": 77.824, "low": 77.824, "high": 77.824}
    assert format_interval(exact) == "+77.82 (exact, no interval)"
    sampled = {"kind": "absolute", "estimate": 0.5, "low": 0.4, "high": 0.6}
    assert format_interval(sampled, 3) == "0.500 [0.400, 0.600]"
