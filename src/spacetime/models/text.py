"""Text encoders: prompts -> :class:`TextEmbedding` ``(tokens (B, L, D), mask (B, L))``.

Two kinds share one interface (:class:`TextEncoder`):

- :class:`WordTextEncoder`, built in and trainable with the denoiser: word embeddings +
  learned positions + a small pre-norm transformer. Its vocabulary lives in its config, so
  ``save_pretrained`` writes a self-contained ``config.json`` + safetensors folder.
- :class:`~spacetime.models.text_hf.HFTextEncoder`, a frozen Hugging Face CLIP text model or
  T5 encoder loaded from a local folder.

The empty prompt ``""`` is the unconditional branch of classifier-free guidance; it encodes
to at least one real token (the word encoder's ``<bos>``; CLIP/T5 special tokens), so
attention over it is always defined. :func:`load_text_encoder` opens either kind from disk.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Protocol, runtime_checkable

import torch
from diffusers.configuration_utils import ConfigMixin, register_to_config
from diffusers.models.modeling_utils import ModelMixin
from torch import nn

from spacetime.contracts.conditioning import TextEmbedding
from spacetime.errors import SpacetimeError

PAD, UNK, BOS = "<pad>", "<unk>", "<bos>"
SPECIAL_TOKENS: tuple[str, ...] = (PAD, UNK, BOS)

_APOSTROPHES = re.compile(r"['’`]")
_NON_WORD = re.compile(r"[^\w\s]|_")


@runtime_checkable
class TextEncoder(Protocol):
    """What the trainer, the pipelines and the CLI need from a text encoder.

    Both encoders are ``torch.nn.Module``s: ``encoder(prompts)`` and ``encoder.encode(prompts)``
    are the same call (the former goes through module hooks, as DDP wants).
    """

    def __call__(self, prompts: Sequence[str]) -> TextEmbedding:
        """Same as :meth:`encode`."""
        ...

    @property
    def max_length(self) -> int:
        """Longest prompt accepted, in the encoder's units (words or tokenizer tokens)."""
        ...

    @property
    def dim(self) -> int:
        """Width ``D`` of the output tokens."""
        ...

    def encode(self, prompts: Sequence[str]) -> TextEmbedding:
        """``tokens (B, L, D)`` and ``mask (B, L)`` for ``B = len(prompts)`` prompts."""
        ...

    def unknown_words(self, prompt: str) -> list[str]:
        """Words of ``prompt`` the encoder cannot represent (so the CLI can warn)."""
        ...

    def save_pretrained(self, save_directory: str | Path) -> None:
        """Write the encoder to a folder :func:`load_text_encoder` reads back."""
        ...


def split_words(prompt: str) -> list[str]:
    """Lower-cased words of ``prompt`` with punctuation stripped.

    Apostrophes are dropped inside words (``"don't" -> "dont"``); other punctuation
    separates words (``"red,blue" -> ["red", "blue"]``).
    """
    text = _APOSTROPHES.sub("", prompt.lower())
    return _NON_WORD.sub(" ", text).split()


