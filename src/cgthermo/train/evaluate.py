"""Test-set force errors of the full model (prior + NNP) and of the prior alone.

With delta = mapped − prior, the full model's residual mapped − (prior + NNP)
is delta − NNP, and the prior alone leaves delta itself. All values are per
Cartesian force component, in kcal/mol/Å.
"""

import numpy as np
import torch

from ..cgmap.dataset import read_rows

EVAL_BATCH_FRAMES = 256
EVAL_BLOCK_FRAMES = 8192  # test frames read from the files at a time


def load_network(path, device="cpu"):
    from torchmdnet.models.model import load_model

    model = load_model(str(path), derivative=True, device=device)
    model.eval()
    return model


def predict_forces(model, types, pos, device="cpu", batch_frames=EVAL_BATCH_FRAMES) -> np.ndarray:
    """NNP forces (frames, beads, 3) in kcal/mol/Å for positions (frames, beads, 3) in Å."""
    frames, beads = pos.shape[:2]
    dtype = next(model.parameters()).dtype
    out = np.empty((frames, beads, 3), dtype=np.float32)
    z_one = torch.as_tensor(types, dtype=torch.long, device=device)
    for start in range(0, frames, batch_frames):
        chunk = torch.as_tensor(pos[start : start + batch_frames], dtype=dtype, device=device)
        n = chunk.shape[0]
        z = z_one.repeat(n)
        batch = torch.arange(n, device=device).repeat_interleave(beads)
        _, forces = model(z, chunk.reshape(-1, 3), batch=batch)
        out[start : start + n] = forces.detach().reshape(n, beads, 3).cpu().numpy()
    return out


class ForceErrors:
    """Running sums over force components for the error statistics."""

    def __init__(self):
        self.n = 0
        self.sums = dict.fromkeys(
            ("resid2", "resid_abs", "delta2", "delta_abs", "delta", "mapped", "mapped2"), 0.0
        )

    def add(self, delta, nnp, mapped):
        resid = (delta - nnp).astype(np.float64)
        delta = delta.astype(np.float64)
        mapped = mapped.astype(np.float64)
        self.n += resid.size
        self.sums["resid2"] += float((resid**2).sum())
        self.sums["resid_abs"] += float(np.abs(resid).sum())
        self.sums["delta2"] += float((delta**2).sum())
        self.sums["delta_abs"] += float(np.abs(delta).sum())
        self.sums["delta"] += float(delta.sum())
        self.sums["mapped"] += float(mapped.sum())
        self.sums["mapped2"] += float((mapped**2).sum())

    def merge(self, other: "ForceErrors"):
        self.n += other.n
        for key in self.sums:
            self.sums[key] += other.sums[key]

    def summary(self) -> dict:
        if self.n == 0:
            return {"force_components": 0, "full_model": None, "prior_only": None}
        s, n = self.sums, self.n
        delta_var = s["delta2"] / n - (s["delta"] / n) ** 2
        mapped_var = s["mapped2"] / n - (s["mapped"] / n) ** 2
        return {
            "force_components": n,
            "full_model": {"rmse": np.sqrt(s["resid2"] / n), "mae": s["resid_abs"] / n},
            "prior_only": {"rmse": np.sqrt(s["delta2"] / n), "mae": s["delta_abs"] / n},
            # share of the delta-force variance the network accounts for (1 = all of it)
            "delta_variance_explained": _explained(s["resid2"] / n, delta_var),
            "mapped_force_std": np.sqrt(max(mapped_var, 0.0)),
            # the same against the mapped forces: prior alone vs prior + NNP
            "mapped_variance_explained": {
                "full_model": _explained(s["resid2"] / n, mapped_var),
                "prior_only": _explained(s["delta2"] / n, mapped_var),
            },
        }


def _explained(mean_square_residual, variance):
    return 1.0 - mean_square_residual / variance if variance > 0 else None


def group_errors(model, delta_path, mapped_path, group, test_index, device="cpu",
                 block_frames: int = EVAL_BLOCK_FRAMES) -> ForceErrors:  # fmt: skip
    """Errors over one group's test frames (global indices in `test_index`), read from the
    delta and mapped files a block of test frames at a time."""
    import h5py

    errors = ForceErrors()
    local = np.sort(group.local(test_index))
    if len(local) == 0:
        return errors
    with h5py.File(delta_path, "r") as delta, h5py.File(mapped_path, "r") as mapped:
        stored = delta[group.name]["types"]  # (beads,), or per frame (frames, beads)
        types = np.asarray(stored[0] if stored.ndim == 2 else stored[:], dtype=np.int64)
        for start in range(0, len(local), block_frames):
            rows = local[start : start + block_frames]
            pos = read_rows(delta[group.name]["pos"], rows)
            nnp = predict_forces(model, types, pos, device=device)
            errors.add(read_rows(delta[group.name]["forces"], rows), nnp,
                       read_rows(mapped[group.name]["forces"], rows))  # fmt: skip
    return errors


def test_report(model, delta_path, mapped_paths: dict, groups, test_index, device="cpu") -> dict:
    """Overall and per-protein test errors, as written to test.json."""
    total = ForceErrors()
    per_protein = {}
    for group in groups:
        errors = group_errors(
            model, delta_path, mapped_paths[group.name], group, test_index, device
        )
        per_protein[group.name] = _plain(errors.summary())
        total.merge(errors)
    report = _plain(total.summary())
    report["per_protein"] = per_protein
    report["units"] = "kcal/mol/Å (per Cartesian force component)"
    return report


def _plain(value):
    """numpy scalars to Python floats so the report serializes as JSON."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (np.floating, np.integer)):
        return value.item()
    return value
