"""Classical image-restoration baselines for denoising and inpainting.

The strong baselines a denoising autoencoder must beat to be worth its
training: the linear least-squares (Wiener) denoiser fitted on noisy/clean
pairs, a PCA projection, scikit-image's total-variation, non-local-means and
wavelet denoisers, for deblurring scikit-image's Richardson-Lucy and Wiener
deconvolution, and for inpainting a PCA fill fitted on the visible pixels
and scikit-image's biharmonic inpainting. Every function takes and returns
flat `(n, height * width)` images in [0, 1] (or `(n, height, width)`), and
`ssim` scores them with scikit-image's structural similarity.
"""

import numpy as np

SKIMAGE_DENOISERS = ("tv", "nl_means", "wavelet")
SKIMAGE_DECONVOLVERS = ("richardson_lucy", "wiener")


def _as_stack(images, image_shape):
    images = np.asarray(images, dtype="float64")
    size = int(np.prod(image_shape))
    if images.ndim not in (2, 3) or images[0].size != size:
        raise ValueError(
            f"Expected images of shape (n, {size}) or (n, *{tuple(image_shape)}). Received: shape={images.shape}"
        )
    return images.reshape((-1,) + tuple(image_shape))


def fit_linear_denoiser(noisy, clean, ridge=1e-3):
    """Fits the least-squares linear (Wiener) denoiser `x_hat = x~ W + b`.

    Minimises `sum ||x - (x~ W + b)||^2 + ridge * n * ||W||^2` over the
    training pairs in closed form. With enough pairs this is the best linear
    estimate of the clean image from the noisy one, the Wiener filter of the
    data's own covariance.

    Args:
        noisy: `(n, D)` corrupted training images.
        clean: `(n, D)` their clean versions.
        ridge: non-negative ridge weight per example.

    Returns:
        `(W, b)`: a `(D, D)` matrix and a `(D,)` offset; denoise with
        `linear_denoise(x, W, b)`.

    Example:

    >>> rng = np.random.default_rng(0); x = rng.random((500, 3))
    >>> W, b = fit_linear_denoiser(x, x, ridge=0.0)
    >>> bool(np.allclose(W, np.eye(3)) and np.allclose(b, 0))
    True
    """
    return fit_linear_denoisers(noisy, clean, [ridge])[ridge]


def fit_linear_denoisers(noisy, clean, ridges):
    """`fit_linear_denoiser` for several ridge weights, sharing one Gram matrix.

    Args:
        noisy: `(n, D)` corrupted training images.
        clean: `(n, D)` their clean versions.
        ridges: non-negative ridge weights per example.

    Returns:
        A dict mapping each ridge weight to its `(W, b)`.
    """
    noisy, clean = np.asarray(noisy, "float64"), np.asarray(clean, "float64")
    if noisy.ndim != 2 or noisy.shape != clean.shape:
        raise ValueError(f"noisy and clean must have the same shape (n, D). "
                         f"Received: {noisy.shape} and {clean.shape}")
    if any(ridge < 0 for ridge in ridges):
        raise ValueError(f"ridges must be non-negative. Received: ridges={ridges!r}")
    noisy_mean, clean_mean = noisy.mean(axis=0), clean.mean(axis=0)
    centred = noisy - noisy_mean
    gram, cross = centred.T @ centred, centred.T @ (clean - clean_mean)
    fits = {}
    for ridge in ridges:
        W = np.linalg.solve(gram + ridge * len(noisy) * np.eye(noisy.shape[1]), cross)
        fits[ridge] = (W, clean_mean - noisy_mean @ W)
    return fits


def linear_denoise(x, W, b):
    """Applies a linear denoiser from `fit_linear_denoiser`, clipped to [0, 1]."""
    return np.clip(np.asarray(x, "float64") @ W + b, 0.0, 1.0)


def pca_denoise(x, mean, components, k):
    """Projects images on their top-`k` principal subspace, clipped to [0, 1].

    Args:
        x: `(n, D)` noisy images.
        mean: `(D,)` mean of the clean training images.
        components: `(K, D)` orthonormal principal directions, largest first
            (`aecourse.linear.pca_basis`).
        k: number of directions kept, `1 <= k <= K`.

    Returns:
        The `(n, D)` projections.
    """
    if not 1 <= k <= len(components):
        raise ValueError(f"k must be between 1 and {len(components)}. Received: k={k!r}")
    basis = np.asarray(components)[:k]
    return np.clip((np.asarray(x) - mean) @ basis.T @ basis + mean, 0.0, 1.0)


