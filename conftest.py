"""Doctest collection of the package: ``skhpo.plot`` needs matplotlib (the ``plot`` extra)."""

import importlib.util

collect_ignore = [] if importlib.util.find_spec("matplotlib") else ["skhpo/plot"]
