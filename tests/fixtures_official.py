"""Small data folders laid out exactly like the official datasets the chapters' ``full`` profile reads.

``build(tmp_dir) -> Path`` writes one sub-folder per corpus (named as :data:`lib.corpora.CORPORA` and the
loaders expect) into ``tmp_dir``, from real recordings of the offline mirror (``AUDIO_REPRO_DATA``, or
``mirror=``): a handful of files per class, in the official folder layout and the official file formats.
``tests/test_official_layouts.py`` unit-tests the loaders on it; ``make test-full``
(``scripts/make-official-fixtures.py``) runs every chapter's ``full`` profile on it.

The official datasets (profile ``full``), rebuilt small:

* ``speech_commands_v0.02/`` — the **full** Speech Commands v0.02 archive's layout: 35 word folders of
  ``<speaker>_nohash_<n>.wav`` (16-bit PCM, 16 kHz), ``_background_noise_/`` (6 WAV recordings and
  README.md), ``validation_list.txt`` / ``testing_list.txt``, LICENSE, README.md, and no ``_silence_``
  folder and no ``manifest.csv`` (neither is in the archive).  Partitions follow the dataset's own rule
  (SHA-1 of the speaker id: 10 % validation, 10 % testing, :func:`which_set`), so the lists agree with
  the file names.  Test clips are the mirror's official-test-set clips under their own names; training
  and validation clips are the mirror's training-portion clips where it has them (8 keywords,
  *bed*/*cat*/*happy*), and otherwise test-portion clips of other speakers under a new speaker id that
  the rule assigns to that partition (the same recording never appears twice).
* ``timit/`` — ``TRAIN|TEST/DR<n>/<SPEAKER>/<SENTENCE>.WAV`` in NIST SPHERE (the ``NIST_1A`` 1024-byte
  header with TIMIT's fields, little-endian 16-bit PCM, 16 kHz), 10 sentences per speaker (SA1, SA2,
  3 × SI, 5 × SX) with ``.TXT`` transcripts; speakers ``<sex><initials><digit>``.  The audio is 2.4–3.6 s
  cut from Mini LibriSpeech utterances, one LibriSpeech reader per TIMIT speaker (sex kept); the
  ``.TXT`` text is the utterance's opening words (not aligned).  No ``.PHN``/``.WRD``/``DOC/``.
* ``librispeech_100/`` — ``LibriSpeech/{train-clean-100,dev-clean,test-clean}/<spk>/<chapter>/
  <spk>-<chapter>-<utt>.flac`` with ``<spk>-<chapter>.trans.txt``, SPEAKERS.TXT, CHAPTERS.TXT,
  README.TXT, LICENSE.TXT; no ``manifest.csv``.  From Mini LibriSpeech: the shortest utterances of
  disjoint readers, as 16-bit FLAC.
* ``iemocap/IEMOCAP_full_release/Session1..5/`` — ``sentences/wav/<dialog>/<utt>.wav`` (16-bit PCM,
  16 kHz) and ``dialog/EmoEvaluation/<dialog>.txt`` in the release's format (utterance header
  ``[start - end]\\t<utt>\\t<code>\\t[V, A, D]``, one ``C-E<k>:`` line per evaluator, ``C-F1``/``C-M1``
  self-assessments, ``A-`` attribute lines), ``EmoEvaluation/Categorical/``, ``dialog/transcriptions/``.
  Audio from EmoDB (one EmoDB woman and man per session, German sentences; the mirror's clips are
  their first 2 s).  Votes are generated: two of three evaluators name the intended category, the third
  varies (sometimes two categories); a few utterances get the codes ``fea``/``dis``/``xxx``, which the
  loader must drop.  No dialog WAVs, video or motion capture.

Every other corpus the ``full`` profile reads is the mirror's own (there is no other official form):
``speech_commands_train_keywords/``, ``speech_commands_v0.01_extra/``, ``mini_librispeech/``,
``acoustic_events/``, ``emodb/`` (a few files per class, byte copies, with the matching rows of
``manifest.csv`` or ``erkennung.txt``), ``crema_d_votes/`` and ``songs/`` (tables, copied whole).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import soundfile as sf

SR = 16000

# ------------------------------------------------------------------------------------------------
# What each chapter's `full` profile reads (see chapters/*.py SIZES["full"] and lib/datasets/*)
# ------------------------------------------------------------------------------------------------
FULL_PROFILE_READS = {
    "00_data": [
        "speech_commands_v0.02",
        "speech_commands_train_keywords",
        "speech_commands_v0.01_extra",
        "mini_librispeech",
        "acoustic_events",
        "emodb",
        "crema_d_votes",
        "songs",
    ],
    "01_keyword_spotting": [
        "speech_commands_v0.02",
        "speech_commands_train_keywords",
        "speech_commands_v0.01_extra",
        "mini_librispeech",
    ],
    "02_siamese_speakers": ["timit", "mini_librispeech"],
    "03_triple_header_events": ["acoustic_events"],
    "04_voice_music_search": ["librispeech_100", "songs"],
    "05_pdds_emotion": ["iemocap", "crema_d_votes"],
    "06_imbalance_head_to_head": [
        "speech_commands_v0.02",
        "speech_commands_train_keywords",
        "speech_commands_v0.01_extra",
        "acoustic_events",
        "emodb",
    ],
    "07_use_the_models": [
        "speech_commands_v0.02",
        "speech_commands_train_keywords",
        "speech_commands_v0.01_extra",
        "mini_librispeech",
        "acoustic_events",
        "songs",
    ],
}

KEYWORDS = ["yes", "no", "up", "down", "left", "right", "on", "off", "stop", "go"]
# Clips per word and official partition in the Speech Commands fixture.
SC_PER_PARTITION = {
    "keyword": {"training": 6, "validation": 2, "testing": 2},
    "other": {"training": 2, "validation": 1, "testing": 1},
}
NOISE_SECONDS = 10  # of each _background_noise_ recording (the official ones last 60–95 s)


def mirror_dir(mirror=None) -> Path:
    if mirror is not None:
        return Path(mirror)
    from lib import data

    return data.data_dir()


def _decode(path, sr=SR, start_s: float = 0.0, duration_s: float | None = None) -> np.ndarray:
    """Mono float32 at ``sr`` (the mirror's Opus decodes at its stated rate)."""
    from lib import data

    file = data.resolve_audio(path)
    info = sf.info(file)
    start = int(start_s * info.samplerate)
    frames = -1 if duration_s is None else int(round(duration_s * info.samplerate))
    y, file_sr = sf.read(file, start=start, frames=frames, dtype="float32", always_2d=True)
    y = y.mean(axis=1)
    if file_sr != sr:
        import librosa

        y = librosa.resample(y, orig_sr=file_sr, target_sr=sr, res_type="soxr_hq")
    return np.clip(y, -1.0, 1.0).astype(np.float32)


def _pcm16(y: np.ndarray) -> np.ndarray:
    return np.clip(np.round(np.asarray(y, np.float64) * 32767), -32768, 32767).astype("<i2")


def write_wav(path: Path, y: np.ndarray, sr: int = SR) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sr, subtype="PCM_16", format="WAV")


