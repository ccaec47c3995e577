"""Every registered dissector, present and future, takes arbitrary bytes calmly."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from medsec.dissect import default_dissectors
from medsec.dissect.interface import Dissector

from tests_support.dissect_harness import PROPERTY, ctx, run_hostile

DISSECTORS = {d.name: d for d in default_dissectors()}


@pytest.mark.parametrize("name", sorted(DISSECTORS))
@PROPERTY
@given(data=st.binary(max_size=3000), udp=st.booleans())
def test_arbitrary_bytes(name: str, data: bytes, udp: bool) -> None:
    dissector: Dissector = DISSECTORS[name]
    context = ctx(transport="udp" if udp else "tcp", dst_port=next(iter(dissector.ports), 9))
    run_hostile(dissector, data, [context])
