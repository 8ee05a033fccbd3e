"""Sequence layers: token embeddings and recurrent networks over [N, T, F] inputs."""

from __future__ import annotations

from typing import Any

import torch
from torch import nn

from graphedit.nodes._common import Check, known, need_rank
from graphedit.nodes.spec import NodeType, Param, Shape, init_param


class Recurrent(nn.Module):
    """A batch-first RNN/LSTM/GRU returning one tensor: the last step [N, H] or all steps [N, T, H].

    Bidirectional: both directions side by side, 2H features; the "last step" is then the forward
    direction's last step beside the backward direction's last, which is position 0.
    """

    def __init__(
        self, kind: str, in_features: int, units: int, layers: int, last: bool, bidirectional: bool = False
    ) -> None:
        super().__init__()
        self.last = last
        self.units = units
        self.bidirectional = bidirectional
        self.rnn = {"RNN": nn.RNN, "LSTM": nn.LSTM, "GRU": nn.GRU}[kind](
            in_features, units, num_layers=layers, batch_first=True, bidirectional=bidirectional
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not torch.jit.is_scripting() and x.is_meta:  # shape inference: meta kernels would step every time step
            return self.meta_output(x)
        out: torch.Tensor = self.rnn(x)[0]
        if not self.last:
            return out
        if self.bidirectional:
            return torch.cat([out[:, -1, : self.units], out[:, 0, self.units :]], dim=1)
        return out[:, -1]

    @torch.jit.unused  # shape inference only: TorchScript never compiles it
    def meta_output(self, x: torch.Tensor) -> torch.Tensor:
        """The output's shape from the input's, checked as the layer checks it, in time independent of T."""
        self.rnn.check_input(x, None)
        if x.shape[1] == 0:
            raise ValueError(f"{type(self.rnn).__name__} needs at least one time step, got input {list(x.shape)}")
        n, t = x.shape[0], x.shape[1]
        features = self.rnn.hidden_size * (2 if self.bidirectional else 1)
        return x.new_empty((n, features) if self.last else (n, t, features))


def _check_rnn(title: str) -> Check:
    def check(params: dict[str, Any], shapes: list[Shape | None]) -> None:
        shape = shapes[0]
        fix = "add a Reshape to [T, F] before it (time steps × features per step)"
        if shape is not None and len(shape) == 2:
            fix = "add an Embedding for token ids, or a Reshape to [T, 1] for one number per step"
        need_rank(title, shape, (3,), "[N, T, features]", fix)

    return check


def _rnn_type(kind: str, doc: str, formula: str) -> NodeType:
    def build(params: dict[str, Any], shapes: list[Shape | None]) -> nn.Module:
        last = params["return"] == "last"
        return Recurrent(kind, known(shapes)[2], params["units"], params["layers"], last, params["bidirectional"])

    return NodeType(
        kind,
        kind,
        "sequence",
        f"{doc} Input [N, T, F]; output the last step [N, H] or the whole sequence [N, T, H]; "
        "bidirectional adds a second pass from the end, doubling the features to 2H.",
        build=build,
        params=(
            Param("units", "int", 64, min=1, max=8192, doc="Size H of the hidden state."),
            Param("layers", "int", 1, min=1, max=8, doc="Number of stacked recurrent layers."),
            Param("return", "choice", "last", choices=("last", "sequence"), doc="Last step only, or every step."),
            init_param(),
            Param("bidirectional", "bool", False, doc="Also read the sequence backwards; output 2H features."),
        ),
        formula=formula,
        key_params=("units", "return"),
        check=_check_rnn(kind),
        id_prefix=kind.lower(),
    )


def _check_embedding(params: dict[str, Any], shapes: list[Shape | None]) -> None:
    need_rank("Embedding", shapes[0], (1, 2, 3), "int64 token ids [N, T]", "feed it int64 token ids of shape [T]")


NODE_TYPES = [
    NodeType(
        "Embedding",
        "Embedding",
        "sequence",
        "Embedding: looks up a learned vector for each token id, [N, T] int64 → [N, T, D]; the same as a "
        "Dense layer applied to one-hot vectors.",
        build=lambda params, shapes: nn.Embedding(params["vocab"], params["dim"]),
        params=(
            Param("vocab", "int", 64, min=1, max=10_000_000, doc="Number of distinct token ids (0 … vocab−1)."),
            Param("dim", "int", 16, min=1, max=65536, doc="Length D of each embedding vector."),
            init_param(),
        ),
        formula="y[n, t] = E[x[n, t]]",
        key_params=("vocab", "dim"),
        check=_check_embedding,
        id_prefix="embed",
    ),
    _rnn_type(
        "RNN",
        "Simple recurrent layer: the hidden state mixes the current input with the previous state.",
        "hₜ = tanh(W xₜ + U hₜ₋₁ + b)",
    ),
    _rnn_type(
        "LSTM",
        "Long short-term memory: input, forget and output gates control a cell state that carries "
        "information over many steps without vanishing gradients.",
        "cₜ = fₜ⊙cₜ₋₁ + iₜ⊙tanh(W_c xₜ + U_c hₜ₋₁),  hₜ = oₜ⊙tanh(cₜ)",
    ),
    _rnn_type(
        "GRU",
        "Gated recurrent unit: update and reset gates blend the old state with a candidate; lighter than an LSTM.",
        "hₜ = (1 − zₜ)⊙hₜ₋₁ + zₜ⊙tanh(W xₜ + U(rₜ⊙hₜ₋₁))",
    ),
]
