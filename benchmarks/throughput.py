"""Training throughput of chapter 1's deep autoencoder against the machine's matmul peak.

    python benchmarks/throughput.py                       # TensorFlow, JAX and PyTorch
    python benchmarks/throughput.py --backends jax --train-samples 20480

Trains `DenseAutoencoder(784, 30, hidden_units=(1000, 500, 250))` (Hinton &
Salakhutdinov's 784-1000-500-250-30 network) on Fashion-MNIST with batch 256,
Adam and binary cross-entropy, and reports samples per second and the
achieved GFLOP/s, counting only the dense layers: a forward pass costs
2 * in * out FLOPs per layer per sample, a training step about 3 times the
forward pass (forward, gradient with respect to the inputs, gradient with
respect to the weights). Next to it: the float32 matrix-multiply peak of the
same machine and backend (the best of several `keras.ops.matmul` of two
square matrices). Each backend runs in its own process (`KERAS_BACKEND`).
Results go to benchmarks/results/throughput.md.
"""

import argparse
import datetime
import json
import os
import pathlib
import platform
import subprocess
import sys
import time

HERE = pathlib.Path(__file__).resolve().parent
RESULTS = HERE / "results" / "throughput.md"
BATCH = 256


def _sync(x):
    """Waits for `x` to be computed (JAX dispatches asynchronously)."""
    import keras

    return keras.ops.convert_to_numpy(x[:1, :1])


def matmul_peak(sizes, repeats):
    """Float32 GFLOP/s of `n x n` by `n x n` `keras.ops.matmul` (2 n^3 FLOPs).

    Returns:
        `(best, median, n)`: the best and the median GFLOP/s of `repeats`
        timings, for the size `n` among `sizes` whose best is highest.
    """
    import keras
    import numpy as np

    rng = np.random.default_rng(0)
    results = []
    for n in sizes:
        a = keras.ops.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
        b = keras.ops.convert_to_tensor(rng.standard_normal((n, n), dtype=np.float32))
        _sync(keras.ops.matmul(a, b))  # warm-up
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            _sync(keras.ops.matmul(a, b))
            times.append(time.perf_counter() - start)
        results.append((2 * n**3 / min(times) / 1e9, 2 * n**3 / float(np.median(times)) / 1e9, n))
    return max(results)


def dense_flops_per_sample(model):
    """Forward FLOPs of one sample through the model's dense kernels: sum of 2 * in * out."""
    return sum(2 * int(w.shape[0]) * int(w.shape[1]) for w in model.weights if len(w.shape) == 2)


