import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
sys.path.insert(0, str(Path(__file__).parent))

# per-user settings (the trust store of graphedit/training/trust.py) go to a temporary folder, never ~/.config
if "GRAPHEDIT_CONFIG_DIR" not in os.environ:
    import tempfile

    os.environ["GRAPHEDIT_CONFIG_DIR"] = tempfile.mkdtemp(prefix="graphedit-test-config-")
