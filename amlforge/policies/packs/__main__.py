"""``python -m amlforge.policies.packs schema`` prints the policy-pack JSON Schema;
``python -m amlforge.policies.packs check PACK...`` validates packs and lists their rules (exit 2 on errors).

The schema file itself is ``amlforge/policies/packs/policy-pack.schema.json``; point an editor at it
(``# yaml-language-server: $schema=...``) for completion and validation while writing a pack.
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] in ("-h", "--help") or args[0] not in ("schema", "check"):
        print(__doc__.strip())
        return 0 if args and args[0] in ("-h", "--help") else 2
    if args[0] == "schema":
        from amlforge.policies.packs import SCHEMA_PATH

        sys.stdout.write(SCHEMA_PATH.read_text(encoding="utf-8"))
        return 0
    from amlforge.cli._common import fail
    from amlforge.errors import UserInputError
    from amlforge.policies.packs import load_packs

    try:
        packs = load_packs(args[1:])
    except UserInputError as e:
        fail(e)  # prints file:line:col, the message and the hint; exits 2
    for pack in packs:
        print(f"{pack.ref}: pack '{pack.name}', {len(pack.rules)} rule{'s' if len(pack.rules) != 1 else ''}")
        for r in pack.rules:
            print(f"  {r.id} {r.name} ({r.severity}) {', '.join(r.select.resources)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
