"""``NB201Space.build``: the official NAS-Bench-201 network, checked against the table's
parameter and FLOP counts (``nb201.npz``), its forward shapes and determinism; and the
protocol's default ``build`` for spaces that cannot build models."""

from __future__ import annotations

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from nasopt.core.data import find_data_file  # noqa: E402
from nasopt.core.errors import ConfigurationError, InvalidArchitectureError  # noqa: E402
from nasopt.proxies import flops, params  # noqa: E402
from nasopt.spaces import NB201Space, ProductSpace  # noqa: E402

#: table column prefix, classes, input side
DATASETS = (("cifar10_valid", 10, 32), ("cifar100", 100, 32), ("imagenet16", 120, 16))


@pytest.fixture(scope="module")
def table():
    path = find_data_file("nb201.npz")
    if path is None:
        pytest.skip("nb201.npz not found (set NASOPT_DATA)")
    with np.load(path) as data:
        return {k: data[k] for k in data.files if k.endswith(("_params_M", "_flops_M")) or k == "ops"}


@pytest.fixture(scope="module")
def space(table):
    return NB201Space()


def checked_cells(table) -> list[int]:
    """20 random cells, the extremes (fewest and most parameters: all ``none`` and all
    ``nor_conv_3x3``), and one cell of each of the 28 (#conv1x1, #conv3x3) classes."""
    ops = table["ops"]
    rng = np.random.default_rng(2024)
    cells = [int(i) for i in rng.choice(len(ops), 20, replace=False)]
    cells += [int(np.flatnonzero((ops == 0).all(1))[0]), int(np.flatnonzero((ops == 3).all(1))[0])]
    counts = (ops == 2).sum(1) * 7 + (ops == 3).sum(1)
    cells += [int(np.flatnonzero(counts == c)[0]) for c in np.unique(counts)]
    return sorted(set(cells))


def test_parameter_counts_equal_the_table_for_every_dataset(table, space):
    cells = checked_cells(table)
    assert len(cells) >= 45
    for name, classes, _ in DATASETS:
        built = np.array([params(space.build(space[i], num_classes=classes)) for i in cells])
        expected = np.rint(table[f"{name}_params_M"][cells].astype(np.float64) * 1e6).astype(np.int64)
        assert built.tolist() == expected.tolist(), name


def test_parameters_depend_only_on_the_convolution_counts_so_all_cells_match(table):
    """The built network's parameters are a function of (#nor_conv_1x1, #nor_conv_3x3) of
    the cell; the table agrees (one value per class), so the 28 classes checked above cover
    all 15,625 cells."""
    ops = table["ops"]
    counts = (ops == 2).sum(1) * 7 + (ops == 3).sum(1)
    for name, _, _ in DATASETS:
        col = table[f"{name}_params_M"]
        assert all(np.ptp(col[counts == c]) == 0 for c in np.unique(counts)), name


def test_flops_in_the_nb201_convention_equal_the_table(table, space):
    cells = checked_cells(table)[:30]
    for name, classes, side in DATASETS:
        built = np.array([flops(space.build(space[i], num_classes=classes), (3, side, side), count="nb201")
                          for i in cells], dtype=np.float64)
        np.testing.assert_allclose(built, table[f"{name}_flops_M"][cells].astype(np.float64) * 1e6,
                                   rtol=1e-7, err_msg=name)  # the table is float32 in millions


def test_forward_shapes_and_architecture(space):
    arch = "|nor_conv_3x3~0|+|nor_conv_3x3~0|nor_conv_3x3~1|+|skip_connect~0|nor_conv_3x3~1|nor_conv_1x1~2|"
    net = space.build(arch, num_classes=100)
    assert net(torch.randn(2, 3, 32, 32)).shape == (2, 100)
    assert net(torch.randn(3, 3, 16, 16)).shape == (3, 100)
    assert len(net.cells) == 3 * 5 + 2
    small = space.build(arch, num_classes=10, C=4, N=1, in_channels=1)
    assert small(torch.randn(2, 1, 8, 8)).shape == (2, 10)
    assert [m.conv_a[1].out_channels for m in small.cells if hasattr(m, "conv_a")] == [8, 16]


