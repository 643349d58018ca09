import hashlib
import http.server
import io
import os
import tarfile
import threading
from functools import partial

import numpy as np
import pytest

from lib import data


def test_reads_wav_flac_opus_for_the_same_stem(audio_files):
    for kind in ["wav", "flac", "opus"]:
        y, sr = data.load_audio(audio_files[kind], sr=16000)
        assert sr == 16000 and y.dtype == np.float32 and y.ndim == 1
    # Asking for the .wav of a stem that exists only as .opus finds the .opus.
    y, _ = data.load_audio(audio_files["opus"].with_suffix(".wav"))
    assert abs(len(y) - 32000 // 3) <= 1  # 32,000 samples at 48 kHz resampled to 16 kHz


def test_stereo_is_downmixed_and_rate_is_resampled(audio_files, tone):
    y, _ = data.load_audio(audio_files["stereo"])
    np.testing.assert_allclose(y, tone[0] / 2, atol=1e-4)
    y8, sr = data.load_audio(audio_files["rate8k"], sr=16000)
    assert sr == 16000 and abs(len(y8) - 16000) <= 2
    y_native, sr_native = data.load_audio(audio_files["rate8k"], sr=None)
    assert sr_native == 8000 and len(y_native) == 8000


@pytest.mark.parametrize(
    "kind,message",
    [("empty", "empty file"), ("truncated", "cannot decode"), ("not_audio", "cannot decode"), ("nan", "NaN")],
)
def test_broken_files_get_a_clear_error_naming_the_file(audio_files, kind, message):
    with pytest.raises(data.AudioError) as err:
        data.load_audio(audio_files[kind])
    assert message in str(err.value) and str(audio_files[kind].name) in str(err.value)


def test_missing_file_names_the_file_and_the_extensions_tried(tmp_path):
    with pytest.raises(data.DataMissingError, match=r"nothing\.wav.*\.opus"):
        data.load_audio(tmp_path / "nothing.wav")


def test_scan_reports_every_rejected_file(audio_files):
    rejected = data.scan_audio(list(audio_files.values()))
    names = {os.path.basename(p) for p in rejected["path"]}
    assert {"empty.wav", "truncated.flac", "not_audio.wav"} <= names
    assert "good.wav" not in names and all(rejected["reason"].str.len() > 0)


def test_missing_data_directory_says_how_to_fix_it(tmp_path, monkeypatch):
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path / "nowhere"))
    with pytest.raises(data.DataMissingError) as err:
        data.corpus_dir("speech_commands_v0.02", download=False)
    text = str(err.value)
    assert "AUDIO_REPRO_DATA" in text and "nowhere" in text and "download.tensorflow.org" in text


def test_unknown_corpus():
    with pytest.raises(KeyError, match="unknown corpus"):
        data.corpus_dir("timit-please")


def test_manifest_missing_file_and_duplicates(tmp_path, monkeypatch, tone):
    import soundfile as sf

    corpus = tmp_path / "songs"  # any registered name; the manifest decides the contents
    corpus.mkdir()
    sf.write(corpus / "a.wav", tone[0], tone[1])
    (corpus / "manifest.csv").write_text("path,label\na.wav,x\nb.wav,y\n")
    monkeypatch.setenv(data.DATA_ENV, str(tmp_path))
    with pytest.raises(data.DataMissingError, match=r"1 listed files are missing.*b\.wav"):
        data.manifest("songs")
    (corpus / "manifest.csv").write_text("path,label\na.wav,x\na.opus,x\n")
    with pytest.raises(data.DataError, match="more than once"):
        data.manifest("songs", duplicates="error")
    with pytest.warns(UserWarning, match="duplicate"):
        df = data.manifest("songs")
    assert len(df) == 1 and df.attrs["duplicates"] == ["a.opus"]


def test_read_table_reports_a_truncated_row(tmp_path):
    f = tmp_path / "t.csv"
    f.write_text('a,b\n1,"x"\n2,"unterminated\n')
    with pytest.warns(UserWarning, match="malformed"):
        df = data.read_table(f)
    assert len(df) == 1 and df.attrs["bad_lines"] == 1


