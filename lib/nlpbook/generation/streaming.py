"""Streaming text: hand out a sequence's text piece by piece as its tokens are generated."""

from __future__ import annotations

from collections.abc import Callable, Iterable

import numpy as np

from nlpbook._checks import check_int

REPLACEMENT = "\ufffd"  # what a UTF-8 decoder with errors="replace" puts for bad bytes


def _print(text: str) -> None:
    print(text, end="", flush=True)


def as_text(value) -> str:
    """What a ``decode`` function returned, as ``str``.

    Takes ``str``, UTF-8 ``bytes`` and a scalar ``tf.string`` tensor or NumPy bytes array (as
    the :mod:`nlpbook.text` tokenizers' ``decode`` returns), so that ``tokenizer.decode`` can
    be passed as it is.
    """
    if hasattr(value, "numpy"):
        value = value.numpy()
    if isinstance(value, np.ndarray) and value.ndim == 0:
        value = value.item()
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        raise ValueError(f"decode must return one text (str). Received: {value!r}")
    return value


def check_stop(stop) -> tuple[str, ...]:
    """``stop`` (a string or a sequence of strings) as a tuple of non-empty strings."""
    strings = (stop,) if isinstance(stop, str) else stop
    try:
        strings = tuple(strings)
    except TypeError:
        strings = None
    if not strings or not all(isinstance(s, str) and s for s in strings):
        raise ValueError(
            f"stop must be a non-empty string or a sequence of them. Received: stop={stop!r}"
        )
    return strings


def find_stop(text: str, stop: tuple[str, ...]) -> int:
    """Where the first stop string in ``text`` begins (the earliest of all), or -1."""
    found = [i for i in (text.find(s) for s in stop) if i >= 0]
    return min(found) if found else -1


class TextStreamer:
    """The text of one generated sequence, handed out piece by piece as tokens arrive.

    Each call to :meth:`put` adds token ids and hands the text that is new since the last
    piece to ``on_text`` (and returns it). The streamer decodes all the ids so far and hands
    out what lies past the text already handed out, holding back:

    * a trailing run of U+FFFD (the replacement character): with byte-level tokenizers a
      token can be part of a multi-byte UTF-8 character (a Chinese character is 3 bytes, an
      emoji 4), which decodes as U+FFFD until the rest of its bytes arrive;
    * with ``stop``, a tail that could be the start of a stop string. Once a stop string is
      complete, the text before it is handed out and the streamer is finished: it ignores
      further tokens (so the stop string is never shown).

    An ``eos_id`` token finishes the streamer too (it is not decoded). :meth:`end` flushes
    what is held back (a sequence that ends inside a character keeps its U+FFFD there).
    Every piece is non-empty; the pieces together are ``decode(ids)`` (up to the stop
    string or EOS), provided that ``decode`` is prefix-stable: the decode of more ids
    extends the decode of fewer, apart from an incomplete character at the end. Byte-level
    BPE tokenizers are; a decoder that strips or rewrites text depending on what follows
    may hand out text that a later decode changes. Each call decodes every id so far, which
    is quadratic in the length but simple, and fast enough for a few thousand tokens.

    As the ``stream`` callback of :func:`~nlpbook.generation.sample` or
    :func:`~nlpbook.generation.greedy_search`, the streamer takes token ``row`` of each
    step (``__call__``). Give it the ``eos_id`` and ``stop`` given to the decoder, so that
    it ignores the padding of a finished row; used as a context manager, it calls
    :meth:`end` on exit.

    Args:
        decode: maps a list of int ids to text (``str``, UTF-8 ``bytes`` or a scalar
            ``tf.string``: a :mod:`nlpbook.text` tokenizer's ``decode`` will do).
        on_text: called with each new piece of text; default: ``print(piece, end="",
            flush=True)``, which also shows the text live in Jupyter.
        row: the sequence to follow when called with a step's ``(n,)`` tokens.
        eos_id: the token that ends the sequence (``None``: none).
        stop: a stop string or a sequence of them (``None``: none).

    Example:
        >>> decode = lambda ids: bytes(ids).decode("utf-8", errors="replace")
        >>> pieces = []
        >>> streamer = TextStreamer(decode, pieces.append)
        >>> for token in "é!".encode("utf-8"):  # é is the two bytes 195, 169
        ...     _ = streamer.put(token)
        >>> _ = streamer.end()
        >>> pieces
        ['é', '!']
    """

    def __init__(
        self,
        decode: Callable[[list[int]], str],
        on_text: Callable[[str], object] | None = None,
        *,
        row: int = 0,
        eos_id: int | None = None,
        stop: str | Iterable[str] | None = None,
    ):
        if not callable(decode):
            raise ValueError(f"decode must be callable. Received: decode={decode!r}")
        if on_text is not None and not callable(on_text):
            raise ValueError(f"on_text must be callable or None. Received: on_text={on_text!r}")
        self.decode = decode
        self.on_text = _print if on_text is None else on_text
        self.row = check_int("row", row, 0)
        self.eos_id = eos_id
        self.stop = None if stop is None else check_stop(stop)
        self.ids: list[int] = []
        self.text = ""  # everything handed out so far
        self.done = False  # EOS or a stop string seen, or end() called

    def put(self, ids) -> str:
        """Add one id or a sequence of ids; hand out and return the new text (maybe ``""``)."""
        if self.done:
            return ""
        eos = False
        for token in np.asarray(ids).reshape(-1).tolist():
            if token == self.eos_id:
                eos = True
                break
            self.ids.append(int(token))
        text = as_text(self.decode(self.ids)) if self.ids else ""
        ready = text if eos else text.rstrip(REPLACEMENT)  # at EOS nothing more will come
        if self.stop is not None:
            at = find_stop(text, self.stop)
            if at >= 0:
                ready, self.done = text[:at], True
            elif not eos:
                ready = ready[: len(ready) - self._stop_prefix(ready)]
        self.done = self.done or eos
        return self._hand_out(ready)

    def _stop_prefix(self, text: str) -> int:
        """The length of the longest tail of ``text`` that begins some stop string."""
        for size in range(min(len(text), max(map(len, self.stop)) - 1), 0, -1):
            if any(s.startswith(text[-size:]) for s in self.stop):
                return size
        return 0

    def _hand_out(self, ready: str) -> str:
        piece = ready[len(self.text) :]
        if piece:
            self.text += piece
            self.on_text(piece)
        return piece

    def end(self) -> str:
        """Hand out what is held back (unless a stop string ended the text) and finish."""
        if self.done:
            return ""
        self.done = True
        return self._hand_out(as_text(self.decode(self.ids)) if self.ids else "")

    def __call__(self, tokens) -> None:
        """The ``stream`` callback: add token ``row`` of a step's ``(n,)`` tokens."""
        self.put(np.asarray(tokens).reshape(-1)[self.row])

    def __enter__(self) -> TextStreamer:
        return self

    def __exit__(self, *exc) -> None:
        self.end()
