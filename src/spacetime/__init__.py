"""spacetime: train, sample and stress-test spatiotemporal video diffusion models.

Layout (see DESIGN.md): ``video`` (file I/O), ``data`` (ShapesWorld and datasets),
``models`` (denoisers, autoencoders, text encoders), ``diffusion`` (objectives and sampling),
``pipelines``, ``training``, ``evaluation`` (coherence metrics, oracle, Fréchet distances,
reports) and ``cli``.
"""

from spacetime.errors import SpacetimeError, SpacetimeWarning

__version__ = "0.1.0"

__all__ = ["SpacetimeError", "SpacetimeWarning", "__version__"]
