"""GraphEdit: design, train and export neural networks as dataflow graphs."""

__version__ = "0.1.0"
