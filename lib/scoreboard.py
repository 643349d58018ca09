"""The book's scoreboard and front-page table, generated from the claims and the results files.

Claims first: per paper, how many of its claims hold, are contradicted, are inconclusive or
await a re-run; then one row per claim (the paper's statement, our effect with its 95 %
interval, n, the computed verdict); then the paper's absolute numbers with their
comparability.  A claim that a chapter's committed results do not fill shows as "awaiting
re-run" — never an old tolerance verdict.  Nothing here is edited by hand.
"""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd

from lib import claims as C
from lib.page import VERDICT_MARK, format_interval, verdict_text

ROOT = Path(__file__).resolve().parents[1]
RELATIVE = ("holds", "contradicted", "inconclusive", "awaiting re-run")


def _results(profile: str, results_dir: Path | None) -> dict[str, dict]:
    folder = results_dir or ROOT / "book" / "results" / profile
    return {f.stem: json.loads(f.read_text()) for f in sorted(Path(folder).glob("*.json"))}


def collect(profile: str, results_dir: Path | None = None, claims_dir: Path | None = None) -> pd.DataFrame:
    """One row per catalogued claim, filled from the chapter's results where it has filled it."""
    results = _results(profile, results_dir)
    rows = []
    for claim_id, claim in C.catalogue(claims_dir).items():
        res = results.get(claim["chapter"], {})
        filled = {c["id"]: c for c in res.get("claims", [])}.get(claim_id)
        row = {**claim, "verdict": C.AWAITING, "estimate": None, "low": None, "high": None, "n_desc": "", "run": ""}
        if filled:
            row.update({k: filled.get(k) for k in ("verdict", "estimate", "low", "high", "direction")})
            row["n_desc"] = filled.get("n_desc") or str(filled.get("n", ""))
            prov = res["provenance"]
            row["run"] = f"{prov['finished_utc'][:10]}, {prov['code']['git_commit']}"
        rows.append(row)
    return pd.DataFrame(rows)


def _chapter_link(chapter: str, profile: str, text: str | None = None) -> str:
    return f"{{doc}}`{text or chapter} </book/executed/{profile}/{chapter}>`"


def _ours(row) -> str:
    if row["verdict"] == C.AWAITING:
        return "—"
    return format_interval(row)


def robustness_links(table: pd.DataFrame) -> dict[str, dict]:
    """Claim id of a robustness row → its main claim and why the protocols differ.

    A paper claim tested in two chapters gets one verdict, from the protocol closest to the paper's;
    the main claim's ``robustness`` entries (``book/claims/*.yml``) name the other rows and say in one
    sentence what differs.
    """
    links = {}
    for _, row in table.iterrows():
        for link in _robustness(row):
            links[link["claim"]] = {"main": row["id"], "main_chapter": row["chapter"], "why": link["why"]}
    return links


def not_tested(claims_dir: Path | None = None) -> dict[str, list[dict]]:
    """Chapter → the paper's items it cannot test, each with the reason (``not_tested:`` in its claims file)."""
    import yaml

    folder = claims_dir or C.CATALOGUE
    out = {}
    for path in sorted(Path(folder).glob("*.yml")):
        items = yaml.safe_load(path.read_text()).get("not_tested") or []
        if items:
            out[path.stem] = items
    return out


def _robustness(row) -> list[dict]:
    value = row.get("robustness")
    return value if isinstance(value, list) else []  # a claim without the field is NaN in the table


def paper_summary(table: pd.DataFrame, profile: str) -> pd.DataFrame:
    papers = C.papers()
    out = []
    secondary = set(robustness_links(table))
    for chapter, group in table.groupby("chapter", sort=True):
        group = group[~group["id"].isin(secondary)]  # one verdict per paper claim: the main row's
        rel = group[group["kind"] == "relative"]
        counts = {v: int((rel["verdict"] == v).sum()) for v in RELATIVE}
        p = papers.get(chapter, {"paper": "", "title": chapter})
        out.append(
            {
                "paper": f"[{p['paper']}] {p['title']}" if not str(p["paper"]).count(",") else p["title"],
                "claims": " · ".join(f"{counts[v]} {v}" for v in RELATIVE if counts[v]) or "none written down",
                "chapter": _chapter_link(chapter, profile, "read"),
            }
        )
    return pd.DataFrame(out)