def write_flac(path: Path, y: np.ndarray, sr: int = SR) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, y, sr, subtype="PCM_16", format="FLAC")


def write_sphere(path: Path, y: np.ndarray, utterance_id: str, sr: int = SR) -> None:
    """A TIMIT-style NIST SPHERE file: 1024-byte ``NIST_1A`` header, then little-endian 16-bit samples."""
    samples = _pcm16(y)
    fields = [
        ("database_id", "-s5", "TIMIT"),
        ("database_version", "-s3", "1.0"),
        ("utterance_id", f"-s{len(utterance_id)}", utterance_id),
        ("channel_count", "-i", "1"),
        ("sample_count", "-i", str(len(samples))),
        ("sample_rate", "-i", str(sr)),
        ("sample_min", "-i", str(int(samples.min()))),
        ("sample_max", "-i", str(int(samples.max()))),
        ("sample_n_bytes", "-i", "2"),
        ("sample_byte_format", "-s2", "01"),
        ("sample_sig_bits", "-i", "16"),
    ]
    header = "NIST_1A\n   1024\n" + "".join(f"{k} {t} {v}\n" for k, t, v in fields) + "end_head\n"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(header.encode("ascii").ljust(1024, b" ") + samples.tobytes())


def _copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(src, dst)


def _order(key: str) -> str:
    """A fixed pseudo-random order (sort key) independent of Python's hash seed."""
    return hashlib.sha1(key.encode()).hexdigest()


def _manifest(folder: Path) -> pd.DataFrame:
    return pd.read_csv(folder / "manifest.csv", dtype=str, keep_default_na=False)


# ------------------------------------------------------------------------------------------------
# Speech Commands v0.02, the full dataset's layout
# ------------------------------------------------------------------------------------------------
MAX_NUM_WAVS_PER_CLASS = 2**27 - 1


