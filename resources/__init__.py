"""Data files shipped with GraphEdit (sample text, icons), installed as ``graphedit.resources``."""

from pathlib import Path

ROOT = Path(__file__).resolve().parent
