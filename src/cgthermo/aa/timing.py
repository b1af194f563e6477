"""The all-atom run's settings as plain arithmetic, without importing OpenMM (the load-time
checks and the rules' resource functions use it as the jobs do): the time grid, and which
OpenMM platforms run on a GPU."""

import math

from ..errors import CgthermoError

GPU_PLATFORMS = ("CUDA", "OpenCL", "HIP")


def steps_for(length_ps: float, timestep_fs: float, what: str, exact: bool = False) -> int:
    steps = length_ps * 1000.0 / timestep_fs
    if exact and abs(steps - round(steps)) > 1e-6 * max(1.0, steps):
        raise CgthermoError(
            f"aa.{what} ({length_ps} ps) is not a whole number of {timestep_fs} fs time steps",
            f"make aa.{what} a multiple of aa.timestep_fs",
        )
    return int(round(steps))


def saved_frames(length_ns: float, save_every_ps: float) -> int:
    """Frames one production replica saves."""
    return int(math.floor(length_ns * 1000.0 / save_every_ps + 1e-9))
