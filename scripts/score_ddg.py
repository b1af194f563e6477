"""Score a run's predicted ΔΔG of folding against measured ones.

    python scripts/score_ddg.py results/predictions.csv system_info.csv [--resamples 1000]

The table is in the layout of the BioEmu benchmarks' folding free energies
(`system_info.csv` of the `bioemu-benchmarks` package: name, name_wt, mutant, dg_exp,
ddg_exp, …, sequence); predictions are matched to its mutants by sequence, or by the same
substitutions against an overlapping wild type (cgthermo.predict.experiment). Prints ΔΔG MAE,
Pearson and Spearman correlations and the fraction of mutants with the measured sign, each
with its 95 % interval over resampled mutants (cgthermo.predict.experiment). For scale:
the BioEmu model reports a ΔΔG MAE of 0.74 kcal/mol and a Pearson correlation of 0.61 on its
full set.
"""

import argparse

import pandas as pd

from cgthermo.predict.experiment import SCORES, matched, read_table, score_with_intervals


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("predictions")
    parser.add_argument("table")
    parser.add_argument("--resamples", type=int, default=1000)
    args = parser.parse_args(argv)
    table, wild_types = read_table(args.table)
    pairs = matched(pd.read_csv(args.predictions), table, wild_types)
    print(pairs.to_string(index=False))
    result = score_with_intervals(pairs, args.resamples)
    print(f"\n{result['n_mutants']} mutants")
    for name in SCORES:
        print(f"{name}: {result[name]:.3f} [{result[name + '_ci_low']:.3f}, "
              f"{result[name + '_ci_high']:.3f}]")


if __name__ == "__main__":
    main()
