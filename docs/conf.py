"""Sphinx configuration of the skhpo documentation.

Build it (warnings are errors) with::

    python -m sphinx -W --keep-going -b html docs docs/_build/html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import skhpo

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
# the gallery's examples fit models: one BLAS thread each, as on CI's two cores
os.environ.setdefault("OMP_NUM_THREADS", "1")

project = "skhpo"
author = "skhpo developers"
copyright = "skhpo developers"
release = version = skhpo.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "numpydoc",
    "myst_parser",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
exclude_patterns = ["_build", "auto_examples/*.ipynb", "auto_examples/*.py",
                    "auto_examples/*.zip", "auto_examples/*.md5", "auto_examples/*.json"]
templates_path = ["_templates"]

autosummary_generate = True
autodoc_default_options = {"inherited-members": False}
numpydoc_show_class_members = False  # the class template lists the members
numpydoc_class_members_toctree = False
myst_heading_anchors = 3

html_theme = "pydata_sphinx_theme"
html_title = f"skhpo {version}"
html_theme_options = {"navigation_with_keys": False, "show_prev_next": False}

sphinx_gallery_conf = {
    "examples_dirs": str(ROOT / "examples"),
    "gallery_dirs": "auto_examples",
    "filename_pattern": r"/",  # run every example, not only plot_*.py
    "abort_on_example_error": True,
    "download_all_examples": False,
    "remove_config_comments": True,
    "within_subsection_order": "FileNameSortKey",
}
