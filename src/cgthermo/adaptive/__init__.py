"""Adaptive sampling of the all-atom data: which frames each epoch restarts from."""
