"""The version of gitflywheel: one place, read by the package, the feeds and the records."""

__version__ = "0.4.0"
