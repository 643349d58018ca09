"""The results store (lib.results.Run), the scoreboard that reads it, and where a chapter's warnings go."""

import json
import warnings

import numpy as np
import pytest

from lib import chapter, provenance, results


def test_run_saves_results_with_provenance(tmp_path):
    run = results.Run("xx", {"profile": "smoke", "seed": 0}, tmp_path)
    for seed, v in enumerate([0.9, 0.8, 0.85]):
        run.log("acc", v, seed=seed)
    path = run.save()
    res = json.loads(path.read_text())
    assert res["metrics"]["acc"]["n"] == 3
    assert res["metrics"]["acc"]["mean"] == pytest.approx(0.85)
    assert res["metrics"]["acc"]["std"] == pytest.approx(0.05)
    assert res["metrics"]["acc"]["per_seed"] == {"0": 0.9, "1": 0.8, "2": 0.85}
    assert "headlines" not in res  # the claims carry the paper's numbers
    prov = res["provenance"]
    assert {"code", "data_fingerprint", "versions", "wall_time_s", "peak_memory_mib"} <= set(prov)
    assert prov["peak_memory_mib"] > 10


def test_run_refuses_non_numbers(tmp_path):
    run = results.Run("xx", {}, tmp_path)
    with pytest.raises(ValueError, match="non-number"):
        run.log("acc", float("nan"))


def test_write_json_atomic_leaves_no_temp(tmp_path):
    provenance.write_json_atomic(tmp_path / "a.json", {"x": np.float32(1.5)})
    assert json.loads((tmp_path / "a.json").read_text()) == {"x": 1.5}
    assert [p.name for p in tmp_path.iterdir()] == ["a.json"]


def test_scoreboard_follows_the_results_files(tmp_path):
    """Claims a results file has not filled read "awaiting re-run"; filled ones show the computed verdict."""
    from lib import scoreboard
    from lib.metrics import Interval

    found = tmp_path / "results"
    found.mkdir()
    out, front = tmp_path / "scoreboard.md", tmp_path / "papers.md"
    page = scoreboard.write("book", found, out, front).read_text()
    assert (
        "SMOTEENN resampling lifts" in page and "awaiting re-run" in page and "holds" not in page.split("## Every")[1]
    )

    run = results.Run("05_pdds_emotion", {"profile": "book"}, tmp_path / "run")
    run.claim("pdds_raises_ua", Interval(1.0, -0.5, 2.5, 535, 10, method="speaker bootstrap"), n_desc="535 utterances")
    (found / "05_pdds_emotion.json").write_text(run.save().read_text())
    page = scoreboard.write("book", found, out, front).read_text()
    assert "+1.00 [-0.50, +2.50]" in page and "inconclusive" in page and "535 utterances" in page
    assert "1 inconclusive" in front.read_text()

    # The data change, the verdict follows.
    run.claim("pdds_raises_ua", Interval(4.0, 2.0, 6.0, 535, 10), n_desc="535 utterances")
    (found / "05_pdds_emotion.json").write_text(run.save().read_text())
    page = scoreboard.write("book", found, out, front).read_text()
    assert "+4.00 [+2.00, +6.00]" in page and "1 holds" in front.read_text()


@pytest.fixture
def quiet_start(monkeypatch):
    """chapter.start without its process-wide side effects (threads, plot style); showwarning restored."""
    monkeypatch.setattr(chapter, "set_threads", lambda n=None: 1)
    monkeypatch.setattr(chapter, "use_book_style", lambda: None)
    monkeypatch.setattr(warnings, "showwarning", warnings.showwarning)


def test_warnings_go_to_the_notes_only_under_the_runner(tmp_path, monkeypatch, quiet_start):
    sizes = {"smoke": {"n_seeds": 1}}
    monkeypatch.delenv(provenance.RUN_ENV, raising=False)
    before = warnings.showwarning
    ch = chapter.start("xx", "smoke", sizes, output_dir=tmp_path / "reader")
    assert warnings.showwarning is before  # a reader in JupyterLab sees warnings as Python shows them
    assert ch.run.notes == []

    context = {"chapter": str(tmp_path / "xx.py"), "params": {"profile": "smoke"}, "started": 0.0, "profile": "smoke"}
    monkeypatch.setenv(provenance.RUN_ENV, json.dumps(context))
    ch = chapter.start("xx", "smoke", sizes, output_dir=tmp_path / "runner")
    assert warnings.showwarning is not before
    with warnings.catch_warnings():
        warnings.simplefilter("always")
        warnings.warn("kept for the notes", UserWarning, stacklevel=1)
    assert any("UserWarning: kept for the notes" in note for note in ch.run.notes)


def test_a_claim_tested_in_two_chapters_gets_one_verdict_and_a_robustness_row(tmp_path):
    """The main claim's yml names the other chapter's row; the scoreboard counts one verdict and shows the other
    row, with what differs, under it and in its own chapter as a robustness row."""
    import yaml

    from lib import claims, scoreboard

    folder = tmp_path / "claims"
    folder.mkdir()
    main = {
        "paper": "P9",
        "title": "Paper nine",
        "claims": [
            {
                "id": "p9_helps",
                "kind": "relative",
                "statement": "Remedy R helps.",
                "effect": "R − none",
                "expect": ">0",
                "robustness": [{"chapter": "98_other", "claim": "other_r_helps", "why": "Other protocol."}],
            }
        ],
    }
    other = {
        "paper": "P9",
        "title": "Our comparison",
        "claims": [
            {
                "id": "other_r_helps",
                "kind": "relative",
                "statement": "R helps here too.",
                "effect": "R − none",
                "expect": ">0",
            }
        ],
    }
    (folder / "97_main.yml").write_text(yaml.safe_dump(main))
    (folder / "98_other.yml").write_text(yaml.safe_dump(other))
    table = scoreboard.collect("book", tmp_path / "none", folder)
    table.loc[table["id"] == "p9_helps", ["verdict", "estimate", "low", "high"]] = ["contradicted", -1.0, -2.0, -0.5]
    table.loc[table["id"] == "other_r_helps", ["verdict", "estimate", "low", "high"]] = ["holds", 1.0, 0.5, 2.0]
    assert scoreboard.robustness_links(table) == {
        "other_r_helps": {"main": "p9_helps", "main_chapter": "97_main", "why": "Other protocol."}
    }
    summary = scoreboard.paper_summary(table, "book")
    assert summary["claims"].tolist() == ["1 contradicted", "none written down"]  # 98's row is a robustness row
    claims._load.cache_clear()


def test_the_scoreboard_lists_what_a_chapter_cannot_test_with_its_reason(tmp_path):
    import yaml

    from lib import scoreboard

    folder = tmp_path / "claims"
    folder.mkdir()
    doc = {
        "paper": "P9",
        "title": "Paper nine",
        "claims": [],
        "not_tested": [{"id": "x", "statement": "Model X gains 3 points.", "reason": "X is named only by citation"}],
    }
    (folder / "97_main.yml").write_text(yaml.safe_dump(doc))
    assert scoreboard.not_tested(folder) == {"97_main": doc["not_tested"]}


def test_results_say_where_they_were_computed():
    from lib import provenance

    devices = provenance.compute_devices()
    assert devices["cpu"] and devices["cpu_count"] >= 1
    assert devices["gpus_used"] == []  # the book trains on the CPU; a visible GPU is recorded, not used