def _check_method(method, methods, strength):
    if method not in methods:
        raise ValueError(f"method must be one of {methods}. Received: method={method!r}")
    if not strength > 0:
        raise ValueError(f"strength must be positive. Received: strength={strength!r}")


def skimage_denoise(images, method, strength, noise_sigma=None, image_shape=(28, 28)):
    """Denoises each image with one of scikit-image's classical denoisers.

    - `"tv"`: total-variation denoising (`denoise_tv_chambolle`), `strength`
      is its `weight`;
    - `"nl_means"`: non-local means (`denoise_nl_means`, 3x3 patches searched
      within 5 pixels), `strength` is the filter parameter `h` in units of
      `noise_sigma`;
    - `"wavelet"`: BayesShrink soft thresholding of a `db1` wavelet transform
      (`denoise_wavelet`), `strength` scales the noise level `noise_sigma`
      that the thresholds assume.

    Args:
        images: flat `(n, D)` or `(n, height, width)` noisy images in [0, 1].
        method: one of `"tv"`, `"nl_means"`, `"wavelet"`.
        strength: positive strength of the method (see above).
        noise_sigma: standard deviation of the noise (needed by `"nl_means"`
            and `"wavelet"`).
        image_shape: `(height, width)` of one image.

    Returns:
        The denoised images, in the shape of `images`, clipped to [0, 1].
    """
    from skimage.restoration import denoise_nl_means, denoise_tv_chambolle, denoise_wavelet

    _check_method(method, SKIMAGE_DENOISERS, strength)
    if method != "tv" and not (noise_sigma is not None and noise_sigma > 0):
        raise ValueError(f"method {method!r} needs a positive noise_sigma. Received: noise_sigma={noise_sigma!r}")
    stack = _as_stack(images, image_shape)
    if method == "tv":
        out = [denoise_tv_chambolle(image, weight=strength) for image in stack]
    elif method == "nl_means":
        out = [denoise_nl_means(image, h=strength * noise_sigma, sigma=noise_sigma, patch_size=3,
                                patch_distance=5, fast_mode=True) for image in stack]
    else:
        out = [denoise_wavelet(image, sigma=strength * noise_sigma, wavelet="db1", mode="soft",
                               method="BayesShrink", rescale_sigma=False) for image in stack]
    return np.clip(np.stack(out), 0.0, 1.0).reshape(np.shape(images))


def skimage_deconvolve(images, method, strength, psf, image_shape=(28, 28)):
    """Deblurs each image with one of scikit-image's classical deconvolutions.

    - `"richardson_lucy"`: Richardson-Lucy iterations (`richardson_lucy`) on
      the image clipped to [0, 1]; `strength` is the number of iterations
      (more iterations sharpen more and amplify more noise);
    - `"wiener"`: Wiener-Hunt deconvolution (`wiener`, Laplacian
      regulariser); `strength` is its `balance`, the weight of the
      regulariser against the data (larger is smoother).

    Each image is reflect-padded by the kernel's width before deconvolving
    and cropped after, so that the border matches a blur that reflects at
    the edges (`scipy.ndimage.gaussian_filter`, used by `restorers.degrade`)
    instead of the zero (Richardson-Lucy) or periodic (Wiener-Hunt) border
    the two methods assume.

    Args:
        images: flat `(n, D)` or `(n, height, width)` blurred images.
        method: one of `"richardson_lucy"`, `"wiener"`.
        strength: positive strength of the method (see above).
        psf: the blur's point-spread function, a 2-D array summing to 1
            (`aecourse.restorers.blur_kernel`).
        image_shape: `(height, width)` of one image.

    Returns:
        The deblurred images, in the shape of `images`, clipped to [0, 1].
    """
    from skimage.restoration import richardson_lucy, wiener

    _check_method(method, SKIMAGE_DECONVOLVERS, strength)
    psf = np.asarray(psf, "float64")
    if psf.ndim != 2 or not np.isclose(psf.sum(), 1.0):
        raise ValueError(f"psf must be a 2-D array summing to 1. Received: shape={psf.shape}, sum={psf.sum():.3g}")
    pad = max(psf.shape)  # reflect-padding: the blur of `restorers.degrade` reflects at the border too
    out = []
    for image in _as_stack(images, image_shape):
        padded = np.pad(image, pad, mode="symmetric")  # scipy.ndimage's "reflect": the edge pixel repeated
        if method == "richardson_lucy":
            restored = richardson_lucy(np.clip(padded, 0.0, 1.0), psf, num_iter=int(strength))
        else:
            restored = wiener(padded, psf, balance=strength)
        out.append(restored[pad:-pad, pad:-pad])
    return np.clip(np.stack(out), 0.0, 1.0).reshape(np.shape(images))


