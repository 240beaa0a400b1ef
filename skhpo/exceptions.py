"""Warnings and errors raised by skhpo."""

from __future__ import annotations

__all__ = ["SearchSpaceError", "SkhpoWarning"]


class SkhpoWarning(UserWarning):
    """Base category of every warning skhpo emits.

    Silence them all with ``warnings.filterwarnings("ignore", category=SkhpoWarning)``.
    """


class SearchSpaceError(ValueError):
    """A ``search_spaces`` entry cannot be turned into a search dimension."""
