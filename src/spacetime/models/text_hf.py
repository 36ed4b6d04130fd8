"""Frozen Hugging Face text encoders (CLIP text model, T5 encoder) from a local folder.

Nothing is downloaded: the folder must hold the model (``config.json`` + safetensors) and its
tokenizer, as written by ``save_pretrained`` of both — or the diffusers pipeline layout with
``text_encoder/`` and ``tokenizer/`` subfolders.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path

import torch
from torch import nn
from transformers import (
    AutoTokenizer,
    CLIPTextModel,
    MT5EncoderModel,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    T5EncoderModel,
    UMT5EncoderModel,
)

from spacetime.contracts.conditioning import TextEmbedding
from spacetime.errors import SpacetimeError

#: ``model_type`` in a transformers ``config.json`` -> the encoder class that loads it.
ENCODER_CLASSES: dict[str, type[PreTrainedModel]] = {
    "clip_text_model": CLIPTextModel,
    "clip": CLIPTextModel,  # a full CLIP folder: its text tower
    "t5": T5EncoderModel,
    "mt5": MT5EncoderModel,
    "umt5": UMT5EncoderModel,
}

#: Tokenizers without a real limit report a huge ``model_max_length``; T5 was trained at 512.
_UNBOUNDED = 1_000_000
_T5_DEFAULT_LENGTH = 512


def _folders(path: Path) -> tuple[Path, Path]:
    """(model folder, tokenizer folder) of ``path``, accepting the diffusers layout."""
    if (path / "text_encoder" / "config.json").is_file():
        tokenizer = path / "tokenizer"
        return path / "text_encoder", tokenizer if tokenizer.is_dir() else path
    return path, path


class HFTextEncoder(nn.Module):
    """A frozen CLIP text model or T5 encoder with its tokenizer.

    ``encode`` returns the last hidden states ``(B, L, D)`` and the attention mask ``(B, L)``,
    zero at padding. The model stays in eval mode with gradients off (``train()`` is a no-op).

    Args:
        model: a ``CLIPTextModel`` / ``T5EncoderModel`` (or mT5/UMT5 encoder).
        tokenizer: its tokenizer.
        max_length: longest prompt in tokens, specials included (default: the tokenizer's
            ``model_max_length``, capped by CLIP's position table; 512 for unbounded T5).
    """

    def __init__(
        self,
        model: PreTrainedModel,
        tokenizer: PreTrainedTokenizerBase,
        *,
        max_length: int | None = None,
    ) -> None:
        super().__init__()
        self.model = model.eval().requires_grad_(False)
        self.tokenizer = tokenizer
        if max_length is None:
            max_length = int(min(tokenizer.model_max_length, _UNBOUNDED))
            positions = getattr(model.config, "max_position_embeddings", None)
            if positions is not None:
                max_length = min(max_length, int(positions))
            elif max_length >= _UNBOUNDED:
                max_length = _T5_DEFAULT_LENGTH
        self._max_length = max_length

    @classmethod
    def from_pretrained(
        cls,
        path: str | Path,
        *,
        device: torch.device | str | None = None,
        dtype: torch.dtype | None = None,
    ) -> HFTextEncoder:
        """Load from a local folder (see the module docstring); SpacetimeError if it is not
        a CLIP / T5 text-encoder folder."""
        folder = Path(path)
        if not folder.is_dir():
            raise SpacetimeError(f"text encoder folder {str(folder)!r} does not exist")
        model_dir, tokenizer_dir = _folders(folder)
        config_file = model_dir / "config.json"
        if not config_file.is_file():
            raise SpacetimeError(
                f"{str(folder)!r} is not a text encoder folder: no config.json (expected a saved "
                "WordTextEncoder or a Hugging Face CLIP / T5 model with its tokenizer)"
            )
        try:
            model_type = json.loads(config_file.read_text(encoding="utf-8")).get("model_type")
        except (json.JSONDecodeError, UnicodeDecodeError, AttributeError) as err:
            raise SpacetimeError(
                f"{config_file}: not a valid model config ({err}); expected a JSON object with "
                'a "model_type"'
            ) from None
        if model_type not in ENCODER_CLASSES:
            raise SpacetimeError(
                f"{str(model_dir)!r} holds a {model_type!r} model; expected a CLIP or T5 text "
                f"encoder (model_type one of {', '.join(ENCODER_CLASSES)})"
            )
        try:
            # use_safetensors: never unpickle a pytorch_model.bin (it can run code; DESIGN.md).
            model = ENCODER_CLASSES[model_type].from_pretrained(
                model_dir, local_files_only=True, use_safetensors=True
            )
            tokenizer = AutoTokenizer.from_pretrained(tokenizer_dir, local_files_only=True)
        except (OSError, ValueError) as err:
            raise SpacetimeError(
                f"cannot load the {model_type} text encoder and tokenizer from "
                f"{str(folder)!r} (weights must be model.safetensors): {err}"
            ) from err
        encoder = cls(model, tokenizer)
        return encoder.to(device=device, dtype=dtype) if device or dtype else encoder

    @property
    def max_length(self) -> int:
        """Longest prompt in tokenizer tokens, special tokens included."""
        return self._max_length

    @property
    def dim(self) -> int:
        """Width ``D`` of the hidden states."""
        config = self.model.config
        return int(getattr(config, "hidden_size", None) or config.d_model)

    def train(self, mode: bool = True) -> HFTextEncoder:
        """Frozen: always stays in eval mode."""
        return super().train(False)

    def unknown_words(self, prompt: str) -> list[str]:
        """Words that the tokenizer maps to its unknown token (none for byte-level BPE)."""
        unk = self.tokenizer.unk_token_id
        if unk is None:
            return []
        return [
            word
            for word in dict.fromkeys(prompt.split())
            if unk in self.tokenizer(word, add_special_tokens=False)["input_ids"]
        ]

    def encode(self, prompts: Sequence[str]) -> TextEmbedding:
        """Same as ``self(prompts)``."""
        return self(prompts)

    def forward(self, prompts: Sequence[str]) -> TextEmbedding:
        """Hidden states ``(B, L, D)`` and mask ``(B, L)``; L = longest tokenized prompt."""
        if isinstance(prompts, str):
            raise SpacetimeError("prompts must be a list of strings, not one string")
        # verbose=False: the length check below replaces the tokenizer's overflow warning
        batch = self.tokenizer(
            list(prompts), padding=True, truncation=False, return_tensors="pt", verbose=False
        )
        ids, mask = batch["input_ids"], batch["attention_mask"].bool()  # (B, L)
        for prompt, length in zip(prompts, mask.sum(1).tolist(), strict=True):
            if length > self.max_length:
                raise SpacetimeError(
                    f"prompt {prompt[:60]!r} has {length} tokens; this text encoder accepts at "
                    f"most {self.max_length} (max_length)"
                )
        if ids.shape[1] == 0:  # a tokenizer without special tokens and only empty prompts
            ids = torch.full((len(prompts), 1), self.tokenizer.pad_token_id or 0)
            mask = torch.zeros(len(prompts), 1, dtype=torch.bool)
        mask[:, 0] |= ~mask.any(1)  # an empty prompt still gets one token to attend to
        device = next(self.model.parameters()).device
        with torch.no_grad():
            hidden = self.model(
                input_ids=ids.to(device), attention_mask=mask.to(device).long()
            ).last_hidden_state  # (B, L, D)
        mask = mask.to(device)
        return TextEmbedding(hidden * mask[..., None].to(hidden.dtype), mask)

    def save_pretrained(self, save_directory: str | Path) -> None:
        """Write model and tokenizer to one folder that :func:`load_text_encoder` reads."""
        self.model.save_pretrained(save_directory)
        self.tokenizer.save_pretrained(save_directory)
