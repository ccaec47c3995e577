"""Data files: rules and tables that users can extend without touching code."""
