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
