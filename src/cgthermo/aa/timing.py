"""The all-atom run's settings as plain arithmetic, without importing OpenMM (the load-time
checks and the rules' resource functions use it as the jobs do): the time grid, and which
OpenMM platforms run on a GPU."""

import math

from ..errors import CgthermoError

# OpenMM platforms that compute on a GPU: one core drives each (aa_ns_per_day_per_core)
GPU_PLATFORMS = ("CUDA", "OpenCL", "HIP")


def whole_steps(length_ps: float, timestep_fs: float) -> bool:
    """Whether `length_ps` is a whole number of `timestep_fs` steps (to rounding)."""
    steps = length_ps * 1000.0 / timestep_fs
    return abs(steps - round(steps)) <= 1e-6 * max(1.0, steps)


def steps_for(length_ps: float, timestep_fs: float, what: str, exact: bool = False) -> int:
    steps = length_ps * 1000.0 / timestep_fs
    if exact and not whole_steps(length_ps, timestep_fs):
        raise CgthermoError(
            f"aa.{what} ({length_ps} ps) is not a whole number of {timestep_fs} fs time steps",
            f"make aa.{what} a multiple of aa.timestep_fs",
        )
    return int(round(steps))


def saved_frames(length_ns: float, save_every_ps: float) -> int:
    """Frames one production replica saves."""
    return int(math.floor(length_ns * 1000.0 / save_every_ps + 1e-9))


def restart_stride(sampling: str, restart_every_ps, save_every_ps: float) -> int | None:
    """Every how many saved frames adaptive sampling keeps a restartable full state: 0 for
    plain sampling (nothing restarts), 1 for `restart_every_ps` null (every saved frame),
    None where `restart_every_ps` is not a whole number of save strides."""
    if sampling != "adaptive":
        return 0
    if restart_every_ps is None:
        return 1
    frames = restart_every_ps / save_every_ps
    if frames < 1 or abs(frames - round(frames)) > 1e-9:
        return None
    return int(round(frames))
