import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest

from aecourse import plotting, runtime
from aecourse.reporting import Table


def test_fast_mode_switch(monkeypatch):
    monkeypatch.setenv("AECOURSE_FAST", "1")
    assert runtime.is_fast() and runtime.budget(10, 2) == 2
    monkeypatch.setenv("AECOURSE_FAST", "0")
    assert not runtime.is_fast() and runtime.budget(10, 2) == 10
    monkeypatch.delenv("AECOURSE_FAST")
    assert runtime.budget(10, 2) == 10
    monkeypatch.setenv("AECOURSE_FAST", "maybe")
    with pytest.raises(ValueError, match="AECOURSE_FAST"):
        runtime.is_fast()


def test_setup_seeds_reproducibly():
    import keras

    line = runtime.setup(seed=7)
    first = keras.ops.convert_to_numpy(keras.random.normal((3,)))
    runtime.setup(seed=7)
    np.testing.assert_array_equal(first, keras.ops.convert_to_numpy(keras.random.normal((3,))))
    assert keras.backend.backend() in line and "seed 7" in line
    with pytest.raises(ValueError, match="seed"):
        runtime.seed_everything(-1)


def test_setup_leaves_numpy_one_blas_thread():
    import threadpoolctl

    controller = threadpoolctl.ThreadpoolController()
    before = controller.info()
    try:
        assert "one BLAS thread" in runtime.setup(seed=0)
        openblas = controller.select(internal_api="openblas").info()
        assert openblas and all(library["num_threads"] == 1 for library in openblas)
    finally:  # other tests keep the machine's default
        for library in before:
            controller.select(filepath=library["filepath"]).limit(limits=library["num_threads"])


def test_steps_per_execution_is_one_on_torch(monkeypatch):
    import keras

    assert runtime.steps_per_execution(20) == (1 if keras.backend.backend() == "torch" else 20)
    monkeypatch.setattr(keras.backend, "backend", lambda: "torch")
    assert runtime.steps_per_execution(20) == 1
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    assert runtime.steps_per_execution(20) == 20
    for bad in (0, 2.0, True):
        with pytest.raises(ValueError, match="positive integer"):
            runtime.steps_per_execution(bad)


def test_table_markdown():
    table = Table(["model", "error"], [["PCA", 12.345], ["AE", None]], digits=1, caption="Errors")
    assert table.to_markdown() == "**Errors**\n\n| model | error |\n| --- | --- |\n| PCA | 12.3 |\n| AE |  |"
    assert table._repr_markdown_() == table.to_markdown()
    with pytest.raises(ValueError, match="one per header"):
        Table(["a", "b"], [[1]])


def test_table_escapes_pipes_so_a_cell_cannot_split():
    table = Table(["d(|h|)/da", "x"], [["|a|", 1]])
    assert table.to_markdown() == "| d(\\|h\\|)/da | x |\n| --- | --- |\n| \\|a\\| | 1 |"


def test_image_grid_and_rows():
    images = np.random.default_rng(0).random((12, 784))
    fig = plotting.image_grid(images, n_cols=5, titles=list("abcdefghijkl"))
    assert len(fig.axes) == 15 and fig.axes[0].get_title() == "a"
    fig = plotting.reconstruction_rows({"real": images, "AE": images}, n=6)
    assert len(fig.axes) == 12 and fig.axes[0].get_ylabel() == "real"
    assert fig.get_size_inches()[0] == pytest.approx(plotting.BOOK_WIDTH)
    with pytest.raises(ValueError, match="image_shape"):
        plotting.image_grid(np.zeros((2, 10)))
    assert plotting.image_grid(np.zeros((2, 10)), image_shape=(2, 5)).axes[0].images[0].get_array().shape == (2, 5)
    matplotlib.pyplot.close("all")


def test_latent_scatter_and_curves():
    codes = np.random.default_rng(0).normal(size=(50, 2))
    labels = np.arange(50) % 3
    ax = plotting.latent_scatter(codes, labels, ["a", "b", "c"], title="t")
    assert len(ax.collections) == 3 and ax.get_legend_handles_labels()[1] == ["a", "b", "c"]
    with pytest.raises(ValueError, match=r"\(n, 2\)"):
        plotting.latent_scatter(np.zeros((5, 3)), np.zeros(5))
    ax = plotting.training_curves({"run": {"loss": [3, 2, 1], "val_loss": [3, 2.5, 2]}})
    assert len(ax.lines) == 2 and ax.lines[1].get_linestyle() == "--"
    assert ax.lines[1].get_label() == "run (test)"
    ax = plotting.training_curves({"run": {"loss": [3, 2], "val_loss": [3, 2.5]}}, held_out_name="validation")
    assert ax.lines[1].get_label() == "run (validation)"
    with pytest.raises(ValueError, match="no metric"):
        plotting.training_curves({"run": {"loss": [1]}}, metric="accuracy")
    matplotlib.pyplot.close("all")
