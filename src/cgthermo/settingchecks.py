"""Checks of settings that constrain each other, on a config the schema accepted.

The schema gives every number its own range; what it cannot say is how keys bound each
other (a cutoff pair, a lag against the run it lags, a stride against a time step). Each
check returns one line per problem naming the keys, the values and the fix
(docs/inputs.md), so a run that would fail or compute nothing stops when the workflow
loads.
"""

from pathlib import Path

from . import config as cgconfig
from .aa.timing import restart_stride, saved_frames, whole_steps
from .errors import CgthermoError

# the longest stable all-atom time step (fs) without HBonds constraints, with them, and with
# them and hydrogen mass repartitioning
MAX_AA_TIMESTEP_FS = {"none": 2.0, "HBonds": 2.5, "HBonds+HMR": 5.0}


def setting_problems(config: dict) -> list[CgthermoError]:
    """Every cross-key problem of a validated config (defaults filled in)."""
    problems = results_problems(config["results"])
    problems += train_problems(config["train"], config["cgsim"])
    problems += prior_problems(config["prior"])
    problems += cgsim_problems(config["cgsim"])
    problems += interval_problems(config)
    problems += refit_problems(config["analysis"])
    for entry in config["proteins"]:
        if "import" in entry:
            problems += imported_problems(config, entry)
        else:
            problems += aa_problems(config, entry["name"])
    return problems


def interval_problems(config: dict) -> list[CgthermoError]:
    """With the expanded interval, enough resamples beyond each end of it for the fewest
    replicas a protein is resampled with (its all-atom or its CG replicas)."""
    analysis = config["analysis"]
    if analysis["interval"] != "expanded":
        return []
    from .analysis.bootstrap import least_resamples

    replicas = [cgconfig.aa_settings(config, e["name"])["replicas"]
                for e in config["proteins"] if "import" not in e]  # fmt: skip
    units = min([config["cgsim"]["replicas"], *replicas])
    needed = least_resamples(units, analysis["interval"])
    if analysis["bootstrap_resamples"] >= needed:
        return []
    return [CgthermoError(
        f"config key 'analysis.bootstrap_resamples' ({analysis['bootstrap_resamples']}) leaves "
        f"fewer than 5 resamples beyond each end of the {analysis['interval']} interval over "
        f"{units} replicas", f"raise it to at least {needed}")]


def refit_problems(analysis: dict) -> list[CgthermoError]:
    """Refitting TICA per resample keeps the microstates, so it needs uniform frame weights."""
    if not analysis["refit_tica"] or analysis["reweight"] == "histogram":
        return []
    return [CgthermoError(
        "config key 'analysis.refit_tica' is true with analysis.reweight: "
        f"{analysis['reweight']}: the MSM's microstates would have to be refitted with TICA",
        "set analysis.refit_tica: false, or analysis.reweight: histogram")]


def imported_problems(config: dict, entry: dict) -> list[CgthermoError]:
    """The analysis lags against imported data: one trajectory of as many frames as its
    force array has rows (its files' own problems are the content check's)."""
    import numpy as np

    path = Path(entry["import"].get("forces", ""))
    if not path.is_file():
        return []
    try:
        frames = int(np.load(path, mmap_mode="r", allow_pickle=False).shape[0])
    except (ValueError, OSError, AttributeError, IndexError):
        return []  # not an .npy array: the content check names it
    return lag_problems(config["analysis"], entry["name"], frames, 1)


def results_problems(results: str) -> list[CgthermoError]:
    path = Path(results).expanduser()
    if path.resolve() == Path(path.resolve().anchor):
        return [CgthermoError(f"config key 'results' is '{results}', the filesystem root",
                              "name a folder of its own for the artifacts, e.g. results: results")]
    if path.exists() and not path.is_dir():
        return [CgthermoError(f"config key 'results' is '{results}', which is a file",
                              "name a folder for the artifacts")]
    return []


