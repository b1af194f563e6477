"""The artifact layout under the results folder (docs/artifacts.md), one function per
artifact, used by the rules (.smk files) and by the package alike.

`folder` is a protein's name or a multi-protein group (`multi`, `multi_loo/P`); the rules
pass wildcards such as "{protein}" through unchanged.
"""


def aa_trajectory(results: str, protein: str, replica) -> str:
    """One all-atom replica (or adaptive trajectory): positions and forces, nm and kJ/mol/nm."""
    return f"{results}/{protein}/aa/md/{replica}.h5"


def unfolded_start(results: str, protein: str, replica) -> str:
    return f"{results}/{protein}/aa/starts/{replica}.pdb"


def restart(results: str, protein: str, replica, suffix: str = "pdb") -> str:
    """An adaptive trajectory's start (`pdb`: the full state; `json`: where it came from)."""
    return f"{results}/{protein}/aa/restarts/{replica}.{suffix}"


def epoch_choice(results: str, protein: str, epoch) -> str:
    """The restart choice of one adaptive epoch: the frames chosen and why."""
    return f"{results}/{protein}/aa/adaptive/epoch{epoch}.json"


def dataset(results: str, protein: str) -> str:
    """cg_map's Cα dataset (Å, kcal/mol/Å)."""
    return f"{results}/{protein}/cg/dataset.h5"


def cg_topology(results: str, protein: str) -> str:
    return f"{results}/{protein}/cg/topology.pdb"


def delta(results: str, folder: str) -> str:
    """The prior stage's delta forces (mapped − prior) of a protein or a group."""
    return f"{results}/{folder}/cg/delta.h5"


def noise_labels(results: str, folder: str) -> str:
    return f"{results}/{folder}/cg/noise_labels.h5"


def prior(results: str, folder: str, name: str = "prior.yaml") -> str:
    """A protein's or a group's prior (`name`: prior.yaml, fit.png, extended.yaml)."""
    return f"{results}/{folder}/prior/{name}"


def specific_model(results: str, protein: str, name: str = "model.ckpt") -> str:
    """A file of the protein's own network (model.ckpt, metrics.csv, test.json, …)."""
    return f"{results}/{protein}/model/specific/{name}"


def group_model(results: str, group: str, name: str = "model.ckpt") -> str:
    """A file of a multi-protein network (`multi`, `multi_loo/P`)."""
    return f"{results}/{group}/model/{name}"


def cg_run(results: str, protein: str, model: str, name: str) -> str:
    """A file of a CG run (traj.xtc, frames.csv, log.csv, run.json, work)."""
    return f"{results}/{protein}/cgsim/{model}/{name}"


def reference(results: str, protein: str) -> str:
    """The analysis reference of a protein's all-atom data."""
    return f"{results}/{protein}/analysis/reference.npz"


def reference_structures(results: str, protein: str, name: str) -> str:
    """A file of the all-atom states' structures (rule reference_structures)."""
    return f"{results}/{protein}/analysis/reference_{name}"


def model_analysis(results: str, protein: str, model: str, name: str) -> str:
    """A file of one model's analysis (metrics.json, resamples.npz, figures)."""
    return f"{results}/{protein}/analysis/{model}/{name}"
