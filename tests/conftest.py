import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# one torch thread per test worker, whatever the thread policy would choose (graphedit.training.threads);
# spawned training processes inherit it
os.environ["GRAPHEDIT_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
sys.path.insert(0, str(Path(__file__).parent))
