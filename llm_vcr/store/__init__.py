"""Recordings on disk: one recording (`recording.py`), a folder of them (`folder.py`), reading files
safely (`files.py`, `reading.py`), what file names claim (`names.py`), and the index cache that spares
a restart from reading every file (`index.py`)."""

from llm_vcr.store.building import LoadReport
from llm_vcr.store.folder import PENDING, Hit, Nearest, RecordingStore
from llm_vcr.store.reading import index_files, read_file
from llm_vcr.store.recording import Recording, RecordingError, ReplayResponse

__all__ = [
    "PENDING", "Hit", "LoadReport", "Nearest", "Recording", "RecordingError", "RecordingStore", "ReplayResponse",
    "index_files", "read_file",
]  # fmt: skip
