#!/usr/bin/env python3
"""Cases 1 and 7 trained by this project (Burn, `train` binary) and by PyTorch with the same
protocol, on the same machine, in one run; prints seconds per epoch, their ratio, GFLOP/s and
peak memory.

Protocol (both frameworks): MNIST from datasets/mnist, pixels / 255, 60 000 training images,
batch 100 shuffled per epoch, 784 -> n -> 784 with the case's activation, dropout 0.5 after the
hidden activation and after the output layer (case 1), masking noise of 156 pixels per image
fixed once (case 7), MSE, Adam (lr 1e-3, betas 0.9/0.999, eps 1e-8), weights N(0, 1/sqrt(fan_in)),
zero biases. Seconds are the training loop of each epoch (evaluation excluded; Burn's
evaluation of the test set is timed separately in its epochs.csv). Each framework runs in its
own process; peak RSS is that process's maximum resident set size.

It also measures the matrix-product floor in the same run: the five products of an epoch's 600
steps (2 forward, 3 backward, transposes as strided views) timed alone with each BLAS the Python
has (PyTorch's MKL, NumPy's OpenBLAS), with the same threads; Burn's steady epoch ÷ the fastest
is how far the whole training step is from its matrix products.

Usage (PyTorch in a virtual environment, the release binary built first):
    python3 -m venv ~/.cache/torch-venv && ~/.cache/torch-venv/bin/pip install torch numpy
    cargo build --release -p train
    ~/.cache/torch-venv/bin/python benches/pytorch_vs_burn.py [--cases 1,7] [--epochs 3] [--backends flex,ndarray]
        [--threads 2] [--train-bin PATH]
"""

import argparse
import csv
import gzip
import json
import os
import platform
import shutil
import struct
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CASES = {1: ("relu", 1000, True, 0.0), 7: ("sigmoid", 100, False, 0.2)}


def step_flops(hidden):
    """Matrix-product FLOPs of one training step of batch 100 (2 forward + 3 backward products)."""
    return 5 * 2 * 100 * 784 * hidden


def read_idx(path):
    with gzip.open(path, "rb") as f:
        data = f.read()
    dims = data[3]
    shape = struct.unpack(">" + "I" * dims, data[4 : 4 + 4 * dims])
    return data[4 + 4 * dims :], shape


def torch_worker(case, epochs, threads, flush):
    """Trains `case` with PyTorch and prints one JSON line of per-epoch seconds and losses."""
    import torch

    torch.set_num_threads(threads)
    torch.set_flush_denormal(flush)
    torch.manual_seed(0)
    activation, hidden, dropout_output, noise = CASES[case]
    raw, shape = read_idx(os.path.join(ROOT, "datasets/mnist/train-images-idx3-ubyte.gz"))
    x = torch.frombuffer(bytearray(raw), dtype=torch.uint8).reshape(shape[0], 784).float() / 255
    targets = x
    inputs = x.clone()
    if noise > 0:
        masked = int(784 * noise)  # floor, as the study
        order = torch.rand(x.shape[0], 784).argsort(dim=1)[:, :masked]
        inputs.scatter_(1, order, 0.0)

    l1 = torch.nn.Linear(784, hidden)
    l2 = torch.nn.Linear(hidden, 784)
    for layer, fan_in in ((l1, 784), (l2, hidden)):
        torch.nn.init.normal_(layer.weight, 0.0, 1.0 / fan_in**0.5)
        torch.nn.init.zeros_(layer.bias)
    act = torch.nn.ReLU() if activation == "relu" else torch.nn.Sigmoid()
    layers = [l1, act, torch.nn.Dropout(0.5) if case == 1 else torch.nn.Identity(), l2]
    if dropout_output:
        layers.append(torch.nn.Dropout(0.5))
    model = torch.nn.Sequential(*layers)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    loss_fn = torch.nn.MSELoss()
    seconds, losses = [], []
    for _ in range(epochs):
        model.train()
        perm = torch.randperm(x.shape[0])
        started = time.perf_counter()
        total = 0.0
        for i in range(0, x.shape[0], 100):
            idx = perm[i : i + 100]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(model(inputs[idx]), targets[idx])
            loss.backward()
            opt.step()
            total += loss.item()
        seconds.append(time.perf_counter() - started)
        losses.append(total / (x.shape[0] / 100))
    print(json.dumps({"seconds": seconds, "losses": losses, "version": torch.__version__}))