def which_set(filename: str, validation_percentage: float = 10.0, testing_percentage: float = 10.0) -> str:
    """The dataset's own partition rule (its README; TensorFlow's ``input_data.which_set``): the SHA-1 of
    the speaker id (the file name before ``_nohash_``) decides, so a speaker is in one partition only."""
    base = os.path.basename(filename)
    hash_name = re.sub(r"_nohash_.*$", "", base)
    hashed = int(hashlib.sha1(hash_name.encode()).hexdigest(), 16)
    percentage = (hashed % (MAX_NUM_WAVS_PER_CLASS + 1)) * (100.0 / MAX_NUM_WAVS_PER_CLASS)
    if percentage < validation_percentage:
        return "validation"
    if percentage < validation_percentage + testing_percentage:
        return "testing"
    return "training"


def _speaker_for(original: str, partition: str) -> str:
    """A new 8-hex speaker id, fixed for ``original``, that :func:`which_set` puts in ``partition``."""
    k = 0
    while True:
        candidate = hashlib.sha1(f"fixture:{original}:{partition}:{k}".encode()).hexdigest()[:8]
        if which_set(f"{candidate}_nohash_0.wav") == partition:
            return candidate
        k += 1


def build_speech_commands_v002(root: Path, mirror: Path) -> Path:
    out = root / "speech_commands_v0.02"
    sc = mirror / "speech_commands_v0.02"
    test_rows = _manifest(sc)
    test_rows = test_rows[test_rows["speaker"] != ""]
    train_kw = _manifest(mirror / "speech_commands_train_keywords")
    extra = _manifest(mirror / "speech_commands_v0.01_extra")
    words = sorted(d.name for d in sc.iterdir() if d.is_dir() and not d.name.startswith("_"))

    # Native candidates per (word, partition): (source file, speaker, nohash index)
    native: dict[tuple[str, str], list[tuple[Path, str, str]]] = {}

    def add(rows, folder, partition_of):
        for r in rows.itertuples(index=False):
            part = partition_of(r)
            n = Path(r.path).stem.split("_nohash_")[-1]
            native.setdefault((r.word, part), []).append((folder / r.path, r.speaker, n))

    add(test_rows, sc, lambda r: "testing")
    add(train_kw, mirror / "speech_commands_train_keywords", lambda r: r.official_split)
    add(extra, mirror / "speech_commands_v0.01_extra", lambda r: which_set(r.path))

    lists = {"validation": [], "testing": []}
    for word in words:
        want = SC_PER_PARTITION["keyword" if word in KEYWORDS else "other"]
        chosen: dict[str, list[tuple[Path, str, str]]] = {}
        used_files: set[Path] = set()
        test_speakers: set[str] = set()
        for partition in ("testing", "validation", "training"):
            pool = sorted(native.get((word, partition), []), key=lambda c: _order(str(c[0])))
            picked, seen = [], set()
            for src, spk, n in pool:  # one clip per speaker first
                if len(picked) < want[partition] and spk not in seen:
                    picked.append((src, spk, n))
                    seen.add(spk)
            if partition == "testing":
                test_speakers = {spk for _, spk, _ in picked}
            used_files |= {src for src, _, _ in picked}
            if len(picked) < want[partition]:  # borrow test-portion clips of other speakers, re-identified
                spare = [
                    c
                    for c in sorted(native.get((word, "testing"), []), key=lambda c: _order("b" + str(c[0])))
                    if c[0] not in used_files and c[1] not in test_speakers
                ]
                for src, spk, n in spare:
                    if len(picked) >= want[partition]:
                        break
                    if any(spk == s for _, s, _ in picked):
                        continue
                    picked.append((src, _speaker_for(spk, partition), n))
                    used_files.add(src)
            if len(picked) < want[partition]:
                raise RuntimeError(f"speech commands fixture: not enough clips of {word!r} for {partition}")
            chosen[partition] = picked
        names = set()
        for partition, picked in chosen.items():
            for src, spk, n in picked:
                k = int(n)
                while f"{spk}_nohash_{k}.wav" in names:
                    k += 1
                name = f"{spk}_nohash_{k}.wav"
                names.add(name)
                assert which_set(name) == partition, (word, name, partition)
                write_wav(out / word / name, _decode(src))
                if partition in lists:
                    lists[partition].append(f"{word}/{name}")
    for partition, name in [("validation", "validation_list.txt"), ("testing", "testing_list.txt")]:
        (out / name).write_text("\n".join(sorted(lists[partition])) + "\n")
    noise = out / "_background_noise_"
    for f in sorted((sc / "_background_noise_").iterdir()):
        if f.suffix.lower() in (".wav", ".flac", ".opus"):
            write_wav(noise / f"{f.stem}.wav", _decode(f, duration_s=NOISE_SECONDS))
    (noise / "README.md").write_text(
        "Longer recordings of background noise (official dataset: doing_the_dishes, dude_miaowing, exercise_bike,\n"
        f"pink_noise, running_tap, white_noise).  Test fixture: the first {NOISE_SECONDS} s of each.\n"
    )
    (out / "LICENSE").write_text("Creative Commons Attribution 4.0 International (CC BY 4.0)\n")
    (out / "README.md").write_text(
        "# Speech Commands Data Set v0.02 — test fixture\n\nThe layout of speech_commands_v0.02.tar.gz with a few real\n"
        "clips per word (tests/fixtures_official.py).  Partitions follow the dataset's own speaker-hash rule.\n"
    )
    return out


