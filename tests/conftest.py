import os
import sys
import tempfile
from pathlib import Path

import pytest

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# one torch thread per test worker, whatever the thread policy would choose (graphedit.training.threads);
# spawned training processes inherit it
os.environ["GRAPHEDIT_THREADS"] = "1"
os.environ["OMP_NUM_THREADS"] = "1"
# runs of unsaved projects go to the per-user data folder: in tests, a throwaway one
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="graphedit-test-data-")
sys.path.insert(0, str(Path(__file__).parent))

# per-user settings (the trust store of graphedit/training/trust.py) go to a temporary folder, never ~/.config
os.environ.setdefault("GRAPHEDIT_CONFIG_DIR", tempfile.mkdtemp(prefix="graphedit-test-config-"))


def pytest_collection_modifyitems(items):
    """A test that drives Qt through qtbot is a `gui` test, whether or not its module says so."""
    for item in items:
        if "qtbot" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.gui)
