"""The CG model's speed-up over all-atom MD, as two factors and their product.

- Raw throughput: trajectory ns per core-day of the CG run (under replica exchange the
  target-temperature slots' share only) ÷ that of the all-atom runs,
  both as the runs measured themselves on the machine they ran on (cg_sim's run.json,
  aa_md's record carried into dataset.h5), on that hardware only. Its 95 % interval
  resamples what each side measured in pieces: the CG run's checkpoint segments (each its
  simulated ns and core seconds) and the all-atom replicas' own speeds. It covers how the
  speed varied within these runs on this machine, not another machine.
- Dynamical acceleration: the slowest all-atom implied timescale ÷ the CG model's, from
  reversible MSMs (pyemma) on the same microstates (the reference k-means centres in the
  reference TICA space) at the same lag in time. A CG model's smoother landscape moves
  faster per ns; this factor says by how much for the slowest process the MSM resolves.
  Its 95 % interval resamples whole all-atom and CG replicas with the multiplicities of
  the model's main bootstrap. Replica exchange has no dynamics, so it is undefined there.
- Effective acceleration: their product, the all-atom time one CG core-day stands for
  relative to one all-atom core-day; its resamples multiply the two factors' resamples.
- Folding acceleration (folding_kinetics): the all-atom folding relaxation time over the CG
  model's, both counted between the same folded and unfolded cores, so the same process on
  both sides, where the slowest timescales may belong to different processes. Times the
  throughput it gives the effective folding acceleration.
"""

import numpy as np

from ..units import FS_PER_PS
from . import bootstrap, folding_kinetics, kinetics


def assign_states(pieces, centres) -> list[np.ndarray]:
    """Microstate of every frame: the nearest reference centre in TICA space."""
    pyemma = kinetics._quiet_pyemma()
    dim = centres.shape[1]
    with np.errstate(invalid="ignore"):  # pyemma pre-fills its integer output with NaN
        assigned = pyemma.coordinates.assign_to_centers(
            [np.ascontiguousarray(p[:, :dim], dtype=np.float32) for p in pieces],
            np.ascontiguousarray(centres, dtype=np.float32), n_jobs=1)
    return [np.asarray(d, dtype=np.int64) for d in assigned]


def slowest_timescale_ps(dtrajs, lag_frames: int, frame_ps: float) -> float:
    """The slowest implied timescale (ps) of a reversible MSM; NaN when the data cannot
    give one (no piece longer than the lag, or fewer than two connected states)."""
    usable = [d for d in dtrajs if len(d) > lag_frames]
    if not usable:
        return float("nan")
    try:
        msm = kinetics.estimate_msm(usable, lag_frames)
    except RuntimeError:  # pyemma: no transition at this lag ("Active set is empty")
        return float("nan")
    if len(msm.active_set) < 2:
        return float("nan")
    timescale = float(np.asarray(msm.timescales(1))[0])
    return timescale * frame_ps if np.isfinite(timescale) and timescale > 0 else float("nan")


def resampled_timescales(pieces_by_unit: list, multiplicities: np.ndarray, lag_frames: int,
                         frame_ps: float) -> np.ndarray:
    """Slowest timescale of every resample: unit u's pieces taken multiplicity[u] times."""
    values = []
    for row in np.atleast_2d(multiplicities):
        dtrajs = [d for unit, count in enumerate(row) for _ in range(int(count))
                  for d in pieces_by_unit[unit]]
        values.append(slowest_timescale_ps(dtrajs, lag_frames, frame_ps))
    return np.asarray(values)


def by_unit(dtrajs, units, n_units: int) -> list[list[np.ndarray]]:
    grouped = [[] for _ in range(n_units)]
    for d, unit in zip(dtrajs, units, strict=True):
        grouped[int(unit)].append(d)
    return grouped


def reference_pieces(ref: dict, key: str, dtype) -> tuple[list, list]:
    """The all-atom per-frame array `key` cut into its contiguous pieces, and each piece's
    replica unit."""
    bounds = np.cumsum(ref["piece_lengths"])[:-1]
    pieces = np.split(np.asarray(ref[key], dtype=dtype), bounds)
    units = [int(u[0]) for u in np.split(np.asarray(ref["frame_unit"]), bounds)]
    return pieces, units


def reference_dtrajs(ref: dict) -> tuple[list, list]:
    """The all-atom discrete trajectories per piece, and each piece's replica unit."""
    return reference_pieces(ref, "dtraj", np.int64)


