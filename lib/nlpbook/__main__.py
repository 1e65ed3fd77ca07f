"""Command line: ``python -m nlpbook data ...``, ``chapters ...``, ``bench ...``, ``info``."""

from __future__ import annotations

import sys

USAGE = """usage: python -m nlpbook COMMAND ...

commands:
  data list | fetch NAME | verify [NAME]   the dataset registry (nlpbook.datasets)
  chapters run [NAME ...] [--full]         execute chapters headless, writing results/*.json
  chapters check                           check every chapter's ipynb/py pair
  bench rnn [--steps N --units N ...]      our recurrent cells against Keras' layers, timed here
  bench gpt [--layers N --width D ...]     our GPT against keras-hub's GPT-2, training, timed here
  bench generate [--new-tokens N ...]      SmolLM2 decoding: KV cache, XLA, keras-hub, timed here
  info                                     backend, devices and versions in one line
"""


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] in {"-h", "--help", "help"}:
        print(USAGE)
        return 0 if argv else 2
    command, rest = argv[0], argv[1:]
    if command == "data":
        from nlpbook.datasets import cli

        return cli.main(rest)
    if command == "chapters":
        from nlpbook import notebooks

        return notebooks.main(rest)
    if command == "bench":
        from nlpbook import benchmark

        return benchmark.main(rest)
    if command == "info":
        from nlpbook import runtime

        print(runtime.describe())
        return 0
    print(f"unknown command {command!r}\n\n{USAGE}", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
