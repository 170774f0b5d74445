"""The corpus as the workers read it (pyw2v.distributed.corpus) against the single-process reader.

Any cut of a file into shards and rounds must give, read piece by piece and
merged in order, the single-process counts (words in order of first
appearance), -save-vocab file and id stream.
"""
import gzip
import os
import socket
import subprocess
import sys
import time

import numpy as np
import pytest
from conftest import REFERENCE
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pyw2v.corpus import prepare
from pyw2v.corpus.reader import scan_corpus
from pyw2v.corpus.vocab import save_vocab, sorted_vocabulary
from pyw2v.corpus.wordtable import table_from_words, words_of
from pyw2v.distributed.corpus import (
    Piece,
    count_pieces,
    cut_rounds,
    cut_shards,
    encode_pieces,
    list_files,
    merge_counts,
    vocabulary_index,
)
from pyw2v.errors import UserError
from pyw2v.options import TrainOptions
from pyw2v.train import corpus_settings

# Tokens and the bytes between them, chosen to hit ReadWord's every rule.
FRAGMENTS = [
    b"a", b"bb", b"the", b"of", b"caf\xc3\xa9", b"x\0y", b"\0", b" ", b"  ", b"\t", b"\n", b"\r", b"\r\n", b"\n\n",
]
LONG_WORDS = [b"L" * 97, b"M" * 98, b"N" * 99, b"O" * 150 + b"\r" + b"o" * 60]

texts = st.lists(
    st.one_of(st.sampled_from(FRAGMENTS), st.sampled_from(LONG_WORDS), st.binary(max_size=4)), max_size=60
).map(b"".join)


def reference_counts(paths):
    """Words in order of first appearance and counts, each file read whole by the single-process tokenizer."""
    table, _ = table_from_words([b"</s>"])
    for path in paths:
        table = scan_corpus(str(path), table, False).table
    size = int(table.meta[0])
    return words_of(table), table.counts[:size]


def reference_stream(paths, vocab):
    """The varint stream of the words of ``vocab`` in each file read whole (a frozen single-process scan)."""
    index = vocabulary_index(vocab.words)
    streams = [encode_pieces([Piece(str(path), 0, None)], index) for path in paths]
    return np.concatenate(streams + [np.zeros(0, np.uint8)])


def count_and_encode(shards, min_count):
    """Count every shard, merge, sort; then encode every round. Returns the vocabulary and the stream."""
    words, counts = merge_counts([count_pieces([piece for round_ in rounds for piece in round_]) for rounds in shards])
    vocab, _ = sorted_vocabulary(words, counts, min_count)
    index = vocabulary_index(vocab.words)
    parts = [encode_pieces(round_, index) for rounds in shards for round_ in rounds]
    return (words, counts), vocab, np.concatenate(parts + [np.zeros(0, np.uint8)])


def cut_at(size, positions):
    """[start, end) ranges of ``size`` bytes cut at ``positions``."""
    cuts = sorted({p for p in positions if 0 < p < size})
    return list(zip([0] + cuts, cuts + [size]))


@st.composite
def text_and_cuts(draw):
    text = draw(texts)
    positions = st.lists(st.integers(0, max(len(text), 1)), max_size=12)
    shard_cuts = cut_at(len(text), draw(positions))
    shards = []
    for start, end in shard_cuts:
        rounds = cut_at(end - start, draw(positions))
        shards.append([(start + low, start + high) for low, high in rounds])
    return text, shards, draw(st.integers(1, 3))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(case=text_and_cuts())
def test_any_cut_reads_the_tokens_of_the_whole_file(tmp_path, case):
    text, cuts, min_count = case
    path = tmp_path / "corpus.txt"
    path.write_bytes(text)
    shards = [[[Piece(str(path), start, end)] for start, end in rounds] for rounds in cuts]
    (words, counts), vocab, stream = count_and_encode(shards, min_count)

    expected_words, expected_counts = reference_counts([path])
    assert words == expected_words
    np.testing.assert_array_equal(counts, expected_counts)
    options = TrainOptions(train=str(path), threads=1, min_count=min_count, debug=0)
    settings = corpus_settings(options)
    try:
        single_vocab, first_pass = prepare.prepare_vocabulary(options.train, settings, keep_tokens=True)
    except UserError:  # no word to train: the cluster has the same nothing
        assert vocab.size < 2 or vocab.train_words == 0
        return
    assert vocab.words == single_vocab.words
    np.testing.assert_array_equal(vocab.counts, single_vocab.counts)
    with prepare.encode_corpus(single_vocab, first_pass, settings) as single:
        np.testing.assert_array_equal(stream, single.ids)