def ssim(x, x_hat, image_shape=(28, 28), region=None):
    """Structural similarity (SSIM) of each image with its reference, in [-1, 1].

    scikit-image's `structural_similarity` with `data_range=1` (images in
    [0, 1]) and its default 7x7 window; 1 means identical. The SSIM map is
    averaged over the whole image, or over `region` (for example the pixels
    of the object, when a flat background would dominate the mean).

    Args:
        x: reference images, flat `(n, D)` or `(n, height, width)`.
        x_hat: images to score, same shape.
        image_shape: `(height, width)` of one image.
        region: optional boolean mask of the shape of `x`, the pixels to
            average over (at least one per image).

    Returns:
        float64 array of shape `(n,)`.
    """
    from skimage.metrics import structural_similarity

    if np.shape(x) != np.shape(x_hat):
        raise ValueError(f"x and x_hat must have the same shape. Received: {np.shape(x)} and {np.shape(x_hat)}")
    x, x_hat = _as_stack(x, image_shape), _as_stack(x_hat, image_shape)
    if region is None:
        return np.array([structural_similarity(a, b, data_range=1.0) for a, b in zip(x, x_hat)])
    region = _as_stack(region, image_shape) > 0.5
    if region.shape != x.shape or not region.any(axis=(1, 2)).all():
        raise ValueError(f"region must have the images' shape {np.shape(x)} and mark at least one pixel per image.")
    return np.array([structural_similarity(a, b, data_range=1.0, full=True)[1][mask].mean()
                     for a, b, mask in zip(x, x_hat, region)])


def pca_inpaint(images, hidden, mean, components, k, ridge=1e-3):
    """Fills hidden pixels from a PCA model fitted to each image's visible pixels.

    For each image, finds the coefficients `c` that best explain the visible
    pixels, `min_c ||(mean + c C_k - x)_visible||^2 + ridge ||c||^2`, and
    reads the hidden pixels off `mean + c C_k`. Visible pixels are returned
    unchanged.

    Args:
        images: `(n, D)` images (values at hidden pixels are ignored).
        hidden: `(n, D)` mask, 1 at hidden pixels.
        mean: `(D,)` mean of the clean training images.
        components: `(K, D)` principal directions (`aecourse.linear.pca_basis`).
        k: number of directions used, `1 <= k <= K`.
        ridge: non-negative ridge weight on the coefficients.

    Returns:
        The `(n, D)` inpainted images, clipped to [0, 1].
    """
    images, hidden = np.asarray(images, "float64"), np.asarray(hidden) > 0.5
    if images.shape != hidden.shape or images.ndim != 2:
        raise ValueError(f"images and hidden must have the same shape (n, D). "
                         f"Received: {images.shape} and {hidden.shape}")
    if not 1 <= k <= len(components):
        raise ValueError(f"k must be between 1 and {len(components)}. Received: k={k!r}")
    basis = np.asarray(components, "float64")[:k]
    filled = images.copy()
    for i, (image, gone) in enumerate(zip(images, hidden)):
        seen = basis[:, ~gone]
        coefficients = np.linalg.solve(seen @ seen.T + ridge * np.eye(k), seen @ (image[~gone] - mean[~gone]))
        filled[i, gone] = mean[gone] + coefficients @ basis[:, gone]
    return np.clip(filled, 0.0, 1.0)


def biharmonic_inpaint(images, hidden, image_shape=(28, 28)):
    """Fills hidden pixels with scikit-image's biharmonic inpainting.

    The hole is filled by the smooth surface (solution of the biharmonic
    equation) that continues the visible pixels around it
    (`skimage.restoration.inpaint_biharmonic`).

    Args:
        images: flat `(n, D)` or `(n, height, width)` images.
        hidden: mask of the same shape, 1 at hidden pixels.
        image_shape: `(height, width)` of one image.

    Returns:
        The inpainted images in the shape of `images`, clipped to [0, 1].
    """
    from skimage.restoration import inpaint_biharmonic

    if np.shape(images) != np.shape(hidden):
        raise ValueError(f"images and hidden must have the same shape. "
                         f"Received: {np.shape(images)} and {np.shape(hidden)}")
    stack, masks = _as_stack(images, image_shape), _as_stack(hidden, image_shape) > 0.5
    out = [inpaint_biharmonic(image, mask) for image, mask in zip(stack, masks)]
    return np.clip(np.stack(out), 0.0, 1.0).reshape(np.shape(images))
