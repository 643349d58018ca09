"""Thin shared library of the executable book: data, features, models, balancing, metrics, results, page.

Each chapter imports the modules it needs, e.g. ``from lib import data, features, metrics, page``.
"""

__all__ = ["data", "features", "balancing", "metrics", "results", "page", "formatting", "models"]
