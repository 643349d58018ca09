"""The catalogue-aware CTC decoder: its phrase score against a brute-force reference, and decoding on made-up output."""

import re

import numpy as np
import pandas as pd
import pytest
import torch

from lib.datasets.librispeech import TEXT
from lib.models import asr
from lib.models import spoken_search as sp


def test_phrase_score_equals_brute_force_sum_of_torch_ctc_loss():
    rng = np.random.default_rng(0)
    n_frames = 12
    lp = torch.log_softmax(torch.tensor(rng.normal(size=(n_frames, TEXT.n_classes)) * 2), -1)
    phrases = ["ab", "a", "abba", "hello", "zz", "a b"]
    ours = sp.phrase_log_likelihoods(lp.numpy(), phrases, group=4)
    normalised = lp - lp.max(1, keepdim=True).values
    for phrase, got in zip(phrases, ours):
        labels = torch.tensor(TEXT.text_to_int(phrase))
        terms = []
        for t1 in range(n_frames):
            for t2 in range(t1, n_frames):
                seg = normalised[t1 : t2 + 1]
                loss = torch.nn.functional.ctc_loss(
                    seg[:, None, :],
                    labels[None],
                    torch.tensor([len(seg)]),
                    torch.tensor([len(labels)]),
                    blank=TEXT.blank,
                    reduction="sum",
                )
                terms.append(-loss.item())
        assert got == pytest.approx(np.logaddexp.reduce(terms), abs=1e-4), phrase


def test_spoken_form_spells_numbers_and_drops_symbols():
    assert sp.number_words(99) == "ninety nine"
    assert sp.number_words(2014) == "two thousand and fourteen"
    assert sp.number_words(1999) == "one thousand nine hundred and ninety nine"
    assert (
        sp.spoken_form("Beyoncé & Jay-Z (Remastered 2014)") == "beyonce and jay z remastered two thousand and fourteen"
    )
    assert sp.spoken_form("R3hab") == "r three hab"


def fake_log_probs(text: str, frames_per_char: int = 2, confidence: float = 0.9) -> np.ndarray:
    """CTC output that says ``text`` clearly: each character for a few frames, a blank between characters."""
    rows = []
    for ch in text:
        for _ in range(frames_per_char):
            rows.append(TEXT.char_map["<SPACE>" if ch == " " else ch])
        rows.append(TEXT.blank)
    lp = np.full((len(rows), TEXT.n_classes), np.log((1 - confidence) / (TEXT.n_classes - 1)))
    lp[np.arange(len(rows)), rows] = np.log(confidence)
    return lp


@pytest.fixture
def catalogue():
    cat = pd.DataFrame(
        {
            "artist": ["ABBA", "ABBA", "Johnny Cash", "Adele", "The Band", "Queen"],
            "title": ["Dancing Queen", "Waterloo", "Hurt", "Someone Like You", "Song", "Bohemian Rhapsody"],
            "mood": [None, "Happy", "Sad", "Sad", None, "Energetic"],
            "genre": ["pop", "pop", "country", "pop", "rock", "rock"],
        }
    )
    cat["key"] = cat["artist"].str.lower() + " | " + cat["title"].str.lower()
    cat.insert(0, "song_id", range(len(cat)))
    return cat


@pytest.mark.parametrize(
    "request_text, expected",
    [
        ("could you put on dancing queen please", {0}),
        ("play hurt by johnny cash", {2}),
        ("hurt", {2}),
        ("something by adele", {3}),
        ("suggest me a sad song", {2, 3}),
        ("i want bohemian rhapsody", {5}),
    ],
)
def test_decoder_finds_the_song_whatever_the_wording(catalogue, request_text, expected):
    dec = sp.CatalogueDecoder(catalogue, bonus=1.0)
    ids, _ = dec.rank(fake_log_probs(request_text), k=1)
    assert int(ids[0]) in expected


def test_title_and_artist_together_beat_either_alone(catalogue):
    dec = sp.CatalogueDecoder(catalogue, bonus=1.0)
    scores = dec.song_scores(fake_log_probs("play waterloo by abba"))
    assert scores[1] > scores[0] and scores[1] > scores[4]


def test_free_phrasings_are_not_templates(catalogue):
    patterns = [
        re.compile(
            "^" + re.escape(t).replace(r"\{title\}", ".+").replace(r"\{artist\}", ".+").replace(r"\{tag\}", ".+") + "$"
        )
        for ts in sp.TEMPLATES.values()
        for t in ts
    ]
    free = sp.free_requests(catalogue, 6, 4, 6, seed=0)
    assert len(free) == 16 and all(len(r) > 0 for r in free["relevant"])
    assert not any(p.match(req.lower()) for req in free["request"] for p in patterns)
    tpl = sp.template_requests(catalogue, 6, 4, 6, seed=0)
    assert all(any(p.match(req.lower()) for p in patterns) for req in tpl["request"])