def ordered_pair(low_key: str, low, high_key: str, high, what: str) -> list[CgthermoError]:
    """A problem unless low < high."""
    if low < high:
        return []
    return [CgthermoError(f"config key '{low_key}' ({low}) is not below '{high_key}' ({high}): "
                          f"{what}", f"make {low_key} smaller than {high_key}")]


def train_problems(train: dict, cgsim: dict) -> list[CgthermoError]:
    problems = ordered_pair("train.cutoff_lower", train["cutoff_lower"], "train.cutoff_upper",
                            train["cutoff_upper"],
                            "the network would see no pair and learn nothing")
    if train["lr_min"] > train["lr"]:
        problems.append(CgthermoError(
            f"config key 'train.lr_min' ({train['lr_min']}) is above 'train.lr' ({train['lr']})",
            "make lr_min at most lr"))
    if train["val_size"] + train["test_size"] >= 1:
        problems.append(CgthermoError(
            f"config keys 'train.val_size' ({train['val_size']}) and 'train.test_size' "
            f"({train['test_size']}) leave no frame for training",
            "make val_size + test_size smaller than 1 (e.g. 0.05 and 0.1)"))
    if cgsim["cuda_graph"] and train["model"] != "tensornet":
        problems.append(CgthermoError(
            f"config key 'cgsim.cuda_graph' is true but 'train.model' is {train['model']}, "
            "whose shapes change from step to step and cannot be captured",
            "set train.model: tensornet, or cgsim.cuda_graph: false"))
    if train["networks"] > 1 and cgsim["sampler"] != "langevin":
        problems.append(CgthermoError(
            f"config key 'train.networks' is {train['networks']} with cgsim.sampler: "
            f"{cgsim['sampler']}, whose ladders would swap replicas between networks",
            "set cgsim.sampler: langevin, or train.networks: 1"))
    if train["networks"] > cgsim["replicas"]:
        problems.append(CgthermoError(
            f"config key 'train.networks' ({train['networks']}) is above cgsim.replicas "
            f"({cgsim['replicas']}): a network would drive no replica",
            "raise cgsim.replicas or lower train.networks"))
    return problems


def prior_problems(prior: dict) -> list[CgthermoError]:
    problems = []
    for key in ("bond_range", "repulsion_range"):
        low, high = prior[key]
        if low >= high:
            problems.append(CgthermoError(f"config key 'prior.{key}' is [{low}, {high}]: its "
                                          "low end is not below its high end",
                                          f"give prior.{key} as [low, high], e.g. [{high}, {low}]"
                                          if high < low else f"widen prior.{key}"))
    if prior.get("repulsion_excludes") == "angles" and not prior.get("angles"):
        problems.append(CgthermoError(
            "config key 'prior.repulsion_excludes' is angles but prior.angles is false: the "
            "1-3 pairs would have no term at all",
            "set prior.angles: true, or prior.repulsion_excludes: bonds"))  # fmt: skip
    return problems


def cgsim_problems(sim: dict) -> list[CgthermoError]:
    if sim["save_every"] > sim["steps"]:
        return [CgthermoError(
            f"config key 'cgsim.save_every' ({sim['save_every']}) is longer than the run "
            f"('cgsim.steps': {sim['steps']}): no frame would be saved",
            "make cgsim.steps at least cgsim.save_every")]
    return []


def aa_problems(config: dict, name: str) -> list[CgthermoError]:
    """The all-atom run of one protein (with its overrides) and the analysis of its frames."""
    aa = cgconfig.aa_settings(config, name)
    where = f"proteins.{name}.aa" if cgconfig.protein(config, name).get("aa") else "aa"
    problems = timestep_problems(aa, where)
    if not whole_steps(aa["save_every_ps"], aa["timestep_fs"]):
        problems.append(CgthermoError(
            f"config key '{where}.save_every_ps' ({aa['save_every_ps']} ps) is not a whole "
            f"number of {aa['timestep_fs']} fs time steps",
            f"make {where}.save_every_ps a multiple of {where}.timestep_fs"))
    frames = saved_frames(aa["length_ns"], aa["save_every_ps"])
    if frames < 1:
        return problems + [CgthermoError(
            f"config key '{where}.save_every_ps' ({aa['save_every_ps']} ps) is longer than the "
            f"run ('{where}.length_ns': {aa['length_ns']} ns): no frame would be saved",
            f"make {where}.length_ns at least {where}.save_every_ps / 1000")]
    problems += adaptive_problems(config, aa, where, frames)
    return problems + lag_problems(config["analysis"], name, frames, aa["replicas"])


