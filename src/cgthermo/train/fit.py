"""Training through torchmd-net's own machinery: its DataModule, HDF5 dataset and LNNP module.

We do what `torchmd-train` does (same objects, same Trainer settings) and add
only what the workflow needs around it: our splits file, a `last.ckpt` for
resuming, the per-epoch history, and the device choice.
"""

import logging
import shutil
from pathlib import Path

import torch

from ..errors import CgthermoError
from .settings import Device

log = logging.getLogger(__name__)

MONITOR = "val_total_mse_loss"  # torchmd-net's name for the validation loss (forces only here)
LAST = "last"


def _callback_classes():
    import lightning.pytorch as pl

    class EpochHistory(pl.Callback):
        """Per-epoch train/val loss and learning rate, kept in the checkpoints so a resume keeps them."""

        def __init__(self):
            self.rows = []

        def on_validation_end(self, trainer, pl_module):
            if trainer.sanity_checking:
                return
            metrics = trainer.callback_metrics
            row = {
                "epoch": int(trainer.current_epoch),
                "train_loss": _as_float(metrics.get("train_total_mse_loss")),
                "val_loss": _as_float(metrics.get(MONITOR)),
                "lr": float(trainer.optimizers[0].param_groups[0]["lr"]),
            }
            self.rows = [r for r in self.rows if r["epoch"] != row["epoch"]] + [row]
            if trainer.is_global_zero:
                log.info(
                    "epoch %d  train %.5g  val %.5g  lr %.3g",
                    row["epoch"], row["train_loss"], row["val_loss"], row["lr"],
                )  # fmt: skip

        def state_dict(self):
            return {"rows": list(self.rows)}

        def load_state_dict(self, state_dict):
            self.rows = list(state_dict.get("rows", []))

    return EpochHistory


def _as_float(value):
    return float(value) if value is not None else float("nan")


def readable_checkpoint(path) -> bool:
    """A checkpoint cut short by a kill cannot be resumed from; such a file is ignored."""
    if not Path(path).is_file():
        return False
    try:
        torch.load(path, map_location="cpu", weights_only=False)
    except Exception as err:  # any unreadable file means: start over
        log.warning("ignoring unreadable checkpoint %s (%s); training starts over", path, err)
        return False
    return True


def build_trainer(args, device: Device, work_dir: Path):
    """Callbacks and Trainer as torchmd-train sets them up, plus a last.ckpt written every epoch."""
    import lightning.pytorch as pl
    from lightning.pytorch.callbacks import EarlyStopping, ModelCheckpoint

    best = ModelCheckpoint(
        dirpath=work_dir,
        monitor=MONITOR,
        save_top_k=1,
        filename="best-{epoch}",
        every_n_epochs=1,
    )
    # monitor=None: written after every validation, whether or not it improved
    last = ModelCheckpoint(
        dirpath=work_dir, monitor=None, save_top_k=1, filename=LAST, enable_version_counter=False
    )
    history = _callback_classes()()
    callbacks = [history, best, last, EarlyStopping(MONITOR, patience=args.early_stopping_patience)]
    trainer = pl.Trainer(
        strategy=device.strategy,
        max_epochs=args.num_epochs,
        accelerator=device.accelerator,
        devices=device.devices,
        num_nodes=args.num_nodes,
        default_root_dir=str(work_dir),
        callbacks=callbacks,
        logger=False,
        precision=args.precision,
        gradient_clip_val=args.gradient_clipping,
        inference_mode=False,
        enable_progress_bar=False,
        enable_model_summary=False,
    )
    return trainer, best, history


def fit(args, device: Device, work_dir) -> dict:
    """Train (or resume) and return the best checkpoint path and the epoch history."""
    import lightning.pytorch as pl
    from torchmdnet.data import DataModule
    from torchmdnet.models.model import create_prior_models
    from torchmdnet.module import LNNP

    work_dir = Path(work_dir)
    pl.seed_everything(args.seed, workers=True, verbose=False)
    data = DataModule(args)
    data.prepare_data()
    data.setup("fit")
    prior_models = create_prior_models(vars(args), data.dataset)
    args.prior_args = [p.get_init_args() for p in prior_models]
    model = LNNP(args, prior_model=prior_models, mean=data.mean, std=data.std)

    trainer, best, history = build_trainer(args, device, work_dir)
    resume = work_dir / f"{LAST}.ckpt"
    resume_from = str(resume) if readable_checkpoint(resume) else None
    if resume_from:
        log.info("resuming from %s", resume_from)
    trainer.fit(model, data, ckpt_path=resume_from)
    if not best.best_model_path or not Path(best.best_model_path).is_file():
        raise CgthermoError(
            f"training in {work_dir} produced no best checkpoint (validation loss never finite)",
            "check the dataset for extreme forces and lower train.lr",
        )
    return {
        "best": best.best_model_path,
        "history": history.rows,
        "is_global_zero": trainer.is_global_zero,
    }


def clear_checkpoints(work_dir) -> None:
    """Remove checkpoints so a later forced rerun trains from scratch."""
    for ckpt in Path(work_dir).glob("*.ckpt"):
        ckpt.unlink()


def reset_work_dir(work_dir) -> None:
    shutil.rmtree(work_dir, ignore_errors=True)
    Path(work_dir).mkdir(parents=True, exist_ok=True)
