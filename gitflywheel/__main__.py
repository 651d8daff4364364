"""`python -m gitflywheel`."""

from .cli import main

main(prog_name="gitflywheel")