# Carriage returns around delimiters, a NUL word, a long word cut by a CR, no final newline.
TRICKY = b"a \rb\r\rc\r \r\n\rd\ne\r\n\n\0 x\0y " + b"L" * 99 + b"\rl\tend\r\r \rlast"


def test_every_two_and_three_piece_cut_of_a_tricky_text(tmp_path):
    path = tmp_path / "tricky.txt"
    path.write_bytes(TRICKY)
    expected_words, expected_counts = reference_counts([path])
    vocab, _ = sorted_vocabulary(expected_words, expected_counts, 1)
    expected_stream = reference_stream([path], vocab)
    size = len(TRICKY)
    for first in range(size + 1):
        for second in [first] + list(range(first + 1, size, 7)):
            shards = [[[Piece(str(path), start, end)]] for start, end in cut_at(size, [first, second])]
            (words, counts), vocab_here, stream = count_and_encode(shards, 1)
            assert words == expected_words, (first, second)
            np.testing.assert_array_equal(counts, expected_counts)
            np.testing.assert_array_equal(stream, expected_stream)


@settings(max_examples=200, deadline=None)
@given(
    sizes=st.lists(st.tuples(st.integers(0, 50), st.booleans()), min_size=1, max_size=6),
    shards=st.integers(1, 9),
    rounds=st.integers(1, 5),
)
def test_shards_and_rounds_cover_each_file_once_in_order(sizes, shards, rounds):
    files = [("f%d%s" % (k, ".gz" if packed else ""), size, packed) for k, (size, packed) in enumerate(sizes)]
    cut = cut_shards(files, shards)
    assert len(cut) == shards
    total = sum(size for _, size, _ in files)
    plain_bytes = [sum(p.end - p.start for p in shard if p.end is not None) for shard in cut]
    if not any(packed for _, _, packed in files):
        # about equal bytes: the cuts are at total * k // shards
        assert max(plain_bytes) - min(plain_bytes) <= 1 and sum(plain_bytes) == total
    flat = [piece for shard in cut for round_ in cut_rounds(shard, rounds) for piece in round_]
    # In corpus order, each plain file's bytes covered once, each compressed file whole and once.
    expected = []
    for url, size, packed in files:
        if packed:
            expected.append(Piece(url, 0, None))
        elif size:
            expected.append(Piece(url, 0, size))
    merged = []
    for piece in flat:
        if merged and piece.end is not None and merged[-1].url == piece.url and merged[-1].end == piece.start:
            merged[-1] = merged[-1]._replace(end=piece.end)
        else:
            merged.append(piece)
    assert merged == expected


def test_cuts_fall_at_equal_bytes_and_a_compressed_file_goes_where_its_middle_is():
    files = [("a", 1000, False), ("b.gz", 300, True), ("c", 10, False)]
    # 1310 bytes in 4 shards: cuts at 327, 655 and 982; b.gz spans [1000, 1300), its middle is in shard 3.
    assert cut_shards(files, 4) == [
        [Piece("a", 0, 327)], [Piece("a", 327, 655)], [Piece("a", 655, 982)],
        [Piece("a", 982, 1000), Piece("b.gz", 0, None), Piece("c", 0, 10)],
    ]
    # A shard's rounds: its pieces cut at equal bytes (13 bytes: at 4 and 8).
    assert cut_rounds([Piece("x", 10, 20), Piece("y", 5, 8)], 3) == [
        [Piece("x", 10, 14)], [Piece("x", 14, 18)], [Piece("x", 18, 20), Piece("y", 5, 8)],
    ]
    assert cut_shards([("a", 2, False)], 4) == [[], [Piece("a", 0, 1)], [], [Piece("a", 1, 2)]]
    # A compressed piece weighs the size cut_shards saw (no file here to ask): q.gz's middle is byte 25 of 50.
    (shard,) = cut_shards([("p", 10, False), ("q.gz", 30, True), ("r", 10, False)], 1)
    assert cut_rounds(shard, 2) == [[Piece("p", 0, 10)], [Piece("q.gz", 0, None), Piece("r", 0, 10)]]
    with pytest.raises(UserError, match="^cannot read unseen.gz: no such file$"):
        cut_rounds([Piece("unseen.gz", 0, None)], 2)


