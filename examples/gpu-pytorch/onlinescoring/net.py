"""Network definition shared by train.py and score.py.

model/model.pt holds only a state_dict (tensors), not pickled code, so the
class that the weights belong to must be importable at scoring time.
"""

import torch
from torch import nn


class TinyClassifier(nn.Module):
    """A small MLP: in_features -> hidden -> hidden -> num_classes."""

    def __init__(self, in_features: int, hidden: int, num_classes: int) -> None:
        super().__init__()
        self.layers = nn.Sequential(
            nn.Linear(in_features, hidden),
            nn.ReLU(),
            nn.Linear(hidden, hidden),
            nn.ReLU(),
            nn.Linear(hidden, num_classes),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.layers(x)
