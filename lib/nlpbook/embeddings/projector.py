"""Export word vectors for TensorBoard's Embedding Projector.

The projector (https://projector.tensorflow.org, or the "Projector" tab of a local
TensorBoard) reads two tab-separated files: one vector per line, and one label per line in
the same order. ``export_projector`` writes both, plus the ``projector_config.pbtxt`` that
points a local TensorBoard at them (``tensorboard --logdir <folder>``).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np


def _write(path: Path, text: str) -> None:
    """Write all of ``text`` or nothing: a temporary file renamed into place."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)


def export_projector(
    words: Sequence[str], vectors, folder: str | os.PathLike, *, digits: int = 5
) -> dict[str, Path]:
    """Write ``vectors.tsv``, ``metadata.tsv`` and ``projector_config.pbtxt`` into ``folder``.

    Args:
        words: one label per vector (no tab or newline in a label: the format has no escape).
        vectors: ``(len(words), dim)`` numbers.
        folder: created if missing; existing files of the same names are replaced.
        digits: decimals written per number.

    Returns:
        ``{"vectors", "metadata", "config"}``: the paths written.

    Example:
        >>> import tempfile
        >>> paths = export_projector(["good", "bad"], [[1.0, 0.5], [-1.0, 0.25]],
        ...                          tempfile.mkdtemp(), digits=2)
        >>> paths["vectors"].read_text().splitlines()
        ['1.00\\t0.50', '-1.00\\t0.25']
    """
    vectors = np.asarray(vectors, dtype=np.float64)
    if vectors.ndim != 2 or vectors.shape[0] != len(words) or vectors.shape[0] == 0:
        raise ValueError(
            f"need one vector per word: {len(words)} words, vectors of shape {vectors.shape}"
        )
    if not np.all(np.isfinite(vectors)):
        raise ValueError("vectors hold NaN or infinite values")
    for w in words:
        if not isinstance(w, str) or not w or "\t" in w or "\n" in w or "\r" in w:
            raise ValueError(f"a label must be a non-empty string without tabs or newlines: {w!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "vectors": folder / "vectors.tsv",
        "metadata": folder / "metadata.tsv",
        "config": folder / "projector_config.pbtxt",
    }
    fmt = f"%.{int(digits)}f"
    _write(paths["vectors"], "".join("\t".join(fmt % x for x in row) + "\n" for row in vectors))
    _write(paths["metadata"], "".join(w + "\n" for w in words))
    _write(
        paths["config"],
        'embeddings {\n  tensor_path: "vectors.tsv"\n  metadata_path: "metadata.tsv"\n}\n',
    )
    return paths
