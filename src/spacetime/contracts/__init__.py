"""The ground floor: the contracts of DESIGN.md that every layer shares.

- :mod:`.frames` — the API-edge video, ``uint8 (T, H, W, 3)``, and its one validator
  :func:`~spacetime.contracts.frames.check_frames` (numpy only);
- :mod:`.pixels` — ``uint8`` pixels <-> the library's ``[-1, 1]`` float videos;
- :mod:`.conditioning` — :class:`~spacetime.contracts.conditioning.TextEmbedding` and
  :class:`~spacetime.contracts.conditioning.FrameCondition`, what denoisers, objectives and
  samplers are given;
- :mod:`.weights` — the one refusal of pickled weights (safetensors only);
- :mod:`.dataclass_yaml` — typed dataclass configs from YAML and ``--set key=value``, unknown
  keys and NaN refused; :mod:`.presets` — where the named YAML presets ship (package data).

These modules import nothing from spacetime but :mod:`spacetime.errors`, so ``video``, ``data``,
``models``, ``diffusion``, ``pipelines``, ``training`` and ``evaluation`` may all import them.
This file imports none of them: :mod:`.frames` stays importable without torch (the evaluation
half does not load torch).
"""
