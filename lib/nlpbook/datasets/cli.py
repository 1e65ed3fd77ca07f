"""``python -m nlpbook data list | fetch NAME | verify [NAME]``."""

from __future__ import annotations

import argparse
import sys

from .catalog import DATASETS, fetch, get, verify
from .registry import DatasetError

_PLACES = ("package", "cache", "mirror")


def _table(rows: list[tuple[str, ...]]) -> str:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def _list() -> int:
    rows = [("name", "files", "found in", "licence")]
    for dataset in DATASETS:
        checks = verify(dataset)
        found = [p for p in _PLACES if any(c.where == p and c.status == "ok" for c in checks)]
        if any(c.status == "mismatch" for c in checks):
            found.append("MISMATCH")
        complete = all(
            any(c.file == f.name and c.status == "ok" for c in checks) for f in dataset.files
        )
        where = "+".join(found) or "-"
        if found and not complete:
            where += " (partial)"
        rows.append((dataset.name, str(len(dataset.files)), where, dataset.license[:60]))
    print(_table(rows))
    return 0


def _fetch(name: str, force: bool, offline: bool) -> int:
    for file_name, path in fetch(name, force=force, offline=offline or None).items():
        print(f"{file_name}\t{path}")
    return 0


def _verify(name: str | None) -> int:
    checks = verify(name)
    rows = [("dataset", "file", "where", "status", "path / detail")]
    for c in checks:
        detail = c.detail if c.status != "ok" else str(c.path)
        rows.append((c.dataset, c.file, c.where, c.status, detail))
    print(_table(rows))
    bad = [c for c in checks if c.status == "mismatch"]
    ok = sum(c.status == "ok" for c in checks)
    print(f"\n{ok} ok, {len(checks) - ok - len(bad)} absent, {len(bad)} with a wrong sha256")
    return 1 if bad else 0


def main(argv: list[str] | None = None) -> int:
    """Run the ``data`` command line; returns the exit status.

    Args:
        argv: arguments after ``data``, e.g. ``["fetch", "ptb"]`` (``sys.argv[1:]`` if None).

    Returns:
        0 on success; 1 when ``verify`` finds a present file with a wrong sha256, or when
        ``fetch`` fails (the reason goes to stderr); 2 on a usage error.
    """
    parser = argparse.ArgumentParser(
        prog="python -m nlpbook data", description="the book's datasets: list, fetch, verify"
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("list", help="every dataset, where its files were found, its licence")
    p_fetch = sub.add_parser("fetch", help="fetch a dataset's files and print their paths")
    p_fetch.add_argument("name")
    p_fetch.add_argument("--force", action="store_true", help="ignore (and replace) the cache")
    p_fetch.add_argument("--offline", action="store_true", help="never use the network")
    p_verify = sub.add_parser("verify", help="hash every local copy; exit 1 on a mismatch")
    p_verify.add_argument("name", nargs="?")
    args = parser.parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "list":
            return _list()
        if args.command == "fetch":
            return _fetch(get(args.name).name, args.force, args.offline)
        return _verify(args.name and get(args.name).name)
    except DatasetError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
