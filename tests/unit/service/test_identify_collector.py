"""Identification pauses the cyclic collector while it works, and leaves it as it was."""

from __future__ import annotations

import gc

import pytest

from medsec.service import devices


def test_collector_paused_for_the_block_and_restored() -> None:
    assert gc.isenabled()
    with devices.collector_paused():
        assert not gc.isenabled()
    assert gc.isenabled()


def test_collector_restored_when_the_block_fails() -> None:
    with pytest.raises(RuntimeError), devices.collector_paused():
        raise RuntimeError("boom")
    assert gc.isenabled()


def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        with devices.collector_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    finally:
        gc.enable()
