"""The reader's book: a re-run chapter's stored notebook shows the paper's story, not the machinery.

Applies to every committed ``book`` notebook whose results file says it was re-run under the
reader standard (``provenance.reader_standard >= 2``); chapters awaiting their re-run are listed
as skipped.  The checker itself is tested on notebooks built to break each rule.
"""

import json
import re
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book" / "executed" / "book"
RESULTS = ROOT / "book" / "results" / "book"

ABSOLUTE_PATH = re.compile(r"(?<![\w.])/(?:work|tmp|home|root|Users|mnt|var/folders)/")
RUN_FOLDER = re.compile(r"(?<![\w])runs/(?:smoke|book|full)/")
WIDGET = "application/vnd.jupyter.widget-view+json"


def _output_texts(output) -> list[str]:
    if output.get("output_type") == "stream":
        return [output.get("text", "")]
    texts = []
    for mime, value in (output.get("data") or {}).items():
        if mime.startswith("image/"):
            continue
        texts.append(value if isinstance(value, str) else json.dumps(value))
    if output.get("output_type") == "error":
        texts.append("\n".join(output.get("traceback", [])))
    return texts


def problems(nb) -> list[str]:
    """Every way the notebook shows machinery to the reader (empty list: clean)."""
    found = []
    first_section_has_box = False
    glued_box = False
    seen_second_heading = False
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type == "markdown":
            if i > 0 and re.search(r"^## ", cell.source, re.M):
                seen_second_heading = True
            if not seen_second_heading and "{glue:md} result_box" in cell.source:
                first_section_has_box = True
            continue
        if cell.cell_type != "code":
            continue
        if ("injected-parameters" in tags or "parameters" in tags) and "remove-cell" not in tags:
            found.append(f"cell {i}: parameters cell visible")
        for out in cell.get("outputs", []):
            if out.get("output_type") == "stream" and out.get("name") == "stderr":
                found.append(f"cell {i}: stderr output")
            if out.get("output_type") == "error":
                found.append(f"cell {i}: error/traceback")
            if WIDGET in (out.get("data") or {}):
                found.append(f"cell {i}: progress-bar/widget output")
            if (out.get("metadata") or {}).get("scrapbook", {}).get("name") == "result_box":
                glued_box = True
            for text in _output_texts(out):
                if "Traceback (most recent call last)" in text:
                    found.append(f"cell {i}: traceback text")
                if ABSOLUTE_PATH.search(text):
                    found.append(f"cell {i}: absolute path {ABSOLUTE_PATH.search(text).group(0)!r}")
                if RUN_FOLDER.search(text):
                    found.append(f"cell {i}: run folder in output")
                if "AUDIO_REPRO_DATA" in text:
                    found.append(f"cell {i}: the data setting's name in output")
    if not first_section_has_box:
        found.append("first section lacks the result box ({glue:md} result_box)")
    if not glued_box:
        found.append("no cell glues result_box (report.publish_result_box)")
    return found


def _rerun_chapters():
    out = []
    for res in sorted(RESULTS.glob("*.json")):
        level = json.loads(res.read_text())["provenance"].get("reader_standard", 1)
        out.append(
            pytest.param(
                res.stem,
                marks=()
                if level >= 2
                else pytest.mark.skip(reason=f"{res.stem}: awaiting its re-run under the reader standard"),
            )
        )
    return out


@pytest.mark.parametrize("stem", _rerun_chapters())
def test_rerun_chapter_meets_the_reader_standard(stem):
    nb = nbformat.read(BOOK / f"{stem}.ipynb", as_version=4)
    assert problems(nb) == []


def _nb(*cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = list(cells)
    return nb


def _clean():
    title = nbformat.v4.new_markdown_cell("# T")
    box = nbformat.v4.new_markdown_cell("```{glue:md} result_box\n:format: myst\n```")
    params = nbformat.v4.new_code_cell("profile = 'book'", metadata={"tags": ["parameters", "remove-cell"]})
    glue = nbformat.v4.new_code_cell(
        "publish",
        outputs=[
            nbformat.v4.new_output(
                "display_data",
                data={"application/papermill.record/text/markdown": "box"},
                metadata={"scrapbook": {"name": "result_box", "mime_prefix": "application/papermill.record/"}},
            )
        ],
    )
    return [title, box, params, glue]


@pytest.mark.parametrize(
    "bad,expected",
    [
        (nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("stream", name="stderr", text="W")]), "stderr"),
        (
            nbformat.v4.new_code_cell(
                "x", outputs=[nbformat.v4.new_output("error", ename="E", evalue="", traceback=[])]
            ),
            "error",
        ),
        (nbformat.v4.new_code_cell("x", outputs=[nbformat.v4.new_output("display_data", data={WIDGET: {}})]), "widget"),
        (
            nbformat.v4.new_code_cell(
                "x", outputs=[nbformat.v4.new_output("stream", name="stdout", text="saved " + "/" + "work/main/a.json")]
            ),
            "absolute",
        ),
        (
            nbformat.v4.new_code_cell(
                "x",
                outputs=[nbformat.v4.new_output("stream", name="stdout", text="results: ./runs/book/.05.running/x")],
            ),
            "run folder",
        ),
        (
            nbformat.v4.new_code_cell(
                "x", outputs=[nbformat.v4.new_output("stream", name="stdout", text="data: $AUDIO_REPRO_DATA")]
            ),
            "data setting",
        ),
        (nbformat.v4.new_code_cell("x = 1", metadata={"tags": ["injected-parameters"]}), "parameters cell visible"),
    ],
)
def test_the_checker_catches_each_kind_of_machinery(bad, expected):
    assert problems(_nb(*_clean())) == []
    assert any(expected in p for p in problems(_nb(*_clean(), bad)))


def test_the_checker_wants_the_result_box_in_the_first_section():
    title, box, params, glue = _clean()
    late = _nb(title, nbformat.v4.new_markdown_cell("## Setup"), box, params, glue)
    assert any("result box" in p for p in problems(late))
