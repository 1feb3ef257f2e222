import os
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "ogx-corpus"
SEED = ROOT / "recordings" / "000_9ef55b3285e76bff.json"


@pytest.fixture(autouse=True, scope="session")
def _own_index_cache(tmp_path_factory) -> None:
    # The recordings index cache of tests (and of the proxies they start) stays out of ~/.cache.
    os.environ["LLM_VCR_INDEX_CACHE"] = str(tmp_path_factory.mktemp("index-cache"))


@pytest.fixture
def seed_path() -> Path:
    return SEED
