from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "tests" / "fixtures" / "ogx-corpus"
SEED = ROOT / "recordings" / "000_9ef55b3285e76bff.json"


@pytest.fixture
def seed_path() -> Path:
    return SEED