def train_throughput(train_samples, epochs):
    """Samples per second of `fit` (best epoch after a warm-up epoch) and forward FLOPs per sample."""
    import keras

    from aecourse import data, models

    keras.utils.set_random_seed(0)
    x = data.flatten(data.fashion_mnist().x_train)[:train_samples]
    model = models.DenseAutoencoder(784, 30, hidden_units=(1000, 500, 250))
    model.compile(optimizer=keras.optimizers.Adam(), loss="binary_crossentropy")
    model.fit(x[: 8 * BATCH], x[: 8 * BATCH], batch_size=BATCH, epochs=1, verbose=0)  # build and compile

    class EpochTimer(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            seconds.append(time.perf_counter() - self.start)

    seconds = []
    model.fit(x, x, batch_size=BATCH, epochs=epochs, shuffle=True, verbose=0, callbacks=[EpochTimer()])
    return len(x) / min(seconds), dense_flops_per_sample(model), seconds


def worker(args):
    import importlib.metadata

    import keras

    peak, peak_median, size = matmul_peak([int(n) for n in args.matmul_sizes.split(",")], args.matmul_repeats)
    samples_per_s, forward_flops, seconds = train_throughput(args.train_samples, args.epochs)
    backend = keras.backend.backend()
    train_gflops = samples_per_s * 3 * forward_flops / 1e9
    print(json.dumps({
        "backend": backend,
        "versions": f"Keras {keras.__version__}, {backend} {importlib.metadata.version(backend)}",
        "samples_per_s": samples_per_s,
        "forward_mflop_per_sample": forward_flops / 1e6,
        "train_gflops": train_gflops,
        "matmul_peak_gflops": peak,
        "matmul_median_gflops": peak_median,
        "matmul_size": size,
        "fraction": train_gflops / peak,
        "epoch_seconds": seconds,
    }))


def _machine():
    cpu = platform.machine()
    try:
        cpu = next(line.split(":", 1)[1].strip() for line in open("/proc/cpuinfo") if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{os.cpu_count()} cores, {cpu}, Python {platform.python_version()}"


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--backends", default="tensorflow,jax,torch",
                        help="comma-separated (default tensorflow,jax,torch)")
    parser.add_argument("--train-samples", type=int, default=30720,
                        help="training samples per timed epoch (default 30720 = 120 batches)")
    parser.add_argument("--epochs", type=int, default=3, help="timed epochs; the best one counts (default 3)")
    parser.add_argument("--matmul-sizes", default="1024,2048",
                        help="n of the n x n matmuls; the best counts (default 1024,2048)")
    parser.add_argument("--matmul-repeats", type=int, default=10)
    parser.add_argument("--out", type=pathlib.Path, default=RESULTS)
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        worker(args)
        return 0

    load_before = os.getloadavg()
    rows = []
    for backend in args.backends.split(","):
        command = [sys.executable, __file__, "--worker", "--train-samples", str(args.train_samples),
                   "--epochs", str(args.epochs), "--matmul-sizes", args.matmul_sizes,
                   "--matmul-repeats", str(args.matmul_repeats)]
        env = dict(os.environ, KERAS_BACKEND=backend, TF_CPP_MIN_LOG_LEVEL="3")
        result = subprocess.run(command, capture_output=True, text=True, env=env)
        if result.returncode != 0:
            print(result.stderr[-3000:], file=sys.stderr)
            return 1
        row = json.loads(result.stdout.strip().splitlines()[-1])
        rows.append(row)
        print(f"{backend}: {row['samples_per_s']:.0f} samples/s, {row['train_gflops']:.1f} GFLOP/s "
              f"of {row['matmul_peak_gflops']:.1f} GFLOP/s matmul peak ({row['fraction']:.0%})", flush=True)
    load_after = os.getloadavg()

    machine_peak = max(row["matmul_peak_gflops"] for row in rows)
    lines = [
        "# Training throughput of chapter 1's deep autoencoder",
        "",
        "Written by `python benchmarks/throughput.py`. Network 784-1000-500-250-30-250-500-1000-784 "
        f"(ReLU, sigmoid output), batch {BATCH}, Adam, binary cross-entropy, Fashion-MNIST; best of "
        f"{args.epochs} epochs of {args.train_samples} samples after a warm-up. Dense-layer FLOPs only: "
        "forward 2 * in * out per layer per sample, training 3 times the forward pass. Matmul peak: best of "
        f"{args.matmul_repeats} float32 `keras.ops.matmul` of two n x n matrices, n in {{{args.matmul_sizes}}}, "
        "on each backend; the machine's peak is the higher of the backends'.",
        "",
        f"- date: {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}",
        f"- machine: {_machine()}",
        "- load average (1, 5, 15 min) before: " + ", ".join(f"{v:.1f}" for v in load_before)
        + "; after: " + ", ".join(f"{v:.1f}" for v in load_after),
        "",
        "| backend | samples/s | training GFLOP/s | backend's matmul peak GFLOP/s (median, n) "
        "| fraction of the backend's peak | fraction of the machine's peak | versions |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        lines.append(
            f"| {row['backend']} | {row['samples_per_s']:.0f} | {row['train_gflops']:.1f} | "
            f"{row['matmul_peak_gflops']:.1f} ({row['matmul_median_gflops']:.1f}, {row['matmul_size']}) | "
            f"{row['fraction']:.0%} | {row['train_gflops'] / machine_peak:.0%} | {row['versions']} |")
    lines += ["", f"Machine's float32 matmul peak: {machine_peak:.1f} GFLOP/s. Forward pass: "
              f"{rows[0]['forward_mflop_per_sample']:.2f} MFLOP per sample; a training step: "
              f"{3 * rows[0]['forward_mflop_per_sample']:.2f} MFLOP per sample."]
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print(f"wrote {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
