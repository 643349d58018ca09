"""Model definitions, one module per paper (Keras for the keyword-spotting paper, PyTorch for the others).

Import the submodule a chapter needs, e.g. ``from lib.models import kws``; importing this
package imports neither framework.
"""
