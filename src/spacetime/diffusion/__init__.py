"""spacetime.diffusion: objectives (eps / v / x0, flow matching), noise schedules, frame-mask
strategies, classifier-free guidance and the sampling loop over diffusers schedulers."""

from spacetime.diffusion.flow_matching import FlowMatchingObjective
from spacetime.diffusion.gaussian import GaussianObjective
from spacetime.diffusion.guidance import classifier_free_guidance
from spacetime.diffusion.masks import (
    MASK_STRATEGIES,
    FrameMaskConfig,
    sample_frame_mask,
    strategy_mask,
)
from spacetime.diffusion.objectives import Objective
from spacetime.diffusion.registry import OBJECTIVES, build_objective
from spacetime.diffusion.samplers import SAMPLERS
from spacetime.diffusion.sampling import sample
from spacetime.diffusion.schedules import NoiseSchedule

__all__ = [
    "MASK_STRATEGIES",
    "OBJECTIVES",
    "SAMPLERS",
    "FlowMatchingObjective",
    "FrameMaskConfig",
    "GaussianObjective",
    "NoiseSchedule",
    "Objective",
    "build_objective",
    "classifier_free_guidance",
    "sample",
    "sample_frame_mask",
    "strategy_mask",
]
