"""The demo scripts of bin/: they run to their end without gensim or network, or say in one line why not."""
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
BIN = REPO / "bin"
DEMOS = sorted(path.name for path in BIN.glob("demo-*.sh") if path.name != "demo-common.sh")
QUESTION_DEMOS = ["demo-word-accuracy.sh", "demo-phrase-accuracy.sh"]


def block_imports(directory, *modules):
    """A sitecustomize.py in ``directory`` that makes importing ``modules`` fail, as when not installed."""
    directory.mkdir(exist_ok=True)
    blocked = "".join(f"sys.modules[{name!r}] = None\n" for name in modules)
    (directory / "sitecustomize.py").write_text("import sys\n" + blocked)
    return directory


def run_demo(name, args, cwd, **env_changes):
    """Run a demo with stdin at end of file (the interactive tools then end); returns (status, out, err)."""
    env = dict(os.environ, THREADS="2")
    env.pop("QUESTIONS", None)
    env.update(env_changes)
    result = subprocess.run(
        ["bash", str(BIN / name), *map(str, args)],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=900,
    )
    return result.returncode, result.stdout, result.stderr


def assert_one_line_failure(name, status, err, needle):
    assert status == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"{name}: "), lines[0]
    assert needle in lines[0], lines[0]


def test_every_demo_is_tested():
    assert set(QUESTION_DEMOS) < set(DEMOS)
    assert len(DEMOS) == 6


@pytest.mark.parametrize("name", DEMOS)
def test_a_missing_corpus_is_one_line(name, tmp_path):
    status, out, err = run_demo(name, [tmp_path / "missing.txt"], tmp_path)
    assert_one_line_failure(name, status, err, "missing.txt: no such file")
    assert out == ""


@pytest.mark.parametrize(
    "make, needle",
    [
        (lambda path: path.mkdir(), "it is a directory"),
        (lambda path: path.write_bytes(b""), "is empty"),
    ],
    ids=["directory", "empty"],
)
def test_an_unusable_corpus_is_one_line(make, needle, tmp_path):
    corpus = tmp_path / "corpus"
    make(corpus)
    status, _, err = run_demo("demo-word.sh", [corpus], tmp_path)
    assert_one_line_failure("demo-word.sh", status, err, needle)


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads any file: no permission to withdraw")
def test_an_unreadable_corpus_is_one_line(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c\n")
    corpus.chmod(0)
    status, _, err = run_demo("demo-word.sh", [corpus], tmp_path)
    assert_one_line_failure("demo-word.sh", status, err, "permission denied")


def test_no_download_without_network_is_one_line(tmp_path):
    """Without a corpus the demo fetches text8, as the original; an unreachable address is one line."""
    status, _, err = run_demo(
        "demo-word.sh", [], tmp_path, TEXT8_URL=(tmp_path / "nowhere" / "text8.zip").as_uri()
    )
    assert_one_line_failure("demo-word.sh", status, err, "could not download text8")
    assert not (tmp_path / "text8.zip").exists()


@pytest.mark.parametrize("name", QUESTION_DEMOS)
def test_unreadable_questions_are_one_line(name, tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c\n")
    status, _, err = run_demo(name, [corpus], tmp_path, QUESTIONS=str(tmp_path / "q.txt"))
    assert_one_line_failure(name, status, err, "cannot read QUESTIONS=")


def test_pyw2v_not_installed_is_one_line(tmp_path):
    system_path = os.pathsep.join(["/usr/bin", "/bin"])
    if shutil.which("pyw2v", path=system_path):
        pytest.skip("pyw2v is installed system-wide")
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("a b c\n")
    status, _, err = run_demo("demo-word.sh", [corpus], tmp_path, PATH=system_path)
    assert_one_line_failure("demo-word.sh", status, err, "pip install -e .")


def test_word_accuracy_demo_runs_to_its_end_without_gensim(lee_corpus, tmp_path):
    """The README's example: trains, then scores on the bundled questions (issue 23: it used to exit silently)."""
    venv_bin = str(Path(sys.executable).parent)
    no_gensim = block_imports(tmp_path / "site", "gensim")
    status, out, err = run_demo(
        "demo-word-accuracy.sh",
        [lee_corpus],
        tmp_path,
        PYTHONPATH=str(no_gensim),
        PATH=os.pathsep.join([venv_bin, os.environ["PATH"]]),
    )
    assert status == 0, err
    assert (tmp_path / "vectors.bin").stat().st_size > 0
    last = out.splitlines()[-1]
    # all 19,544 questions of questions-words.txt were read, whatever share the tiny model answers
    assert last.startswith("Questions seen / total: ") and last.split()[5] == "19544", last
    assert "Total accuracy:" in out
