"""Make the converged reference artifact of a protein from a long all-atom run's analysis.

    snakemake --cores 2 --configfile config/reference.yaml -- reference/chignolin/analysis/reference.npz
    python scripts/converged_reference.py reference chignolin data/reference [--stride 5]

Writes `<out>/<protein>.npz` (the thinned, compressed reference every run can score
against: config `proteins: - converged_reference:`), `<out>/<protein>_folded.pdb` (its
folded structure, Cα only, for the config's `native`), and `<out>/<protein>.json` (how
converged it is: split floor, folded fraction and macrostate populations with 95 %
intervals, slowest implied timescale against lag). docs/reference.md explains each.
"""

import argparse
import json
from pathlib import Path

from cgthermo.analysis import converged
from cgthermo.analysis.inputs import load_topology, to_mdtraj
from cgthermo.io import atomic_path


def write_folded_pdb(ref: dict, topology_path, out_pdb) -> None:
    """The reference's folded structure as a Cα PDB named like the CG topology."""
    traj = to_mdtraj(ref["reference_structure"][None], load_topology(topology_path))
    with atomic_path(out_pdb) as tmp:
        traj.save_pdb(str(tmp))


def sequence_of(topology_path) -> str:
    return "".join(r.code or "X" for r in load_topology(topology_path).residues)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", help="results folder of the long all-atom run")
    parser.add_argument("protein")
    parser.add_argument("out", help="folder for the artifact")
    parser.add_argument("--stride", type=int, default=5, help="keep every n-th frame")
    parser.add_argument("--macrostates", type=int, default=3, help="PCCA+ macrostates")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    base = Path(args.results) / args.protein
    ref = converged.read(base / "analysis" / "reference.npz")
    topology = base / "cg" / "topology.pdb"
    out = Path(args.out)
    of_state = converged.macrostates(ref, args.macrostates)
    record = converged.convergence_record(ref, of_state, args.seed, args.resamples)
    made_by = (f"python scripts/converged_reference.py {args.results} {args.protein} "
               f"{args.out} --stride {args.stride}")  # fmt: skip
    artifact = converged.thin(ref, args.stride, sequence_of(topology), made_by, of_state)
    converged.write_artifact(artifact, out / f"{args.protein}.npz")
    write_folded_pdb(ref, topology, out / f"{args.protein}_folded.pdb")
    record["made_by"] = made_by
    with atomic_path(out / f"{args.protein}.json") as tmp:
        tmp.write_text(json.dumps(record, indent=1) + "\n")
    print(json.dumps(record, indent=1))


if __name__ == "__main__":
    main()
