"""Sweeps in the editor: parameters marked for sweeping, the Experiments panel that runs a study, its views."""
