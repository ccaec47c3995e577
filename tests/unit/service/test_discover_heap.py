"""Before the first capture the startup heap is frozen, the dissectors' modules with it,
imported while the cyclic collector is paused; the collector is left as it was."""

from __future__ import annotations

import gc
import sys

import pytest

from medsec.service import discover


@pytest.fixture
def first_capture(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "_heap_frozen", False)


@pytest.mark.usefixtures("first_capture")
def test_the_dissect_stage_is_made_with_the_collector_paused_then_frozen(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    enabled: list[bool] = []
    made = discover._pipeline

    def pipeline() -> object:
        enabled.append(gc.isenabled())
        return made()

    monkeypatch.setattr(discover, "_pipeline", pipeline)
    assert discover._ready(True) is not None
    assert enabled == [False]
    assert gc.isenabled()
    assert discover._heap_frozen
    assert gc.get_count()[0] < 1000  # frozen: the young generation starts over


@pytest.mark.usefixtures("first_capture")
def test_the_collector_is_enabled_again_when_making_the_stage_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def broken() -> object:
        raise RuntimeError("boom")

    monkeypatch.setattr(discover, "_pipeline", broken)
    with pytest.raises(RuntimeError):
        discover._ready(True)
    assert gc.isenabled()


@pytest.mark.usefixtures("first_capture")
def test_a_disabled_collector_stays_disabled() -> None:
    gc.disable()
    try:
        assert discover._ready(False) is None
        assert not gc.isenabled()
    finally:
        gc.enable()


def test_later_captures_make_the_stage_without_freezing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(discover, "_heap_frozen", True)
    frozen = gc.get_freeze_count()
    assert discover._ready(True) is not None
    assert gc.get_freeze_count() == frozen
    assert gc.isenabled()
    assert "medsec.dissect.dicom" in sys.modules
