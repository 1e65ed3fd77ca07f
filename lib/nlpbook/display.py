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


CJK_FONT_FILE = "NotoSansCJKsc-Regular.otf"  # Noto Sans CJK SC (SIL OFL), shipped by mplfonts


def use_cjk_font() -> str:
    """Let Matplotlib draw Chinese: register Noto Sans CJK SC and use it as the fallback after
    the default font (Latin text keeps its look; CJK characters get real glyphs, not boxes).

    The font comes from the ``mplfonts`` package (a declared dependency), read from its folder
    without importing it (its import changes Matplotlib settings). Returns the font's name.
    """
    import importlib.util
    from pathlib import Path

    import matplotlib as mpl
    from matplotlib import font_manager

    spec = importlib.util.find_spec("mplfonts")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the mplfonts package (Chinese fonts for figures) is not installed")
    path = Path(list(spec.submodule_search_locations)[0]) / "fonts" / CJK_FONT_FILE
    if not path.is_file():
        raise RuntimeError(f"mplfonts has no {CJK_FONT_FILE} at {path}")
    font_manager.fontManager.addfont(str(path))
    name = font_manager.FontProperties(fname=str(path)).get_name()
    families = list(mpl.rcParams["font.family"])
    if name not in families:  # a list of families: Matplotlib falls back glyph by glyph
        mpl.rcParams["font.family"] = [*families, name]
    return name


def draw_tagged(ax, tokens: Sequence[str], tags: Sequence[str], *, title: str = "",
                max_width: float = 60.0) -> None:  # fmt: skip
    """Draw a tagged sentence: each entity's tokens on a coloured box labelled with its type
    (``B-``/``I-`` tags, or any tag other than ``O``), other tokens plain; wraps lines."""
    from nlpbook.metrics.tagging import entities

    bio = all(t == "O" or t[:2] in ("B-", "I-") for t in tags)
    spans = entities(tags) if bio else [(t, i, i) for i, t in enumerate(tags) if t != "O"]
    kinds = sorted({k for k, _, _ in spans})
    palette = ["#fdd49e", "#a6dba0", "#9ecae1", "#fbb4c4", "#d9d9d9", "#c2a5cf", "#fee391"]
    color = {k: palette[i % len(palette)] for i, k in enumerate(kinds)}
    label = {}
    for kind, start, end in spans:
        for i in range(start, end + 1):
            label[i] = (kind, i == start)
    x, y, line = 0.0, 0.0, 1.6
    wide = any(ord(c) > 0x2E80 for t in tokens for c in t)
    for i, token in enumerate(tokens):
        width = sum(2.0 if ord(c) > 0x2E80 else 1.0 for c in token) + (0 if wide else 1)
        if x + width > max_width and x > 0:
            x, y = 0.0, y - line * 1.3
        kind = label.get(i, (None, False))[0]
        box = dict(boxstyle="round,pad=0.25", fc=color[kind], ec="none") if kind else None
        ax.text(x, y, token, fontsize=11, va="center", bbox=box)
        if kind and label[i][1]:
            ax.text(x, y + 0.75, kind, fontsize=7, color="#444444", va="bottom")
        x += width
    ax.set_xlim(-0.5, max_width + 2)
    ax.set_ylim(y - line, line)
    ax.axis("off")
    if title:
        ax.set_title(title, fontsize=10, loc="left")
