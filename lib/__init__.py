"""Thin shared library of the executable book: data, features, models, balancing, metrics, report.

Each chapter imports the modules it needs, e.g. ``from lib import data, features, metrics, report``.
"""

__all__ = ["data", "features", "balancing", "metrics", "report", "models"]
