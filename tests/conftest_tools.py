"""Helpers shared by the tests of the companion tools (imported, not a pytest conftest)."""
import io
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
TOOLS_REFERENCE = REPO / "reference_outputs" / "tools"
LEE_VECTORS = TOOLS_REFERENCE / "lee.sg_ns.bin"
SHARED = REPO.parent / "shared"


def shared_file(*parts):
    """A file under ../shared, or skip the test with the reason."""
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"needs {path} (../shared is not available on a fresh clone)")
    return path


def run_tool(main, args, stdin=b""):
    """Call a tool's ``main`` in-process; returns ``(status, stdout bytes, stderr text)``."""
    saved = sys.stdin, sys.stdout, sys.stderr
    out, err = io.BytesIO(), io.BytesIO()
    sys.stdin = io.TextIOWrapper(io.BytesIO(stdin))
    sys.stdout = io.TextIOWrapper(out, write_through=True)
    sys.stderr = io.TextIOWrapper(err, write_through=True)
    try:
        status = main(list(map(str, args)))
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        written, complained = out.getvalue(), err.getvalue()
        sys.stdin, sys.stdout, sys.stderr = saved  # the wrappers close their buffers when dropped
    return status, written, complained.decode()


def questions_words():
    """The bundled questions-words.txt (byte-identical to the one the C references used)."""
    from pyw2v.tools.questions import bundled_questions

    return Path(bundled_questions("questions-words.txt"))
