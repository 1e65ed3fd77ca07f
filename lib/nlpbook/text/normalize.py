"""Unicode normalisation of text as TensorFlow ops (usable inside ``tf.data.Dataset.map``)."""

from __future__ import annotations

import tensorflow as tf
import tensorflow_text as tf_text

from nlpbook.text.inputs import as_text

# Exactly the characters for which Python's ``str.isspace()`` is true: ASCII whitespace, the
# information separators U+001C..U+001F, NEL U+0085, and the Unicode separators (category Z:
# U+00A0 no-break space, U+3000 ideographic space, U+2028 line separator, ...). RE2's ``\s``
# would only match ASCII.
WHITESPACE = r"[\t\n\x0b\x0c\r\x1c-\x1f\x{85}\p{Z}]"

# Chinese/Japanese punctuation and its ASCII counterpart. NFKC already maps the full-width
# forms of ASCII (，？！：；（）～ to , ? ! : ; ( ) ~); it leaves these alone because they are
# distinct characters, not width variants. The full-width forms are listed as well so that
# ``cjk_punct="ascii"`` does the whole job whatever ``form`` is.
CJK_TO_ASCII_PUNCT = {
    ".": "。｡．",
    ",": "、，､",
    '"': "「」『』“”＂",
    "'": "‘’＇",
    "<": "《〈＜",
    ">": "》〉＞",
    "[": "【〔〖［",
    "]": "】〕〗］",
    "(": "（",
    ")": "）",
    "!": "！",
    "?": "？",
    ":": "：",
    ";": "；",
    "~": "～〜",
    "-": "—－",
}

FORMS = ("NFC", "NFD", "NFKC", "NFKD")


def normalize(
    texts,
    *,
    form: str | None = "NFKC",
    lowercase: bool | str = True,
    collapse_whitespace: bool = True,
    cjk_punct: str = "keep",
) -> tf.Tensor:
    """Normalise text: repair UTF-8, Unicode normal form, case, CJK punctuation, whitespace.

    The steps, in order:

    1. invalid UTF-8 is replaced by U+FFFD (never an error; see :func:`as_text`);
    2. case: ``lowercase=True`` or ``"fold"`` applies Unicode *case folding*
       (``tf_text.case_fold_utf8``, ICU's NFKC_Casefold); ``"lower"`` applies Unicode
       *lowercasing* (``tf.strings.lower(..., encoding="utf-8")``); ``False`` keeps case;
    3. ``form``: the Unicode normal form (``tf_text.normalize_utf8``), or ``None`` for none;
    4. ``cjk_punct="ascii"`` maps Chinese punctuation to ASCII (table ``CJK_TO_ASCII_PUNCT``);
    5. ``collapse_whitespace``: every run of whitespace (tabs, newlines, U+00A0 no-break space,
       U+3000 ideographic space, ...; the same set as Python's ``str.isspace``) becomes one
       ASCII space, and leading and trailing whitespace is removed.

    **Lowercasing versus case folding.** Lowercasing maps each character to its lowercase
    form for *display*; case folding maps it to a form for *caseless matching*. They differ:
    German ``"Straße".lower()`` keeps ``ß`` while folding gives ``"strasse"``, so that
    "STRASSE" and "Straße" match; Greek final sigma ``ς`` folds to ``σ``. Neither is
    language-aware: Turkish dotted capital ``İ`` becomes ``i`` + U+0307 (combining dot) in both,
    and Turkish ``I`` becomes ``i`` (a Turk expects dotless ``ı``), so Turkish text needs
    locale-specific rules that no tf-text op offers. NFKC_Casefold also applies NFKC and
    *removes default-ignorable characters*: the zero-width joiner U+200D that glues emoji
    sequences (👩‍💻 becomes 👩💻), variation selectors (❤️ becomes ❤) and soft hyphens. Use
    ``lowercase="lower"`` where those must survive (e.g. a byte-level model that should
    regenerate emoji).

    **Full-width punctuation.** NFKC maps full-width ASCII variants (，？！：；（）and
    ｆｕｌｌ１２３) to ASCII but keeps 。、「」《》【】 and curly quotes, which are different
    characters. ``cjk_punct="keep"`` (default) leaves them; ``"ascii"`` maps them (and the
    full-width variants, whatever ``form`` is) to ASCII. Reasons to keep them for Chinese:
    ``。`` always ends a sentence while ``.`` is also a decimal point and an abbreviation mark;
    the enumeration comma ``、`` and the comma ``，`` mean different things; ``《》`` mark
    titles; and Chinese pretrained vocabularies and segmenters (jieba) are built on the
    full-width forms. To keep even ，？！ use ``form="NFC"`` with ``lowercase="lower"`` or
    ``False`` (case folding implies NFKC).

    Args:
        texts: a ``str``, a list of ``str``, or a ``tf.string`` tensor of rank 0 or 1.
        form: ``"NFC"``, ``"NFD"``, ``"NFKC"``, ``"NFKD"`` or ``None``.
        lowercase: ``True``/``"fold"`` (case folding), ``"lower"`` (lowercasing) or ``False``.
        collapse_whitespace: collapse whitespace runs to one space and strip both ends.
        cjk_punct: ``"keep"`` or ``"ascii"``.

    Returns:
        A ``tf.string`` tensor with the shape of ``texts`` (``()`` or ``(batch,)``).

    Raises:
        TypeError, ValueError: on input that is not a rank-0/1 string (see :func:`as_text`),
            or on an unknown ``form``, ``lowercase`` or ``cjk_punct`` value.

    Example:
        >>> normalize(["  Straße\\u3000ＮＬＰ，很有趣。 "]).numpy()[0].decode()
        'strasse nlp,很有趣。'
        >>> normalize("很有趣。", cjk_punct="ascii").numpy().decode()
        '很有趣.'
    """
    if form is not None and form not in FORMS:
        raise ValueError(f"form must be one of {FORMS} or None. Received: form={form!r}")
    if lowercase not in (True, False, "fold", "lower"):
        raise ValueError(
            f"lowercase must be True, False, 'fold' or 'lower'. Received: lowercase={lowercase!r}"
        )
    if cjk_punct not in ("keep", "ascii"):
        raise ValueError(f"cjk_punct must be 'keep' or 'ascii'. Received: cjk_punct={cjk_punct!r}")
    texts = as_text(texts)
    if lowercase is True or lowercase == "fold":
        texts = tf_text.case_fold_utf8(texts)
    elif lowercase == "lower":
        texts = tf.strings.lower(texts, encoding="utf-8")
    if form is not None:
        texts = tf_text.normalize_utf8(texts, form)
    if cjk_punct == "ascii":
        for ascii_char, cjk_chars in CJK_TO_ASCII_PUNCT.items():
            texts = tf.strings.regex_replace(texts, f"[{cjk_chars}]", ascii_char)
    if collapse_whitespace:
        texts = tf.strings.regex_replace(texts, WHITESPACE + "+", " ")
        texts = tf.strings.strip(texts)
    return texts
