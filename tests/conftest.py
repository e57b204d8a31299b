"""Test-wide settings: quick mode for everything, notebooks included.

nbval starts each notebook's kernel from this process, so the environment set
here reaches the notebooks too.
"""
import os
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
os.environ["VAE_QUICK"] = "1"
os.environ.setdefault("VAE_PROGRESS", "text")

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "chapters").glob("*.ipynb"))
