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


def training_curves(histories, metric="loss", ax=None, title=None, log_scale=False):
    """Plots a training metric per epoch for one or more runs.

    Args:
        histories: dict mapping a run name to a Keras `History` or its
            `history` dict; validation curves (`val_<metric>`) are dashed.
        metric: the metric to plot.
        ax: matplotlib axes to draw in (a new figure if `None`).
        title: axes title.
        log_scale: use a logarithmic y axis.

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
            ax.plot(epochs, values[f"val_{metric}"], color=color, ls="--", label=f"{name} (test)")
    ax.set_xlabel("epoch")
    ax.set_ylabel(metric)
    if log_scale:
        ax.set_yscale("log")
    ax.legend(fontsize=9)
    ax.grid(alpha=0.3)
    if title:
        ax.set_title(title, fontsize=11)
    return ax