# ------------------------------------------------------------------------------------------------
# LibriSpeech metadata helpers (Mini LibriSpeech in the mirror)
# ------------------------------------------------------------------------------------------------
def _libri_speakers(mirror: Path) -> dict[str, dict]:
    """SPEAKERS.TXT rows of the mirror's Mini LibriSpeech readers: id -> {sex, name, line}."""
    out = {}
    text = (mirror / "mini_librispeech" / "LibriSpeech" / "SPEAKERS.TXT").read_text(encoding="utf-8", errors="replace")
    for line in text.splitlines():
        if line.startswith(";") or "|" not in line:
            continue
        parts = [p.strip() for p in line.split("|")]
        out[parts[0]] = {"sex": parts[1], "name": "|".join(parts[4:]), "line": line}
    return out


def _libri_utterances(mirror: Path) -> pd.DataFrame:
    man = _manifest(mirror / "mini_librispeech")
    man["duration"] = man["duration_s"].astype(float)
    man["utt"] = man["path"].map(lambda p: Path(p).stem)
    man["chapter"] = man["utt"].str.split("-").str[1]
    return man.sort_values(["speaker", "utt"]).reset_index(drop=True)


def _header_lines(path: Path) -> list[str]:
    return [line for line in path.read_text(encoding="utf-8", errors="replace").splitlines() if line.startswith(";")]


LIBRI_SPLIT = {"train-clean-100": 8, "dev-clean": 2, "test-clean": 3}  # readers per subset
LIBRI_UTTS_PER_SPEAKER = 2


def build_librispeech_100(root: Path, mirror: Path) -> Path:
    out = root / "librispeech_100" / "LibriSpeech"
    src_root = mirror / "mini_librispeech"
    man = _libri_utterances(mirror)
    readers = _libri_speakers(mirror)
    speakers = sorted(man["speaker"].unique(), key=lambda s: _order("libri100:" + s))
    subset_of, i = {}, 0
    for subset, n in LIBRI_SPLIT.items():
        for spk in speakers[i : i + n]:
            subset_of[spk] = subset
        i += n
    chapters_used = set()
    for spk, subset in subset_of.items():
        utts = man[man["speaker"] == spk].sort_values(["duration", "utt"]).head(LIBRI_UTTS_PER_SPEAKER)
        trans = {}
        for r in utts.itertuples(index=False):
            rel = Path(subset) / spk / r.chapter / f"{r.utt}.flac"
            write_flac(out / rel, _decode(src_root / r.path))
            trans.setdefault(r.chapter, []).append(f"{r.utt} {r.transcript}")
            chapters_used.add((r.chapter, spk, subset))
        for chapter, lines in trans.items():
            (out / subset / spk / chapter / f"{spk}-{chapter}.trans.txt").write_text("\n".join(sorted(lines)) + "\n")
    meta = src_root / "LibriSpeech"
    spk_lines = _header_lines(meta / "SPEAKERS.TXT")
    for spk, subset in sorted(subset_of.items(), key=lambda kv: int(kv[0])):
        r = readers.get(spk, {"sex": "?", "name": "?"})
        minutes = man.loc[man["speaker"] == spk, "duration"].head(LIBRI_UTTS_PER_SPEAKER).sum() / 60
        spk_lines.append(f"{spk:<5}| {r['sex']} | {subset:<16} | {minutes:5.2f} | {r['name']}")
    (out / "SPEAKERS.TXT").write_text("\n".join(spk_lines) + "\n")
    ch_lines = _header_lines(meta / "CHAPTERS.TXT")
    known = {}
    for line in (meta / "CHAPTERS.TXT").read_text(encoding="utf-8", errors="replace").splitlines():
        if not line.startswith(";") and "|" in line:
            known[line.split("|")[0].strip()] = line
    for chapter, _spk, subset in sorted(chapters_used):
        line = known.get(chapter)
        if line:
            parts = line.split("|")
            parts[3] = f" {subset:<16} "
            ch_lines.append("|".join(parts))
    (out / "CHAPTERS.TXT").write_text("\n".join(ch_lines) + "\n")
    for name in ("README.TXT", "LICENSE.TXT"):
        if (meta / name).exists():
            _copy(meta / name, out / name)
    return out.parent


