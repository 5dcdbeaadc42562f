"""Raw latency samples: latency/<point>-<rep>.u32 in a results directory, each
sample a little-endian uint32 of microseconds (results/latency_file.h)."""

from __future__ import annotations

from pathlib import Path

import numpy as np


class SampleFileError(Exception):
    """A sample file that cannot be used; the message names it."""


def read_samples_ms(directory: Path, relative_name: str) -> np.ndarray:
    """The samples of `directory`/`relative_name` in milliseconds.

    Raises SampleFileError when the name leaves the directory, the file is
    missing, or its size is not a multiple of 4 bytes."""
    directory = Path(directory).resolve()
    path = (directory / relative_name).resolve()
    if directory not in path.parents:
        raise SampleFileError(f"{relative_name}: outside the results directory")
    try:
        data = path.read_bytes()
    except OSError as e:
        raise SampleFileError(f"{relative_name}: cannot read: {e.strerror}") from None
    if len(data) % 4:
        raise SampleFileError(f"{relative_name}: {len(data)} bytes is not a whole number of uint32 samples")
    return np.frombuffer(data, dtype="<u4").astype(np.float64) / 1000.0


def empirical_cdf(samples_ms: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted samples, fraction of samples <= each) for a step plot."""
    x = np.sort(samples_ms)
    y = np.arange(1, len(x) + 1) / len(x)
    return x, y
