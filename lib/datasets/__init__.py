"""Task datasets assembled from the corpora of :mod:`lib.data`: one module per chapter's task
(the split, the label set, the cached features), e.g. ``from lib.datasets import kws``."""