# ------------------------------------------------------------------------------------------------
# TIMIT
# ------------------------------------------------------------------------------------------------
TIMIT_SENTENCES = 10  # SA1, SA2, 3 SI, 5 SX per speaker


def _timit_ids(readers: dict[str, dict], speakers: list[str]) -> dict[str, str]:
    ids, taken = {}, set()
    for spk in speakers:
        name = re.sub(r"[^A-Za-z ]", " ", readers.get(spk, {}).get("name", "")).upper().split()
        letters = "".join(w[0] for w in name)[:3]
        letters = (letters + "".join(name)[1:] + "XXX")[:3]
        sex = readers.get(spk, {}).get("sex", "M")[:1] or "M"
        digit = 0
        while f"{sex}{letters}{digit}" in taken:
            digit += 1
        ids[spk] = f"{sex}{letters}{digit}"
        taken.add(ids[spk])
    return ids


def build_timit(root: Path, mirror: Path) -> Path:
    out = root / "timit"
    src_root = mirror / "mini_librispeech"
    man = _libri_utterances(mirror)
    readers = _libri_speakers(mirror)
    speakers = sorted(man["speaker"].unique(), key=int)
    ids = _timit_ids(readers, speakers)
    rng = np.random.default_rng(0)
    for i, spk in enumerate(speakers):
        usage = "TEST" if i % 4 == 0 else "TRAIN"
        dialect = f"DR{1 + i % 8}"
        sid = ids[spk]
        si = rng.choice(np.arange(453, 2343), size=3, replace=False)
        sx = rng.choice(np.arange(3, 453), size=5, replace=False)
        sentences = ["SA1", "SA2"] + [f"SI{n}" for n in si] + [f"SX{n}" for n in sx]
        utts = man[man["speaker"] == spk].reset_index(drop=True)
        for k, sentence in enumerate(sentences):
            u = utts.iloc[k % len(utts)]
            dur = float(rng.uniform(2.4, 3.6))
            start = 0.3 if k < len(utts) else 0.3 + dur
            start = min(start, max(0.0, float(u["duration"]) - dur))
            y = _decode(src_root / u["path"], start_s=start, duration_s=dur)
            folder = out / usage / dialect / sid
            write_sphere(folder / f"{sentence}.WAV", y, f"{sid[1:].lower()}_{sentence.lower()}")
            words = str(u["transcript"]).lower().split()[: max(3, int(dur * 2.5))]
            (folder / f"{sentence}.TXT").write_text(f"0 {len(y)} {' '.join(words).capitalize()}.\n")
    (out / "README.DOC").write_text(
        "TIMIT layout test fixture (tests/fixtures_official.py): NIST SPHERE .WAV cut from Mini LibriSpeech.\n"
    )
    return out


# ------------------------------------------------------------------------------------------------
# IEMOCAP
# ------------------------------------------------------------------------------------------------
EMODB_TEXTS = {
    "a01": "Der Lappen liegt auf dem Eisschrank.",
    "a02": "Das will sie am Mittwoch abgeben.",
    "a04": "Heute abend könnte ich es ihm sagen.",
    "a05": "Das schwarze Stück Papier befindet sich da oben neben dem Holzstück.",
    "a07": "In sieben Stunden wird es soweit sein.",
    "b01": "Was sind denn das für Tüten, die da unter dem Tisch stehen?",
    "b02": "Sie haben es gerade hochgetragen und jetzt gehen sie wieder runter.",
    "b03": "An den Wochenenden bin ich jetzt immer nach Hause gefahren und habe Agnes besucht.",
    "b09": "Ich will das eben wegbringen und dann mit Karl was trinken gehen.",
    "b10": "Die wird auf dem Platz sein, wo wir sie immer hinlegen.",
}
# Session -> (EmoDB woman, EmoDB man): one mixed-gender pair of actors per session, as in IEMOCAP.
IEMOCAP_ACTORS = {1: ("08", "03"), 2: ("09", "10"), 3: ("13", "11"), 4: ("14", "12"), 5: ("16", "15")}
# The intended category of each planned utterance, its IEMOCAP code and the EmoDB emotion letter of its audio.
IEMOCAP_PLAN = [
    ("Anger", "ang", "W"),
    ("Happiness", "hap", "F"),
    ("Sadness", "sad", "T"),
    ("Neutral", "neu", "N"),
    ("Excited", "exc", "F"),
    ("Frustration", "fru", "L"),
    ("Fear", "fea", "A"),
    ("Disgust", "dis", "E"),
]
CONFUSABLE = {
    "Anger": ["Frustration", "Disgust"],
    "Happiness": ["Excited", "Surprise"],
    "Sadness": ["Neutral", "Frustration"],
    "Neutral": ["Frustration", "Sadness"],
    "Excited": ["Happiness", "Surprise"],
    "Frustration": ["Anger", "Neutral"],
    "Fear": ["Sadness", "Surprise"],
    "Disgust": ["Anger", "Other"],
}


