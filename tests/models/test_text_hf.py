"""Frozen Hugging Face text encoders from local folders, with tiny random models built here."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch
from tokenizers import Tokenizer, models, normalizers, pre_tokenizers, processors
from transformers import (
    CLIPTextConfig,
    CLIPTextModel,
    PreTrainedTokenizerFast,
    T5Config,
    T5EncoderModel,
)

from spacetime.errors import SpacetimeError
from spacetime.models.text import load_text_encoder
from spacetime.models.text_hf import HFTextEncoder

WORDS = ["a", "red", "blue", "ball", "square", "moves", "left", "right"]
VOCAB = {"<pad>": 0, "<unk>": 1, "<s>": 2, "</s>": 3} | {w: i + 4 for i, w in enumerate(WORDS)}


def _tokenizer(max_length: int = 8) -> PreTrainedTokenizerFast:
    """A word-level tokenizer that adds ``<s> … </s>`` like CLIP's."""
    tok = Tokenizer(models.WordLevel(VOCAB, unk_token="<unk>"))
    tok.normalizer = normalizers.Lowercase()
    tok.pre_tokenizer = pre_tokenizers.Whitespace()
    tok.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>", special_tokens=[("<s>", 2), ("</s>", 3)]
    )
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        unk_token="<unk>",
        bos_token="<s>",
        eos_token="</s>",
        model_max_length=max_length,
    )


#: kind -> (model class, config class, its tiny sizes, tokenizer max length)
TINY: dict[str, tuple[type, type, dict[str, int], int]] = {
    "clip": (
        CLIPTextModel,
        CLIPTextConfig,
        {
            "hidden_size": 32,
            "intermediate_size": 37,
            "num_hidden_layers": 2,
            "num_attention_heads": 4,
            "max_position_embeddings": 8,
            "bos_token_id": 2,
        },
        8,
    ),
    "t5": (
        T5EncoderModel,
        T5Config,
        {"d_model": 32, "d_kv": 8, "d_ff": 37, "num_layers": 2, "num_heads": 4},
        10**30,  # unbounded, like T5's
    ),
}


def _build(kind: str, folder: Path, *, safetensors: bool = True) -> torch.nn.Module:
    """Save a tiny random ``kind`` text encoder and its tokenizer to ``folder``; return it."""
    model_class, config_class, sizes, max_length = TINY[kind]
    torch.manual_seed(0)
    config = config_class(vocab_size=len(VOCAB), pad_token_id=0, eos_token_id=3, **sizes)
    model = model_class(config).eval()
    model.save_pretrained(folder)
    _tokenizer(max_length).save_pretrained(folder)
    if not safetensors:  # the legacy pickled layout (transformers 5 no longer writes it)
        torch.save(model.state_dict(), folder / "pytorch_model.bin")
        (folder / "model.safetensors").unlink()
    return model


@pytest.mark.parametrize("kind", ["clip", "t5"])
def test_encodes_like_the_underlying_model(kind: str, tmp_path: Path) -> None:
    reference = _build(kind, tmp_path)
    enc = load_text_encoder(tmp_path)
    assert isinstance(enc, HFTextEncoder) and enc.dim == 32
    assert enc.max_length == (8 if kind == "clip" else 512)
    emb = enc(["a red ball", "", "blue square moves left"])
    torch.testing.assert_close(enc.encode(["a red ball"]).tokens[0], emb.tokens[0, :5])
    assert emb.tokens.shape == (3, 6, 32)
    assert emb.mask.sum(1).tolist() == [5, 2, 6]  # <s> words </s>; "" is <s> </s>
    assert bool((emb.tokens[~emb.mask] == 0).all())
    ids = torch.tensor([[2, 4, 5, 7, 3]])
    with torch.no_grad():
        expected = reference(input_ids=ids, attention_mask=torch.ones_like(ids)).last_hidden_state
    torch.testing.assert_close(emb.tokens[0:1, :5], expected, atol=1e-5, rtol=1e-5)


def test_frozen_and_always_in_eval(tmp_path: Path) -> None:
    _build("clip", tmp_path)
    enc = load_text_encoder(tmp_path)
    assert isinstance(enc, HFTextEncoder)
    enc.train()
    assert not enc.model.training
    assert not any(p.requires_grad for p in enc.parameters())
    assert not enc.encode(["a ball"]).tokens.requires_grad


def test_length_limit_and_unknown_words(tmp_path: Path) -> None:
    _build("clip", tmp_path)
    enc = load_text_encoder(tmp_path)
    with pytest.raises(SpacetimeError, match="has 10 tokens; this text encoder accepts at most 8"):
        enc.encode(["a red ball moves left a blue square"])
    assert enc.unknown_words("a purple ball zebra") == ["purple", "zebra"]


def test_diffusers_layout_and_save_round_trip(tmp_path: Path) -> None:
    _build("t5", tmp_path / "pipe" / "text_encoder")
    (tmp_path / "pipe" / "text_encoder" / "tokenizer.json").rename(tmp_path / "tok.json")
    tokenizer_dir = tmp_path / "pipe" / "tokenizer"
    _tokenizer(max_length=10**30).save_pretrained(tokenizer_dir)
    enc = load_text_encoder(tmp_path / "pipe")
    prompts = ["a red ball", "right"]
    enc.save_pretrained(tmp_path / "copy")
    again = load_text_encoder(tmp_path / "copy")
    torch.testing.assert_close(again.encode(prompts).tokens, enc.encode(prompts).tokens)


def test_not_a_text_encoder_folder(tmp_path: Path) -> None:
    with pytest.raises(SpacetimeError, match="does not exist"):
        HFTextEncoder.from_pretrained(tmp_path / "missing")
    with pytest.raises(SpacetimeError, match=r"no config\.json"):
        load_text_encoder(tmp_path)
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "bert"}))
    with pytest.raises(SpacetimeError, match="holds a 'bert' model; expected a CLIP or T5"):
        load_text_encoder(tmp_path)
    clip = tmp_path / "clip"
    _build("clip", clip)
    (clip / "tokenizer.json").unlink()
    with pytest.raises(SpacetimeError, match="cannot load the clip_text_model text encoder"):
        load_text_encoder(clip)
    for bad in ("{not json", "[1, 2]"):  # JSONDecodeError, then AttributeError on .get
        (clip / "config.json").write_text(bad)
        with pytest.raises(SpacetimeError, match=r"config\.json: not a valid model config"):
            HFTextEncoder.from_pretrained(clip)
    with pytest.raises(SpacetimeError, match=r"config\.json: expected a JSON object"):
        load_text_encoder(clip)


def test_pickled_weights_are_refused(tmp_path: Path) -> None:
    # Only pytorch_model.bin (a pickle): loading it could run code, so it is not unpickled.
    _build("clip", tmp_path, safetensors=False)
    assert (tmp_path / "pytorch_model.bin").is_file()
    assert not (tmp_path / "model.safetensors").exists()
    with pytest.raises(SpacetimeError, match="safetensors"):
        load_text_encoder(tmp_path)
