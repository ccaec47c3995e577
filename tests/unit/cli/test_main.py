"""The console entry point's process settings."""

from __future__ import annotations

import gc

import pytest

from medsec.cli import main as cli


def test_main_collects_the_young_generation_in_large_batches(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ran: list[bool] = []
    monkeypatch.setattr(cli, "app", lambda: ran.append(True))
    before = gc.get_threshold()
    try:
        cli.main()
        assert ran == [True]
        assert gc.get_threshold() == (cli.GC_YOUNG_THRESHOLD, before[1], before[2])
    finally:
        gc.set_threshold(*before)


def test_main_freezes_the_heap_at_exit_not_before(monkeypatch: pytest.MonkeyPatch) -> None:
    """The interpreter's last collection would walk everything a command left: main()
    freezes it from an atexit hook - so a process calling main() and living on (this one)
    keeps collecting meanwhile."""
    hooks: list[object] = []
    monkeypatch.setattr(cli, "app", lambda: None)
    monkeypatch.setattr(cli.atexit, "register", hooks.append)
    frozen = gc.get_freeze_count()
    before = gc.get_threshold()
    try:
        cli.main()
    finally:
        gc.set_threshold(*before)
    assert hooks == [gc.freeze]
    assert gc.get_freeze_count() == frozen