def test_lee_save_vocab_is_cs_file(lee_corpus, tmp_path):
    files = list_files(str(lee_corpus))
    assert files == [(str(lee_corpus.resolve()), lee_corpus.stat().st_size, False)]
    shards = [cut_rounds(shard, 3) for shard in cut_shards(files, 8)]
    assert sum(1 for shard in shards if any(shard)) == 8
    _, vocab, stream = count_and_encode(shards, 5)
    save_vocab(tmp_path / "cluster.vocab", vocab)
    options = TrainOptions(train=str(lee_corpus), threads=1, debug=0)
    single_vocab, _ = prepare.prepare_vocabulary(options.train, corpus_settings(options))
    save_vocab(tmp_path / "single.vocab", single_vocab)
    assert (tmp_path / "cluster.vocab").read_bytes() == (tmp_path / "single.vocab").read_bytes()
    # and C's own -save-vocab file of `word2vec -train lee.txt ... -threads 1` (default -min-count 5)
    assert (tmp_path / "cluster.vocab").read_bytes() == (REFERENCE / "parity/nofma/lee.defaults.vocab").read_bytes()
    np.testing.assert_array_equal(stream, reference_stream([lee_corpus], vocab))


def test_first_mb_of_wiki100m_save_vocab_is_single_process(shared_dir, tmp_path):
    with gzip.open(shared_dir / "data/wiki100m.txt.gz", "rb") as stream:
        data = stream.read(1 << 20)
    path = tmp_path / "wiki1m.txt"
    path.write_bytes(data)
    shards = [cut_rounds(shard, 4) for shard in cut_shards(list_files(str(path)), 8)]
    _, vocab, stream = count_and_encode(shards, 5)
    options = TrainOptions(train=str(path), threads=1, debug=0)
    settings = corpus_settings(options)
    single_vocab, first_pass = prepare.prepare_vocabulary(options.train, settings, keep_tokens=True)
    save_vocab(tmp_path / "cluster.vocab", vocab)
    save_vocab(tmp_path / "single.vocab", single_vocab)
    assert (tmp_path / "cluster.vocab").read_bytes() == (tmp_path / "single.vocab").read_bytes()
    with prepare.encode_corpus(single_vocab, first_pass, settings) as single:
        np.testing.assert_array_equal(stream, single.ids)


def test_the_vocabulary_index_maps_words_to_their_first_id():
    index = vocabulary_index([b"</s>", b"the", b"caf\xc3\xa9", b"the", b"x" * 98])
    assert [index.get(w) for w in (b"</s>", b"the", b"caf\xc3\xa9", b"x" * 98, b"x", b"")] == [0, 1, 2, 4, -1, -1]


def write_glob_corpus(directory):
    """Files read in sorted order, not in the order written: some end inside a word, one is gzip'd."""
    directory.mkdir()
    parts = {
        "b.txt": b"the cat sat\non the mat\r\n and then",  # 'then' runs into the end of its file
        "a.txt": b"alpha beta the\tcat\n\n",
        "c.txt.gz": gzip.compress(b"zeta the cat " * 200 + b"last"),
        "d.txt": b"",
        "e.txt": b"then again the cat \n the " + b"x" * 120 + b" end",
        "skip.dat": b"not part of the glob ",
    }
    for name, data in parts.items():
        (directory / name).write_bytes(data)
    return sorted(directory / name for name in parts if ".txt" in name)


