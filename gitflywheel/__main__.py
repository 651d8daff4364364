"""`python -m gitflywheel`: the same entry point as the console script."""

from .cli import main

main(prog_name="gitflywheel")
