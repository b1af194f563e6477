"""The OpenMM force field files of an all-atom setting (no OpenMM import: the backmap job and
the all-atom jobs share it)."""

PROTEIN_FORCEFIELD = {"amber14": "amber14-all.xml", "charmm36": "charmm36.xml"}
WATER_FORCEFIELD = {"amber14": "amber14/{water}.xml", "charmm36": "charmm36/water.xml"}


def forcefield_files(settings: dict) -> list[str]:
    """The protein force field and, by `solvent`, its implicit model or its water model."""
    files = [PROTEIN_FORCEFIELD[settings["forcefield"]]]
    if settings["solvent"] == "implicit":
        files.append(f"implicit/{settings['implicit_model']}.xml")
    else:
        files.append(WATER_FORCEFIELD[settings["forcefield"]].format(water=settings["water_model"]))
    return files
