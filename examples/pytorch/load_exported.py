"""Loads a model that `train export` wrote into a plain torch.nn module and measures it.

    cargo run --release -p train -- export --case 7 --test-inputs
    python3 examples/pytorch/load_exported.py artifacts/case7/export/model.safetensors

It prints the file's metadata, reconstructs the test set (test-inputs.npy beside the model when
`--test-inputs` wrote it: the inputs noised as the run noised them; else the clean MNIST test
images), prints the test MSE next to the one the run recorded, and exits 1 if they differ by
1e-5 or more. Needs torch, numpy and safetensors (pip install torch numpy safetensors).
"""

import argparse
import gzip
import pathlib
import sys

import numpy as np
import torch
from safetensors import safe_open

MNIST = pathlib.Path(__file__).resolve().parents[2] / "datasets" / "mnist"


class Autoencoder(torch.nn.Module):
    """The study's autoencoder at inference (dropout off): l2(activation(l1(x)))."""

    def __init__(self, hidden, activation):
        super().__init__()
        self.l1 = torch.nn.Linear(784, hidden)
        self.l2 = torch.nn.Linear(hidden, 784)
        self.activation = torch.relu if activation == "relu" else torch.sigmoid

    def forward(self, x):
        return self.l2(self.activation(self.l1(x)))


def load(path):
    """The model in `path` and the file's metadata."""
    with safe_open(path, framework="pt") as f:
        metadata = f.metadata()
        state = {name: f.get_tensor(name) for name in f.keys()}
    model = Autoencoder(state["l1.weight"].shape[0], metadata["activation"])
    model.load_state_dict(state)  # strict: exactly l1.weight, l1.bias, l2.weight, l2.bias
    return model.eval(), metadata


def clean_test_images():
    """The MNIST test images as float32 [10000, 784], pixels / 255."""
    with gzip.open(MNIST / "t10k-images-idx3-ubyte.gz") as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return torch.from_numpy(data.reshape(-1, 784).astype(np.float32) / 255.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", help="a model.safetensors written by `train export`")
    args = parser.parse_args()

    model, metadata = load(args.model)
    print(", ".join(f"{k}={v}" for k, v in sorted(metadata.items())))
    targets = clean_test_images()
    test_inputs = pathlib.Path(args.model).with_name("test-inputs.npy")
    if test_inputs.exists():
        inputs = torch.from_numpy(np.load(test_inputs))
        print(f"inputs: {test_inputs}")
    elif float(metadata.get("noise", "0")) > 0:
        sys.exit("this run measures its test MSE on noised inputs, and there is no "
                 f"{test_inputs}: export with --test-inputs")
    else:
        inputs = targets
    with torch.no_grad():
        reconstructions = model(inputs)
    mse = float(((reconstructions.double() - targets.double()) ** 2).mean())
    recorded = metadata.get("test_mse", "unknown")
    print(f"test MSE in PyTorch {mse:.9f}; recorded by the run {recorded}")
    if recorded != "unknown":
        difference = abs(mse - float(recorded))
        print(f"difference {difference:.1e}")
        if difference >= 1e-5:
            sys.exit("they differ by 1e-5 or more")


if __name__ == "__main__":
    main()
