from __future__ import annotations

from pathlib import Path

import numpy as np
import onnx
import pytest
from conftest import FIXTURE_DIR
from onnx import helper, numpy_helper

from tr118_native.fixture import perturb
from tr118_native.fixture.__main__ import main as cli

MODEL_PATH = FIXTURE_DIR / "model.onnx"


@pytest.fixture(scope="module")
def model() -> onnx.ModelProto:
    return onnx.load(str(MODEL_PATH))


def weights(model: onnx.ModelProto) -> dict[str, np.ndarray]:
    return {init.name: numpy_helper.to_array(init) for init in model.graph.initializer}


@pytest.mark.parametrize("eps", [0.03, 1e-4])
def test_perturb_changes_every_weight_by_about_eps_and_keeps_shapes(model: onnx.ModelProto, eps: float) -> None:
    noisy, report = perturb.perturb_model(model, eps=eps, seed=7)
    before, after = weights(model), weights(noisy)
    assert list(before) == list(after)
    ratios = []
    for name, old in before.items():
        new = after[name]
        assert new.shape == old.shape
        assert new.dtype == old.dtype
        if old.dtype.kind == "f":
            assert not np.array_equal(new, old), name
            nonzero = old != 0
            ratios.append((new[nonzero].astype(np.float64) / old[nonzero]) - 1.0)
        else:
            assert np.array_equal(new, old), name
    relative = np.concatenate(ratios)
    # float32 rounding adds ~6e-8 of relative noise, negligible even against eps = 1e-4.
    assert relative.std() == pytest.approx(eps, rel=0.02)
    assert abs(relative.mean()) < eps / 50
    assert report.mean_abs_relative_change == pytest.approx(eps * np.sqrt(2 / np.pi), rel=0.02)
    assert report.perturbed == sum(1 for w in before.values() if w.dtype.kind == "f")
    assert list(noisy.graph.node) == list(model.graph.node)
    assert noisy.graph.input == model.graph.input
    assert noisy.graph.output == model.graph.output


def test_perturb_is_seeded(model: onnx.ModelProto) -> None:
    a, _ = perturb.perturb_model(model, eps=0.03, seed=1)
    b, _ = perturb.perturb_model(model, eps=0.03, seed=1)
    c, _ = perturb.perturb_model(model, eps=0.03, seed=2)
    assert a.SerializeToString() == b.SerializeToString()
    assert a.SerializeToString() != c.SerializeToString()


def test_eps_zero_is_the_identity(model: onnx.ModelProto) -> None:
    same, _ = perturb.perturb_model(model, eps=0.0, seed=0)
    assert all(np.array_equal(weights(same)[k], v) for k, v in weights(model).items())


def test_scalar_and_integer_initializers_are_left_alone() -> None:
    graph = helper.make_graph(
        [helper.make_node("Mul", ["x", "w"], ["y"])],
        "g",
        [helper.make_tensor_value_info("x", onnx.TensorProto.FLOAT, [3])],
        [helper.make_tensor_value_info("y", onnx.TensorProto.FLOAT, [3])],
        initializer=[
            numpy_helper.from_array(np.array([1.0, 2.0, 3.0], dtype=np.float16), "w"),
            numpy_helper.from_array(np.array(-3.4e38, dtype=np.float32), "fill"),
            numpy_helper.from_array(np.array([4, 5], dtype=np.int64), "shape"),
        ],
    )
    noisy, report = perturb.perturb_model(helper.make_model(graph), eps=0.5, seed=0)
    after = weights(noisy)
    assert after["w"].dtype == np.float16
    assert not np.array_equal(after["w"], [1.0, 2.0, 3.0])
    assert after["fill"] == np.float32(-3.4e38)
    assert after["shape"].tolist() == [4, 5]
    assert (report.perturbed, report.skipped, report.elements) == (1, 2, 3)


def test_negative_eps_is_rejected(model: onnx.ModelProto) -> None:
    with pytest.raises(ValueError, match="eps"):
        perturb.perturb_model(model, eps=-0.1, seed=0)


def test_cli_writes_a_loadable_copy(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "perturbed.onnx"
    cli(["perturb", "--model", str(MODEL_PATH), "--out", str(out), "--eps", "0.03", "--seed", "3"])
    onnx.checker.check_model(str(out))
    assert "perturbed with eps=0.03, seed=3" in capsys.readouterr().out
    assert out.stat().st_size == pytest.approx(MODEL_PATH.stat().st_size, rel=0.01)


@pytest.mark.torch
def test_perturbs_a_checkpoint_folder_and_copies_its_other_files(tmp_path: Path) -> None:
    safetensors_numpy = pytest.importorskip("safetensors.numpy")
    from tr118_native.fixture.perturb import perturb_checkpoint

    src = tmp_path / "src"
    src.mkdir()
    (src / "config.json").write_text('{"architectures": ["GPT2LMHeadModel"]}')
    weights = {"a": np.ones((4, 3), dtype=np.float32), "scale": np.ones(1, dtype=np.float32), "ids": np.arange(5)}
    safetensors_numpy.save_file(weights, src / "model.safetensors")
    report = perturb_checkpoint(src, tmp_path / "noisy", eps=0.1, seed=0)
    out = safetensors_numpy.load_file(tmp_path / "noisy" / "model.safetensors")
    assert (report.perturbed, report.skipped, report.elements) == (1, 2, 12)
    assert not np.array_equal(out["a"], weights["a"])
    np.testing.assert_array_equal(out["scale"], weights["scale"])  # single-element constants stay
    np.testing.assert_array_equal(out["ids"], weights["ids"])  # integers stay
    assert (tmp_path / "noisy" / "config.json").read_text() == (src / "config.json").read_text()
    again = perturb_checkpoint(src, tmp_path / "again", eps=0.1, seed=0)
    assert again == report
    np.testing.assert_array_equal(safetensors_numpy.load_file(tmp_path / "again" / "model.safetensors")["a"], out["a"])