def test_a_glob_is_its_files_in_sorted_order_each_read_alone(tmp_path):
    paths = write_glob_corpus(tmp_path / "corpus")
    files = list_files(str(tmp_path / "corpus" / "*.txt*"))
    assert [url for url, _, _ in files] == [str(path) for path in paths]
    assert [compressed for _, _, compressed in files] == [False, False, True, False, False]
    for shards in (1, 3, 7):
        cut = cut_shards(files, shards)
        packed = [piece for shard in cut for piece in shard if piece.url.endswith(".gz")]
        assert packed == [Piece(str(paths[2]), 0, None)]  # one unit, never cut
        (words, counts), vocab, stream = count_and_encode([cut_rounds(shard, 2) for shard in cut], 1)
        expected_words, expected_counts = reference_counts(paths)
        assert words == expected_words
        np.testing.assert_array_equal(counts, expected_counts)
        assert b"then" in words and b"last" not in words  # 'then' comes back in e.txt; 'last' ends c.txt.gz
        np.testing.assert_array_equal(stream, reference_stream(paths, vocab))


@pytest.mark.parametrize(
    "name, message",
    [("missing.txt", "no such file"), ("*.none", "no file matches"), ("adir", "it is a directory")],
)
def test_an_unreadable_path_is_one_user_error_naming_it(tmp_path, name, message):
    (tmp_path / "adir").mkdir()
    train = str(tmp_path / name)
    with pytest.raises(UserError) as caught:
        list_files(train)
    assert str(caught.value) == f"cannot read {train}: {message}"


def test_a_file_gone_before_its_piece_is_read_is_one_user_error_naming_it(tmp_path):
    path = tmp_path / "gone.txt"
    for piece in (Piece(str(path), 0, 10), Piece(str(path) + ".gz", 0, None)):
        with pytest.raises(UserError, match=f"^cannot read {piece.url}: no such file$"):
            count_pieces([piece])


def test_an_unknown_protocol_is_one_user_error_naming_it():
    with pytest.raises(UserError, match=r"^cannot read nosuch://bucket/x\.txt: .+$"):
        list_files("nosuch://bucket/x.txt")


# ---- s3:// through moto's standalone server (a process, so Dask worker processes see it too) ----


