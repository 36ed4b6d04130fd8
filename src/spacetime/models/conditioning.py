"""Where the README's examples import the conditioning types from; they are defined on the ground
floor, in :mod:`spacetime.contracts.conditioning`, so that ``diffusion`` needs no ``models``."""

from spacetime.contracts.conditioning import FrameCondition, TextEmbedding

__all__ = ["FrameCondition", "TextEmbedding"]