def torch_products(hidden, threads):
    """One step's five products with PyTorch's BLAS, into preallocated outputs."""
    import torch

    torch.set_num_threads(threads)
    g = torch.Generator().manual_seed(0)
    x, dy = torch.rand(100, 784, generator=g), torch.rand(100, 784, generator=g)
    w1, w2 = torch.rand(784, hidden, generator=g), torch.rand(hidden, 784, generator=g)
    h, dh = torch.rand(100, hidden, generator=g), torch.rand(100, hidden, generator=g)
    out = [torch.empty(100, hidden), torch.empty(100, 784), torch.empty(100, hidden),
           torch.empty(hidden, 784), torch.empty(784, hidden)]

    def step():
        torch.mm(x, w1, out=out[0])  # forward: X W1
        torch.mm(h, w2, out=out[1])  # forward: H W2
        torch.mm(dy, w2.t(), out=out[2])  # backward: dY W2^T
        torch.mm(h.t(), dy, out=out[3])  # backward: H^T dY
        torch.mm(x.t(), dh, out=out[4])  # backward: X^T dH

    blas = "MKL" if torch.backends.mkl.is_available() else "its BLAS"
    return f"PyTorch {torch.__version__} ({blas})", step


def numpy_products(hidden):
    """One step's five products with NumPy's BLAS, into preallocated outputs."""
    import numpy as np

    rng = np.random.default_rng(0)
    x, dy = rng.random((100, 784), np.float32), rng.random((100, 784), np.float32)
    w1, w2 = rng.random((784, hidden), np.float32), rng.random((hidden, 784), np.float32)
    h, dh = rng.random((100, hidden), np.float32), rng.random((100, hidden), np.float32)
    out = [np.empty((100, hidden), np.float32), np.empty((100, 784), np.float32),
           np.empty((100, hidden), np.float32), np.empty((hidden, 784), np.float32),
           np.empty((784, hidden), np.float32)]

    def step():
        np.matmul(x, w1, out=out[0])
        np.matmul(h, w2, out=out[1])
        np.matmul(dy, w2.T, out=out[2])
        np.matmul(h.T, dy, out=out[3])
        np.matmul(x.T, dh, out=out[4])

    try:
        blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]["name"]
    except Exception:
        blas = "its BLAS"
    return f"NumPy {np.__version__} ({blas})", step


def floor_worker(case, threads, repeats=3):
    """Times the five matrix products of an epoch's 600 training steps (batch 100) with each BLAS
    this Python has, transposes as strided views as in training; prints one JSON line with each
    BLAS's fastest epoch in seconds: the matrix-product floor of an epoch. NumPy's BLAS threads
    come from OPENBLAS_NUM_THREADS, set by the caller before NumPy loads."""
    hidden = CASES[case][1]
    floors = {}
    for make in (lambda: torch_products(hidden, threads), lambda: numpy_products(hidden)):
        try:
            name, step = make()
        except ImportError:
            continue
        step()  # warm-up
        best = float("inf")
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(600):
                step()
            best = min(best, time.perf_counter() - started)
        floors[name] = best
    print(json.dumps(floors))


