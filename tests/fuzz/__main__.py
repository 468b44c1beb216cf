"""``python -m tests.fuzz [--count N] [--seed S] [--time-limit SECONDS] [--keep DIR]``: the fuzz campaign.

Exits 0 when every input failed safely, 1 otherwise (after listing the failures).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from tests.fuzz.engine import campaign, iter_failures


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz", description=__doc__)
    parser.add_argument("--count", type=int, default=10_000, help="inputs to run (default 10000)")
    parser.add_argument("--seed", type=int, default=1, help="campaign seed (default 1)")
    parser.add_argument("--time-limit", type=float, default=10.0, help="seconds per input (default 10)")
    parser.add_argument("--kind", action="append", default=[], choices=["azml", "conda", "score", "spec", "arm", "bicep", "terraform", "sdk", "notebook"],
                        help="only mutate seeds of this kind (repeatable)")
    parser.add_argument("--keep", type=Path, default=None, help="save the failing inputs in this folder")
    args = parser.parse_args(argv)

    def progress(i: int, o: object) -> None:
        if (i + 1) % 1000 == 0:
            print(f"  {i + 1} inputs...", file=sys.stderr, flush=True)

    result = campaign(args.count, args.seed, time_limit=args.time_limit, kinds=tuple(args.kind),
                      progress=progress, keep=args.keep)
    print(result.summary())
    failures = list(iter_failures(result))
    for text in failures[:50]:
        print("\n" + text)
    if len(failures) > 50:
        print(f"\n... and {len(failures) - 50} more")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
