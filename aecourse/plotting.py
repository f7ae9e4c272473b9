"""Figures of the course, sized to be readable at the book's text width (~8 in)."""

import matplotlib.pyplot as plt
import numpy as np

BOOK_WIDTH = 8.0  # inches: the width of the book's text column at 100 dpi


def _as_images(images, image_shape):
    images = np.asarray(images)
    if image_shape is not None:
        expected = int(np.prod(image_shape))
        if images.ndim != 2 or images.shape[1] != expected:
            if images.ndim == 3 and images.shape[1:] == tuple(image_shape):
                return images
            raise ValueError(
                f"Expected flat images of {expected} values to reshape to {image_shape}. "
                f"Received: shape={images.shape}"
            )
        return images.reshape((-1,) + tuple(image_shape))
    if images.ndim == 2:
        side = int(round(np.sqrt(images.shape[1])))
        if side * side != images.shape[1]:
            raise ValueError(
                "Flat images that are not square need image_shape=(height, width). "
                f"Received: shape={images.shape}"
            )
        return images.reshape(-1, side, side)
    if images.ndim != 3:
        raise ValueError(
            f"Expected images (n, height, width) or flat (n, features). Received: shape={images.shape}"
        )
    return images


def image_grid(images, n_cols=10, titles=None, image_shape=None, cmap="gray",
               vmin=0.0, vmax=1.0, title=None, cell_size=None):
    """Draws images in a grid without axes.

    Args:
        images: `(n, height, width)` images, or flat `(n, features)` ones.
        n_cols: images per row.
        titles: optional list of one short title per image.
        image_shape: `(height, width)` for flat, non-square images.
        cmap: matplotlib colour map (`"gray"` for pixels, `"RdBu_r"` for weights).
        vmin: value drawn as black (`None`: per-image minimum).
        vmax: value drawn as white (`None`: per-image maximum).
        title: optional figure title.
        cell_size: inches per image; defaults to filling the book's width.

    Returns:
        The matplotlib `Figure`.
    """
    images = _as_images(images, image_shape)
    n = len(images)
    if n == 0:
        raise ValueError("image_grid needs at least one image. Received: 0 images")
    n_cols = min(n_cols, n)
    n_rows = int(np.ceil(n / n_cols))
    cell = cell_size or min(1.2, BOOK_WIDTH / n_cols)
    fig, axes = plt.subplots(n_rows, n_cols, figsize=(cell * n_cols, cell * n_rows * (1.25 if titles else 1)),
                             squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(images[i], cmap=cmap, vmin=vmin, vmax=vmax, interpolation="nearest")
            if titles is not None:
                ax.set_title(str(titles[i]), fontsize=9)
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout(pad=0.3)
    return fig


def reconstruction_rows(rows, n=10, image_shape=None, title=None):
    """Draws rows of images to compare, e.g. real / deep AE / PCA.

    Args:
        rows: dict mapping a row label to images; each row shows its first `n`.
        n: images per row.
        image_shape: `(height, width)` for flat, non-square images.
        title: optional figure title.

    Returns:
        The matplotlib `Figure`.
    """
    if not rows:
        raise ValueError("rows must map at least one label to images. Received: rows={}")
    rows = {label: _as_images(images, image_shape)[:n] for label, images in rows.items()}
    n = min(len(images) for images in rows.values())
    cell = (BOOK_WIDTH - 1.2) / n
    fig, axes = plt.subplots(len(rows), n, figsize=(BOOK_WIDTH, cell * len(rows) + 0.3), squeeze=False)
    for r, (label, images) in enumerate(rows.items()):
        for c in range(n):
            ax = axes[r, c]
            ax.imshow(images[c], cmap="gray", vmin=0, vmax=1, interpolation="nearest")
            ax.set_xticks([])
            ax.set_yticks([])
            for spine in ax.spines.values():
                spine.set_visible(False)
        axes[r, 0].set_ylabel(label, rotation=0, ha="right", va="center", fontsize=11)
    if title:
        fig.suptitle(title, fontsize=12)
    fig.tight_layout(pad=0.3)
    return fig


def latent_scatter(codes, labels, class_names=None, ax=None, title=None, max_points=5000):
    """Scatters 2-D codes coloured by class.

    Args:
        codes: `(n, 2)` array of codes.
        labels: `(n,)` integer labels.
        class_names: names of the classes, for the legend.
        ax: matplotlib axes to draw in (a new figure if `None`).
        title: axes title.
        max_points: at most this many points are drawn (the first ones).

    Returns:
        The matplotlib `Axes`.
    """
    codes, labels = np.asarray(codes), np.asarray(labels)
    if codes.ndim != 2 or codes.shape[1] != 2:
        raise ValueError(f"codes must have shape (n, 2). Received: shape={codes.shape}")
    if len(labels) != len(codes):
        raise ValueError(
            f"labels must have one entry per code. Received: {len(labels)} labels for {len(codes)} codes"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(BOOK_WIDTH / 2, BOOK_WIDTH / 2))
    codes, labels = codes[:max_points], labels[:max_points]
    cmap = plt.get_cmap("tab10")
    for k in np.unique(labels):
        name = class_names[k] if class_names is not None else str(k)
        points = codes[labels == k]
        ax.scatter(points[:, 0], points[:, 1], s=3, alpha=0.6, color=cmap(int(k) % 10), label=name)
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def class_legend(fig, ax, n_cols=5):
    """Puts one legend with large markers for the class colours under a figure."""
    handles, names = ax.get_legend_handles_labels()
    fig.legend(handles, names, loc="lower center", ncol=n_cols, markerscale=4,
               fontsize=9, frameon=False)


def training_curves(histories, metric="loss", ax=None, title=None, log_scale=False,
                    held_out_name="test"):
    """Plots a training metric per epoch for one or more runs.

    Args:
        histories: dict mapping a run name to a Keras `History` or its
            `history` dict; validation curves (`val_<metric>`) are dashed.
        metric: the metric to plot.
        ax: matplotlib axes to draw in (a new figure if `None`).
        title: axes title.
        log_scale: use a logarithmic y axis.
        held_out_name: legend name of the `val_<metric>` curves (`"test"` or
            `"validation"`, whichever data `validation_data` held).

    Returns:
        The matplotlib `Axes`.
    """
    if ax is None:
        _, ax = plt.subplots(figsize=(BOOK_WIDTH * 0.6, BOOK_WIDTH * 0.35))
    for i, (name, history) in enumerate(histories.items()):
        values = getattr(history, "history", history)
        if metric not in values:
            raise ValueError(
                f"Run {name!r} has no metric {metric!r}. Available: {sorted(values)}"
            )
        epochs = np.arange(1, len(values[metric]) + 1)
        color = f"C{i}"
        ax.plot(epochs, values[metric], color=color, label=f"{name} (train)")
        if f"val_{metric}" in values:
            ax.plot(epochs, values[f"val_{metric}"], color=color, ls="--", label=f"{name} ({held_out_name})")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if log_scale:
        ax.set_yscale("log")
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def weight_tiles(kernel, image_shape, n=100, n_cols=10, title=None):
    """Draws a layer's incoming weights as image tiles, one per hidden unit.

    Column `j` of a `Dense` kernel (shape `(D, units)`, D = pixels) holds the
    weights from every pixel to unit `j`: the image that excites the unit most
    (for a fixed weight norm). Each tile is scaled by its own largest absolute
    weight and drawn in grey from -1 (black) to +1 (white), with 0 mid-grey.

    Args:
        kernel: `(D, units)` weight matrix, e.g. `layer.kernel`.
        image_shape: `(height, width)` with `height * width == D`.
        n: number of units to draw (the first `n`).
        n_cols: tiles per row.
        title: optional figure title.

    Returns:
        The matplotlib `Figure`.

    Example:

    >>> fig = weight_tiles(np.random.normal(size=(784, 50)), (28, 28), n=20)
    """
    kernel = np.asarray(kernel, dtype="float64")
    if kernel.ndim != 2 or kernel.shape[0] != int(np.prod(image_shape)):
        raise ValueError(
            f"kernel must have shape (D, units) with D = {int(np.prod(image_shape))} pixels of "
            f"image_shape={tuple(image_shape)}. Received: kernel.shape={kernel.shape}"
        )
    if not (isinstance(n, (int, np.integer)) and n > 0):
        raise ValueError(f"n must be a positive integer. Received: n={n!r}")
    tiles = kernel[:, :n].T
    tiles = tiles / np.maximum(np.abs(tiles).max(axis=1, keepdims=True), 1e-12)
    return image_grid(tiles, n_cols=n_cols, image_shape=image_shape, vmin=-1.0, vmax=1.0,
                      title=title, cell_size=min(0.8, BOOK_WIDTH / min(n_cols, len(tiles))))


def reconstruction_field(points, displacements, data=None, ax=None, title=None, scale=1.0):
    """Draws a 2-D vector field as arrows, e.g. a DAE's `r(x~) - x~` on a grid.

    Args:
        points: `(m, 2)` arrow tails (the corrupted inputs `x~`).
        displacements: `(m, 2)` arrow vectors (`r(x~) - x~`), drawn to scale
            (an arrow ends at the reconstruction when `scale=1`).
        data: optional `(n, 2)` training points drawn underneath.
        ax: matplotlib axes to draw in (a new square figure if `None`).
        title: axes title.
        scale: arrows are drawn `scale` times their true length.

    Returns:
        The matplotlib `Axes`.
    """
    points, displacements = np.asarray(points), np.asarray(displacements)
    if points.ndim != 2 or points.shape[1] != 2 or displacements.shape != points.shape:
        raise ValueError(
            "points and displacements must both have shape (m, 2). "
            f"Received: points.shape={points.shape}, displacements.shape={displacements.shape}"
        )
    if ax is None:
        _, ax = plt.subplots(figsize=(BOOK_WIDTH / 2, BOOK_WIDTH / 2))
    if data is not None:
        data = np.asarray(data)
        ax.scatter(data[:, 0], data[:, 1], s=2, color="C1", alpha=0.5, label="training data")
    ax.quiver(points[:, 0], points[:, 1], scale * displacements[:, 0], scale * displacements[:, 1],
              np.linalg.norm(displacements, axis=1), cmap="viridis", angles="xy", scale_units="xy",
              scale=1.0, width=0.004)
    ax.set_aspect("equal")
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def latent_manifold(decode, extent=3.0, n=15, image_shape=(28, 28), ax=None, title=None):
    """Decodes a regular grid of 2-D codes and draws the images as one mosaic.

    The picture of a generative model's 2-D latent space: the image at
    position `(z1, z2)` is `decode([[z1, z2]])`, for `z1, z2` evenly spaced
    in `[-extent, extent]`.

    Args:
        decode: function mapping `(m, 2)` codes to `(m, height * width)` images in [0, 1].
        extent: the grid spans `[-extent, extent]` on both axes.
        n: codes per axis (`n * n` images).
        image_shape: `(height, width)` of one image.
        ax: matplotlib axes to draw in (a new square figure if `None`).
        title: axes title.

    Returns:
        The matplotlib `Axes`, with the latent coordinates on its axes.

    Example:

    >>> ax = latent_manifold(vae.decode, extent=2.5, n=12)   # doctest: +SKIP
    """
    if not (isinstance(n, (int, np.integer)) and n > 1):
        raise ValueError(f"n must be an integer of at least 2. Received: n={n!r}")
    if not extent > 0:
        raise ValueError(f"extent must be positive. Received: extent={extent!r}")
    values = np.linspace(-extent, extent, n)
    z1, z2 = np.meshgrid(values, values[::-1])  # z2 grows upwards
    images = _as_images(decode(np.stack([z1.ravel(), z2.ravel()], axis=1)), image_shape)
    height, width = images.shape[1:]
    mosaic = images.reshape(n, n, height, width).transpose(0, 2, 1, 3).reshape(n * height, n * width)
    if ax is None:
        _, ax = plt.subplots(figsize=(BOOK_WIDTH * 0.6, BOOK_WIDTH * 0.6))
    step = values[1] - values[0]
    ax.imshow(mosaic, cmap="gray", vmin=0, vmax=1, interpolation="nearest",
              extent=(-extent - step / 2, extent + step / 2, -extent - step / 2, extent + step / 2))
    ax.set_xlabel("$z_1$")
    ax.set_ylabel("$z_2$")
    if title:
        ax.set_title(title, fontsize=11)
    return ax


def latent_traversal(decode, base_code, dims, values, image_shape=None, title=None, dim_names=None):
    """Varies one latent coordinate at a time from a base code and decodes.

    Row `i` sets coordinate `dims[i]` of `base_code` to each of `values` in
    turn, keeping the others fixed: a beta-VAE's traversal plot.

    Args:
        decode: function mapping `(m, latent_dim)` codes to `(m, pixels)` images.
        base_code: `(latent_dim,)` code to start from (e.g. zeros, the prior's mean).
        dims: the coordinates to vary, one row each.
        values: the values each coordinate takes, one column each.
        image_shape: `(height, width)` for flat, non-square images.
        title: optional figure title.
        dim_names: optional row labels (default `z_<dim>`).

    Returns:
        The matplotlib `Figure`.
    """
    base_code, values = np.asarray(base_code, dtype="float64"), np.asarray(values, dtype="float64")
    if base_code.ndim != 1:
        raise ValueError(f"base_code must be one code of shape (latent_dim,). Received: shape={base_code.shape}")
    dims = [int(d) for d in dims]
    if not dims or min(dims) < 0 or max(dims) >= len(base_code):
        raise ValueError(f"dims must be indices in [0, {len(base_code) - 1}]. Received: dims={dims}")
    names = dim_names if dim_names is not None else [f"$z_{{{d}}}$" for d in dims]
    rows = {}
    for name, d in zip(names, dims):
        codes = np.repeat(base_code[None], len(values), axis=0)
        codes[:, d] = values
        rows[name] = decode(codes)
    fig = reconstruction_rows(rows, n=len(values), image_shape=image_shape, title=title)
    for ax, value in zip(fig.axes[:len(values)], values):
        ax.set_title(f"{value:+.1f}", fontsize=9)
    fig.tight_layout(pad=0.3)
    return fig


def interpolation_rows(decode, start_codes, end_codes, n_steps=10, image_shape=None, title=None):
    """Decodes straight lines between pairs of codes, one pair per row.

    Args:
        decode: function mapping `(m, latent_dim)` codes to `(m, pixels)` images.
        start_codes: `(pairs, latent_dim)` codes at the left end.
        end_codes: `(pairs, latent_dim)` codes at the right end.
        n_steps: images per row, ends included.
        image_shape: `(height, width)` for flat, non-square images.
        title: optional figure title.

    Returns:
        The matplotlib `Figure`.
    """
    start_codes, end_codes = np.asarray(start_codes, "float64"), np.asarray(end_codes, "float64")
    if start_codes.ndim != 2 or start_codes.shape != end_codes.shape:
        raise ValueError(
            "start_codes and end_codes must have the same shape (pairs, latent_dim). Received: "
            f"start_codes.shape={start_codes.shape}, end_codes.shape={end_codes.shape}"
        )
    if not (isinstance(n_steps, (int, np.integer)) and n_steps > 1):
        raise ValueError(f"n_steps must be an integer of at least 2. Received: n_steps={n_steps!r}")
    t = np.linspace(0, 1, n_steps)[:, None]
    rows = {f"pair {i + 1}": decode((1 - t) * a + t * b) for i, (a, b) in enumerate(zip(start_codes, end_codes))}
    fig = reconstruction_rows(rows, n=n_steps, image_shape=image_shape, title=title)
    for ax, value in zip(fig.axes[:n_steps], t[:, 0]):
        ax.set_title(f"t={value:.2f}", fontsize=8)
    fig.tight_layout(pad=0.3)
    return fig
