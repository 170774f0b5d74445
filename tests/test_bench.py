"""The benchmark harness (pyw2v/bench): its report and picture, run with a stand-in trainer."""
import os
import shlex
import struct
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REPORTS = REPO / "reference_outputs" / "bench"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# writes an empty vector file where -output says, as a trainer would
STAND_IN = "import sys; open(sys.argv[sys.argv.index('-output') + 1], 'wb').write(b'0 1\\n')"


def block_imports(directory, *modules):
    directory.mkdir(exist_ok=True)
    lines = "".join(f"sys.modules[{name!r}] = None\n" for name in modules)
    (directory / "sitecustomize.py").write_text("import sys\n" + lines)
    return str(directory)


def bench(args, tmp_path, blocked=(), as_script=False):
    """``python -m pyw2v.bench ARGS``, or the harness run as a script, as bin/bench runs it."""
    env = dict(os.environ)
    if blocked:
        env["PYTHONPATH"] = block_imports(tmp_path / "site", *blocked)
    entry = [str(REPO / "pyw2v" / "bench" / "__main__.py")] if as_script else ["-m", "pyw2v.bench"]
    result = subprocess.run(
        [sys.executable, *entry, *map(str, args)],
        env=env, capture_output=True, text=True, timeout=600,
    )
    return result.returncode, result.stdout, result.stderr


def png_size(path):
    data = Path(path).read_bytes()
    assert data[:8] == PNG_SIGNATURE and data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24])


def smoke_args(tmp_path):
    corpus = tmp_path / "corpus.txt"
    corpus.write_text("the cat sat on the mat " * 200)
    return [
        "--corpus", corpus, "--repeat", "2", "--arch", "sg-ns,cbow-ns", "--systems", "pyw2v,pyw2v-fast",
        "--pyw2v-cmd", shlex.join([sys.executable, "-c", STAND_IN]), "--no-accuracy",
        "--cache-dir", tmp_path / "cache", "--out-dir", tmp_path / "out", "--name", "smoke",
    ]


def test_a_run_writes_the_report_and_its_picture(tmp_path):
    pytest.importorskip("matplotlib", reason='the picture needs matplotlib (pip install "pyw2v[plot]")')
    status, out, err = bench(smoke_args(tmp_path), tmp_path)
    assert status == 0, err
    report = (tmp_path / "out" / "smoke.md").read_text()
    assert out.strip() == report.strip()
    assert report.startswith("# pyw2v benchmark: smoke\n\nCommand: `python -m pyw2v.bench --corpus ")
    assert "| pyw2v-fast | cbow-ns | 2 |" in report
    assert "![median wall time of each system](smoke.png)" in report
    width, height = png_size(tmp_path / "out" / "smoke.png")
    assert width == 900 and 300 < height < 800


def test_every_pyw2v_job_first_runs_untimed_on_the_corpus_head(tmp_path):
    calls = tmp_path / "calls.txt"
    # logs the corpus and the mode of each call, then writes a vector file as a trainer would
    logging = (
        "import sys; a = sys.argv; open(%r, 'a').write(a[a.index('-train') + 1] + ' ' + str('-fast' in a) + '\\n'); "
        % str(calls)
    ) + STAND_IN.replace("import sys; ", "")
    args = smoke_args(tmp_path)
    args[args.index("--pyw2v-cmd") + 1] = shlex.join([sys.executable, "-c", logging])
    status, _, err = bench(args, tmp_path)
    assert status == 0, err
    lines = calls.read_text().splitlines()
    # 2 archs x 2 systems: four warm-up calls on a prefix, then 2 repetitions of the four timed calls
    assert len(lines) == 12
    assert all("warm-up" in line for line in lines[:4])
    assert sorted(line.split()[1] for line in lines[:4]) == ["False", "False", "True", "True"]
    assert all(line.split()[0].endswith("corpus.txt") and "warm-up" not in line for line in lines[4:])
    report = (tmp_path / "out" / "smoke.md").read_text()
    assert "| pyw2v | sg-ns | 2 |" in report  # the warm-up runs are not counted


def test_without_matplotlib_the_report_says_there_is_no_picture(tmp_path):
    status, _, err = bench(smoke_args(tmp_path), tmp_path, blocked=["matplotlib"])
    assert status == 0, err
    report = (tmp_path / "out" / "smoke.md").read_text()
    assert 'No picture: matplotlib is not installed (pip install "pyw2v[plot]").' in report
    assert "bench: no picture: matplotlib is not installed" in err
    assert not (tmp_path / "out" / "smoke.png").exists()


def test_the_harness_runs_without_numba(tmp_path):
    """Its process must not load pyw2v's Numba: Linux would charge that peak to every job."""
    status, out, err = bench(["--help"], tmp_path, blocked=["numba"], as_script=True)
    assert status == 0 and out.startswith("usage: bin/bench"), err
    args = smoke_args(tmp_path)
    status, _, err = bench(args, tmp_path, blocked=["numba", "matplotlib"], as_script=True)
    assert status == 0, err
    assert "Command: `bin/bench --corpus" in (tmp_path / "out" / "smoke.md").read_text()


def test_the_current_reports_have_pictures():
    """docs/performance.md shows them; --redraw draws them from the reports' tables."""
    for name in ("wiki100m-ns-t2", "wiki100m-hs-t2-iter1"):
        assert (REPORTS / f"{name}.md").exists()
        width, _ = png_size(REPORTS / f"{name}.png")
        assert width == 900
        assert f"../reference_outputs/bench/{name}.png" in (REPO / "docs" / "performance.md").read_text()


def test_redraw_reads_the_reports_medians(tmp_path):
    pytest.importorskip("matplotlib", reason='the picture needs matplotlib (pip install "pyw2v[plot]")')
    report = tmp_path / "r.md"
    report.write_bytes((REPORTS / "wiki100m-ns-t2.md").read_bytes())
    status, _, err = bench(["--redraw", report], tmp_path)
    assert status == 0, err
    assert png_size(tmp_path / "r.png") == (900, png_size(REPORTS / "wiki100m-ns-t2.png")[1])


def test_chart_data_of_a_report():
    from pyw2v.bench.chart import data_from_report

    data = data_from_report((REPORTS / "wiki100m-ns-t2.md").read_text())
    assert data["title"] == "wiki100m-ns-t2: 16,694,605 training words × 5 epochs, 2 threads"
    panels = dict(data["panels"])
    assert list(panels) == ["sg-ns", "cbow-ns"]
    # the side-by-side pair (twice the work) is left out
    assert [bar["system"] for bar in panels["sg-ns"]] == ["pyw2v", "pyw2v-fast", "gensim", "pyw2v-fast (1 thread)"]
    assert panels["sg-ns"][0] == {"system": "pyw2v", "wall": 76.5, "low": 74.2, "high": 81.9}
    assert panels["cbow-ns"][2]["wall"] == 69.6