def _emodb_clips(mirror: Path) -> dict[tuple[str, str], list[Path]]:
    out: dict[tuple[str, str], list[Path]] = {}
    for f in sorted((mirror / "emodb" / "wav").iterdir()):
        if len(f.stem) == 7:
            out.setdefault((f.stem[:2], f.stem[5]), []).append(f)
    return out


def build_iemocap(root: Path, mirror: Path) -> Path:
    base = root / "iemocap" / "IEMOCAP_full_release"
    clips = _emodb_clips(mirror)
    used: set[Path] = set()
    rng = np.random.default_rng(0)

    def clip(speaker: str, letter: str) -> Path:
        for key in [(speaker, letter)] + sorted(k for k in clips if k[0] == speaker):
            for f in clips.get(key, []):
                if f not in used:
                    used.add(f)
                    return f
        raise RuntimeError(f"iemocap fixture: EmoDB speaker {speaker} has no clip left")

    for s, (woman, man) in IEMOCAP_ACTORS.items():
        session = base / f"Session{s}"
        dialogs = {
            f"Ses0{s}F_impro01": IEMOCAP_PLAN[:4] + IEMOCAP_PLAN[6:7],
            f"Ses0{s}M_script01_1": IEMOCAP_PLAN[4:6] + IEMOCAP_PLAN[7:],
        }
        for dialog, plan in dialogs.items():
            items = [(p, who) for p in plan for who in ("F", "M")]
            items.append((("Neutral", "xxx", "N"), "F"))  # evaluators disagree: no consensus
            t, counters = 3.0, {"F": 0, "M": 0}
            eva, cat, trans = ["% [START_TIME - END_TIME] TURN_NAME EMOTION [V, A, D]", ""], [], []
            for (category, code, letter), who in items:
                utt = f"{dialog}_{who}{counters[who]:03d}"
                counters[who] += 1
                src = clip(woman if who == "F" else man, letter)
                y = _decode(src)
                write_wav(session / "sentences" / "wav" / dialog / f"{utt}.wav", y)
                start, end = t, t + len(y) / SR
                t = end + float(rng.uniform(0.2, 1.5))
                evaluators = [f"E{k}" for k in sorted(rng.choice(np.arange(1, 7), size=3, replace=False))]
                if code == "xxx":
                    votes = [[category], [CONFUSABLE[category][0]], [CONFUSABLE[category][1]]]
                else:
                    third = rng.random()
                    other = CONFUSABLE[category][int(rng.integers(2))]
                    votes = [
                        [category],
                        [category],
                        [category] if third < 0.5 else [other] if third < 0.85 else [other, category],
                    ]
                vad = [float(rng.choice([1.5, 2.0, 2.5, 3.0, 3.5, 4.0])) for _ in range(3)]
                eva.append(f"[{start:.4f} - {end:.4f}]\t{utt}\t{code}\t[{vad[0]:.4f}, {vad[1]:.4f}, {vad[2]:.4f}]")
                for e, v in zip(evaluators, votes):
                    eva.append(f"C-{e}:\t{' '.join(c + ';' for c in v)}\t()")
                    cat.append((e, f"{utt} :{'; '.join(v)}; ()"))
                if rng.random() < 0.5:  # the actor's self-assessment (ignored by default)
                    eva.append(f"C-{who}1:\t{CONFUSABLE[category][0]};\t()")
                for e in evaluators[:2]:
                    eva.append(f"A-{e}:\tval {int(vad[0])}; act {int(vad[1])}; dom  {int(vad[2])};\t()")
                eva.append("")
                trans.append(f"{utt} [{start:08.4f}-{end:08.4f}]: {EMODB_TEXTS.get(src.stem[2:5], '...')}")
            folder = session / "dialog" / "EmoEvaluation"
            folder.mkdir(parents=True, exist_ok=True)
            (folder / f"{dialog}.txt").write_text("\n".join(eva) + "\n", encoding="utf-8")
            for e in sorted({e for e, _ in cat}):
                lines = [line for who, line in cat if who == e]
                (folder / "Categorical" / f"{dialog}_{e.lower()}_cat.txt").parent.mkdir(exist_ok=True)
                (folder / "Categorical" / f"{dialog}_{e.lower()}_cat.txt").write_text("\n".join(lines) + "\n")
            tfile = session / "dialog" / "transcriptions" / f"{dialog}.txt"
            tfile.parent.mkdir(parents=True, exist_ok=True)
            tfile.write_text("\n".join(trans) + "\n", encoding="utf-8")
    (base / "README.txt").write_text(
        "IEMOCAP layout test fixture (tests/fixtures_official.py): EmoDB audio, generated evaluations.\n"
    )
    return base.parent


