"""The library's dependency direction: datasets → text → pipelines → layers → generation → models.

A module may import from its own layer and the ones to its left, never from one to its
right (so a tokenizer can never depend on a model, and data code stays usable on its own).
"""

import ast
from pathlib import Path

import pytest

import nlpbook

# generation drives any step function and knows no model, so models may use it
LAYERS = ["datasets", "text", "pipelines", "layers", "generation", "models"]
ROOT = Path(nlpbook.__file__).parent


def _nlpbook_imports(path: Path) -> set[str]:
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names = [node.module] + [f"{node.module}.{a.name}" for a in node.names]
        elif isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        else:
            continue
        found |= {n.split(".")[1] for n in names if n.startswith("nlpbook.")}
    return found


SOURCES = sorted(p for p in ROOT.rglob("*.py") if p.relative_to(ROOT).parts[0] in LAYERS)


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(ROOT)))
def test_no_import_from_a_higher_layer(path):
    own = LAYERS.index(path.relative_to(ROOT).parts[0])
    above = sorted(m for m in _nlpbook_imports(path) if m in LAYERS[own + 1 :])
    assert above == [], f"{path.relative_to(ROOT)} imports from higher layers {above}"


def test_the_check_sees_imports(tmp_path):
    probe = tmp_path / "probe.py"
    probe.write_text("from nlpbook.models import gpt\nimport nlpbook.text.vocab\n")
    assert _nlpbook_imports(probe) == {"models", "text"}
