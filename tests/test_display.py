import pytest

from nlpbook.display import markdown_table


def test_table_formats_numbers_and_escapes_markdown():
    table = markdown_table(
        ["tokenizer", "vocab", "rate", "big"],
        [["word|piece", 8000, 0.123456, 1234567.8], ["<unk> ##ing", True, 1e-5, 2.0]],
    )
    assert table.splitlines() == [
        "| tokenizer | vocab | rate | big |",
        "| --- | --- | --- | --- |",
        "| word\\|piece | 8,000 | 0.123 | 1,234,568 |",
        "| &lt;unk&gt; \\#\\#ing | True | 1e-05 | 2 |",
    ]


def test_long_cells_are_cut_and_newlines_marked():
    row = markdown_table(["text"], [["a\nb" + "x" * 20]], width=6).splitlines()[2]
    assert row == "| a⏎bxx… |"


def test_bad_rows_are_refused():
    with pytest.raises(ValueError, match="row 1 has 1 cells for 2 headers"):
        markdown_table(["a", "b"], [[1, 2], [3]])


def test_docstring_example():
    import doctest

    import nlpbook.display

    assert doctest.testmod(nlpbook.display).failed == 0


def test_chinese_renders_without_missing_glyphs(tmp_path):
    """With use_cjk_font, Matplotlib finds a glyph for every Chinese character (no boxes)."""
    import warnings

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    from nlpbook.display import draw_tagged, use_cjk_font

    assert use_cjk_font() == "Noto Sans CJK SC"
    fig, axes = plt.subplots(2, 1)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        draw_tagged(axes[0], list("李先生在北京工作"), ["B-PER", "I-PER", "I-PER", "O",
                                                   "B-LOC", "I-LOC", "O", "O"], title="中文")  # fmt: skip
        draw_tagged(axes[1], ["Paris", "!"], ["B-LOC", "O"])
        fig.savefig(tmp_path / "tagged.png")
    plt.close(fig)
    missing = [str(w.message) for w in caught if "missing from font" in str(w.message)]
    assert missing == []
    labels = [t.get_text() for t in axes[0].texts]
    assert labels.count("PER") == 1 and labels.count("LOC") == 1
