"""Training from the editor: the worker process, TrainingSession, settings, toolbar, runs and errors."""
