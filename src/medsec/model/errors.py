"""Errors raised by medsec, one base per stage.

::

    MedsecError
    ├── ConfigError            bad medsec.toml or environment value
    ├── CaptureError           a capture source cannot be read
    │   ├── CaptureNotFound    the file does not exist / cannot be opened
    │   ├── NotACapture        the bytes are no pcap, pcapng or gzip of either
    │   ├── CaptureCorrupt     the file is damaged from ``offset`` on (truncated or garbage)
    │   └── LiveCaptureError   an interface cannot be opened for capture
    ├── DissectError           a protocol payload is malformed
    ├── RuleError              a rule file is invalid
    ├── FeedError              a vulnerability feed cannot be imported
    ├── InventoryError         the store cannot be opened, migrated or written
    │   ├── FindingError       no such finding, or a status change the workflow refuses
    │   └── SbomError          no such SBOM or device to attach it to, or a malformed model
    └── SimulationError        the hospital simulator was given impossible parameters

Implementations subclass the stage base and chain the cause with ``raise ... from``.
The CLI turns these into one-line messages and exit codes in one place (``cli/errors.py``).
"""

from __future__ import annotations


class MedsecError(Exception):
    """Base of every error medsec raises on purpose."""


class ConfigError(MedsecError):
    """The configuration file or an environment override is invalid."""


class CaptureError(MedsecError):
    """A capture source cannot be read."""


class CaptureNotFound(CaptureError):
    """The capture file does not exist or cannot be opened."""


class NotACapture(CaptureError):
    """The file is not a pcap or pcapng capture (optionally gzip-compressed)."""


class CaptureCorrupt(CaptureError):
    """The capture is truncated or damaged; everything before ``offset`` was read.

    ``offset`` counts bytes of the (decompressed) capture stream where the damage starts.
    """

    def __init__(self, message: str, *, offset: int, path: str | None = None) -> None:
        self.offset = offset
        self.path = path
        where = f"{path}: " if path else ""
        super().__init__(f"{where}{message} at byte offset {offset}")


class LiveCaptureError(CaptureError):
    """A network interface cannot be opened or read for live capture."""


class DissectError(MedsecError):
    """A protocol payload is malformed and yields no observation."""


class RuleError(MedsecError):
    """A rule file does not follow its schema."""


class FeedError(MedsecError):
    """A vulnerability or intelligence feed cannot be imported."""


class InventoryError(MedsecError):
    """The inventory store cannot be opened, migrated or written."""


class FindingError(InventoryError):
    """A finding cannot be shown or changed as asked (no such finding, or a status change
    the workflow refuses)."""


class SbomError(InventoryError):
    """An SBOM cannot be attached or detached as asked: no such SBOM, no such device (or an
    address several devices held), a model not written ``Vendor|Model``, or a file to attach
    at import that holds no SBOM."""


class SimulationError(MedsecError):
    """The hospital simulator was given parameters it cannot honour."""