# the CG lag is whole CG frames; further than this from the all-atom lag in time, the two
# MSMs would not describe the same process time and their timescales are not compared
MAX_LAG_MISMATCH = 0.1


def lag_in_cg_frames(ref: dict, cg_frame_fs: float) -> int:
    """The reference MSM lag in time, in CG frames (at least one)."""
    lag_fs = int(ref["msm_lag"]) * float(ref["frame_fs"])
    return max(1, int(round(lag_fs / cg_frame_fs)))


def lag_problem(ref: dict, cg_frame_fs: float) -> str:
    """Why the CG run cannot be lagged like the all-atom MSM ('' when it can)."""
    if not (np.isfinite(cg_frame_fs) and cg_frame_fs > 0):
        return "the CG trajectory has no frame spacing (fewer than two frames per replica)"
    lag_fs = int(ref["msm_lag"]) * float(ref["frame_fs"])
    cg_lag_fs = lag_in_cg_frames(ref, cg_frame_fs) * cg_frame_fs
    if abs(cg_lag_fs - lag_fs) > MAX_LAG_MISMATCH * lag_fs:
        return (f"the all-atom MSM lag ({lag_fs / FS_PER_PS:.3g} ps) is no whole number of CG "
                f"frames of {cg_frame_fs / FS_PER_PS:.3g} ps (nearest {cg_lag_fs / FS_PER_PS:.3g} "
                f"ps): choose analysis.msm_lag or cgsim.save_every so they match")
    return ""


# an implied timescale shorter than this many lag times is not resolved by the MSM: its
# eigenvalue exp(−lag/t) is above 0.72 only beyond it, and at a lag or two the number is set by
# the lag as much as by the process
RESOLVED_LAGS = 3.0


def unresolved(timescales, lag_ps: float) -> np.ndarray:
    """The timescales with those below RESOLVED_LAGS lag times (or undefined) as NaN."""
    t = np.asarray(timescales, dtype=np.float64)
    with np.errstate(invalid="ignore"):
        return np.where(t >= RESOLVED_LAGS * lag_ps, t, np.nan)


def unresolved_reason(side: str, point: float, lag_ps: float) -> str:
    return (f"the {side} slowest implied timescale ({point:.3g} ps) is within "
            f"{RESOLVED_LAGS:g} lag times ({lag_ps:.3g} ps): the MSM does not resolve it")


def dynamical_acceleration(ref: dict, cg_tic_pieces, cg_units, n_cg_units: int,
                           cg_frame_fs: float, m_ref, m_cg) -> tuple[dict, dict, dict]:
    """(timescales and their ratio with intervals, resampled values, reasons for the
    unresolved): a timescale within RESOLVED_LAGS lag times, on the point value or on a
    resample, is no number, and neither is a ratio built on it."""
    aa_lag, aa_frame_ps = int(ref["msm_lag"]), float(ref["frame_fs"]) / FS_PER_PS
    cg_lag, cg_frame_ps = lag_in_cg_frames(ref, cg_frame_fs), cg_frame_fs / FS_PER_PS
    aa_dtrajs, aa_units = reference_dtrajs(ref)
    aa_grouped = by_unit(aa_dtrajs, aa_units, len(ref["unit_pair_sums"]))
    cg_grouped = by_unit(assign_states(cg_tic_pieces, ref["cluster_centres"]), cg_units,
                         n_cg_units)
    lag_ps = aa_lag * aa_frame_ps
    raw_aa = resampled_timescales(aa_grouped, np.ones(len(aa_grouped)), aa_lag, aa_frame_ps)[0]
    raw_cg = resampled_timescales(cg_grouped, np.ones(n_cg_units), cg_lag, cg_frame_ps)[0]
    why = {}
    for side, name, raw in (("all-atom", "slowest_timescale_aa_ps", raw_aa),
                            ("CG", "slowest_timescale_cg_ps", raw_cg)):  # fmt: skip
        if np.isfinite(raw) and not np.isfinite(unresolved(raw, lag_ps)):
            for key in (name, "dynamical_acceleration", "effective_acceleration"):
                why.setdefault(key, unresolved_reason(side, raw, lag_ps))
    point_aa, point_cg = float(unresolved(raw_aa, lag_ps)), float(unresolved(raw_cg, lag_ps))
    rows = {"slowest_timescale_aa_ps": unresolved(resampled_timescales(aa_grouped, m_ref, aa_lag,
                                                                       aa_frame_ps), lag_ps),
            "slowest_timescale_cg_ps": unresolved(resampled_timescales(cg_grouped, m_cg, cg_lag,
                                                                       cg_frame_ps), lag_ps)}
    rows["dynamical_acceleration"] = (rows["slowest_timescale_aa_ps"]
                                      / rows["slowest_timescale_cg_ps"])
    points = {"slowest_timescale_aa_ps": point_aa, "slowest_timescale_cg_ps": point_cg,
              "dynamical_acceleration": point_aa / point_cg}
    values = {"msm_lag_ps": aa_lag * aa_frame_ps, "msm_lag_cg_frames": cg_lag,
              "msm_lag_cg_ps": cg_lag * cg_frame_ps}
    for name, point in points.items():
        values.update(bootstrap.named_interval(name, point, rows[name]))
    return values, rows, why