def free_port():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="session")
def s3_server():
    """moto's server on 127.0.0.1, reached by s3fs through AWS_ENDPOINT_URL_S3 (botocore's own setting).

    The environment is set for the whole session, so worker processes started
    by a test inherit it; the server is killed at the end of the session.
    """
    pytest.importorskip("s3fs")
    pytest.importorskip("moto.server")
    boto3 = pytest.importorskip("boto3")
    port = free_port()
    endpoint = f"http://127.0.0.1:{port}"
    server = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    keys = ("AWS_ENDPOINT_URL_S3", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_DEFAULT_REGION")
    saved = {key: os.environ.get(key) for key in keys}
    os.environ.update(
        AWS_ENDPOINT_URL_S3=endpoint, AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_DEFAULT_REGION="us-east-1",
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=1).close()
                break
            except OSError:
                assert server.poll() is None and time.monotonic() < deadline, "moto's server did not start"
                time.sleep(0.1)
        yield boto3.client("s3", endpoint_url=endpoint)
    finally:
        server.kill()
        server.wait()
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def test_an_s3_glob_reads_as_the_same_files_on_disk(s3_server, tmp_path):
    paths = write_glob_corpus(tmp_path / "corpus")
    s3_server.create_bucket(Bucket="corpus")
    for path in paths + [tmp_path / "corpus/skip.dat"]:
        s3_server.put_object(Bucket="corpus", Key=f"text/{path.name}", Body=path.read_bytes())
    files = list_files("s3://corpus/text/*.txt*")
    assert files == [
        (f"s3://corpus/text/{path.name}", path.stat().st_size, path.name.endswith(".gz")) for path in paths
    ]
    cut = [cut_rounds(shard, 3) for shard in cut_shards(files, 4)]
    (words, counts), vocab, stream = count_and_encode(cut, 1)
    expected_words, expected_counts = reference_counts(paths)
    assert words == expected_words
    np.testing.assert_array_equal(counts, expected_counts)
    np.testing.assert_array_equal(stream, reference_stream(paths, vocab))

    missing = "s3://corpus/text/missing.txt"
    with pytest.raises(UserError, match=f"^cannot read {missing}: no such file$"):
        list_files(missing)
    with pytest.raises(UserError, match=f"^cannot read {missing}: "):
        count_pieces([Piece(missing, 0, 5)])
    with pytest.raises(UserError, match="^cannot read s3://nobucket/x.txt: "):
        list_files("s3://nobucket/x.txt")


def test_a_dask_worker_process_counts_an_s3_corpus(s3_server):
    distributed = pytest.importorskip("distributed")
    s3_server.create_bucket(Bucket="worker")
    s3_server.put_object(Bucket="worker", Key="one.txt", Body=b"to be or not to be\nthat is the question ")
    files = list_files("s3://worker/one.txt")
    shards = cut_shards(files, 3)
    with distributed.LocalCluster(
        n_workers=1, threads_per_worker=1, processes=True, host="127.0.0.1", dashboard_address="127.0.0.1:0"
    ) as cluster, distributed.Client(cluster) as client:
        per_shard = client.gather(client.map(count_pieces, shards, pure=False))
        words, counts = merge_counts(per_shard)
        assert dict(zip(words, counts.tolist()))[b"to"] == 2 and b"question" in words
        with pytest.raises(UserError, match="^cannot read s3://worker/gone.txt: "):
            client.submit(count_pieces, [Piece("s3://worker/gone.txt", 0, 5)]).result()


# ---- memory: a task holds its vocabulary and one read buffer, not its share of the corpus ----

MEASURE = """
import sys
from pyw2v.corpus.vocab import sorted_vocabulary
from pyw2v.distributed.corpus import Piece, count_pieces, cut_shards, encode_pieces, \
list_files, merge_counts, vocabulary_index

def status(field):
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith(field + ":"))

def peak(task, *args):
    with open("/proc/self/clear_refs", "w") as f:  # the peak RSS starts again from the current RSS
        f.write("5")
    before = status("VmRSS")
    result = task(*args)
    return result, status("VmHWM") - before

files = list_files(sys.argv[1])
shard = cut_shards(files, int(sys.argv[2]))[0]
head = [Piece(files[0][0], 0, 4096)]
count_pieces(head)  # the kernels are compiled (or loaded) before the measure
counts, count_peak = peak(count_pieces, shard)
index = vocabulary_index(sorted_vocabulary(*merge_counts([counts]), 5)[0].words)
encode_pieces(head, index)
stream, encode_peak = peak(encode_pieces, shard, index)
print(sum(piece.end - piece.start for piece in shard), count_peak, encode_peak, len(stream))
"""


def peak_rss(path, shards):
    """Bytes of the first shard, peak RSS growth of counting it and of encoding it, and the stream's bytes."""
    if not os.access("/proc/self/clear_refs", os.W_OK):
        pytest.skip("needs /proc/self/clear_refs to reset the peak RSS")
    done = subprocess.run(
        [sys.executable, "-c", MEASURE, str(path), str(shards)], capture_output=True, text=True, check=True
    )
    return [int(field) for field in done.stdout.split()]


def test_a_tasks_memory_is_its_vocabulary_and_one_buffer(tmp_path):
    rng = np.random.default_rng(7)
    words = np.array([b"w%07d" % k for k in range(2000)])  # 9 bytes a token with its space: ids of 1 or 2 bytes
    path = tmp_path / "large.txt"
    with open(path, "wb") as out:
        for _ in range(128):  # 128 blocks of 116,508 tokens, 9 bytes each: 128 MiB less 512 bytes
            out.write(b" ".join(words[rng.integers(0, len(words), (1 << 20) // 9)].tolist()) + b"\n")
    shard_bytes, count_peak, encode_peak, stream_bytes = peak_rss(path, 1)
    assert shard_bytes == path.stat().st_size
    MiB = 1 << 20
    # One read buffer and its id array (5 MiB), the table: far below the shard's 128 MiB.
    assert count_peak < 24 * MiB, count_peak
    # The same and the stream it returns (~2 bytes a token, about 28 MiB).
    assert stream_bytes < 32 * MiB
    assert encode_peak < stream_bytes + 24 * MiB, (encode_peak, stream_bytes)
