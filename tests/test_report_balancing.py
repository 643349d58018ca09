import json

import numpy as np
import pytest

from lib import balancing, report


def test_run_saves_results_with_provenance(tmp_path):
    run = report.Run("xx", {"profile": "smoke", "seed": 0}, tmp_path)
    for seed, v in enumerate([0.9, 0.8, 0.85]):
        run.log("acc", v, seed=seed)
    run.headline("accuracy", "acc", paper=92.0, tolerance=2.0, data_used="tiny", scale=100)
    path = run.save()
    res = json.loads(path.read_text())
    assert res["metrics"]["acc"]["n"] == 3
    assert res["metrics"]["acc"]["mean"] == pytest.approx(0.85)
    assert res["metrics"]["acc"]["std"] == pytest.approx(0.05)
    assert res["headlines"][0]["verdict"] == "not reproduced"
    prov = res["provenance"]
    assert {"code", "data_fingerprint", "versions", "wall_time_s", "peak_memory_mib"} <= set(prov)
    assert prov["peak_memory_mib"] > 10


def test_run_refuses_non_numbers(tmp_path):
    run = report.Run("xx", {}, tmp_path)
    with pytest.raises(ValueError, match="non-number"):
        run.log("acc", float("nan"))


def test_paper_vs_ours_table():
    t = report.paper_vs_ours(
        [
            {"quantity": "CNN accuracy", "paper": 91.76, "ours": [0.80, 0.82], "note": "x"},
            {"quantity": "EER", "paper": None, "ours": [0.1]},
        ],
        scale=100,
    )
    assert list(t["ours − paper"]) == ["-10.76", "—"]
    assert "81.00 ± 1.41" in t.iloc[0, 2]
    assert t.iloc[1, 1] == "not reported"


def test_write_json_atomic_leaves_no_temp(tmp_path):
    report.write_json_atomic(tmp_path / "a.json", {"x": np.float32(1.5)})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1.5}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_class_weights_and_ratio_subsampling():
    y = np.array([0] * 90 + [1] * 10)
    w = balancing.class_weights(y)
    assert w[1] == pytest.approx(5.0) and w[0] == pytest.approx(100 / 180)
    counts = balancing.counts_for_ratio(
        {"dog": 300, "baby": 400, "gun": 120, "bg": 2000}, {"dog": 6, "baby": 1, "gun": 2, "bg": 16}
    )
    assert counts == {"dog": 300, "baby": 50, "gun": 100, "bg": 800}
    labels = np.array(["a"] * 5 + ["b"] * 5)
    idx = balancing.subsample_to_counts(labels, {"a": 2, "b": 5})
    assert (labels[idx] == "a").sum() == 2
    with pytest.raises(ValueError):
        balancing.subsample_to_counts(labels, {"a": 6})


def test_mixup_mixes_features_and_labels():
    X1, X2 = np.ones((2, 3)), np.zeros((2, 3))
    Y1, Y2 = np.array([[1, 0], [1, 0]]), np.array([[0, 1], [0, 1]])
    X, Y = balancing.mixup(X1, X2, Y1, Y2, np.array([0.7, 0.2]))
    np.testing.assert_allclose(X[:, 0], [0.7, 0.2])
    np.testing.assert_allclose(Y.sum(axis=1), 1)


def test_scoreboard_follows_the_results_files(tmp_path):
    """Claims a results file has not filled read "awaiting re-run"; filled ones show the computed verdict."""
    from lib import scoreboard
    from lib.metrics import Interval

    results = tmp_path / "results"
    results.mkdir()
    out, front = tmp_path / "scoreboard.md", tmp_path / "papers.md"
    page = scoreboard.write("book", results, out, front).read_text()
    assert (
        "SMOTEENN resampling lifts" in page and "awaiting re-run" in page and "holds" not in page.split("## Every")[1]
    )

    run = report.Run("05_pdds_emotion", {"profile": "book"}, tmp_path / "run")
    run.claim("pdds_raises_ua", Interval(1.0, -0.5, 2.5, 535, 10, method="speaker bootstrap"), n_desc="535 utterances")
    (results / "05_pdds_emotion.json").write_text(run.save().read_text())
    page = scoreboard.write("book", results, out, front).read_text()
    assert "+1.00 [-0.50, +2.50]" in page and "inconclusive" in page and "535 utterances" in page
    assert "1 inconclusive" in front.read_text()

    # The data change, the verdict follows.
    run.claim("pdds_raises_ua", Interval(4.0, 2.0, 6.0, 535, 10), n_desc="535 utterances")
    (results / "05_pdds_emotion.json").write_text(run.save().read_text())
    page = scoreboard.write("book", results, out, front).read_text()
    assert "+4.00 [+2.00, +6.00]" in page and "1 holds" in front.read_text()