def trajectory_rate(run: dict) -> float:
    """Target-temperature trajectory ns per core-day of a CG run (NaN without a record).

    Under replica exchange only one slot per ladder makes the trajectory, so the run's
    simulated ns are scaled by the share of trajectory replicas."""
    rate = run.get("ns_per_day_per_core")
    if rate is None:
        return float("nan")
    share = run.get("trajectory_replicas", 1) / run.get("replicas", 1)
    return float(rate) * share


SECONDS_PER_DAY = 86400.0


def cg_rate_resamples(run: dict, rng, resamples: int) -> np.ndarray | None:
    """`trajectory_rate` of resamples of the run's checkpoint segments (None with fewer
    than two segments recorded: runs made before cg_sim kept them)."""
    segments = run.get("segments") or {}
    ns = np.asarray(segments.get("simulated_ns", ()), dtype=np.float64)
    core = np.asarray(segments.get("core_seconds", ()), dtype=np.float64)
    if len(ns) < 2 or not np.all(core > 0):
        return None
    m = bootstrap.multiplicities(rng, resamples, len(ns))
    share = run.get("trajectory_replicas", 1) / run.get("replicas", 1)
    return (m @ ns) / (m @ core / SECONDS_PER_DAY) * share


def aa_rate_resamples(rates, rng, resamples: int) -> np.ndarray | None:
    """The mean per-core speed of resamples of the all-atom replicas (None with fewer than 2)."""
    if rates is None or len(rates) < 2:
        return None
    m = bootstrap.multiplicities(rng, resamples, len(rates))
    return (m @ np.asarray(rates, dtype=np.float64)) / m.sum(axis=1)


def throughput_resamples(run: dict, aa_rates, resamples: int, seed: int) -> np.ndarray:
    """Resampled CG ÷ all-atom speeds; NaN where either side lacks its pieces."""
    if not resamples:
        return np.empty(0)
    rng = np.random.default_rng(seed)
    cg = cg_rate_resamples(run, rng, resamples)
    aa = aa_rate_resamples(aa_rates, rng, resamples)
    if cg is None or aa is None:
        return np.full(resamples, np.nan)
    return cg / aa


def aa_replica_rates(dataset_h5, protein: str) -> np.ndarray | None:
    """Each all-atom replica's ns per core-day as cg_map recorded it (None when it was not)."""
    import h5py

    with h5py.File(dataset_h5, "r") as fh:
        value = fh[protein].attrs.get("aa_ns_per_day_per_core_replicas")
    return None if value is None else np.asarray(value, dtype=np.float64)


def aa_throughput(dataset_h5, protein: str) -> float:
    """The all-atom runs' ns per core-day as cg_map recorded it (NaN when it was not)."""
    import h5py

    with h5py.File(dataset_h5, "r") as fh:
        value = fh[protein].attrs.get("aa_ns_per_day_per_core")
    return float("nan") if value is None else float(value)


def times_throughput(name: str, factor: str, values: dict, rows: dict, throughput,
                     ratio: float) -> None:
    """Adds `name`, the dynamical `factor` times the throughput, to values and rows: its
    resamples are the factor's times the throughput's, or times its point value for runs
    recorded before their segments were kept (a throughput of one number)."""
    scale = throughput if throughput.size and np.isfinite(throughput).all() else ratio
    rows[name] = rows[factor] * scale
    values.update(bootstrap.named_interval(name, values[factor] * ratio, rows[name]))


