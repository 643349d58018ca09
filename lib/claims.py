"""The papers' claims as testable statements, and the verdicts computed from our intervals.

The statements live in ``book/claims/<chapter>.yml`` (one entry per claim, paraphrased from the paper);
a chapter fills a claim with an effect and its 95 % interval through ``Run.claim`` and the
verdict is computed here, with a fixed vocabulary:

* a **relative** claim (A beats B, M improves X, cost grows more slowly) **holds** when the
  interval lies on the claimed side of no effect, is **contradicted** when it lies on the other
  side, and is **inconclusive** when it includes no effect (for "about equal" claims: holds
  when the interval lies inside ±margin, contradicted when it lies wholly outside);
* an **absolute** number is **within**, **below** or **above** the paper's value by its
  interval — or **not comparable** when our corpus or protocol differs from the paper's, in
  which case the relative claims carry the verdict.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
CATALOGUE = ROOT / "book" / "claims"

HOLDS, CONTRADICTED, INCONCLUSIVE = "holds", "contradicted", "inconclusive"
WITHIN, BELOW, ABOVE, NOT_COMPARABLE = "within", "below", "above", "not comparable"
AWAITING = "awaiting re-run"
RELATIVE_VERDICTS = (HOLDS, CONTRADICTED, INCONCLUSIVE)
ABSOLUTE_VERDICTS = (WITHIN, BELOW, ABOVE, NOT_COMPARABLE)


class ClaimError(ValueError):
    pass


@cache
def _load(folder: Path = CATALOGUE) -> dict:
    claims, papers_ = {}, {}
    for path in sorted(Path(folder).glob("*.yml")):
        doc = yaml.safe_load(path.read_text())
        chapter = path.stem
        papers_[chapter] = {"paper": doc["paper"], "title": doc["title"]}
        for c in doc.get("claims") or []:
            c = {**c, "chapter": chapter}
            if c["id"] in claims:
                raise ClaimError(f"{path}: claim id {c['id']!r} appears twice")
            if c.get("kind") not in ("relative", "absolute"):
                raise ClaimError(f"{path}: claim {c['id']!r} needs kind relative or absolute")
            if c["kind"] == "relative" and c.get("expect") not in (">0", "<0", "~0"):
                raise ClaimError(f"{path}: claim {c['id']!r} needs expect '>0', '<0' or '~0'")
            if c.get("expect") == "~0" and not c.get("margin"):
                raise ClaimError(f"{path}: claim {c['id']!r} expects '~0' and needs a margin")
            if c["kind"] == "absolute" and (c.get("paper") is None or c.get("better") not in ("higher", "lower")):
                raise ClaimError(f"{path}: absolute claim {c['id']!r} needs `paper` and `better: higher|lower`")
            claims[c["id"]] = c
    return {"papers": papers_, "claims": claims}


def catalogue(path: Path | None = None) -> dict[str, dict]:
    """Every claim, keyed by id."""
    return _load(path or CATALOGUE)["claims"]


def papers(path: Path | None = None) -> dict[str, dict]:
    """Chapter stem → the paper it reproduces (label and short title)."""
    return _load(path or CATALOGUE)["papers"]


def for_chapter(chapter: str, path: Path | None = None) -> list[dict]:
    return [c for c in catalogue(path).values() if c["chapter"] == chapter]


def relative_verdict(low: float, high: float, expect: str, margin: float | None = None) -> str:
    """Verdict of a relative claim from the effect's interval [low, high]."""
    if low > high:
        raise ClaimError(f"interval [{low}, {high}] is reversed")
    if expect == ">0":
        return HOLDS if low > 0 else CONTRADICTED if high < 0 else INCONCLUSIVE
    if expect == "<0":
        return HOLDS if high < 0 else CONTRADICTED if low > 0 else INCONCLUSIVE
    if expect == "~0":
        if margin is None or margin <= 0:
            raise ClaimError("an 'about equal' claim needs a positive margin")
        if -margin <= low and high <= margin:
            return HOLDS
        return CONTRADICTED if (low > margin or high < -margin) else INCONCLUSIVE
    raise ClaimError(f"unknown expectation {expect!r}")


def absolute_verdict(low: float, high: float, paper: float, comparable: bool) -> str:
    """Where the paper's number lies relative to our interval (or not comparable)."""
    if not comparable:
        return NOT_COMPARABLE
    if low > high:
        raise ClaimError(f"interval [{low}, {high}] is reversed")
    return WITHIN if low <= paper <= high else BELOW if high < paper else ABOVE


def judge(
    claim_id: str, estimate: float, low: float, high: float, comparable: bool | None = None, path: Path | None = None
) -> dict:
    """The catalogue entry of ``claim_id`` with our effect, interval and the computed verdict."""
    cat = catalogue(path)
    if claim_id not in cat:
        raise ClaimError(f"unknown claim {claim_id!r}: add it to {CATALOGUE.relative_to(ROOT)}/<chapter>.yml first")
    c = dict(cat[claim_id])
    if not low <= estimate <= high:
        raise ClaimError(f"claim {claim_id!r}: estimate {estimate} lies outside its interval [{low}, {high}]")
    if c["kind"] == "relative":
        c["verdict"] = relative_verdict(low, high, c["expect"], c.get("margin"))
    else:
        if comparable is None:
            raise ClaimError(f"absolute claim {claim_id!r}: say whether our data and protocol are comparable")
        c["verdict"] = absolute_verdict(low, high, c["paper"], comparable)
        if c["verdict"] in (BELOW, ABOVE):
            ours_higher = c["verdict"] == ABOVE
            c["direction"] = "better" if ours_higher == (c["better"] == "higher") else "worse"
    c.update(estimate=float(estimate), low=float(low), high=float(high))
    return c
