"""Cα mapping of all-atom data (or imported data) into the CG force-matching dataset."""
