"""The `llm-vcr` command: `run` and `proxy` (a mitmdump child), and the recordings commands."""

from llm_vcr.cli.main import main

__all__ = ["main"]
