"""Character windows from a text for next-character prediction (lesson 14).

Each sample is ``window`` consecutive characters (as indices into the
sorted vocabulary, int64) and its target is the character that follows. The
text comes from option ``text`` (inline), option ``path`` (a UTF-8 file,
relative to the project's folder) or, with neither, the sample text shipped
in ``resources/text/sample.txt``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from graphedit.resources import ROOT as RESOURCES
from graphedit.training.dataset_types import DatasetError, Opt, RawData, dataset_kind

SAMPLE_TEXT = RESOURCES / "text" / "sample.txt"


def read_text(o: dict[str, Any], base_dir: Path | None) -> str:
    if o["text"]:
        return o["text"]
    if o["path"]:
        path = Path(o["path"]).expanduser()
        if not path.is_absolute() and base_dir is not None:
            path = base_dir / path
        try:
            return path.read_text(encoding="utf-8")
        except FileNotFoundError:
            raise DatasetError(
                f"dataset 'text': the file {path} does not exist. Fix: set option 'path' to a UTF-8 text file "
                "(relative to the project's folder) or give the text inline in option 'text'."
            ) from None
        except (OSError, UnicodeDecodeError) as exc:
            raise DatasetError(
                f"dataset 'text': cannot read {path} as UTF-8 text ({exc}). Fix: save it as UTF-8."
            ) from None
    return SAMPLE_TEXT.read_text(encoding="utf-8")


@dataset_kind(
    "text",
    {
        "path": Opt("", "UTF-8 text file, relative to the project's folder (empty: the built-in sample)"),
        "text": Opt("", "the text itself (overrides path)"),
        "window": Opt(8, "characters the network sees to predict the next one", min=1, max=1024),
        "stride": Opt(1, "characters between the starts of two windows", min=1, max=1024),
        "lowercase": Opt(False, "fold the text to lower case (a smaller vocabulary)"),
        "max_chars": Opt(200_000, "use at most this many characters from the start of the text", min=2),
    },
    "next-character prediction from windows of characters of a text",
    default_standardize=False,
)
def text(o: dict[str, Any], rng: np.random.Generator, base_dir: Path | None) -> RawData:
    body = read_text(o, base_dir)[: o["max_chars"]]
    if o["lowercase"]:
        body = body.lower()
    window = o["window"]
    if len(body) <= window:
        raise DatasetError(
            f"dataset 'text': the text has {len(body)} characters, too few for windows of {window}. "
            "Fix: use a longer text or a smaller window."
        )
    vocab = sorted(set(body))
    lookup = {c: i for i, c in enumerate(vocab)}
    codes = np.fromiter((lookup[c] for c in body), dtype=np.int64, count=len(body))
    starts = np.arange(0, len(body) - window, o["stride"])
    X = codes[starts[:, None] + np.arange(window)[None]]
    y = codes[starts + window]
    return RawData(X, y, "sequence", num_classes=len(vocab), class_names=list(vocab), vocab=vocab)


DATASET_KINDS = (text,)
