"""Showing results in a notebook: small Markdown tables that read well in JupyterLab.

Example:
    >>> print(markdown_table(["model", "accuracy"], [["bag of n-grams", 0.76612]]))
    | model | accuracy |
    | --- | --- |
    | bag of n-grams | 0.766 |
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

_MARKDOWN_SPECIAL = "\\|*_`[]#"


def _cell(value, width: int, digits: int) -> str:
    if isinstance(value, float):
        text = f"{value:,.0f}" if abs(value) >= 10**digits else f"{value:.{digits}g}"
    elif isinstance(value, int) and not isinstance(value, bool):
        text = f"{value:,}"
    else:
        text = str(value).replace("\r", " ").replace("\n", "⏎")
    if len(text) > width:
        text = text[: width - 1] + "…"
    for ch in _MARKDOWN_SPECIAL:
        text = text.replace(ch, "\\" + ch)
    return text.replace("<", "&lt;").replace(">", "&gt;")


def markdown_table(
    headers: Sequence, rows: Iterable[Sequence], *, width: int = 90, digits: int = 3
) -> str:
    """Rows as a Markdown table.

    Args:
        headers: column names.
        rows: one sequence per row, as long as ``headers``.
        width: cells longer than this are cut with "…".
        digits: significant digits for floats (floats of ``10**digits`` or more print whole,
            with thousands separators, like ints).

    Returns:
        The table as Markdown text; Markdown's special characters and ``<``/``>`` in cells are
        escaped, so a token such as ``<unk>`` or ``##ing`` shows as itself.
    """
    if width < 2 or digits < 1:
        raise ValueError(f"width must be >= 2 and digits >= 1. Received: {width=}, {digits=}")
    headers = list(headers)
    lines = [
        "| " + " | ".join(_cell(h, width, digits) for h in headers) + " |",
        "|" + " --- |" * len(headers),
    ]
    for i, row in enumerate(rows):
        row = list(row)
        if len(row) != len(headers):
            raise ValueError(f"row {i} has {len(row)} cells for {len(headers)} headers: {row!r}")
        lines.append("| " + " | ".join(_cell(v, width, digits) for v in row) + " |")
    return "\n".join(lines)


def show_table(headers: Sequence, rows: Iterable[Sequence], **kwargs) -> None:
    """Display :func:`markdown_table` in a notebook (printed as text outside one)."""
    table = markdown_table(headers, rows, **kwargs)
    try:
        from IPython import get_ipython
        from IPython.display import Markdown, display
    except ImportError:
        print(table)
        return
    if get_ipython() is None:
        print(table)
    else:
        display(Markdown(table))
