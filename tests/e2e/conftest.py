from pathlib import Path

import pytest

from .harness import CountingRelay, Engine


@pytest.fixture(scope="session")
def engine(tmp_path_factory) -> Engine:
    """The real inference engine (built once into a cache by scripts/engine; never skipped)."""
    eng = Engine(tmp_path_factory.mktemp("engine"))
    yield eng
    eng.stop()


@pytest.fixture
def upstream(engine) -> CountingRelay:
    """The engine behind a relay that counts every connection the proxy makes to it."""
    relay = CountingRelay("127.0.0.1", int(engine.url.rsplit(":", 1)[1]))
    yield relay
    relay.close()


@pytest.fixture
def vcr_dir(tmp_path) -> Path:
    d = tmp_path / "recordings"
    d.mkdir()
    return d
