"""How long CG runs must be to forget their starts: ΔG_fold of the replicas that started folded
against those that started unfolded, over growing lengths of one finished run.

For every length, the frames after the analysis burn-in up to that time give each group's
folded fraction and ΔG_fold = −kT ln(f / (1 − f)) (folded: within analysis.folded_rmsd of the
reference's folded structure); the groups' difference carries a 95 % interval over replicas
resampled within each group. A gap whose interval excludes zero means runs of that length
still remember their starts, so a ΔΔG from them depends on where they began.

    python scripts/start_memory_length.py RESULTS chignolin --model specific
    python scripts/start_memory_length.py RESULTS chignolin --prediction chignolin_balanced
"""

import argparse

import numpy as np

from cgthermo.analysis import bootstrap, inputs, structure
from cgthermo.analysis.metrics import folding_dg_kcal
from cgthermo.analysis.reference import load_reference_npz
from cgthermo.config import schema_default
from cgthermo.units import FS_PER_PS

# a bootstrap over fewer replicas than this gives no interval worth reading
MIN_GROUP = 4


def run_files(results: str, protein: str, model: str, prediction: str | None) -> tuple:
    """(CG run folder, its topology): the protein's run of `model`, or a prediction's run."""
    if prediction:
        folder = f"{results}/predictions/{prediction}"
        return f"{folder}/cgsim", f"{folder}/cg/topology.pdb"
    return f"{results}/{protein}/cgsim/{model}", f"{results}/{protein}/cg/topology.pdb"


def replica_series(folder: str, topology_path: str, folded_structure, cutoff: float):
    """Per kept replica: (times ps, folded flags); exploded replicas are left out whole."""
    topology = inputs.load_topology(topology_path)
    pos = inputs.read_xtc_angstrom(f"{folder}/traj.xtc", topology)
    table = inputs.read_frames_table(f"{folder}/frames.csv", len(pos))
    gone = set(table.loc[inputs.exploded_flags(table), "replica"].astype(int))
    series = {}
    for replica, rows in table.groupby("replica", sort=True):
        if int(replica) in gone:
            continue
        idx = rows.index.to_numpy()
        folded = structure.rmsd_to(pos[idx], folded_structure, topology) < cutoff
        series[int(replica)] = (rows["time_fs"].to_numpy(dtype=float) / FS_PER_PS, folded)
    return series


def with_starts(series: dict, starts_xtc: str, topology_path: str, folded_structure,
                cutoff: float) -> dict:
    """Each replica's start state from the trajectory the run started from (frame k starts
    replica k, as a `starts: trajectory` prediction runs it) instead of its first saved frame."""
    topology = inputs.load_topology(topology_path)
    starts = inputs.read_xtc_angstrom(starts_xtc, topology)
    folded = structure.rmsd_to(starts, folded_structure, topology) < cutoff
    return {replica: (*entry[:2], bool(folded[replica])) for replica, entry in series.items()}


def group_dg(folded, frames, members, m, T) -> np.ndarray:
    """ΔG_fold of the replicas `members` weighted by rows of `m` (resamples, members)."""
    with np.errstate(invalid="ignore", divide="ignore"):
        f = (m @ folded[members]) / (m @ frames[members])
    return np.array([folding_dg_kcal(x, T) for x in np.atleast_1d(f)])


