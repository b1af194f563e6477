"""The all-atom reference read and featurized a block of frames at a time: blocks smaller than
the data, and ones that do not divide it, give the reference of whole pieces, in bounded memory."""

import tracemalloc

import h5py
import numpy as np
import pytest
from helpers import analysis_synthetic as synthetic

from cgthermo.analysis import features, inputs, kinetics, reference, structure

SEQUENCE = "KAAWAEYYKAAW"
SETTINGS = dict(
    min_sequence_separation=3, tica_lag=3, tica_dim=3, n_clusters=8, msm_lag=2,
    reweight="msm", fes_bins=15, fes_margin=0.1, its_lags=[1, 2, 4],
    native_cutoff=8.0, folded_rmsd=2.0,
)  # fmt: skip
N_PAIRS = len(features.distance_pairs(len(SEQUENCE), 3))


def build(tmp_path, dataset="dataset.h5", **settings):
    return reference.build_reference(tmp_path / dataset, tmp_path / "topology.pdb", "pep",
                                     {**SETTINGS, **settings}, 340.0, seed=1)  # fmt: skip


@pytest.fixture
def stored(tmp_path):
    synthetic.write_topology(tmp_path / "topology.pdb", SEQUENCE)
    synthetic.write_dataset(tmp_path / "dataset.h5", "pep", SEQUENCE, 3, 400, seed=5)
    return tmp_path


def shuffle_rows(source, target, seed: int = 0) -> None:
    """The same frames in a random row order: the pieces are then read by a selection."""
    with h5py.File(source, "r") as src, h5py.File(target, "w") as dst:
        order = np.random.default_rng(seed).permutation(len(src["pep/pos"]))
        group = dst.create_group("pep")
        for name in ("pos", "forces", "replica", "time"):
            group[name] = src["pep"][name][:][order]
        group["types"] = src["pep/types"][:]
        group.attrs.update(src["pep"].attrs)


@pytest.mark.parametrize("frames_per_block", [7, 100])
def test_blocked_reference_equals_the_reference_of_whole_pieces(stored, monkeypatch,
                                                                 frames_per_block):  # fmt: skip
    whole = build(stored)
    # 400-frame pieces: 7 divides neither them nor 100 + the lag of 3
    monkeypatch.setattr(features, "BLOCK_DISTANCES", frames_per_block * N_PAIRS)
    assert features.frames_per_block(N_PAIRS) == frames_per_block
    blocked = build(stored)
    for key in ("tica_eigenvalues", "tica_mean", "tica_timescales", "weights", "rmsd", "q", "rg",
                "unit_pair_sums", "pair_distance_mean", "reference_structure", "state_pi"):  # fmt: skip
        np.testing.assert_allclose(blocked[key], whole[key], rtol=1e-6, atol=1e-9, err_msg=key)
    # the eigenvectors up to the sign the eigensolver gives each
    dim = int(whole["tica_dim"])
    signs = np.sign(np.sum(blocked["tica_eigenvectors"] * whole["tica_eigenvectors"], axis=0))
    np.testing.assert_allclose(blocked["tica_eigenvectors"][:, :dim] * signs[:dim],
                               whole["tica_eigenvectors"][:, :dim], rtol=1e-5, atol=1e-7)  # fmt: skip
    np.testing.assert_allclose(blocked["tics"] * signs[:dim], whole["tics"], atol=1e-4)
    assert np.array_equal(blocked["dtraj"], whole["dtraj"])


def test_rows_out_of_time_order_are_read_into_the_same_pieces(stored):
    shuffle_rows(stored / "dataset.h5", stored / "shuffled.h5")
    ordered, shuffled = build(stored), build(stored, "shuffled.h5")
    for key in ("tics", "weights", "rmsd", "unit_pair_sums", "frame_unit", "piece_lengths"):
        np.testing.assert_allclose(shuffled[key], ordered[key], rtol=1e-6, atol=1e-6,
                                   err_msg=key)  # fmt: skip


def test_lagged_blocks_hold_every_lagged_pair_exactly_once():
    piece, lag = np.arange(23), 3
    pairs = [(int(b[t]), int(b[t + lag]))
             for _, b in features.frame_blocks(piece, 5, overlap=lag)
             for t in range(len(b) - lag)]  # fmt: skip
    assert sorted(pairs) == [(t, t + lag) for t in range(23 - lag)]


def test_kmeans_places_its_centres_on_every_nth_frame_and_assigns_all():
    rng = np.random.default_rng(2)
    pieces = [rng.normal(size=(n, 2)).astype(np.float32) for n in (2500, 1301)]
    stride = kinetics.kmeans_stride(3801, 1000)
    assert stride == 4
    centres, dtrajs = kinetics.cluster(pieces, 20, seed=3, stride=stride)
    assert [len(d) for d in dtrajs] == [2500, 1301]
    # every frame sits at its nearest centre
    for piece, d in zip(pieces, dtrajs, strict=True):
        nearest = np.argmin(((piece[:, None] - centres[None]) ** 2).sum(-1), axis=1)
        assert np.mean(nearest == d) > 0.999


