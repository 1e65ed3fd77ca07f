"""nlpbook: the tested library under the chapters of the book.

Subpackages, in dependency order: ``datasets`` → ``text`` → ``pipelines`` → ``layers`` →
``models``; beside them ``runtime`` (backend, devices, seeds, quick mode), ``results`` (what a
chapter run writes), ``notebooks`` (executing chapters) and ``testing`` (layer test helpers).
Import the subpackage you need: ``from nlpbook import datasets``.
"""

__version__ = "0.1.0"