def test_recogniser_round_trip_and_recommend(tmp_path, catalogue):
    import soundfile as sf

    torch.manual_seed(0)
    model = asr.build_model(
        "cnn_rescnn_bigru", n_mels=16, cnn_channels=2, n_res_blocks=1, rnn_dim=8, n_rnn_layers=1, time_stride=3
    )
    cfg = asr.FeatureConfig(n_mels=16)
    path = tmp_path / "rec.pt"
    asr.save_recogniser(model, path, cfg, decoder_bonus=1.5, request_words=["play", "by"])
    loaded, cfg2, meta = asr.load_recogniser(path)
    assert cfg2 == cfg and meta["decoder_bonus"] == 1.5
    assert loaded.feature_cfg == cfg and loaded.meta["request_words"] == ["play", "by"]
    y = np.random.default_rng(0).normal(size=16000).astype(np.float32) * 0.1
    a, b = asr.utterance_log_probs(model, y, 16000, cfg), asr.utterance_log_probs(loaded, y, 16000, cfg)
    assert np.abs(a - b).max() < 0.05  # float16 weights
    np.testing.assert_array_equal(asr.utterance_log_probs(loaded, y), b)  # the stored settings by default
    wav = tmp_path / "req.wav"
    sf.write(wav, y, 16000)
    out = sp.recommend_from_audio(wav, 3, catalogue=catalogue, recogniser=path)
    assert list(out["songs"].columns) == ["song_id", "artist", "title", "genre", "mood", "score"]
    assert len(out["songs"]) == 3
    assert out["transcript"] == out["greedy_transcript"]
    assert {"asr_s", "search_s", "load_s", "total_s"} <= set(out) and out["total_s"] >= out["load_s"]
    # the stored bonus and request words, not the class's untuned defaults
    dec = sp.CatalogueDecoder.for_recogniser(catalogue, meta)
    assert dec.bonus == 1.5 and dec.request_words == {"play", "by"}
    expected = dec.rank(asr.utterance_log_probs(loaded, wav), 3)[0]
    assert list(out["songs"]["song_id"]) == list(catalogue["song_id"].iloc[expected])
    # a decoder brings its own catalogue: passing both is an error, not a silent choice
    with pytest.raises(ValueError, match="not both"):
        sp.recommend_from_audio(wav, 3, catalogue=catalogue, decoder=dec, recogniser=path)
    out2 = sp.recommend_from_audio(wav, 3, decoder=sp.CatalogueDecoder(catalogue.iloc[:2], bonus=1.0), recogniser=path)
    assert set(out2["songs"]["song_id"]) <= {0, 1}
    # a recogniser without stored decoder settings needs an explicit decoder
    bare = tmp_path / "bare.pt"
    asr.save_recogniser(model, bare, cfg)
    with pytest.raises(ValueError, match="bare.pt.*decoder_bonus"):
        sp.recommend_from_audio(wav, 3, catalogue=catalogue, recogniser=bare)
    (tmp_path / "bad.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match="bad.pt"):
        asr.load_recogniser(tmp_path / "bad.pt")
    with pytest.raises(FileNotFoundError, match="nothing.pt"):
        asr.load_recogniser(tmp_path / "nothing.pt")


def test_request_words_come_from_templates_and_ordinary_text_only():
    words = sp.request_words(["the cat and the dog", "the dog ran"], n_common=2)
    assert {"the", "dog"} <= words and "cat" not in words  # the two most frequent words of the text
    assert {"play", "by", "something", "suggest", "song", "music"} <= words  # the templates' own words
    assert "please" not in words  # a free phrasing's word, in neither source
    assert sp.request_words_of_templates() == sp.request_words([], n_common=0)


def test_request_words_change_the_length_credit(catalogue):
    plain = sp.CatalogueDecoder(catalogue, request_words=frozenset())
    with_words = sp.CatalogueDecoder(catalogue, request_words=sp.request_words(["hurt hurt hurt"], n_common=1))
    i = plain.phrases.index("hurt")
    assert plain.informative_chars[i] == 4 and with_words.informative_chars[i] == 0


def test_spotted_phrases_rank_songs_title_and_artist_first(catalogue):
    dec = sp.CatalogueDecoder(catalogue)
    ids, _ = dec.rank(
        None, 2, phrase_scores=dec.spotted_phrase_scores([("hurt", 0.6), ("abba", 0.9), ("waterloo", 0.5)])
    )
    assert list(ids) == [1, 0]  # Waterloo by ABBA: both spotted; then ABBA's other song before Hurt (higher posterior)
    assert np.isneginf(dec.spotted_phrase_scores([("not in the catalogue", 1.0)])).all()


def test_keyword_list_keeps_dictionary_phrases_with_length_scaled_thresholds(tmp_path):
    path = tmp_path / "kws.txt"
    kept = asr.write_keyword_list(["hello world", "good", "zzqxv song", "hello world"], path, exponent_per_char=2)
    assert kept == ["hello world", "good"]  # out-of-dictionary words dropped, duplicates once
    assert path.read_text().splitlines() == ["hello world /1e-22/", "good /1e-8/"]


def test_pocketsphinx_spots_a_spoken_keyphrase(tmp_path):
    from lib.models.song_search import synthesize

    # PocketSphinx's acoustic model hears eSpeak poorly (it spots no multi-word title in it at any threshold,
    # which the music chapter measures); a short common word is spotted reliably.
    path = tmp_path / "kws.txt"
    asr.write_keyword_list(["play", "yellow submarine"], path, exponent_per_char=3)
    y, sr = synthesize("please play hotel california", voice="en-us", rate=140)
    spotted = [p for p, _ in asr.pocketsphinx_spot(y, sr, path)]
    assert "play" in spotted and "yellow submarine" not in spotted