def test_the_zero_op_contributes_zeros(space):
    arch = "|none~0|+|none~0|none~1|+|none~0|none~1|none~2|"
    net = space.build(arch, C=4, N=1).eval()
    out = net(torch.randn(2, 3, 8, 8))
    # every cell outputs zeros: the logits are the classifier of the reduction path only
    assert torch.isfinite(out).all()
    x = torch.randn(2, 4, 8, 8)
    assert torch.equal(net.cells[0](x), torch.zeros_like(x))


def test_build_is_deterministic_for_a_seed(space):
    arch = space[123]
    torch.manual_seed(7)
    a = space.build(arch)
    torch.manual_seed(7)
    b = space.build(arch)
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    torch.manual_seed(8)
    c = space.build(arch)
    assert not torch.equal(a.stem[0].weight, c.stem[0].weight)


@pytest.mark.parametrize("kwargs,error,match", [
    ({"arch": "|conv~0|+|none~0|none~1|+|none~0|none~1|none~2|"}, InvalidArchitectureError, "unknown operation"),
    ({"num_classes": 0}, ConfigurationError, "positive integer num_classes"),
    ({"C": 2.5}, ConfigurationError, "positive integer C"),
    ({"N": True}, ConfigurationError, "positive integer N"),
])
def test_build_rejects_bad_input(space, kwargs, error, match):
    kwargs = {"arch": space[0], **kwargs}
    with pytest.raises(error, match=match):
        space.build(**kwargs)


def test_a_space_without_models_says_to_pass_a_model_fn():
    space = ProductSpace({"depth": [2, 4], "width": [8, 16]})
    assert not space.can_build and NB201Space().can_build
    with pytest.raises(ConfigurationError, match="cannot build models.*model_fn"):
        space.build({"depth": 2, "width": 8})


# ------------------------------------------------------------------ free features (closed form)
def test_closed_form_costs_equal_the_table_for_every_cell_and_dataset(table, space):
    from nasopt.spaces.nb201 import network_costs

    for name, classes, side in DATASETS:
        p, f = network_costs(space.op_codes, num_classes=classes, resolution=side)
        assert p.shape == f.shape == (15625,)
        np.testing.assert_allclose(p / 1e6, table[f"{name}_params_M"], rtol=2e-7, atol=0, err_msg=name)
        np.testing.assert_allclose(f / 1e6, table[f"{name}_flops_M"], rtol=2e-7, atol=0, err_msg=name)


@pytest.mark.parametrize("sizes", [{}, {"C": 8, "N": 2, "in_channels": 1}])
def test_closed_form_costs_equal_the_built_network_counted_by_the_proxies(table, space, sizes):
    """Against ``build()`` + ``proxies.params`` / ``proxies.flops(count="nb201")``, also for
    other widths, depths and input channels than the table's."""
    from nasopt.spaces.nb201 import network_costs

    cells = checked_cells(table)[::4]
    c_in = sizes.get("in_channels", 3)
    for classes, side in ((10, 32), (120, 16)):
        p, f = network_costs(space.op_codes[cells], num_classes=classes, resolution=side, **sizes)
        nets = [space.build(space[i], num_classes=classes, **sizes) for i in cells]
        assert p.tolist() == [params(n) for n in nets]
        assert f.tolist() == [flops(n, (c_in, side, side), count="nb201") for n in nets]


def test_free_features_are_the_cifar10_params_and_flops_of_the_table(table, space):
    archs = [space[i] for i in range(len(space))]
    F = space.free_features(archs)
    assert space.free_feature_names == ("params", "flops") and F.shape == (15625, 2) and F.dtype == np.float64
    np.testing.assert_allclose(F / 1e6, np.column_stack([table["cifar10_valid_params_M"],
                                                         table["cifar10_valid_flops_M"]]), rtol=2e-7)
    assert np.array_equal(space.free_features(archs[7:3:-1]), F[7:3:-1])  # any batch, any order
