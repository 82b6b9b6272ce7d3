"""DR compliance harness: synthesize, model, evaluate policies, report."""

__version__ = "0.1.0"
