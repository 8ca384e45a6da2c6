"""Inference schedulers by the names the job schema uses."""


def scheduler_classes() -> dict:
    from diffusers import (
        DDIMScheduler,
        DPMSolverMultistepScheduler,
        EulerAncestralDiscreteScheduler,
        EulerDiscreteScheduler,
        PNDMScheduler,
        UniPCMultistepScheduler,
    )

    return {
        "ddim": DDIMScheduler,
        "dpm++": DPMSolverMultistepScheduler,  # algorithm_type dpmsolver++, order 2
        "euler": EulerDiscreteScheduler,
        "euler-a": EulerAncestralDiscreteScheduler,
        "pndm": PNDMScheduler,
        "unipc": UniPCMultistepScheduler,
    }


def make_scheduler(name: str, config):
    return scheduler_classes()[name].from_config(config)
