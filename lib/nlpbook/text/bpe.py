"""Byte-level BPE (GPT-2, Llama 3, SmolLM): a checkpoint's own vocabulary and merges, run by
Hugging Face's ``tokenizers`` library.

Byte-level BPE never meets an unknown character: text is UTF-8 bytes, each byte shown as one
printable character (GPT-2's table: ``" "`` is ``"Ġ"``), split by a regular expression into
pieces (words with their leading space, numbers, punctuation runs, whitespace), and inside
each piece adjacent symbols are merged in the order of the merge list until no listed pair is
left. A model's tokenizer is its vocabulary, its merges *and* its pre-tokenizer rules: SmolLM2
(``tokenizer.ggml.pre = smollm``) first cuts every digit off on its own, as StarCoder does,
so ``"2024"`` is four tokens.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import tensorflow as tf

from nlpbook.text.base import SubwordTokenizer

# the pre-tokenizers we know, by the name GGUF files give them (``tokenizer.ggml.pre``)
PRE_TOKENIZERS = ("gpt2", "smollm")


def _check_text(text) -> str:
    if isinstance(text, bytes):
        try:
            return text.decode("utf-8")
        except UnicodeDecodeError as err:
            raise ValueError(f"text is not valid UTF-8: {err}") from None
    if not isinstance(text, str):
        raise TypeError(f"text must be a str. Received: {type(text).__name__}")
    return text


class ByteLevelBPETokenizer(SubwordTokenizer):
    """A byte-level BPE tokenizer built from a vocabulary and a merge list.

    The Python methods :meth:`encode_ids` / :meth:`decode_ids` are what generation uses (one
    string, a list of ints); the :class:`~nlpbook.text.SubwordTokenizer` interface
    (``tokenize``, ``encode``, ``decode`` on strings, lists or ``tf.string`` tensors) runs
    them through ``tf.py_function``, so it works in ``tf.data`` but holds the GIL.

    Args:
        tokens: the vocabulary, in id order (byte-level strings, e.g. ``"Ġthe"``).
        merges: the merge list, best first, each ``"a b"`` or ``("a", "b")``.
        special_tokens: tokens matched whole in the text before any splitting and never
            split or merged (``"<|im_start|>"``…); they must be in ``tokens``.
        pre_tokenizer: ``"gpt2"`` (GPT-2's regular expression) or ``"smollm"`` (every digit
            first cut off on its own, then GPT-2's expression).
        bos_id, eos_id, pad_id: special ids, or ``None``.
        chat_template: a Jinja2 chat template (Hugging Face's format), or ``None``.

    Example:
        >>> tokens = ["a", "b", "Ġ", "ab", "Ġab"]
        >>> bpe = ByteLevelBPETokenizer(tokens, ["a b", "Ġ ab"])
        >>> bpe.encode_ids("ab ab"), bpe.decode_ids([3, 4])
        ([3, 4], 'ab ab')

    References:
        Sennrich et al. (2016), *Neural Machine Translation of Rare Words with Subword Units*;
        Radford et al. (2019), GPT-2 §2.2 (byte-level BPE).
    """

    def __init__(
        self,
        tokens: Sequence[str],
        merges: Sequence[str | tuple[str, str]],
        *,
        special_tokens: Sequence[str] = (),
        pre_tokenizer: str = "gpt2",
        bos_id: int | None = None,
        eos_id: int | None = None,
        pad_id: int | None = None,
        chat_template: str | None = None,
    ):
        from tokenizers import AddedToken, Tokenizer, decoders, models, pre_tokenizers

        if pre_tokenizer not in PRE_TOKENIZERS:
            raise ValueError(
                f"pre_tokenizer must be one of {PRE_TOKENIZERS}. Received: {pre_tokenizer!r}"
            )
        tokens = list(tokens)
        if not tokens:
            raise ValueError("tokens (the vocabulary) is empty")
        vocab = {token: i for i, token in enumerate(tokens)}
        if len(vocab) != len(tokens):
            raise ValueError("tokens has duplicates: every token needs its own id")
        pairs = [tuple(m.split(" ", 1)) if isinstance(m, str) else tuple(m) for m in merges]
        for pair in pairs:
            if len(pair) != 2 or "".join(pair) not in vocab:
                raise ValueError(f"merge {pair!r} does not make a token of the vocabulary")
        self.tokens = tokens
        self.merges = pairs
        self.pre_tokenizer = pre_tokenizer
        self.special_tokens = list(special_tokens)
        for token in self.special_tokens:
            if token not in vocab:
                raise ValueError(f"special token {token!r} is not in the vocabulary")
        for name, value in (("bos_id", bos_id), ("eos_id", eos_id), ("pad_id", pad_id)):
            if value is not None and not 0 <= value < len(tokens):
                raise ValueError(f"{name}={value} is not an id of the {len(tokens)} tokens")
        self.bos_id, self.eos_id, self.pad_id = bos_id, eos_id, pad_id
        self.chat_template = chat_template

        tok = Tokenizer(models.BPE(vocab, pairs, fuse_unk=False, ignore_merges=False))
        byte_level = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        if pre_tokenizer == "smollm":
            tok.pre_tokenizer = pre_tokenizers.Sequence(
                [pre_tokenizers.Digits(individual_digits=True), byte_level]
            )
        else:
            tok.pre_tokenizer = byte_level
        tok.decoder = decoders.ByteLevel()
        tok.add_special_tokens([AddedToken(t, special=True, normalized=False)
                                for t in self.special_tokens])  # fmt: skip
        self._tokenizer = tok
        self._special_ids = {vocab[t] for t in self.special_tokens}

    # ------------------------------------------------------------------ Python interface

    @property
    def vocab_size(self) -> int:
        return len(self.tokens)

    def id_to_token(self, id_: int):
        return self.tokens[int(id_)]

    def token_to_id(self, token) -> int:
        token = token.decode() if isinstance(token, bytes) else token
        id_ = self._tokenizer.token_to_id(token)
        if id_ is None:
            raise KeyError(f"{token!r} is not in the vocabulary")
        return id_

    def encode_ids(self, text: str) -> list[int]:
        """One string (or UTF-8 bytes) to a list of ids; special tokens in it are matched.

        Raises:
            TypeError: if ``text`` is not a string. ValueError: on bytes that are not UTF-8.
        """
        return self._tokenizer.encode(_check_text(text), add_special_tokens=False).ids

    def decode_ids(self, ids, skip_special_tokens: bool = False) -> str:
        """Ids back to text. A sequence that ends inside a multi-byte character ends in
        U+FFFD (see :class:`nlpbook.generation.TextStreamer` for streaming)."""
        ids = np.asarray(ids).reshape(-1)
        if ids.size and ids.dtype.kind not in "iu":
            raise TypeError(f"ids must be integers. Received dtype {ids.dtype}")
        if ids.size and (ids.min() < 0 or ids.max() >= self.vocab_size):
            raise ValueError(f"ids must be in [0, {self.vocab_size}). Received {ids.tolist()}")
        return self._tokenizer.decode(ids.tolist(), skip_special_tokens=skip_special_tokens)

    def apply_chat_template(
        self, messages: Sequence[Mapping[str, str]], add_generation_prompt: bool = True
    ) -> str:
        """The prompt text for a conversation, rendered by the checkpoint's own template.

        Args:
            messages: ``[{"role": "system" | "user" | "assistant", "content": str}, …]``.
            add_generation_prompt: end with the opening of the assistant's turn.
        """
        if self.chat_template is None:
            raise ValueError("this tokenizer has no chat template")
        if not messages:
            raise ValueError("messages is empty")
        for message in messages:
            if not isinstance(message, Mapping) or set(message) != {"role", "content"}:
                raise ValueError(
                    f"each message must be a dict with 'role' and 'content'. Received {message!r}"
                )
            _check_text(message["content"])
        from jinja2.sandbox import ImmutableSandboxedEnvironment

        env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True)
        template = env.from_string(self.chat_template)
        return template.render(
            messages=[dict(m) for m in messages], add_generation_prompt=add_generation_prompt
        )

    # ------------------------------------------------------------------ TensorFlow interface

    def _encode_batch(self, texts):
        rows = [self.encode_ids(t.decode("utf-8")) for t in texts.numpy()]
        flat = np.array([i for row in rows for i in row], np.int32)
        return flat, np.array([len(r) for r in rows], np.int64)

    def _encode(self, texts):
        flat, lengths = tf.py_function(self._encode_batch, [texts], [tf.int32, tf.int64])
        flat.set_shape([None])
        lengths.set_shape(texts.shape)
        return tf.RaggedTensor.from_row_lengths(flat, lengths, validate=False)

    def _tokenize(self, texts):
        ids = self._encode(texts)
        table = tf.constant(self.tokens)
        return tf.ragged.map_flat_values(tf.gather, table, ids)

    def _decode(self, ids):
        def decode(flat, lengths):
            rows = np.split(flat.numpy(), np.cumsum(lengths.numpy())[:-1])
            return np.array([self.decode_ids(r).encode("utf-8") for r in rows], object)

        texts = tf.py_function(decode, [ids.flat_values, ids.row_lengths()], tf.string)
        texts.set_shape([None])
        return texts

    def save(self, path):
        raise NotImplementedError(
            "a ByteLevelBPETokenizer is rebuilt from its checkpoint (from_gguf)"
        )

    @classmethod
    def from_gguf(cls, fields: Mapping[str, object]) -> ByteLevelBPETokenizer:
        """The tokenizer a GGUF file describes (``tokenizer.ggml.*``, ``tokenizer.chat_template``).

        Args:
            fields: the file's metadata, name → value (see
                :func:`nlpbook.models.llama.read_gguf`).
        """
        model = fields.get("tokenizer.ggml.model")
        if model != "gpt2":
            raise ValueError(
                f"only byte-level BPE ('gpt2') GGUF tokenizers are supported. Received {model!r}"
            )
        tokens = list(fields["tokenizer.ggml.tokens"])
        types = list(fields.get("tokenizer.ggml.token_type", [1] * len(tokens)))
        # GGUF token types: 1 normal, 2 unknown, 3 control, 4 user-defined, 5 unused, 6 byte
        special = [t for t, kind in zip(tokens, types, strict=True) if kind in (3, 4)]
        pre = fields.get("tokenizer.ggml.pre", "gpt2")
        pre = "gpt2" if pre == "default" else pre
        if pre not in PRE_TOKENIZERS:
            raise ValueError(
                f"the file's pre-tokenizer {pre!r} is not one of {PRE_TOKENIZERS}: its splitting "
                "rules are unknown here, and guessing them would give wrong ids"
            )
        return cls(
            tokens,
            list(fields["tokenizer.ggml.merges"]),
            special_tokens=special,
            pre_tokenizer=pre,
            bos_id=fields.get("tokenizer.ggml.bos_token_id"),
            eos_id=fields.get("tokenizer.ggml.eos_token_id"),
            pad_id=fields.get("tokenizer.ggml.padding_token_id"),
            chat_template=fields.get("tokenizer.chat_template"),
        )