# ------------------------------------------------------------------------------------------------
# The mirror's own corpora, a few files per class
# ------------------------------------------------------------------------------------------------
def _subset_copy(mirror: Path, root: Path, name: str, rows: pd.DataFrame, extra_files=()) -> Path:
    from lib import data

    src, out = mirror / name, root / name
    for p in rows["path"]:  # the manifest may name the official extension; the mirror holds .opus
        file = data.resolve_audio(src / p)
        _copy(file, out / Path(p).with_suffix(file.suffix))
    out.mkdir(parents=True, exist_ok=True)
    rows.to_csv(out / "manifest.csv", index=False)
    for f in extra_files:
        if (src / f).exists():
            _copy(src / f, out / f)
    return out


def _take(df: pd.DataFrame, by: list[str], n, group: str | None = None) -> pd.DataFrame:
    """``n`` rows per ``by`` (a dict gives ``n`` per key), one per ``group`` value, in a fixed order."""
    df = df.assign(_o=df["path"].map(_order)).sort_values("_o")
    if group:
        df = df.drop_duplicates(by + [group])
    parts = []
    for key, g in df.groupby(by, sort=True):
        k = n.get(key, 0) if isinstance(n, dict) else n
        parts.append(g.head(k))
    return pd.concat(parts).drop(columns="_o").sort_values("path").reset_index(drop=True)


def build_train_keywords(root: Path, mirror: Path) -> Path:
    man = _manifest(mirror / "speech_commands_train_keywords")
    n = {(w, s): (3 if s == "training" else 1) for w in man["word"].unique() for s in ("training", "validation")}
    return _subset_copy(
        mirror, root, "speech_commands_train_keywords", _take(man, ["word", "official_split"], n, "speaker")
    )


def build_v001_extra(root: Path, mirror: Path) -> Path:
    man = _manifest(mirror / "speech_commands_v0.01_extra")
    man["_part"] = man["path"].map(which_set)
    n = {
        (w, s): (6 if s == "training" else 1)
        for w in man["word"].unique()
        for s in ("training", "validation", "testing")
    }
    rows = _take(man, ["word", "_part"], n, "speaker").drop(columns="_part")
    return _subset_copy(mirror, root, "speech_commands_v0.01_extra", rows, ["testing_list.txt", "validation_list.txt"])


MINI_LIBRI_SPEAKERS, MINI_LIBRI_UTTS = 10, 3


def build_mini_librispeech(root: Path, mirror: Path) -> Path:
    man = _manifest(mirror / "mini_librispeech")
    man["_d"] = man["duration_s"].astype(float)
    speakers = sorted(man["speaker"].unique(), key=lambda s: _order("mini:" + s))[:MINI_LIBRI_SPEAKERS]
    rows = (
        man[man["speaker"].isin(speakers)]
        .sort_values(["speaker", "_d", "path"])
        .groupby("speaker")
        .head(MINI_LIBRI_UTTS)
        .drop(columns="_d")
        .sort_values("path")
        .reset_index(drop=True)
    )
    meta = ["LibriSpeech/SPEAKERS.TXT", "LibriSpeech/CHAPTERS.TXT", "LibriSpeech/README.TXT", "LibriSpeech/LICENSE.TXT"]
    out = _subset_copy(mirror, root, "mini_librispeech", rows, meta)
    for trans_dir in sorted({str(Path(p).parent) for p in rows["path"]}):
        src = mirror / "mini_librispeech" / trans_dir
        for tf in src.glob("*.trans.txt"):
            keep = {Path(p).stem for p in rows["path"] if str(Path(p).parent) == trans_dir}
            lines = [line for line in tf.read_text().splitlines() if line.split(" ", 1)[0] in keep]
            (out / trans_dir / tf.name).write_text("\n".join(lines) + "\n")
    return out


