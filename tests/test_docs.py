"""Every ```python block of README.md and docs/*.md runs as written.

Each block runs alone, in a fresh namespace, because a reader copies one block at
a time: a block that needs ``X, y`` or a ``search`` defines them itself. Blocks
that import torch or skorch are skipped when skorch is not installed. A block
that raises fails its test, whose id is ``file:line`` of the block's fence.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOC_FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
FENCE = re.compile(r"^```python\n(.*?)^```", re.MULTILINE | re.DOTALL)
NEEDS_SKORCH = re.compile(r"^\s*(?:import|from)\s+(?:torch|skorch)\b", re.MULTILINE)


def python_blocks(path: Path) -> list[tuple[str, str]]:
    """``(id, source)`` of each ```python block of ``path``, id ``name:line``."""
    text = path.read_text(encoding="utf-8")
    return [
        (f"{path.relative_to(ROOT)}:{text.count(chr(10), 0, match.start()) + 1}",
         match.group(1))
        for match in FENCE.finditer(text)
    ]


BLOCKS = [block for path in DOC_FILES for block in python_blocks(path)]


@pytest.mark.parametrize("path", DOC_FILES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_python_fence_is_collected(path):
    # a fence this module does not parse (```py, ```python3, an indented one)
    # would silently go untested
    fences = re.findall(r"^\s*```\s*py", path.read_text(encoding="utf-8"), re.MULTILINE)
    assert len(python_blocks(path)) == len(fences)


def test_readme_and_user_guide_have_python_blocks():
    assert {"README.md", "docs/user_guide.md"} <= {block_id.split(":")[0] for block_id, _ in BLOCKS}


@pytest.mark.parametrize("block_id, source", BLOCKS, ids=[i for i, _ in BLOCKS])
def test_doc_block_runs(block_id, source):
    if NEEDS_SKORCH.search(source):
        pytest.importorskip("skorch", reason="needs skorch and torch: pip install -e '.[torch]'")
    # not "__main__" and not importable: classes a block defines are pickled by
    # value for joblib workers, as they are when the block runs as a script
    namespace = {"__name__": "skhpo_docs_block"}
    exec(compile(source, block_id, "exec"), namespace)
