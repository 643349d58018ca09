"""The shipped keyword spotters on read speech they never heard, through their public function.

    export AUDIO_REPRO_DATA=../shared/data
    .venv/bin/python benchmarks/kws_shipped_librispeech.py [--json out.json]

Chapter 01's book run holds out six Mini LibriSpeech readers (``lib.datasets.kws.librispeech_negatives``,
seed 0) and measures on one-second windows of their keyword-free sentences how often its CRNN fires a
keyword.  This script asks the same of the *shipped* models as a reader calls them:
:func:`lib.models.kws.predict_files` on every keyword-free utterance of those six readers (the whole file,
which the function cuts to its loudest second), with the model's stored operating point and, for
comparison, with plain arg-max.  Printed: the share of files labelled as a keyword, with a 95 % bootstrap
interval over readers, and the chapter's own operating-point numbers on its `_unknown_` test clips for
comparison.  Nothing is trained; no keyword recording outside the chapter's splits exists in the mirror,
so keyword recall cannot be measured this way.
"""

from __future__ import annotations

import argparse
import json
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--json", default=None, help="also write the table here")
    ap.add_argument("--models", default="kws_crnn", help="comma-separated shipped models (kws_crnn, kws_cnn)")
    args = ap.parse_args()

    import numpy as np
    import pandas as pd

    from lib import metrics
    from lib.datasets import kws as kd
    from lib.models import kws as km

    held = kd.librispeech_negatives(n_train=0, n_test=10**6, seed=0)
    utterances = held.drop_duplicates("abs_path")[["abs_path", "speaker"]].reset_index(drop=True)
    print(f"{len(utterances)} keyword-free utterances of {utterances['speaker'].nunique()} held-out readers")
    chapter = json.load(open("book/results/book/01_keyword_spotting.json"))["metrics"]
    rows = []
    for model in args.models.split(","):
        for threshold in ("stored", None):
            out = km.predict_files(utterances["abs_path"].tolist(), f"book/models/{model}", threshold=threshold)
            fired = out["label"].isin(kd.KEYWORDS).to_numpy(float)
            iv = metrics.bootstrap_ci(np.mean, fired, groups=utterances["speaker"].to_numpy(), null=None)
            arch = model.removeprefix("kws_")
            rows.append(
                {
                    "model": model,
                    "decision": "stored operating point" if threshold else "arg-max",
                    "threshold": out.attrs.get("threshold"),
                    "files firing a keyword": f"{iv.estimate:.3f} [{iv.low:.3f}, {iv.high:.3f}]",
                    "n files": len(out),
                    "chapter: `_unknown_` test clips firing at the operating point": round(
                        chapter[f"{arch}/operating_point/pooled_false_keyword_rate_unknown"]["mean"], 3
                    ),
                }
            )
    table = pd.DataFrame(rows)
    print(table.to_markdown(index=False))
    if args.json:
        table.to_json(args.json, orient="records", indent=1)


if __name__ == "__main__":
    main()
