"""Paced replay: when each piece of a recorded stream is due, at a given speed.

Pure scheduling; `addons/pacer.py` serves it. Deadlines are absolute (start + offset / speed),
so per-write jitter never accumulates into drift.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from llm_vcr.store.recording import ReplayResponse


def parse_speed(value: str) -> float | None:
    """`none` -> None (instant), `real` -> 1.0, `4x` / `0.5x` -> that factor. ValueError otherwise."""
    v = value.strip().lower()
    if v in ("", "none", "off", "instant"):
        return None
    if v == "real":
        return 1.0
    m = re.fullmatch(r"(\d+(?:\.\d+)?)x", v)
    if not m or float(m.group(1)) <= 0:
        raise ValueError(f"vcr_timing must be none, real or a speed factor such as 4x or 0.5x, not {value!r}")
    return float(m.group(1))


@dataclass(frozen=True, slots=True)
class Schedule:
    headers_at: float  # seconds after the request
    pieces: list[tuple[float, bytes]]  # (seconds after the request, bytes), in order


def schedule(answer: ReplayResponse, speed: float) -> Schedule | None:
    """When to send each piece of `answer`, or None if it has no usable timing (then: instant)."""
    t, frames = answer.timing, answer.frames
    if not t or frames is None:
        return None
    chunks = t["chunks_ms"]
    times = [c / 1000 / speed for c in chunks]
    if len(frames) == len(chunks) + 1:  # a trailing end marker ([DONE]) comes at the recorded end
        times.append(max(float(t.get("end_ms", chunks[-1] if chunks else 0)) / 1000 / speed, times[-1] if times else 0))
    if len(times) != len(frames):
        return None
    return Schedule(float(t["headers_ms"]) / 1000 / speed, list(zip(times, frames, strict=True)))
