"""Times chapter 1's logistic regressions with NumPy's OpenBLAS on one thread and on all threads.

    python benchmarks/blas_threads.py

Why the chapters' setup cell (`aecourse.runtime.setup`) limits OpenBLAS to one
thread: scikit-learn's L-BFGS solver multiplies small matrices thousands of
times, where a second thread costs more than it gives. The workload is chapter
1's: standardised raw pixels of 2,000 labelled Fashion-MNIST images, C in
{0.01, 0.1, 1}, `max_iter=1000`. Results go to benchmarks/results/blas_threads.md.
Run it on a quiet machine: other processes on the cores make the threaded
case much slower still.
"""

import datetime
import os
import pathlib
import platform
import time
import warnings

import numpy as np
import threadpoolctl
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from aecourse import data

RESULTS = pathlib.Path(__file__).resolve().parent / "results" / "blas_threads.md"


def fit_seconds(x, y):
    """Seconds to fit the three logistic regressions of chapter 1's pixel arm."""
    start = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        for c in (0.01, 0.1, 1.0):
            LogisticRegression(C=c, max_iter=1000).fit(x, y)
    return time.perf_counter() - start


def main():
    fashion = data.fashion_mnist()
    x = StandardScaler().fit_transform(data.flatten(fashion.x_train[:2000]))
    y = fashion.y_train[:2000]
    controller = threadpoolctl.ThreadpoolController().select(internal_api="openblas")
    threads = max(library["num_threads"] for library in controller.info())
    rows = []
    for limit in (threads, 1, threads, 1):  # alternated, so that a change in load hits both
        with controller.limit(limits=limit):
            rows.append((limit, fit_seconds(x, y)))
    best = {limit: min(s for n, s in rows if n == limit) for limit in (threads, 1)}
    load = ", ".join(f"{v:.1f}" for v in os.getloadavg())
    text = "\n".join([
        "# Chapter 1's logistic regressions: OpenBLAS threads",
        "",
        "Written by `python benchmarks/blas_threads.py`: three L-BFGS logistic regressions (C in {0.01, 0.1, 1}, "
        "max_iter 1000) on 2,000 standardised Fashion-MNIST images, best of two runs each.",
        "",
        f"- date: {datetime.datetime.now():%Y-%m-%d %H:%M}",
        f"- machine: {os.cpu_count()} cores, {platform.processor() or platform.machine()}, Python {platform.python_version()}",
        f"- load average (1, 5, 15 min) at the end: {load}",
        "",
        "| OpenBLAS threads | seconds |",
        "| --- | --- |",
        f"| {threads} | {best[threads]:.1f} |",
        f"| 1 | {best[1]:.1f} |",
        "",
    ])
    RESULTS.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
