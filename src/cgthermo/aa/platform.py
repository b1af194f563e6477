"""OpenMM platform choice: 'auto' takes the fastest one that can actually run here."""

import logging

import openmm

from ..errors import CgthermoError
from .timing import GPU_PLATFORMS

log = logging.getLogger(__name__)

AUTO_ORDER = ("CUDA", "OpenCL", "CPU")
KNOWN = ("CUDA", "OpenCL", "CPU", "Reference", "HIP")


def available_platforms() -> list[str]:
    return [openmm.Platform.getPlatform(i).getName() for i in range(openmm.Platform.getNumPlatforms())]


def platform_properties(name: str, precision: str, threads: int) -> dict:
    if name in GPU_PLATFORMS:
        return {"Precision": precision}
    if name == "CPU" and threads > 0:
        return {"Threads": str(threads)}
    return {}


def select_platform(name: str, precision: str = "mixed", threads: int = 0):
    """Return (platform, properties); one-line error for unknown or unusable platform names."""
    if name == "auto":
        for candidate in AUTO_ORDER:
            if candidate in available_platforms() and _works(candidate, precision, threads):
                log.info("OpenMM platform: %s (auto)", candidate)
                return _resolved(candidate, precision, threads)
        return _resolved("Reference", precision, threads)
    if name not in KNOWN:
        raise CgthermoError(
            f"OpenMM platform '{name}' is unknown",
            f"set aa.platform to auto or one of {', '.join(KNOWN)}",
        )
    if name not in available_platforms() or not _works(name, precision, threads):
        raise CgthermoError(
            f"OpenMM platform '{name}' is not usable on this machine "
            f"(usable: {', '.join(_usable(precision, threads)) or 'none'})",
            "set aa.platform to auto or to a usable platform",
        )
    log.info("OpenMM platform: %s", name)
    return _resolved(name, precision, threads)


def _resolved(name, precision, threads):
    return openmm.Platform.getPlatformByName(name), platform_properties(name, precision, threads)


def _usable(precision, threads) -> list[str]:
    return [p for p in available_platforms() if _works(p, precision, threads)]


def _works(name: str, precision: str, threads: int) -> bool:
    """A plugin can load without a device behind it; only creating a context proves it runs."""
    system = openmm.System()
    system.addParticle(1.0)
    try:
        platform = openmm.Platform.getPlatformByName(name)
        context = openmm.Context(
            system, openmm.VerletIntegrator(0.001), platform,
            platform_properties(name, precision, threads),
        )  # fmt: skip
    except Exception as err:  # OpenMMException for missing devices, drivers or bad properties
        log.info("OpenMM platform %s is not usable: %s", name, str(err).splitlines()[0])
        return False
    del context
    return True