def write(
    profile: str, results_dir: Path | None = None, out: Path | None = None, papers_out: Path | None = None
) -> Path:
    """Regenerate ``book/scoreboard.md`` and the front page's ``book/_generated/papers.md``."""
    table = collect(profile, results_dir)
    summary = paper_summary(table, profile)
    vocab = (
        "**Verdicts.** A claim of the paper *holds* when our 95 % interval for its effect lies on the "
        "claimed side of no effect, is *contradicted* when it lies on the other side, and is "
        "*inconclusive* when it includes no effect. A number of the paper is *within*, *below* or "
        "*above* ours by our interval, or *not comparable* when our corpus or protocol differs "
        "(then the relative claims carry the verdict). *Awaiting re-run*: the chapter has not yet "
        "been re-run under this standard."
    )
    text = [
        "# Scoreboard",
        "",
        "Does each paper's claim hold when its method is re-run? Each claim below carries our effect, "
        "its 95 % interval, n and a verdict computed from the interval.",
        "",
        vocab,
        "",
        "## Per paper",
        "",
        summary.to_markdown(index=False),
        "",
    ]
    text += ["## Every claim", ""]
    links = robustness_links(table)
    by_id = table.set_index("id")

    def verdict_of(r) -> str:
        return verdict_text(r) if r["verdict"] != C.AWAITING else VERDICT_MARK[C.AWAITING]

    for chapter, group in table.groupby("chapter", sort=True):
        text += [f"### {_chapter_link(chapter, profile, C.papers().get(chapter, {}).get('title', chapter))}", ""]
        rel = group[group["kind"] == "relative"]
        if len(rel):
            rows = []
            for _, r in rel.iterrows():
                effect = f"{r['effect']}: {_ours(r)}" if r["verdict"] != C.AWAITING else "—"
                if r["id"] in links:  # a robustness row: the verdict belongs to the main claim
                    link = links[r["id"]]
                    main = by_id.loc[link["main"]]
                    rows.append(
                        {
                            "verdict": f"robustness row ({r['verdict']}); the claim's verdict: {verdict_of(main)}",
                            "claim": f"{r['statement']} — main test: {main['statement']} "
                            f"({_chapter_link(link['main_chapter'], profile, 'chapter')}). {link['why']}",
                            "ours: effect, 95 % CI": effect,
                            "n": r["n_desc"],
                        }
                    )
                    continue
                rows.append(
                    {
                        "verdict": verdict_of(r),
                        "claim": r["statement"],
                        "ours: effect, 95 % CI": effect,
                        "n": r["n_desc"],
                    }
                )
                for link in _robustness(r):
                    if link["claim"] not in by_id.index:
                        continue
                    other = by_id.loc[link["claim"]]
                    rows.append(
                        {
                            "verdict": f"↳ robustness row ({other['verdict']})",
                            "claim": f"{other['statement']} "
                            f"({_chapter_link(other['chapter'], profile, 'chapter')}). {link['why']}",
                            "ours: effect, 95 % CI": f"{other['effect']}: {_ours(other)}"
                            if other["verdict"] != C.AWAITING
                            else "—",
                            "n": other["n_desc"],
                        }
                    )
            text += [pd.DataFrame(rows).to_markdown(index=False), ""]
        ab = group[group["kind"] == "absolute"]
        if len(ab):
            t = pd.DataFrame(
                {
                    "paper's number": [f"{r['statement']}: {r['paper']:g}" for _, r in ab.iterrows()],
                    "ours, 95 % CI": [_ours(r) for _, r in ab.iterrows()],
                    "verdict": [
                        verdict_text(r) if r["verdict"] != C.AWAITING else VERDICT_MARK[C.AWAITING]
                        for _, r in ab.iterrows()
                    ],
                }
            )
            text += ["Absolute numbers:", "", t.to_markdown(index=False), ""]
        untested = not_tested().get(chapter, [])
        if untested:
            t = pd.DataFrame(
                {
                    "the paper's item": [u["statement"] for u in untested],
                    "why it is not tested here": [u["reason"] for u in untested],
                }
            )
            text += ["Not testable here:", "", t.to_markdown(index=False), ""]
    text += [
        "## How this page is made",
        "",
        f"Generated at every build from the claims written down per paper (`book/claims/*.yml`) and the "
        f"chapters' results files (profile `{profile}`) by `lib/scoreboard.py`; never edited by hand.",
        "",
    ]
    out = out or ROOT / "book" / "scoreboard.md"
    _write_if_changed(out, "\n".join(text))
    papers_out = papers_out or ROOT / "book" / "_generated" / "papers.md"
    front = [
        "Claims per paper (generated from the results at every build; details on the "
        "{doc}`scoreboard </book/scoreboard>`):",
        "",
        summary.to_markdown(index=False),
    ]
    _write_if_changed(papers_out, "\n".join(front))
    return out


def _write_if_changed(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    text = text.rstrip() + "\n"
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
