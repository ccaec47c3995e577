"""Exceptions become one-line messages and exit codes here, and nowhere else."""

from __future__ import annotations

from medsec.model.errors import (
    CaptureCorrupt,
    CaptureError,
    CaptureNotFound,
    ConfigError,
    FindingError,
    InventoryError,
    LiveCaptureError,
    MedsecError,
    NotACapture,
    SbomError,
    SimulationError,
)

EXIT_OK = 0
EXIT_ERROR = 1
EXIT_USAGE = 2  # click's own code for bad options
EXIT_NOT_FOUND = 3
EXIT_NOT_A_CAPTURE = 4
EXIT_CORRUPT = 5
EXIT_INVENTORY = 6
EXIT_CONFIG = 7
EXIT_LIVE = 8

_CODES: tuple[tuple[type[MedsecError], int], ...] = (
    (CaptureNotFound, EXIT_NOT_FOUND),
    (NotACapture, EXIT_NOT_A_CAPTURE),
    (CaptureCorrupt, EXIT_CORRUPT),
    (LiveCaptureError, EXIT_LIVE),
    (CaptureError, EXIT_ERROR),
    (FindingError, EXIT_USAGE),
    (SbomError, EXIT_USAGE),
    (InventoryError, EXIT_INVENTORY),
    (ConfigError, EXIT_CONFIG),
    (SimulationError, EXIT_USAGE),
)


def exit_code(exc: MedsecError | type[MedsecError]) -> int:
    """The process exit code for an error (or a kind of error)."""
    cls = exc if isinstance(exc, type) else type(exc)
    for kind, code in _CODES:
        if issubclass(cls, kind):
            return code
    return EXIT_ERROR


def one_line(exc: BaseException | str) -> str:
    """The error's message on one line."""
    return " ".join(str(exc).split()) or type(exc).__name__
