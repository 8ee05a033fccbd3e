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


class _StallGuard:
    """Ends a session in which no test has reported for ``limit`` seconds, with one line saying so: a worker that
    crashed once left xdist's controller and both workers waiting on each other until CI's limit (each test has its
    own timeout, so a session that makes no progress this long is stuck, not slow)."""

    def __init__(self, limit: float) -> None:
        import threading
        import time

        self.limit, self.last = limit, time.monotonic()
        self.failed: list[str] = []  # a worker's crash reaches the controller as a failed report
        threading.Thread(target=self._watch, name="stall-guard", daemon=True).start()

    def pytest_runtest_logreport(self, report) -> None:
        import time

        self.last = time.monotonic()
        if report.failed:
            self.failed.append(f"{report.nodeid} ({report.when})")

    def _watch(self) -> None:
        import time

        while True:
            time.sleep(10)
            if time.monotonic() - self.last > self.limit:
                failed = "; ".join(self.failed) or "none"
                sys.stderr.write(
                    f"\nno test reported for {self.limit:.0f} s: the session is stuck; ending it. Failed: {failed}\n"
                )
                sys.stderr.flush()
                os._exit(3)


def pytest_configure(config):
    worker = hasattr(config, "workerinput")  # xdist's workers: their tests have pytest-timeout
    if not worker and config.getoption("numprocesses", None):
        config.pluginmanager.register(_StallGuard(limit=600.0), "stall-guard")
