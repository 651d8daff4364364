"""gitflywheel: work sessions in, publishable artifacts out, each recorded once in git."""

__all__ = ["__version__"]

__version__ = "0.2.0"
