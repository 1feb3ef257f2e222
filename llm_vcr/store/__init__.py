"""Recordings on disk: one recording (`recording.py`), a folder of them (`folder.py`), and the
index cache that spares a restart from reading every file (`index.py`)."""

from llm_vcr.store.folder import Hit, LoadReport, Nearest, RecordingStore, index_files, read_file
from llm_vcr.store.recording import Recording, RecordingError, ReplayResponse

__all__ = [
    "Hit", "LoadReport", "Nearest", "Recording", "RecordingError", "RecordingStore", "ReplayResponse", "index_files",
    "read_file",
]  # fmt: skip
