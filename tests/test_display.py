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
