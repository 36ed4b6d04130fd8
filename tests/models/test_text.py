"""The built-in word-level text encoder and load_text_encoder for it."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from spacetime.errors import SpacetimeError
from spacetime.models.text import (
    SPECIAL_TOKENS,
    TextEncoder,
    WordTextEncoder,
    load_text_encoder,
    split_words,
)

CAPTIONS = [
    "A red ball bounces.",
    "a blue square moves left",
    "A red square, moving right!",
    "Don't let the ball fall",
]


def _encoder(**kw) -> WordTextEncoder:
    torch.manual_seed(0)
    return WordTextEncoder.from_captions(CAPTIONS, dim=16, layers=1, heads=2, **kw).eval()


def test_split_words_lowercases_and_strips_punctuation() -> None:
    assert split_words("A Red-ball, DON'T stop!!") == ["a", "red", "ball", "dont", "stop"]
    assert split_words("  ...  ") == []


def test_vocabulary_from_captions() -> None:
    enc = _encoder()
    vocab = enc.vocab
    assert tuple(vocab[:3]) == SPECIAL_TOKENS
    assert vocab[3:6] == ["a", "ball", "red"]  # most frequent first, ties alphabetical
    assert "dont" in vocab and "Ball" not in vocab and "bounces." not in vocab
    small = WordTextEncoder.from_captions(CAPTIONS, dim=8, layers=1, heads=2, min_count=2)
    assert small.vocab[3:] == ["a", "ball", "red", "square"]
    assert enc.max_length == 16 and isinstance(enc, TextEncoder)


def test_encode_shapes_mask_and_empty_prompt() -> None:
    enc = _encoder()
    emb = enc(["a red ball", "", "a blue square moves left"])
    torch.testing.assert_close(enc.encode(["a red ball"]).tokens[0], emb.tokens[0, :4])
    assert emb.tokens.shape == (3, 6, 16) and emb.mask.dtype == torch.bool
    assert emb.mask.sum(1).tolist() == [4, 1, 6]  # <bos> + words; "" is just <bos>
    assert bool((emb.tokens[~emb.mask] == 0).all())
    assert torch.isfinite(emb.tokens).all()
    # different prompts, different embeddings
    assert not torch.allclose(emb.tokens[0, 1:4], enc.encode(["a blue ball"]).tokens[0, 1:4])


def test_padding_does_not_change_real_tokens() -> None:
    enc = _encoder()
    alone = enc.encode(["a red ball"])
    padded = enc.encode(["a red ball", "a red square moving right and a blue ball"])
    torch.testing.assert_close(padded.tokens[0, :4], alone.tokens[0], atol=1e-5, rtol=1e-5)


def test_unknown_words_map_to_unk_and_are_reported() -> None:
    enc = _encoder()
    assert enc.unknown_words("A purple ball, purple ZEBRA") == ["purple", "zebra"]
    ids, _ = enc.tokenize(["purple ball"])
    assert ids[0].tolist() == [2, 1, enc.vocab.index("ball")]
    assert enc.unknown_words("a red ball") == []


def test_prompt_longer_than_max_length_is_an_error() -> None:
    enc = _encoder(max_length=5)
    with pytest.raises(SpacetimeError, match="has 6 words; this text encoder accepts at most 5"):
        enc.encode(["a red ball moves left fast"])
    with pytest.raises(SpacetimeError, match="shorter than the longest caption"):
        WordTextEncoder.from_captions(CAPTIONS, max_length=2)
    with pytest.raises(SpacetimeError, match="list of strings"):
        enc.encode("a red ball")


def test_encoder_trains_end_to_end() -> None:
    enc = _encoder().train()
    emb = enc.encode(["a red ball", "a blue square"])
    emb.tokens.pow(2).sum().backward()
    grad = enc.embed.weight.grad
    used = [enc.vocab.index(w) for w in ("a", "red", "ball", "blue", "square")]
    assert bool((grad[used].abs().sum(1) > 0).all())
    assert grad[enc.vocab.index("fall")].abs().sum() == 0  # unused words get no gradient


def test_save_and_load_round_trip(tmp_path: Path) -> None:
    enc = _encoder()
    enc.save_pretrained(tmp_path / "text")
    files = sorted(p.name for p in (tmp_path / "text").iterdir())
    assert "config.json" in files and any(f.endswith(".safetensors") for f in files)
    loaded = load_text_encoder(tmp_path / "text")
    assert isinstance(loaded, WordTextEncoder) and loaded.vocab == enc.vocab
    prompts = ["a red ball", "", "purple square"]
    torch.testing.assert_close(loaded.eval().encode(prompts).tokens, enc.encode(prompts).tokens)
    as64 = load_text_encoder(tmp_path / "text", dtype=torch.float64).eval().encode(prompts)
    assert as64.tokens.dtype == torch.float64
    torch.testing.assert_close(as64.tokens.float(), enc.encode(prompts).tokens, atol=1e-5, rtol=0)


def test_bad_configs_and_missing_folders(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match="vocab must start with"):
        WordTextEncoder(vocab=["a", "b"])
    with pytest.raises(SpacetimeError, match="multiple of heads"):
        WordTextEncoder(vocab=list(SPECIAL_TOKENS), dim=10, heads=3)
    with pytest.raises(SpacetimeError, match="does not exist"):
        load_text_encoder(tmp_path / "nowhere")