def folding_metrics(ref: dict, cg_rmsd_pieces, cg_units, n_cg_units: int, cg_frame_fs: float,
                    throughput, ratio: float, m_ref, m_cg) -> tuple[dict, dict, dict]:
    """The folding acceleration and its product with the throughput (resamples multiplied)."""
    ref_pieces, ref_units = reference_pieces(ref, "rmsd", np.float64)
    values, why, rows = folding_kinetics.folding_acceleration(
        ref_pieces, ref_units, len(ref["unit_pair_sums"]), float(ref["frame_fs"]),
        cg_rmsd_pieces, cg_units, n_cg_units, cg_frame_fs, float(ref["folded_rmsd"]),
        m_ref, m_cg)
    times_throughput("effective_folding_acceleration", "folding_acceleration", values, rows,
                     throughput, ratio)
    if "folding_acceleration" in why:
        why["effective_folding_acceleration"] = why["folding_acceleration"]
    return values, why, rows


NO_DYNAMICS = ("replica exchange has no dynamics: the dynamical speed-up needs "
               "cgsim.sampler: langevin")


def speedup_metrics(ref: dict, cg_tic_pieces, cg_units, n_cg_units: int, cg_frame_fs: float,
                    run: dict, aa_rate: float, m_ref, m_cg, aa_rates=None, seed: int = 0,
                    cg_rmsd_pieces=None) -> tuple[dict, dict, dict]:  # fmt: skip
    """(metrics, reasons for the undefined ones, resampled values) of the factors;
    `aa_rates` the all-atom replicas' own speeds, for the throughput's interval;
    `cg_rmsd_pieces` the CG frames' RMSD to the folded structure, piece by piece as
    `cg_tic_pieces`, for the folding acceleration (left out without them)."""
    why = {}
    cg_rate = trajectory_rate(run)
    throughput = throughput_resamples(run, aa_rates, 0 if m_cg is None else len(m_cg), seed)
    values = {"cg_ns_per_day_per_core": cg_rate, "aa_ns_per_day_per_core": aa_rate,
              **bootstrap.named_interval("throughput_ratio", cg_rate / aa_rate, throughput)}
    if not np.isfinite(aa_rate):
        why["throughput_ratio"] = ("the all-atom data carries no speed record (imported data, "
                                   "or made before aa_md recorded it: rerun aa_md and cg_map)")
    if not np.isfinite(cg_rate):
        why["throughput_ratio"] = "the CG run has no run.json with its speed: rerun cg_sim"
    names = ("slowest_timescale_cg_ps", "dynamical_acceleration", "effective_acceleration")
    no_dynamics = ""
    if run.get("sampler", "langevin") != "langevin":
        no_dynamics = NO_DYNAMICS
    elif not (np.isfinite(cg_frame_fs) and cg_frame_fs > 0):
        no_dynamics = "the CG trajectory has no frame spacing (fewer than two frames per replica)"
    rows = {}
    if cg_rmsd_pieces is not None:
        folding, folding_why, rows = (
            folding_kinetics.undefined(no_dynamics) if no_dynamics else
            folding_metrics(ref, cg_rmsd_pieces, cg_units, n_cg_units, cg_frame_fs,
                            throughput, values["throughput_ratio"], m_ref, m_cg))  # fmt: skip
        values.update(folding)
        why.update(folding_why)
        if "throughput_ratio" in why:
            why["effective_folding_acceleration"] = why["throughput_ratio"]
    reason = no_dynamics or lag_problem(ref, cg_frame_fs)
    if reason:
        for name in names:
            why[name] = reason
        values.update({k: float("nan") for name in names
                       for k in (name, f"{name}_ci_low", f"{name}_ci_high")})
        return values, why, rows
    dynamics, msm_rows, unresolved_why = dynamical_acceleration(
        ref, cg_tic_pieces, cg_units, n_cg_units, cg_frame_fs, m_ref, m_cg)
    values.update(dynamics)
    rows.update(msm_rows)
    why.update(unresolved_why)
    times_throughput("effective_acceleration", "dynamical_acceleration", values, rows,
                     throughput, values["throughput_ratio"])
    if "throughput_ratio" in why:
        why["effective_acceleration"] = why["throughput_ratio"]
    for name in names:
        if not np.isfinite(values[name]):
            why.setdefault(name, "the MSM gives no slowest timescale here (too few connected "
                                 "states, or no trajectory longer than the lag)")
    return values, why, rows
