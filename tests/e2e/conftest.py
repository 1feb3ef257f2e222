from pathlib import Path

import pytest


@pytest.fixture
def vcr_dir(tmp_path) -> Path:
    d = tmp_path / "recordings"
    d.mkdir()
    return d
