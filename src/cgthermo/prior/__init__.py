"""The physics prior: Boltzmann-inversion fits, torchmd YAML, fit plot and delta forces."""
