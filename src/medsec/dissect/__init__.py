"""The dissect stage: protocol payloads -> observations (facts, no decisions)."""
