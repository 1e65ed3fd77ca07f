"""SentencePiece (unigram or BPE subwords): trained with ``sentencepiece``, run with tf-text."""

from __future__ import annotations

import io
import os

import sentencepiece as spm
import tensorflow as tf
import tensorflow_text as tf_text

from nlpbook.text.base import SubwordTokenizer
from nlpbook.text.inputs import iter_texts

MODEL_TYPES = ("unigram", "bpe")


class SentencePieceTokenizer(SubwordTokenizer):
    """SentencePiece: subwords learned on raw text, with the space as part of the pieces.

    SentencePiece needs no word splitting (so it suits Chinese as well as English): a space is
    written ``▁`` and belongs to the piece that follows it (``"▁the"``), which makes decoding
    exact. ``model_type="unigram"`` keeps the pieces of a unigram language model that best
    explain the corpus and tokenizes with the most probable segmentation; ``"bpe"`` merges the
    most frequent adjacent pair, again and again. With ``byte_fallback`` a character missing
    from the vocabulary becomes its UTF-8 bytes (pieces ``<0xE4>``) instead of ``<unk>``.

    Ids 0..3 are ``<pad>``, ``<unk>``, ``<s>``, ``</s>`` (pad first, as everywhere in this
    library). The model is a serialized protobuf held in memory (``model_proto``); tokenizing
    runs through ``tf_text.SentencepieceTokenizer``, a TensorFlow op, and gives the same ids as
    the ``sentencepiece`` library.

    Round trip: the model normalises text with its rule ``nmt_nfkc`` (NFKC, every whitespace
    run becomes one space, leading and trailing space removed; control characters removed;
    U+200B zero-width space and U+FFFD, our replacement for invalid UTF-8, become spaces). So
    with ``byte_fallback`` (the default), ``decode(encode(x)) == normalize(x, form="NFKC",
    lowercase=False)`` exactly, for any ``x`` without control characters, U+200B or U+FFFD;
    case, accents, emoji (with zero-width joiners) and Chinese punctuation survive.

    Args:
        model_proto: the serialized model (bytes), e.g. from :meth:`train` or a ``.model``
            file.
        add_bos: start every encoded text with ``<s>``.
        add_eos: end every encoded text with ``</s>``.

    Example:
        >>> lines = ["The cat sat on the mat.", "自然语言处理很有趣！"] * 20
        >>> tok = SentencePieceTokenizer.train(lines, vocab_size=283)  # the most it allows
        >>> tok.decode(tok.encode(" The  cat 很有趣！ 🤖")).numpy().decode()
        'The cat 很有趣! 🤖'
    """

    def __init__(self, model_proto: bytes, *, add_bos: bool = False, add_eos: bool = False):
        self.model_proto = bytes(model_proto)
        self.add_bos = add_bos
        self.add_eos = add_eos
        # the Python processor answers the id/token look-ups; the tf-text op does the work
        self._processor = spm.SentencePieceProcessor(model_proto=self.model_proto)
        pad_id = self._processor.pad_id()
        self.pad_id = pad_id if pad_id >= 0 else None
        self._tokenizer = tf_text.SentencepieceTokenizer(
            self.model_proto, out_type=tf.int32, add_bos=add_bos, add_eos=add_eos
        )
        self._pieces = tf.constant(
            [self._processor.id_to_piece(i) for i in range(self._processor.get_piece_size())]
        )

    @classmethod
    def train(
        cls,
        texts,
        vocab_size: int,
        *,
        model_type: str = "unigram",
        character_coverage: float = 0.9995,
        byte_fallback: bool = True,
        user_defined_symbols: tuple[str, ...] = (),
        num_threads: int = 1,
        **trainer_options,
    ) -> SentencePieceTokenizer:
        """Train a SentencePiece model in memory with ``sentencepiece.SentencePieceTrainer``.

        Args:
            texts: an iterable of ``str``/``bytes`` (one sentence or line each), a
                ``tf.string`` tensor of rank 0 or 1 or a ``tf.data.Dataset`` of strings.
            vocab_size: the exact vocabulary size (training fails if the corpus is too small
                for it; the error says the largest possible size).
            model_type: ``"unigram"`` or ``"bpe"``.
            character_coverage: the share of characters (by count) that get pieces of their
                own; the rarest others fall back to bytes or ``<unk>``. 0.9995 suits Chinese,
                1.0 small alphabets.
            byte_fallback: encode characters missing from the vocabulary as UTF-8 bytes,
                making decoding exact (needs ``vocab_size`` above 260 or so).
            user_defined_symbols: pieces always kept whole (e.g. ``("[MASK]",)``).
            num_threads: training threads; 1 makes training reproducible run to run.
            **trainer_options: more ``SentencePieceTrainer`` options (``max_sentence_length``,
                ``split_digits``, ...).

        Returns:
            A :class:`SentencePieceTokenizer`.

        Raises:
            ValueError: on an unknown ``model_type``, no text, or a failed training (its
                message included).
        """
        if model_type not in MODEL_TYPES:
            raise ValueError(f"model_type must be one of {MODEL_TYPES}. Received: {model_type!r}")
        lines = [line for line in iter_texts(texts) if line.strip()]
        if not lines:
            raise ValueError("No text to train a SentencePiece model on.")
        model = io.BytesIO()
        try:
            spm.SentencePieceTrainer.train(
                sentence_iterator=iter(lines),
                model_writer=model,
                vocab_size=vocab_size,
                model_type=model_type,
                character_coverage=character_coverage,
                byte_fallback=byte_fallback,
                user_defined_symbols=list(user_defined_symbols),
                pad_id=0,
                unk_id=1,
                bos_id=2,
                eos_id=3,
                num_threads=num_threads,
                minloglevel=2,  # its INFO log runs to hundreds of lines
                **trainer_options,
            )
        except RuntimeError as error:
            raise ValueError(f"SentencePiece training failed: {error}") from error
        return cls(model.getvalue())

    def _encode(self, texts):
        return self._tokenizer.tokenize(texts)

    def _tokenize(self, texts):
        return tf.gather(self._pieces, self._encode(texts))

    def _decode(self, ids):
        return self._tokenizer.detokenize(ids)

    @property
    def vocab_size(self) -> int:
        return self._processor.get_piece_size()

    def id_to_token(self, id_: int) -> str:
        return self._processor.id_to_piece(id_)

    def token_to_id(self, token: str) -> int:
        """The id of a piece (``"▁the"``); raises ``KeyError`` when the model lacks it."""
        id_ = self._processor.piece_to_id(token)
        # sentencepiece answers unk_id for unknown pieces
        if id_ == self._processor.unk_id() and token != self._processor.id_to_piece(id_):
            raise KeyError(f"{token!r} is not a piece of this SentencePiece model")
        return id_

    def save(self, path: str | os.PathLike) -> None:
        """Write the model file (the usual ``.model``, readable by any SentencePiece runtime)."""
        with open(path, "wb") as f:
            f.write(self.model_proto)

    @classmethod
    def load(cls, path: str | os.PathLike, **kwargs) -> SentencePieceTokenizer:
        """Read a ``.model`` file; ``kwargs`` go to the constructor (``add_bos``, ...)."""
        with open(path, "rb") as f:
            return cls(f.read(), **kwargs)