class WordTextEncoder(ModelMixin, ConfigMixin):
    """A word-level trainable text encoder (embedding + learned positions + transformer).

    Each prompt becomes ``<bos> w_1 … w_n`` (``L = n + 1``; unknown words map to ``<unk>``),
    padded to the longest prompt of the batch. Output tokens are final-LayerNorm features,
    zero at padded positions; padding never changes the real tokens (key-padding mask).

    Args:
        vocab: the vocabulary; must start with ``<pad>``, ``<unk>``, ``<bos>``. Build it with
            :meth:`from_captions`.
        dim: token width ``D``.
        layers: transformer layers (pre-norm, GELU MLP).
        heads: attention heads; must divide ``dim``.
        max_length: most words per prompt (positions ``max_length + 1`` with ``<bos>``).
        mlp_ratio: MLP hidden width as a multiple of ``dim``.
        dropout: dropout inside the transformer (training only).
    """

    @register_to_config
    def __init__(
        self,
        vocab: list[str],
        dim: int = 64,
        layers: int = 2,
        heads: int = 4,
        max_length: int = 64,
        mlp_ratio: float = 4.0,
        dropout: float = 0.0,
    ) -> None:
        super().__init__()
        if tuple(vocab[:3]) != SPECIAL_TOKENS or len(set(vocab)) != len(vocab):
            raise SpacetimeError(
                f"vocab must start with {', '.join(SPECIAL_TOKENS)} and have no duplicates; "
                f"got {vocab[:5]}…"
            )
        if dim < 1 or heads < 1 or dim % heads != 0:
            raise SpacetimeError(f"dim ({dim}) must be a positive multiple of heads ({heads})")
        if layers < 1 or max_length < 1:
            raise SpacetimeError(f"layers and max_length must be >= 1, got {layers}, {max_length}")
        self._index = {word: i for i, word in enumerate(vocab)}
        self.embed = nn.Embedding(len(vocab), dim, padding_idx=0)
        self.pos = nn.Parameter(torch.zeros(1, max_length + 1, dim))
        block = nn.TransformerEncoderLayer(
            dim,
            heads,
            int(dim * mlp_ratio),
            dropout,
            activation="gelu",
            batch_first=True,
            norm_first=True,
        )
        self.encoder = nn.TransformerEncoder(block, layers, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        nn.init.normal_(self.embed.weight, std=0.02)
        nn.init.normal_(self.pos, std=0.02)
        with torch.no_grad():
            self.embed.weight[0].zero_()  # <pad> is never attended to; keep it inert

    @classmethod
    def from_captions(
        cls,
        captions: Iterable[str],
        *,
        dim: int = 64,
        layers: int = 2,
        heads: int = 4,
        max_length: int | None = None,
        min_count: int = 1,
        max_vocab: int | None = None,
        dropout: float = 0.0,
    ) -> WordTextEncoder:
        """A new encoder whose vocabulary is the words of ``captions``.

        Words seen at least ``min_count`` times are kept, most frequent first (ties
        alphabetical), at most ``max_vocab`` of them. ``max_length`` defaults to the longest
        caption (at least 16 words) and must fit every caption.
        """
        counts: Counter[str] = Counter()
        longest = 0
        for caption in captions:
            words = split_words(caption)
            counts.update(words)
            longest = max(longest, len(words))
        ranked = sorted(
            (w for w, c in counts.items() if c >= min_count and w not in SPECIAL_TOKENS),
            key=lambda w: (-counts[w], w),
        )
        if max_vocab is not None:
            ranked = ranked[:max_vocab]
        if max_length is None:
            max_length = max(16, longest)
        elif max_length < longest:
            raise SpacetimeError(
                f"max_length={max_length} is shorter than the longest caption ({longest} words)"
            )
        return cls(
            vocab=[*SPECIAL_TOKENS, *ranked],
            dim=dim,
            layers=layers,
            heads=heads,
            max_length=max_length,
            dropout=dropout,
        )

    @property
    def max_length(self) -> int:
        """Most words per prompt."""
        return int(self.config.max_length)

    @property
    def dim(self) -> int:
        """Token width ``D``."""
        return int(self.config.dim)

    @property
    def vocab(self) -> list[str]:
        """The vocabulary, index -> word."""
        return list(self.config.vocab)

    def unknown_words(self, prompt: str) -> list[str]:
        """Words of ``prompt`` outside the vocabulary (they encode as ``<unk>``), in order."""
        seen: dict[str, None] = {}
        for word in split_words(prompt):
            if word not in self._index:
                seen.setdefault(word, None)
        return list(seen)

    def tokenize(self, prompts: Sequence[str]) -> tuple[torch.Tensor, torch.Tensor]:
        """Word ids ``(B, L)`` long and mask ``(B, L)`` bool, ``L`` = 1 + most words."""
        if isinstance(prompts, str):
            raise SpacetimeError("prompts must be a list of strings, not one string")
        rows = []
        for prompt in prompts:
            words = split_words(prompt)
            if len(words) > self.max_length:
                raise SpacetimeError(
                    f"prompt {prompt[:60]!r} has {len(words)} words; this text encoder accepts "
                    f"at most {self.max_length} (max_length)"
                )
            unk = self._index[UNK]
            rows.append([self._index[BOS]] + [self._index.get(w, unk) for w in words])
        length = max((len(r) for r in rows), default=1)
        ids = torch.zeros(len(rows), length, dtype=torch.long)
        for i, row in enumerate(rows):
            ids[i, : len(row)] = torch.tensor(row, dtype=torch.long)
        mask = torch.arange(length)[None, :] < torch.tensor([len(r) for r in rows])[:, None]
        return ids.to(self.device), mask.to(self.device)

    def forward(self, prompts: Sequence[str]) -> TextEmbedding:
        """Encode ``prompts`` (B strings) to tokens ``(B, L, D)`` and mask ``(B, L)``, with
        gradients, so the encoder trains with the denoiser."""
        ids, mask = self.tokenize(prompts)  # (B, L), (B, L)
        x = self.embed(ids) + self.pos[:, : ids.shape[1]]  # (B, L, D)
        x = self.encoder(x, src_key_padding_mask=~mask)  # (B, L, D)
        x = self.norm(x) * mask[..., None].to(x.dtype)  # (B, L, D), 0 on padding
        return TextEmbedding(x, mask)

    def encode(self, prompts: Sequence[str]) -> TextEmbedding:
        """Same as ``self(prompts)``."""
        return self(prompts)


def load_text_encoder(
    path: str | Path,
    *,
    device: torch.device | str | None = None,
    dtype: torch.dtype | None = None,
) -> TextEncoder:
    """Open a text encoder folder: a saved :class:`WordTextEncoder`, or a Hugging Face CLIP
    text model / T5 encoder (with its tokenizer; also the ``text_encoder/`` + ``tokenizer/``
    layout of diffusers pipelines). Raises SpacetimeError for anything else."""
    folder = Path(path)
    if not folder.is_dir():
        raise SpacetimeError(f"text encoder folder {str(folder)!r} does not exist")
    config_file = folder / "config.json"
    if config_file.is_file():
        try:
            config = json.loads(config_file.read_text())
        except json.JSONDecodeError as err:
            raise SpacetimeError(f"{config_file} is not valid JSON: {err}") from err
        if not isinstance(config, dict):
            raise SpacetimeError(f"{config_file}: expected a JSON object, got {config!r:.40}")
        if config.get("_class_name") == WordTextEncoder.__name__:
            encoder = WordTextEncoder.from_pretrained(folder, torch_dtype=dtype)
            return encoder.to(device) if device is not None else encoder
    from spacetime.models.text_hf import HFTextEncoder  # transformers is slow to import

    return HFTextEncoder.from_pretrained(folder, device=device, dtype=dtype)
