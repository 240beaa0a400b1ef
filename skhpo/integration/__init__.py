"""Helpers for estimators from other libraries (skorch).

Importing :mod:`skhpo` or this package imports none of those libraries: each
helper imports its library only when it is given one of its objects.
"""

from __future__ import annotations

__all__: list[str] = []