def run_measured(cmd, env=None):
    """Runs a command; returns its stdout and its own peak RSS in MB (from wait4)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    out = proc.stdout.read()
    err = proc.stderr.read()
    _, status, usage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if proc.returncode != 0:
        sys.exit(f"error: {' '.join(cmd)} failed ({proc.returncode}): {err.strip().splitlines()[-1:]}")
    return out, usage.ru_maxrss / 1024


def burn_run(train_bin, case, epochs, threads, backend):
    work = tempfile.mkdtemp(prefix="burn-ae-bench-")
    try:
        env = dict(os.environ, RAYON_NUM_THREADS=str(threads))
        cmd = [train_bin, "--case", str(case), "--epochs", str(epochs), "--backend", backend, "--artifacts", work]
        stdout, rss_mb = run_measured(cmd, env)
        with open(os.path.join(work, f"case{case}", "epochs.csv")) as f:
            rows = list(csv.DictReader(f))
        return {
            "seconds": [float(r["train_seconds"]) for r in rows],
            "eval_seconds": [float(r["test_seconds"]) for r in rows],
            "losses": [float(r["train_loss"]) for r in rows],
            "test_mse": float(rows[-1]["test_mse"]),
            "rss_mb": rss_mb,
            "device": next((l for l in stdout.splitlines() if l.startswith("device:")), ""),
        }
    finally:
        shutil.rmtree(work, ignore_errors=True)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--cases", default="1,7")
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--backends", default="flex,ndarray", help="this project's CPU backends to run")
    target = os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target"))
    p.add_argument("--train-bin", default=os.path.join(target, "release", "train"))
    p.add_argument("--torch-worker", type=int, help=argparse.SUPPRESS)
    p.add_argument("--floor-worker", type=int, help=argparse.SUPPRESS)
    p.add_argument("--flush", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.torch_worker:
        torch_worker(args.torch_worker, args.epochs, args.threads, args.flush)
        return
    if args.floor_worker:
        floor_worker(args.floor_worker, args.threads)
        return
    if not os.path.exists(args.train_bin):
        sys.exit(f"error: {args.train_bin} not found: build it with `cargo build --release -p train`")

    results = []
    floors = {}
    for case in [int(c) for c in args.cases.split(",")]:
        out, _ = run_measured([sys.executable, __file__, "--floor-worker", str(case), "--threads", str(args.threads)],
                              dict(os.environ, OPENBLAS_NUM_THREADS=str(args.threads), OMP_NUM_THREADS=str(args.threads)))
        floors[case] = json.loads(out.strip().splitlines()[-1])
        for backend in args.backends.split(","):
            b = burn_run(args.train_bin, case, args.epochs, args.threads, backend)
            results.append((case, f"burn-autoencoder ({backend})", b))
        for flush, label in ((False, "PyTorch as shipped"), (True, "PyTorch + flush-to-zero")):
            cmd = [sys.executable, __file__, "--torch-worker", str(case), "--epochs", str(args.epochs), "--threads", str(args.threads)]
            if flush:
                cmd.append("--flush")
            out, rss = run_measured(cmd)
            t = json.loads(out.strip().splitlines()[-1])
            t["rss_mb"] = rss
            results.append((case, f"{label} {t['version']}", t))

    print(f"\nmachine: {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, {args.threads} threads; {args.epochs} epochs; steady = mean of epochs 2..{args.epochs}")
    print("| case | framework | s/epoch (each) | steady s/epoch | Burn (first backend) ÷ this | GFLOP/s | last train loss | peak RSS (MB) |")
    print("|---:|---|---|---:|---:|---:|---:|---:|")
    for case, name, r in results:
        steady_list = r["seconds"][1:] or r["seconds"]
        steady = sum(steady_list) / len(steady_list)
        # The reference is the first backend listed (flex by default).
        burn = next(x for c, n, x in results if c == case and n.startswith("burn"))
        burn_steady_list = burn["seconds"][1:] or burn["seconds"]
        burn_steady = sum(burn_steady_list) / len(burn_steady_list)
        hidden = CASES[case][1]
        gflops = step_flops(hidden) * 600 / steady / 1e9
        each = ", ".join(f"{s:.2f}" for s in r["seconds"])
        print(f"| {case} | {name} | {each} | {steady:.2f} | {burn_steady / steady:.2f} | {gflops:.0f} | {r['losses'][-1]:.5f} | {r['rss_mb']:.0f} |")
    print("\nMatrix-product floor: the five products of an epoch's 600 steps alone, fastest of 3, each BLAS:")
    print("| case | BLAS | floor s/epoch | GFLOP/s | Burn (first backend) steady ÷ floor |")
    print("|---:|---|---:|---:|---:|")
    for case, by_blas in floors.items():
        burn = next(x for c, n, x in results if c == case and n.startswith("burn"))
        burn_steady_list = burn["seconds"][1:] or burn["seconds"]
        burn_steady = sum(burn_steady_list) / len(burn_steady_list)
        for blas, seconds in sorted(by_blas.items(), key=lambda kv: kv[1]):
            gflops = step_flops(CASES[case][1]) * 600 / seconds / 1e9
            print(f"| {case} | {blas} | {seconds:.2f} | {gflops:.0f} | {burn_steady / seconds:.2f} |")
    for case, name, r in results:
        if name.startswith("burn"):
            print(f"case {case}, {name}: test MSE {r['test_mse']:.5f}; evaluation of 10 000 test images {min(r['eval_seconds']):.3f} s (fastest epoch); {r['device']}")


if __name__ == "__main__":
    main()
