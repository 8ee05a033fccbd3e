"""The hand-written side of bench/train_throughput.py: the networks and loops a PyTorch user writes (torch only).

``DEVICE`` is set by the bench's ``--device``; ``CPU[0]`` holds the CPU seconds of the last loop. Each loop
(GraphEdit's fit too) is bracketed by :func:`loop_begin` and :func:`loop_end`.
"""

from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

DEVICE = "cpu"


class ResidualMLP(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.d1, self.d2, self.d3 = nn.Linear(2, 32), nn.Linear(32, 32), nn.Linear(32, 32)
        self.d4, self.d5, self.out = nn.Linear(32, 32), nn.Linear(32, 32), nn.Linear(32, 2)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h = F.relu(self.d1(x))
        h = h + self.d3(F.relu(self.d2(h)))
        h = h + self.d5(F.relu(self.d4(h)))
        return self.out(F.relu(h))


def lenet() -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(1, 6, 5), nn.ReLU(), nn.MaxPool2d(2), nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(400, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, 10),
    )  # fmt: skip


def keras_cnn(channels: int = 1, classes: int = 10) -> nn.Module:
    return nn.Sequential(
        nn.Conv2d(channels, 16, 5, 2, 2), nn.ReLU(), nn.Conv2d(16, 32, 5, 2, 2), nn.ReLU(),
        nn.Conv2d(32, 32, 3, 2, 1), nn.ReLU(), nn.Flatten(), nn.Dropout(0.5), nn.Linear(512, 32), nn.ReLU(),
        nn.Dropout(0.5), nn.Linear(32, classes),
    )  # fmt: skip


HAND_MODELS = {
    "residual_mlp": ResidualMLP,
    "lenet": lenet,
    "keras_cnn": keras_cnn,
    "image_folder": lambda: keras_cnn(1, 2),
}


def sync() -> None:
    if DEVICE.startswith("cuda"):
        torch.cuda.synchronize()


CPU = [0.0]  # the process's CPU seconds of the last loop (hand or GraphEdit's fit)
COUNTING: list = []  # bench/instructions.py: valgrind's [start, stop, mark] of its instruction count, around each loop


def loop_begin() -> float:
    """Start of a measured loop: starts the instruction count where one is set; the CPU clock's reading."""
    if COUNTING:
        COUNTING[0]()
    return time.process_time()


def loop_mark() -> None:
    """GraphEdit's loop proper ends here (its last epoch): the count so far is the loop's, apart from what comes
    after it (the last probe, the recorder's last write), as the run's timed seconds are."""
    if COUNTING:
        COUNTING[2]()


def loop_end(cpu: float) -> None:
    """End of a measured loop begun at CPU time ``cpu``: its CPU seconds in CPU[0]; stops the count."""
    CPU[0] = time.process_time() - cpu
    if COUNTING:
        COUNTING[1]()


def hand_loop(case: str, tensors: dict[str, torch.Tensor], epochs: int, lr: float, batch: int, seed: int = 0) -> float:
    """The loop a PyTorch user writes, on in-memory tensors; returns the loop's seconds (CPU seconds in CPU[0])."""
    torch.manual_seed(seed)
    model = HAND_MODELS[case]().to(DEVICE)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    X, y = tensors["X"].to(DEVICE), tensors["y"].reshape(-1).to(DEVICE)
    Xv, yv = tensors["Xv"].to(DEVICE), tensors["yv"].reshape(-1).to(DEVICE)
    gen = torch.Generator().manual_seed(seed)
    n = len(X)
    sync()
    start, cpu = time.perf_counter(), loop_begin()
    for _ in range(epochs):
        model.train()
        losses = []
        for idx in torch.randperm(n, generator=gen).to(DEVICE).split(batch):
            xb, yb = X[idx], y[idx]
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            acc = (out.argmax(1) == yb).float().mean()
            if not torch.isfinite(loss):
                raise RuntimeError("the loss became NaN")
            loss.backward()
            opt.step()
            losses.append(torch.stack([loss.detach(), acc]) * len(idx))
        model.eval()
        with torch.no_grad():
            out = torch.cat([model(xb) for xb in Xv.split(512)])
            _ = (F.cross_entropy(out, yv).item(), (out.argmax(1) == yv).float().mean().item())
            _ = (torch.stack(losses).sum(0) / n).tolist()
    sync()
    seconds = time.perf_counter() - start
    loop_end(cpu)
    return seconds


class FolderImages(torch.utils.data.Dataset):
    """What a user writes for a folder of class subfolders (torchvision's ImageFolder without torchvision)."""

    def __init__(self, files: list[tuple[str, int]], mean: float, std: float) -> None:
        self.files, self.mean, self.std = files, mean, std

    def __len__(self) -> int:
        return len(self.files)

    def __getitem__(self, i: int) -> tuple[torch.Tensor, int]:
        import numpy as np
        from PIL import Image

        path, label = self.files[i]
        with Image.open(path) as im:
            x = torch.from_numpy(np.asarray(im.convert("L"), dtype=np.float32) / 255.0)
        return ((x - self.mean) / self.std)[None], label


def hand_folder_loop(files: dict, epochs: int, lr: float, batch: int, seed: int = 0) -> float:
    torch.manual_seed(seed)
    model = HAND_MODELS["image_folder"]().to(DEVICE)
    opt = torch.optim.Adam(model.parameters(), lr=lr)
    gen = torch.Generator().manual_seed(seed)
    train = FolderImages(files["train"], files["mean"], files["std"])
    val = FolderImages(files["val"], files["mean"], files["std"])
    loader = torch.utils.data.DataLoader(train, batch_size=batch, shuffle=True, generator=gen)
    val_loader = torch.utils.data.DataLoader(val, batch_size=512)
    start, cpu = time.perf_counter(), loop_begin()
    for _ in range(epochs):
        model.train()
        for xb, yb in loader:
            xb, yb = xb.to(DEVICE), yb.to(DEVICE)
            opt.zero_grad(set_to_none=True)
            out = model(xb)
            loss = F.cross_entropy(out, yb)
            _ = (out.argmax(1) == yb).float().mean()
            loss.backward()
            opt.step()
        model.eval()
        with torch.no_grad():
            for xb, yb in val_loader:
                _ = F.cross_entropy(model(xb.to(DEVICE)), yb.to(DEVICE)).item()
    sync()
    seconds = time.perf_counter() - start
    loop_end(cpu)
    return seconds
