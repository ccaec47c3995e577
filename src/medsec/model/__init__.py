"""Shared values passed between stages, and the error tree."""
