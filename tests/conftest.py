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


@pytest.fixture(scope="session")
def engine(tmp_path_factory):
    """The real inference engine (built once into a cache by scripts/engine; never skipped)."""
    from .e2e.harness import Engine

    eng = Engine(tmp_path_factory.mktemp("engine"))
    yield eng
    eng.stop()


@pytest.fixture
def upstream(engine):
    """The engine behind a relay that counts every connection the proxy makes to it."""
    from .e2e.harness import CountingRelay

    relay = CountingRelay("127.0.0.1", int(engine.url.rsplit(":", 1)[1]))
    yield relay
    relay.close()
