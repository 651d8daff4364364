"""Write the golden files for a new pipeline version or filter set.

Run it after bumping a pipeline's VERSION (gitflywheel/pipelines/*.py) or adding a filter
set (gitflywheel/filtersets.py): it writes tests/data/golden/<pipeline>-<version>/ and
tests/data/golden/filters/<set>.json for what has no files yet. The files of a version
that has them already are never overwritten, unless --force: a released version's output
does not change (use --force only when a shipped template changed, or to regenerate
everything once after a merge). Needs the package installed (.venv/bin/python).

Usage: .venv/bin/python scripts/update_golden.py [--force]
"""

from __future__ import annotations

import argparse
import shutil
import sys
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from golden import GOLDEN, ROOT, expected_files  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--force", action="store_true", help="rewrite the files of versions that have them"
    )
    parser.add_argument(
        "--into", type=Path, default=GOLDEN, help="write here instead of tests/data/golden"
    )
    args = parser.parse_args()
    by_folder: dict[Path, dict[Path, bytes]] = defaultdict(dict)
    for path, data in expected_files():
        target = args.into / path.relative_to(GOLDEN)
        by_folder[target.parent][target] = data
    refused = []
    for folder, files in sorted(by_folder.items()):
        changed = [p for p, data in files.items() if p.exists() and p.read_bytes() != data]
        if changed and not args.force:
            refused.append(folder)
            for path in changed:
                print(f"refused: {_shown(path)} exists with other content", file=sys.stderr)
    if refused:
        print(
            "A released version's golden files never change. Bump the pipeline's VERSION (or add "
            "a filter set) and run again; --force rewrites them (a shipped template changed).",
            file=sys.stderr,
        )
        return 1
    written = 0
    for folder, files in sorted(by_folder.items()):
        if args.force and folder.name != "filters" and folder.is_dir():
            shutil.rmtree(folder)  # drop the files of samples that are gone
        folder.mkdir(parents=True, exist_ok=True)
        for path, data in sorted(files.items()):
            if not path.exists() or path.read_bytes() != data:
                path.write_bytes(data)
                written += 1
    print(f"{written} golden files written under {_shown(args.into)}")
    return 0


def _shown(path: Path) -> Path:
    return path.relative_to(ROOT) if path.is_relative_to(ROOT) else path


if __name__ == "__main__":
    sys.exit(main())
