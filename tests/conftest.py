"""Shared fixtures: the lee corpus from gensim's test data, the reference outputs, ../shared."""
import hashlib
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
REFERENCE = REPO / "reference_outputs"
SHARED = REPO.parent / "shared"
LEE_SHA256 = "5d78d6dafd953bbf65797bef09a9ffb9ec430583381be705f8fd460000f370fb"


@pytest.fixture(scope="session")
def lee_corpus():
    """gensim's lee_background.cor, checked to be the bytes the C references were made from."""
    from gensim.test.utils import datapath

    path = Path(datapath("lee_background.cor"))
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    assert digest == LEE_SHA256, "gensim's lee_background.cor is not the parity bundle's lee.txt"
    return path


@pytest.fixture
def shared_dir():
    """../shared beside the repository; tests that need it skip without it."""
    if not SHARED.is_dir():
        pytest.skip(f"needs ../shared (not present at {SHARED}); run from the project workspace")
    return SHARED