# (label, corpus) -> clips, each from a different source recording.  The events chapter cuts every one of its
# 5 folds' training *and validation* parts to the ratios 6:1:2:16 and 2:2:1:26, and a validation part holds
# about 16 % of the recordings: at least 26 background, 6 dog, 2 gun and 2 baby recordings there need these.
EVENT_COUNTS = {
    ("baby_cry", "donateacry-corpus"): 16,
    ("baby_cry", "ESC-50"): 8,
    ("dog_bark", "UrbanSound8K"): 60,  # 42 left one fold's validation part with 5 barks (2026-12-08)
    ("dog_bark", "ESC-50"): 8,
    ("gun_shot", "UrbanSound8K"): 10,
    ("gun_shot", "SESA"): 10,
    ("background", "UrbanSound8K"): 170,  # 120 + 40 + 60 left one validation part with 22 (2026-12-08)
    ("background", "ESC-50"): 50,
    ("background", "SESA"): 80,
}


def build_acoustic_events(root: Path, mirror: Path) -> Path:
    man = _manifest(mirror / "acoustic_events")
    from lib.datasets import events

    man["_group"] = events.source_groups(man).to_numpy()
    rows = _take(man, ["label", "corpus"], EVENT_COUNTS, "_group").drop(columns="_group")
    return _subset_copy(mirror, root, "acoustic_events", rows)


EMODB_PER_SPEAKER_EMOTION = 2


def build_emodb(root: Path, mirror: Path) -> Path:
    src, out = mirror / "emodb", root / "emodb"
    files = sorted(f for f in (src / "wav").iterdir() if len(f.stem) == 7)
    count: dict[tuple[str, str], int] = {}
    kept = set()
    for f in files:
        key = (f.stem[:2], f.stem[5])
        if count.get(key, 0) < EMODB_PER_SPEAKER_EMOTION:
            count[key] = count.get(key, 0) + 1
            _copy(f, out / "wav" / f.name)
            kept.add(f.stem)
    raw = (src / "erkennung.txt").read_bytes().split(b"\n")
    lines = [raw[0]] + [line for line in raw[1:] if any(stem.encode() in line for stem in kept)]
    (out / "erkennung.txt").write_bytes(b"\n".join(lines) + b"\n")
    if (src / "erklaerung.txt").exists():
        _copy(src / "erklaerung.txt", out / "erklaerung.txt")
    return out


def _copy_tree(mirror: Path, root: Path, name: str) -> Path:
    shutil.copytree(mirror / name, root / name, dirs_exist_ok=True)
    return root / name


BUILDERS = {
    "speech_commands_v0.02": build_speech_commands_v002,
    "speech_commands_train_keywords": build_train_keywords,
    "speech_commands_v0.01_extra": build_v001_extra,
    "mini_librispeech": build_mini_librispeech,
    "librispeech_100": build_librispeech_100,
    "timit": build_timit,
    "iemocap": build_iemocap,
    "acoustic_events": build_acoustic_events,
    "emodb": build_emodb,
    "crema_d_votes": lambda root, mirror: _copy_tree(mirror, root, "crema_d_votes"),
    "songs": lambda root, mirror: _copy_tree(mirror, root, "songs"),
}
OFFICIAL = ("speech_commands_v0.02", "timit", "librispeech_100", "iemocap")  # rebuilt in the official layout


def build(tmp_dir, corpora=None, mirror=None) -> Path:
    """Write the fixture corpora (default: every one a ``full`` profile reads) into ``tmp_dir``; returns it.

    ``corpora``: names among :data:`BUILDERS`; ``mirror``: the offline mirror (default: the data setting).
    A corpus folder that already exists is rebuilt.  Deterministic: the same mirror gives the same files.
    """
    root = Path(tmp_dir)
    root.mkdir(parents=True, exist_ok=True)
    src = mirror_dir(mirror)
    if not (src / "speech_commands_v0.02").is_dir():
        raise FileNotFoundError(f"{src}: not the offline data mirror (no speech_commands_v0.02/ inside)")
    names = list(BUILDERS) if corpora is None else list(corpora)
    unknown = sorted(set(names) - set(BUILDERS))
    if unknown:
        raise KeyError(f"unknown fixture corpora {unknown}; known: {sorted(BUILDERS)}")
    for name in names:
        shutil.rmtree(root / name, ignore_errors=True)
        BUILDERS[name](root, src)
    return root


def summary(root) -> pd.DataFrame:
    """Files and bytes per corpus folder of a fixture (for the script's printout)."""
    rows = []
    for folder in sorted(p for p in Path(root).iterdir() if p.is_dir()):
        files = [f for f in folder.rglob("*") if f.is_file()]
        audio = [f for f in files if f.suffix.lower() in (".wav", ".flac", ".opus")]
        rows.append(
            {
                "corpus": folder.name,
                "layout": "official" if folder.name in OFFICIAL else "mirror",
                "audio files": len(audio),
                "files": len(files),
                "MB": round(sum(f.stat().st_size for f in files) / 1e6, 1),
            }
        )
    return pd.DataFrame(rows)