def test_a_non_finite_block_is_named_with_its_file(stored):
    with h5py.File(stored / "dataset.h5", "r+") as fh:
        fh["pep/pos"][650, 2, 1] = np.nan
    with pytest.raises(Exception, match="non-finite coordinates"):
        build(stored)


def peak_traced_mb(function) -> float:
    tracemalloc.start()
    try:
        function()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def traced_reference_peak_mb(folder, frames: int, warm_up: bool = False) -> tuple[float, float]:
    """(peak MB while building the reference of one `frames`-frame 40-bead replica, MB its
    pair distances would take whole); `warm_up` builds it once untraced first, so that the
    libraries' first imports and caches are not counted."""
    sequence = "KAAWAEYYKA" * 4
    folder.mkdir()
    synthetic.write_topology(folder / "topology.pdb", sequence)
    synthetic.write_dataset(folder / "dataset.h5", "pep", sequence, 1, frames, seed=3)
    settings = {**SETTINGS, "n_clusters": 20}

    def run():
        reference.build_reference(folder / "dataset.h5", folder / "topology.pdb", "pep",
                                  settings, 340.0, seed=1)  # fmt: skip

    if warm_up:
        run()
    return peak_traced_mb(run), frames * len(features.distance_pairs(40, 3)) * 4 / 1e6


def test_reference_memory_does_not_grow_with_the_frames_positions_or_distances(tmp_path,
                                                                               monkeypatch):  # fmt: skip
    """From 6,000 to 18,000 frames the positions grow by 5.8 MB and the pair distances by
    34 MB (and the blocks fitted by TICA would be left to the garbage collector: +11 MB);
    the traced peak grows by the per-frame outputs alone (TICs, microstates, weights, RMSD,
    Q, Rg: about 0.4 MB)."""
    monkeypatch.setattr(features, "BLOCK_DISTANCES", 1 << 16)  # 256 kB of distances
    monkeypatch.setattr(kinetics, "MOMENT_BYTES", 1 << 20)  # TICA keeps 2 partial estimates
    monkeypatch.setattr(kinetics, "UNCOLLECTED_BYTES", 1 << 20)
    small, _ = traced_reference_peak_mb(tmp_path / "small", 6_000, warm_up=True)
    large, distances = traced_reference_peak_mb(tmp_path / "large", 18_000)
    assert distances > 50
    assert large - small < 3.0, f"peak {small:.1f} MB at 6,000 frames, {large:.1f} MB at 18,000"


def test_positions_are_read_a_block_at_a_time(stored, monkeypatch):
    monkeypatch.setattr(features, "BLOCK_DISTANCES", 50 * N_PAIRS)
    largest = []
    read_rows = inputs.read_rows

    def recording(dataset, rows):
        largest.append((len(rows), bool(np.any(np.diff(rows) != 1))))
        return read_rows(dataset, rows)

    monkeypatch.setattr(inputs, "read_rows", recording)
    build(stored)
    contiguous = [n for n, gaps in largest if not gaps]
    assert max(contiguous) == 50  # a block, its lagged overlap included
    # the medoid's candidates, evenly spaced members of one microstate
    assert max(n for n, _ in largest) <= structure.MEDOID_MEMBERS


def test_open_reference_reads_positions_in_angstrom_by_piece(stored):
    top = inputs.load_topology(stored / "topology.pdb")
    with h5py.File(stored / "dataset.h5", "r") as fh:
        expected = fh["pep/pos"][400:800]
    with inputs.open_reference(stored / "dataset.h5", "pep", top) as (ensemble, temperature):
        assert temperature == 340.0
        assert [len(p) for p in ensemble.pieces] == [400, 400, 400]
        assert ensemble.n_beads == len(SEQUENCE)
        np.testing.assert_array_equal(ensemble.pieces[1][:], expected)
        np.testing.assert_array_equal(ensemble.pieces[1][[5, 2]], expected[[5, 2]])


@pytest.mark.parametrize("rows", [[5, 2, 5, 390], [7, 6, 7], [900, 3, 3, 1100]])
def test_rows_are_read_in_the_order_given_repeats_included(stored, rows):
    from cgthermo.cgmap.dataset import read_rows

    with h5py.File(stored / "dataset.h5", "r") as fh:
        whole = fh["pep/pos"][:]
        np.testing.assert_array_equal(read_rows(fh["pep/pos"], np.array(rows)), whole[rows])
