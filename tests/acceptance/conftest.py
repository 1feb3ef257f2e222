"""A user's world: llm-vcr installed from a wheel into its own venv, and a fresh project folder outside
the checkout where the README's commands run as written (relative paths, defaults)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest

from ..e2e.harness import ROOT, clean_env

PACKAGE_FILES = ("pyproject.toml", "README.md", "LICENSE", "llm_vcr")


@dataclass
class Installed:
    """llm-vcr as `pip install` leaves it: its own venv, with `llm-vcr` and `mitmdump` in bin/."""

    venv: Path

    @property
    def bin(self) -> Path:
        return self.venv / "bin"

    def env(self, **extra: str) -> dict[str, str]:
        """The user's shell with that venv first on PATH (as after `source .venv/bin/activate`)."""
        env = clean_env(**extra)
        env["PATH"] = f"{self.bin}{os.pathsep}{env.get('PATH', '')}"
        env.pop("PYTHONPATH", None)  # nothing of the checkout leaks in
        env["LLM_VCR_INDEX_CACHE"] = os.environ["LLM_VCR_INDEX_CACHE"]
        return env


@pytest.fixture(scope="session")
def installed(tmp_path_factory) -> Installed:
    """Build a wheel from a copy of the package's files (the checkout stays clean), install it and its
    dependencies into a new venv. About 10 s, once per session."""
    work = tmp_path_factory.mktemp("install")
    src = work / "src"
    src.mkdir()
    for name in PACKAGE_FILES:
        path = ROOT / name
        if path.is_dir():
            shutil.copytree(path, src / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy(path, src / name)
    venv = work / "venv"
    wheel_dir = work / "dist"
    quiet = ["-q", "--disable-pip-version-check"]
    _step(sys.executable, "-m", "pip", "wheel", *quiet, "--no-deps", "-w", str(wheel_dir), str(src))
    _step(sys.executable, "-m", "venv", str(venv))
    wheel = next(wheel_dir.glob("llm_vcr-*.whl"))  # the file itself: never a same-named package of an index
    _step(str(venv / "bin" / "python"), "-m", "pip", "install", *quiet, str(wheel))
    return Installed(venv)


def _step(*cmd: str) -> None:
    done = subprocess.run(cmd, capture_output=True, text=True)
    assert done.returncode == 0, f"{' '.join(cmd)} failed:\n{done.stdout}\n{done.stderr}"


@pytest.fixture
def project(tmp_path) -> Path:
    """A user's project folder, outside the checkout."""
    d = tmp_path / "my-agent"
    d.mkdir()
    assert not d.resolve().is_relative_to(ROOT)
    return d


def run_cli(installed: Installed, project: Path, *args: str, timeout: float = 180, command_fails: bool = False,
            **env: str):  # fmt: skip
    """`llm-vcr ARGS` typed in the project folder: (exit status, stdout, stderr). No traceback, unless
    the wrapped command is expected to fail (its own traceback then shares stderr)."""
    done = subprocess.run(
        ["llm-vcr", *args], cwd=project, env=installed.env(**env), capture_output=True, text=True, timeout=timeout
    )
    assert command_fails or "Traceback" not in done.stderr, done.stderr
    return done.returncode, done.stdout, done.stderr
