"""Conversations: one method per kind of exchange in the hospital, each building the frames
of one conversation from a start time.

The builders are grouped by theme; :class:`Conversations` offers them all.
"""

from medsec.simulate.conversations.addressing import AddressingConversations
from medsec.simulate.conversations.clinical import ClinicalConversations


class Conversations(AddressingConversations, ClinicalConversations):
    """Every conversation builder (addressing, services, IT and clinical)."""


__all__ = ["Conversations"]
