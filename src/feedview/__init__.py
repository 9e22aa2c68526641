"""feedview: watch live data in your terminal."""

__version__ = "0.1.0"
