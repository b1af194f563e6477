"""Structures users look at: all-atom models of CG frames."""
