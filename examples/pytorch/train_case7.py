"""Trains the study's case 7 in PyTorch (Sigmoid, 100 hidden, masking noise 0.2: 156 of 784
pixels zeroed per training image; Adam lr 1e-3, eps 1e-8; batch 100; 20 epochs; weights
N(0, 1/sqrt(fan_in)), biases 0) and saves it three ways for `train import`: a state dict (.pt),
safetensors, and Chainer's save_npz layout (.npz: l1/W, l1/b, l2/W, l2/b).

    python3 examples/pytorch/train_case7.py OUT_DIR [--test-inputs test-inputs.npy]
    cargo run --release -p train -- import OUT_DIR/case7.pt --name torch7 --case 7

With --test-inputs (the test-inputs.npy of `train export --case 7 --test-inputs`: the test inputs
noised as case 7's seed noises them) it prints the test MSE that `train import --case 7` should
store.
"""

import argparse
import gzip
import pathlib

import numpy as np
import torch
from safetensors.torch import save_file

from load_exported import MNIST, Autoencoder, clean_test_images

NOISED = int(784 * 0.2)


def train_images():
    """The MNIST training images as float32 [60000, 784], pixels / 255."""
    with gzip.open(MNIST / "train-images-idx3-ubyte.gz") as f:
        data = np.frombuffer(f.read(), dtype=np.uint8, offset=16)
    return torch.from_numpy(data.reshape(-1, 784).astype(np.float32) / 255.0)


def noised(images, generator):
    """`images` with NOISED random pixels of each set to 0 (a fixed mask per image)."""
    order = torch.rand(images.shape, generator=generator).argsort(dim=1)[:, :NOISED]
    return images.scatter(1, order, 0.0)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=pathlib.Path)
    parser.add_argument("--test-inputs")
    parser.add_argument("--epochs", type=int, default=20)
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)

    generator = torch.Generator().manual_seed(7)
    torch.manual_seed(7)
    model = Autoencoder(100, "sigmoid")
    for layer in (model.l1, model.l2):
        torch.nn.init.normal_(layer.weight, std=layer.in_features ** -0.5)
        torch.nn.init.zeros_(layer.bias)
    targets = train_images()
    inputs = noised(targets, generator)
    optimiser = torch.optim.Adam(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8)
    for epoch in range(1, args.epochs + 1):
        total = 0.0
        for batch in torch.randperm(len(targets), generator=generator).split(100):
            optimiser.zero_grad()
            loss = torch.nn.functional.mse_loss(model(inputs[batch]), targets[batch])
            loss.backward()
            optimiser.step()
            total += float(loss) * len(batch)
        print(f"epoch {epoch}/{args.epochs}  train loss {total / len(targets):.5f}")

    state = {k: v.detach().contiguous() for k, v in model.state_dict().items()}
    torch.save(state, args.out / "case7.pt")
    save_file(state, args.out / "case7.safetensors")
    chainer = {"l1/W": "l1.weight", "l1/b": "l1.bias", "l2/W": "l2.weight", "l2/b": "l2.bias"}
    np.savez_compressed(args.out / "case7.npz", **{k: state[v].numpy() for k, v in chainer.items()})
    print(f"wrote {args.out}/case7.pt, case7.safetensors, case7.npz")
    if args.test_inputs:
        test_inputs = torch.from_numpy(np.load(args.test_inputs))
        with torch.no_grad():
            out = model.eval()(test_inputs)
        mse = float(((out.double() - clean_test_images().double()) ** 2).mean())
        print(f"test MSE in PyTorch (the given noised inputs): {mse:.9f}")


if __name__ == "__main__":
    main()
