import os
import sys
import tempfile
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
# runs of unsaved projects go to the per-user data folder: in tests, a throwaway one
os.environ["XDG_DATA_HOME"] = tempfile.mkdtemp(prefix="graphedit-test-data-")
sys.path.insert(0, str(Path(__file__).parent))
