"""The tagging pipeline: vocabularies, the features layer (eager = inside ds.map), batches
that hold every sentence once per epoch, and the raw-text tagger that saves as one file."""

import keras
import numpy as np
import pytest
import tensorflow as tf

from nlpbook.pipelines.tagging import (
    TokenFeatures,
    normalize_word,
    tagging_dataset,
    tagging_vocabularies,
)

SENTENCES = [
    (["John", "lives", "in", "Paris", "."], ["B-PER", "O", "O", "B-LOC", "O"]),
    (["Mary", "Smith", "left", "in", "1996"], ["B-PER", "I-PER", "O", "O", "O"]),
    (["Paris", "is", "big"], ["B-LOC", "O", "O"]),
    (["in", "2003"], ["O", "O"]),
    (["Smith"], ["B-PER"]),
]


def test_vocabularies():
    v = tagging_vocabularies(SENTENCES, bigrams=True, extra_words=["London", "paris"])
    assert v["tags"] == ["B-PER", "O", "B-LOC", "I-PER"]
    assert v["words"][:3] == ["in", "paris", "smith"]  # 3, 2, 2 times
    assert "0000" in v["words"] and "1996" not in v["words"]
    assert v["words"][-1] == "london" and v["words"].count("paris") == 1
    assert "P" in v["chars"] and "p" not in v["chars"]  # characters keep their case
    assert "Smith </s>" in v["bigrams"]
    rare = tagging_vocabularies(SENTENCES, min_count=2)
    assert set(rare["words"]) == {"in", "paris", "smith", "."} - {"."} | {"0000"}
    with pytest.raises(ValueError, match="2 tokens but 1 tags"):
        tagging_vocabularies([(["a", "b"], ["O"])])
    assert normalize_word("Ab3") == "ab0"


def features_and_tags(bigrams=False):
    v = tagging_vocabularies(SENTENCES, bigrams=bigrams)
    return TokenFeatures(v["words"], v["chars"], v.get("bigrams"), max_chars=4), v["tags"]


def test_features_eager_equal_inside_dataset_map():
    features, _ = features_and_tags(bigrams=True)
    tokens = tf.constant([["Mary", "lives", "in", "Rome"], ["1999", "", "", ""]])
    eager = {k: v.numpy() for k, v in features(tokens).items()}
    mapped = next(iter(tf.data.Dataset.from_tensors(tokens).map(features)))
    for key in ("words", "chars", "bigrams"):
        np.testing.assert_array_equal(eager[key], mapped[key].numpy())
    words = eager["words"]
    assert words[1].tolist()[1:] == [0, 0, 0] and words[0, 3] == 1  # padding, unknown "rome"
    assert words[1, 0] == features.words.index("0000") + 2
    assert eager["chars"].shape == (2, 4, 4)
    assert features.sizes == {"vocab_size": len(features.words) + 2,
                              "char_vocab_size": len(features.chars) + 2,
                              "bigram_vocab_size": len(features.bigrams) + 2}  # fmt: skip


@pytest.mark.parametrize("buckets", [None, [3]])
def test_every_sentence_once_per_epoch(buckets):
    features, tags = features_and_tags()
    ds = tagging_dataset(SENTENCES, features, tags, batch_size=2, shuffle=True, seed=1,
                         bucket_boundaries=buckets)  # fmt: skip
    spec_x, spec_y = ds.element_spec
    assert spec_x["words"].shape.as_list() == [None, None] and spec_y.dtype == tf.int32
    assert spec_x["chars"].shape.as_list() == [None, None, 4]
    inverse = {i + 2: w for i, w in enumerate(features.words)}
    orders = []
    for _ in range(2):
        seen = []
        for x, y in ds:
            for words, labels in zip(x["words"].numpy(), y.numpy(), strict=True):
                n = int((words != 0).sum())
                seen.append((tuple(inverse[w] for w in words[:n]),
                             tuple(tags[t] for t in labels[:n])))  # fmt: skip
        orders.append(seen)
        want = sorted((tuple(normalize_word(t) for t in s), tuple(g)) for s, g in SENTENCES)
        assert sorted(seen) == want
    assert orders[0] != orders[1] or buckets  # a new order each epoch

    # the same seed gives the same sequence of orders
    def first_epoch(seed):
        fresh = tagging_dataset(SENTENCES, features, tags, batch_size=2, shuffle=True,
                                seed=seed, bucket_boundaries=buckets)  # fmt: skip
        return [x["words"].numpy().tolist() for x, _ in fresh]

    assert first_epoch(1) == first_epoch(1)


def test_dataset_errors():
    features, tags = features_and_tags()
    with pytest.raises(ValueError, match="not in the tag list"):
        tagging_dataset([(["a"], ["B-ORG"])], features, tags)
    with pytest.raises(ValueError, match="0 tokens and 0 tags"):
        tagging_dataset([([], [])], features, tags)
    with pytest.raises(ValueError, match="repeated"):
        TokenFeatures(["a", "a"], ["a"])
    with pytest.raises(ValueError, match="padding token"):
        TokenFeatures(["a", ""], ["a"])


@pytest.mark.skipif(keras.config.backend() != "tensorflow", reason="string tensors: TensorFlow")
def test_text_tagger_tags_raw_text_and_saves_as_one_file(tmp_path):
    from nlpbook.models.tagger import Tagger, TextTagger

    features, tags = features_and_tags()
    keras.utils.set_random_seed(0)
    tagger = Tagger(**{k: v for k, v in features.sizes.items() if k != "bigram_vocab_size"},
                    num_tags=len(tags), word_dim=8, hidden_size=8, char_dim=4,
                    char_hidden_size=4, dropout=0.0)  # fmt: skip
    tagger.compile(optimizer=keras.optimizers.Adam(0.05))
    tagger.fit(tagging_dataset(SENTENCES * 8, features, tags, batch_size=8), epochs=15, verbose=0)
    model = TextTagger(features, tagger, tags)
    got = model.tag_texts(["John lives in Paris.", "", "   "])
    assert got[0] == [("John", "B-PER"), ("lives", "O"), ("in", "O"), ("Paris", "B-LOC"),
                      (".", "O")]  # fmt: skip
    assert got[1] == [] and got[2] == []
    long = model.tag_texts([" ".join(["Paris"] * 1000)])
    assert len(long[0]) == 1000
    assert model.tag_texts([b"Paris \xff"])[0][-1][0] == "\ufffd"  # invalid UTF-8
    path = tmp_path / "tagger.keras"
    model.save(path)
    again = keras.models.load_model(path, safe_mode=True)
    texts = ["Mary Smith left Paris in 1996 .", "Smith"]
    assert again.tag_texts(texts) == model.tag_texts(texts)
    chinese = TextTagger(features, tagger, tags, language="zh")
    assert [t for t, _ in chinese.tag_texts(["我 爱北京"])[0]] == ["我", "爱", "北", "京"]
    with pytest.raises(ValueError, match="language must be"):
        TextTagger(features, tagger, tags, language="fr")
    with pytest.raises(ValueError, match="3 tag names"):
        TextTagger(features, tagger, tags[:3])