def gap_at(series: dict, end_ps: float, burnin: float, T: float, rng, resamples: int) -> tuple:
    """(n folded-start, n unfolded-start, gap, low, high) for runs cut at `end_ps`."""
    replicas = sorted(series)
    folded, frames, started = (np.zeros(len(replicas)) for _ in range(3))
    for k, replica in enumerate(replicas):
        time, flags = series[replica][:2]
        keep = time <= end_ps
        kept = flags[keep][int(np.floor(burnin * keep.sum())):]
        folded[k], frames[k] = kept.sum(), len(kept)
        started[k] = series[replica][2] if len(series[replica]) > 2 else flags[0]
    groups = [np.flatnonzero(started == 1), np.flatnonzero(started == 0)]
    if min(len(g) for g in groups) < MIN_GROUP:
        return len(groups[0]), len(groups[1]), float("nan"), float("nan"), float("nan")
    point = [group_dg(folded, frames, g, np.ones((1, len(g))), T)[0] for g in groups]
    draws = [group_dg(folded, frames, g, bootstrap.multiplicities(rng, resamples, len(g)), T)
             for g in groups]  # fmt: skip
    low, high, _ = bootstrap.percentile_interval(draws[0] - draws[1])
    return len(groups[0]), len(groups[1]), point[0] - point[1], low, high


def window_fractions(series: dict, edges) -> list:
    """(start, end, folded fraction of folded-start replicas, of unfolded-start ones) of the
    frames in each time window (ps): how fast the runs leave their start state."""
    rows = []
    for lo, hi in zip(edges[:-1], edges[1:], strict=True):
        groups = {True: [], False: []}
        for entry in series.values():
            time, flags = entry[:2]
            started = entry[2] if len(entry) > 2 else flags[0]
            window = (time > lo) & (time <= hi)
            if window.any():
                groups[bool(started)].append(flags[window].mean())
        rows.append((lo, hi, *(float(np.mean(g)) if g else float("nan")
                               for g in (groups[True], groups[False]))))  # fmt: skip
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("protein")
    parser.add_argument("--model", default="specific")
    parser.add_argument("--prediction", help="read this prediction's run instead (e.g. one "
                        "started from scripts/balanced_starts.py's frames)")  # fmt: skip
    parser.add_argument("--starts", help="the xtc the run started from (frame k: replica k), "
                        "to classify each start by itself rather than by the first saved frame")  # fmt: skip
    parser.add_argument("--lengths", default="25,50,100,150,200", help="run lengths, ps")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args()

    ref = load_reference_npz(f"{args.results}/{args.protein}/analysis/reference.npz")
    T = float(ref["temperature_K"])
    folder, topology = run_files(args.results, args.protein, args.model, args.prediction)
    series = replica_series(folder, topology, ref["reference_structure"], float(ref["folded_rmsd"]))
    if args.starts:
        series = with_starts(series, args.starts, topology, ref["reference_structure"],
                             float(ref["folded_rmsd"]))  # fmt: skip
    burnin = schema_default("analysis", "cg_burnin_fraction")
    rng = np.random.default_rng(0)
    print(f"{folder}: folded = Cα RMSD < {float(ref['folded_rmsd'])} Å to "
          f"{ref['reference_source']}; the start is "
          f"{'frame k of ' + args.starts if args.starts else 'each replica' + chr(39) + 's first saved frame'}")
    print("| run length (ps) | folded / unfolded starts | ΔG_fold gap, folded − unfolded starts "
          "(kcal/mol) [95 %] | memory of the starts |")
    print("| --- | --- | --- | --- |")
    for end in (float(x) for x in args.lengths.split(",")):
        n_f, n_u, gap, low, high = gap_at(series, end, burnin, T, rng, args.resamples)
        verdict = (f"undetermined (fewer than {MIN_GROUP} replicas in a group)"
                   if min(n_f, n_u) < MIN_GROUP else "undetermined" if not np.isfinite(low)
                   else "resolved" if low > 0 or high < 0 else "not resolved")  # fmt: skip
        print(f"| {end:g} | {n_f} / {n_u} | {gap:+.2f} [{low:+.2f}, {high:+.2f}] | {verdict} |")
    edges = [0.0, *(float(x) for x in args.lengths.split(","))]
    print("\n| window (ps) | folded fraction, folded starts | unfolded starts |\n| --- | --- | --- |")
    for lo, hi, f_folded, f_unfolded in window_fractions(series, edges):
        print(f"| {lo:g}–{hi:g} | {f_folded:.3f} | {f_unfolded:.3f} |")


if __name__ == "__main__":
    main()
