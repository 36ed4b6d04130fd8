"""The named samplers: diffusers schedulers and the objective family each integrates.

Every Gaussian sampler uses "trailing" timestep spacing, so that sampling starts at
``t = N-1`` (Lin et al. 2024, Table 2), which zero terminal SNR requires. The scheduler's own
timesteps are the network's ``t`` for every sampler here
(see :mod:`spacetime.diffusion.objectives`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from diffusers import (
    DDIMScheduler,
    DDPMScheduler,
    DPMSolverMultistepScheduler,
    EulerDiscreteScheduler,
    FlowMatchEulerDiscreteScheduler,
    SchedulerMixin,
)

from spacetime.errors import SpacetimeError


@dataclass(frozen=True)
class SamplerSpec:
    """A named sampler: the diffusers scheduler class, the objective family it integrates
    (``"gaussian"`` or ``"flow"``), fixed scheduler options, and a one-line description."""

    scheduler: type[SchedulerMixin]
    family: str
    options: dict[str, Any]
    description: str


#: Sampler name -> spec (the CLI's ``--sampler`` choices).
SAMPLERS: dict[str, SamplerSpec] = {
    "ddpm": SamplerSpec(
        DDPMScheduler,
        "gaussian",
        {"clip_sample": False, "variance_type": "fixed_small"},
        "ancestral DDPM (Ho et al. 2020); stochastic, per-sample noise",
    ),
    "ddim": SamplerSpec(
        DDIMScheduler,
        "gaussian",
        {"clip_sample": False, "set_alpha_to_one": True},
        "DDIM with eta=0 (Song et al. 2021); deterministic",
    ),
    "dpm++": SamplerSpec(
        DPMSolverMultistepScheduler,
        "gaussian",
        {"algorithm_type": "dpmsolver++", "solver_order": 2, "final_sigmas_type": "zero"},
        "DPM-Solver++(2M) (Lu et al. 2022); deterministic, good at 10-25 steps",
    ),
    "euler": SamplerSpec(
        EulerDiscreteScheduler,
        "gaussian",
        {},
        "Euler on the probability-flow ODE (Karras et al. 2022, Alg. 1); deterministic",
    ),
    "flow-euler": SamplerSpec(
        FlowMatchEulerDiscreteScheduler,
        "flow",
        {},
        "Euler on the rectified-flow ODE (Liu et al. 2023; Esser et al. 2024); deterministic",
    ),
}


def resolve_sampler(name: str, family: str, steps: int, num_train_timesteps: int) -> SamplerSpec:
    """The spec of sampler ``name`` for an objective of ``family`` sampled in ``steps`` steps.

    Raises SpacetimeError for an unknown name (listing the names), a sampler of the other
    family (listing the usable ones) or ``steps`` outside ``[1, num_train_timesteps]``.
    """
    if name not in SAMPLERS:
        raise SpacetimeError(f"unknown sampler {name!r}; choose one of {', '.join(SAMPLERS)}")
    spec = SAMPLERS[name]
    if spec.family != family:
        usable = ", ".join(k for k, s in SAMPLERS.items() if s.family == family)
        raise SpacetimeError(
            f"sampler {name!r} integrates {spec.family} models but this objective is "
            f"{family}; use one of {usable}"
        )
    if not 1 <= steps <= num_train_timesteps:
        raise SpacetimeError(f"steps must be in [1, {num_train_timesteps}], got {steps}")
    return spec
