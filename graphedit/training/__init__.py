"""Training: datasets, the trainer loop, probes and run records (no Qt; DESIGN.md decision 6)."""
