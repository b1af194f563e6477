"""The prior as a torchmd force field: one package for everything that reads, writes, names,
evaluates or extends a prior YAML.

- `yamlio`: reading a prior YAML, its terms, writing one atomically (no torch);
- `naming`: the two namings of bead types (residue names, CA + one-letter codes) and a
  chain typed the way a prior names its beads (no torch);
- `torchmd`: torchmd's Parameters and Forces of a prior, and the many-frame evaluator that
  gives delta forces and noise labels;
- `batched`: the prior evaluated for all replicas at once, which CG runs integrate with;
- `extend`: a prior extended to a sequence it was not fitted on (predictions, transfer).

Fitting a prior from data is the prior stage's (`cgthermo.prior`); this package is what
every stage that uses one shares.
"""
