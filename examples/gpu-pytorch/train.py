"""Train the tiny stand-in model shipped in ./model/.

Writes model/model.pt (a state_dict) and model/config.json (the architecture
and class names score.py needs to rebuild the network). The data are three
synthetic Gaussian clusters in 8 dimensions, generated with a fixed seed, so
nothing is downloaded and the run is reproducible. It trains on the CPU in a
second:

    python -m venv .venv
    .venv/bin/pip install torch==2.6.0 numpy==1.26.4
    .venv/bin/python train.py
"""

from __future__ import annotations

import json
import os
import sys

import torch
from torch import nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "onlinescoring"))
from net import TinyClassifier  # noqa: E402

CONFIG = {"in_features": 8, "hidden": 32, "classes": ["low", "medium", "high"]}


def make_data(n_per_class: int = 200) -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    centers = torch.tensor([[-2.0] * 8, [0.0] * 8, [2.0] * 8])
    xs, ys = [], []
    for label, center in enumerate(centers):
        xs.append(center + torch.randn(n_per_class, 8, generator=g))
        ys.append(torch.full((n_per_class,), label))
    return torch.cat(xs), torch.cat(ys)


def main() -> None:
    torch.manual_seed(0)
    x, y = make_data()
    model = TinyClassifier(CONFIG["in_features"], CONFIG["hidden"], len(CONFIG["classes"]))
    opt = torch.optim.Adam(model.parameters(), lr=0.01)
    loss_fn = nn.CrossEntropyLoss()
    for _ in range(200):
        opt.zero_grad()
        loss = loss_fn(model(x), y)
        loss.backward()
        opt.step()
    accuracy = (model(x).argmax(dim=1) == y).float().mean().item()
    print(f"torch {torch.__version__}: loss {loss.item():.4f}, training accuracy {accuracy:.3f}")

    out_dir = os.path.join(HERE, "model")
    os.makedirs(out_dir, exist_ok=True)
    torch.save(model.state_dict(), os.path.join(out_dir, "model.pt"))
    with open(os.path.join(out_dir, "config.json"), "w", encoding="utf-8") as fh:
        json.dump(CONFIG, fh, indent=2)
        fh.write("\n")
    print(f"wrote {out_dir}/model.pt ({os.path.getsize(os.path.join(out_dir, 'model.pt'))} bytes)")


if __name__ == "__main__":
    main()
