"""The report stage: output formats for what the inventory holds."""