def adaptive_problems(config: dict, aa: dict, where: str, frames: int) -> list[CgthermoError]:
    """Adaptive sampling: restart states on whole save strides, a restart-choice lag within
    a trajectory, and the MSM that turns the data back into an equilibrium."""
    if not cgconfig.is_adaptive(aa):
        return []
    adaptive, problems = aa["adaptive"], []
    every = adaptive["restart_every_ps"]
    stride = restart_stride(aa["sampling"], every, aa["save_every_ps"])
    if stride is None or stride > frames:
        problems.append(CgthermoError(
            f"config key '{where}.adaptive.restart_every_ps' ({every} ps) is not a whole "
            f"number of save strides ({aa['save_every_ps']} ps) within a trajectory "
            f"({adaptive['length_ns']} ns)",
            f"make it a multiple of {where}.save_every_ps up to the trajectory length, or null"))
    if adaptive["tica_lag"] >= frames:
        problems.append(CgthermoError(
            f"config key '{where}.adaptive.tica_lag' ({adaptive['tica_lag']} frames) is not "
            f"shorter than a trajectory ({frames} frames)",
            f"lower it, or lengthen {where}.adaptive.length_ns"))
    if config["analysis"]["reweight"] != "msm":
        problems.append(CgthermoError(
            f"config key 'analysis.reweight' is '{config['analysis']['reweight']}', but "
            f"'{where}.sampling' is adaptive: counting frames would weight the states the "
            "restarts chose",
            "set analysis.reweight: msm (the reversible MSM over all trajectories)"))
    return problems


def timestep_problems(aa: dict, where: str) -> list[CgthermoError]:
    scheme = "none" if aa["constraints"] == "none" else ("HBonds+HMR" if aa["hmr"] else "HBonds")
    limit = MAX_AA_TIMESTEP_FS[scheme]
    if aa["timestep_fs"] <= limit:
        return []
    return [CgthermoError(
        f"config key '{where}.timestep_fs' ({aa['timestep_fs']} fs) is above {limit} fs, the "
        f"longest stable step with constraints: {aa['constraints']} and hmr: {str(aa['hmr']).lower()}",
        f"make it at most {limit} fs, or use constraints: HBonds with hmr: true for up to 4 fs")]


def lag_problems(analysis: dict, name: str, frames: int, replicas: int) -> list[CgthermoError]:
    """TICA and MSM lags shorter than a replica's frames; fewer microstates than frames."""
    problems = []
    lags = [("tica_lag", analysis["tica_lag"]), ("msm_lag", analysis["msm_lag"])]
    lags += [("its_lags", lag) for lag in analysis["its_lags"]]
    for key, lag in lags:
        if lag >= frames:
            problems.append(CgthermoError(
                f"config key 'analysis.{key}' ({lag} frames) is not shorter than protein "
                f"{name}'s all-atom replicas ({frames} frames each)",
                f"make analysis.{key} at most {frames - 1}, or run aa longer"))
    if analysis["n_clusters"] >= frames * replicas:
        problems.append(CgthermoError(
            f"config key 'analysis.n_clusters' ({analysis['n_clusters']}) asks for as many "
            f"microstates as protein {name} has all-atom frames ({frames * replicas})",
            "make analysis.n_clusters far smaller than the frames (e.g. frames / 20)"))
    return problems