def test_speaker_disjoint_split():
    rng = np.random.default_rng(0)
    speakers = rng.integers(0, 50, size=1000).astype(str)
    splits = data.speaker_disjoint_split(speakers, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=3)
    data.check_disjoint(speakers, splits)
    assert set(splits) == {"train", "val", "test"}
    again = data.speaker_disjoint_split(speakers, {"train": 0.8, "val": 0.1, "test": 0.1}, seed=3)
    assert (splits == again).all()
    with pytest.raises(data.DataError):
        data.check_disjoint(["s1", "s1"], ["train", "test"])


# ---------------------------------------------------------------- download path
class _Handler(http.server.SimpleHTTPRequestHandler):
    """Serves files and honours Range requests (for resume)."""

    def log_message(self, *args):
        pass

    def send_head(self):
        path = self.translate_path(self.path)
        rng = self.headers.get("Range")
        if not rng or not os.path.isfile(path):
            return super().send_head()
        start = int(rng.split("=")[1].split("-")[0])
        body = open(path, "rb").read()[start:]
        self.send_response(206)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        return io.BytesIO(body)


@pytest.fixture
def server(tmp_path):
    root = tmp_path / "www"
    root.mkdir()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(_Handler, directory=str(root)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield root, f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


def _archive(root, tone):
    import soundfile as sf

    buf = io.BytesIO()
    wav = io.BytesIO()
    sf.write(wav, tone[0], tone[1], format="WAV")
    with tarfile.open(fileobj=buf, mode="w:gz") as t:
        info = tarfile.TarInfo("yes/abc_nohash_0.wav")
        info.size = len(wav.getvalue())
        t.addfile(info, io.BytesIO(wav.getvalue()))
    (root / "sc.tar.gz").write_bytes(buf.getvalue())
    return hashlib.sha256(buf.getvalue()).hexdigest()


def test_download_verifies_resumes_and_rejects_corruption(server, tmp_path, tone):
    root, url = server
    digest = _archive(root, tone)
    dest = tmp_path / "dl" / "sc.tar.gz"
    # Resume: a partial file from an interrupted download is completed, not restarted.
    dest.parent.mkdir()
    full = (root / "sc.tar.gz").read_bytes()
    (dest.parent / "sc.tar.gz.part").write_bytes(full[:100])
    data.download(f"{url}/sc.tar.gz", dest, "sha256", digest)
    assert dest.read_bytes() == full
    # Corruption: a wrong digest deletes the file and names it.
    with pytest.raises(data.ChecksumError, match="expected"):
        data.download(f"{url}/sc.tar.gz", tmp_path / "dl2" / "sc.tar.gz", "sha256", "0" * 64)
    assert not (tmp_path / "dl2" / "sc.tar.gz").exists()


def test_fetch_archive_unpacks_into_the_corpus_folder(server, tmp_path, tone):
    root, url = server
    digest = _archive(root, tone)
    folder = tmp_path / "data" / "speech_commands_v0.02"
    data.fetch_archive(data.Archive(f"{url}/sc.tar.gz", "sha256", digest), folder)
    assert (folder / "yes" / "abc_nohash_0.wav").exists()


# ---------------------------------------------------------------- real mirror files
def test_manifests_of_the_mirror(data_available):
    sc = data.manifest("speech_commands_v0.02")
    assert set(sc["label12"]) >= {"yes", "no", "_unknown_", "_silence_"}
    y, sr = data.load_audio(sc["abs_path"].iloc[0])
    assert sr == 16000 and 0 < len(y) <= 16000
    emodb = data.manifest("emodb")
    assert len(emodb) == 535 and emodb["speaker"].nunique() == 10
    assert emodb["recognition_pct"].notna().all()
    libri = data.manifest("mini_librispeech")
    assert libri["abs_path"].str.endswith(".opus").all()  # manifest says .flac; the mirror has .opus
    fp = data.fingerprint("emodb")
    assert fp["files"] >= 535 and len(fp["sha256"]) == 16
