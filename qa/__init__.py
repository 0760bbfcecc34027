"""News question answering over a folder of articles, with cited answers."""

__version__ = "0.1.0"
