"""Chapters as files: finding them, checking each ipynb/py pair, executing them headless.

A chapter is ``chapters/NN_topic.ipynb`` paired by jupytext with ``chapters/NN_topic.py``
(py:percent). The notebook is what a reader opens; the script is what a reviewer diffs. Both
are committed without outputs. :func:`execute` runs a notebook in a fresh kernel with quick or
full mode set in the kernel's environment and keeps the executed copy (outputs included) in
``results/executed/`` so that a failure can be read cell by cell.
"""

from __future__ import annotations

import os
import shutil
import sys
import time
from pathlib import Path

from nlpbook import results


def project_root() -> Path:
    """The folder holding ``pyproject.toml`` and ``chapters/`` (from this file's location)."""
    root = Path(__file__).resolve().parents[2]
    if not (root / "chapters").is_dir():
        raise FileNotFoundError(f"no chapters/ folder next to the library at {root}")
    return root


def chapter_paths(root: Path | None = None) -> list[Path]:
    """Every chapter notebook, in book order."""
    folder = (root or project_root()) / "chapters"
    return sorted(p for p in folder.glob("[0-9A-Z][0-9_]*.ipynb") if "_" in p.stem)


def find_chapter(name: str, root: Path | None = None) -> Path:
    """A chapter by stem (``"01_tour"``) or number (``"01"``)."""
    matches = [p for p in chapter_paths(root) if p.stem == name or p.stem.split("_")[0] == name]
    if len(matches) != 1:
        known = ", ".join(p.stem for p in chapter_paths(root))
        raise ValueError(f"no single chapter matches {name!r}; chapters: {known}")
    return matches[0]


def _cells(nb) -> list[tuple[str, str]]:
    return [(c.cell_type, c.source.strip()) for c in nb.cells]


def check_pair(ipynb: Path) -> list[str]:
    """Problems with one chapter's pair: a missing script, outputs, or cells out of sync.

    Returns:
        A list of human-readable problems; empty when the pair is clean.
    """
    import jupytext
    import nbformat

    problems = []
    script = ipynb.with_suffix(".py")
    if not script.is_file():
        return [f"{ipynb.name}: no paired {script.name} (jupytext py:percent)"]
    nb = nbformat.read(ipynb, as_version=4)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code" and (cell.get("outputs") or cell.get("execution_count")):
            problems.append(f"{ipynb.name}: cell {i} carries outputs; strip them before committing")
    paired = jupytext.read(script)
    if _cells(paired) != _cells(nb):
        ours, theirs = _cells(nb), _cells(paired)
        where = next(
            (i for i, (a, b) in enumerate(zip(ours, theirs, strict=False)) if a != b),
            min(len(ours), len(theirs)),
        )
        problems.append(
            f"{ipynb.name} and {script.name} differ (first at cell {where}; "
            f"{len(ours)} vs {len(theirs)} cells): run `jupytext --sync {script}`"
        )
    return problems


def execute(
    ipynb: Path,
    *,
    quick: bool = True,
    timeout: int = 900,
    results_dir: Path | None = None,
    extra_env: dict | None = None,
) -> Path:
    """Execute a chapter in a fresh kernel; return the path of its results JSON.

    Args:
        ipynb: the chapter notebook.
        quick: sets ``NLPBOOK_QUICK`` in the kernel's environment.
        timeout: seconds allowed per cell.
        results_dir: where the chapter writes its JSON (``NLPBOOK_RESULTS``); default
            ``results/`` at the project root.
        extra_env: more environment variables for the kernel.

    Raises:
        RuntimeError: a cell failed or the chapter wrote no results; the message names the
            cell and where the executed notebook was kept.
    """
    import nbformat
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    ipynb = Path(ipynb).resolve()
    out_dir = Path(results_dir) if results_dir else results.results_dir()
    out_dir = out_dir.resolve()
    env = dict(os.environ)
    env.update(
        NLPBOOK_QUICK="1" if quick else "0",
        NLPBOOK_RESULTS=str(out_dir),
        # figures go into the executed notebook as they would in JupyterLab (a test run's
        # MPLBACKEND=agg would otherwise reach the kernel and drop them)
        MPLBACKEND="module://matplotlib_inline.backend_inline",
        PYTHONUNBUFFERED="1",
        **(extra_env or {}),
    )
    nb = nbformat.read(ipynb, as_version=4)
    client = NotebookClient(
        nb,
        timeout=timeout,
        kernel_name="python3",
        resources={"metadata": {"path": str(ipynb.parent)}},
    )
    client.kernel_manager_class = _kernel_manager_class()
    executed = out_dir / "executed" / ipynb.name
    executed.parent.mkdir(parents=True, exist_ok=True)
    result_file = out_dir / f"{ipynb.stem}.json"
    result_file.unlink(missing_ok=True)
    try:
        client.execute(env=env)
    except CellExecutionError as err:
        nbformat.write(nb, executed)
        raise RuntimeError(f"{ipynb.name} failed; executed copy in {executed}:\n{err}") from None
    nbformat.write(nb, executed)
    if not result_file.is_file():
        raise RuntimeError(f"{ipynb.name} ran but wrote no {result_file.name} (Recorder.save())")
    return result_file


def _kernel_manager_class():
    from jupyter_client.manager import KernelManager

    class ThisInterpreterKernel(KernelManager):
        """An ipykernel started with this interpreter, so chapters import this nlpbook.

        A ``python3`` kernelspec elsewhere on the machine (a user's global one, say) would
        otherwise start another Python without the project installed.
        """

        def format_kernel_cmd(self, extra_arguments=None):
            cmd = super().format_kernel_cmd(extra_arguments)
            if any("ipykernel" in part for part in cmd):
                cmd[0] = sys.executable
            return cmd

    return ThisInterpreterKernel


def main(argv: list[str]) -> int:
    """``python -m nlpbook chapters run [NAME ...] [--full | --smoke] [--fresh] [--timeout S]``
    and ``chapters check``.

    A full or smoke run resumes (``NLPBOOK_RESUME=1``, see :mod:`nlpbook.resume`): run again
    after an interruption, a chapter loads the fits it had finished and continues the one it
    was in; ``--fresh`` first deletes what earlier runs of the named chapters left.
    """
    import argparse

    parser = argparse.ArgumentParser(prog="python -m nlpbook chapters")
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="execute chapters headless, writing results/*.json")
    run.add_argument("names", nargs="*", help="chapter stems or numbers (default: all)")
    run.add_argument("--full", action="store_true", help="full mode (NLPBOOK_QUICK=0)")
    run.add_argument(
        "--smoke",
        action="store_true",
        help="full mode with every Model.fit cut to 2 batches (NLPBOOK_SMOKE=1): checks the "
        "code paths; results go to results/smoke/",
    )
    run.add_argument(
        "--fresh",
        action="store_true",
        help="full/smoke runs resume interrupted training (NLPBOOK_RESUME=1); --fresh deletes "
        "the saved training state of these chapters first",
    )
    run.add_argument("--timeout", type=int, default=None, help="seconds per cell")
    sub.add_parser("check", help="check every ipynb/py pair is in sync and output-free")
    args = parser.parse_args(argv)

    paths = chapter_paths()
    if args.command == "check":
        problems = [p for path in paths for p in check_pair(path)]
        for problem in problems:
            print(problem)
        print(f"{len(paths)} chapters checked, {len(problems)} problems")
        return 1 if problems else 0

    if args.names:
        paths = [find_chapter(n) for n in args.names]
    full = args.full or args.smoke
    timeout = args.timeout or (6 * 3600 if full else 900)
    mode = "smoke" if args.smoke else "full" if full else "quick"
    # a smoke run's numbers are meaningless: they never replace a real run's results
    out_dir = results.results_dir() / "smoke" if args.smoke else results.results_dir()
    extra_env = {"NLPBOOK_RESUME": "1"} if full else {}
    if args.smoke:
        extra_env["NLPBOOK_SMOKE"] = "1"
    failed = []
    for path in paths:
        start = time.perf_counter()
        if full and args.fresh:
            shutil.rmtree(out_dir / "resume" / path.stem, ignore_errors=True)
        print(f"{path.stem}: running ({mode} mode)...", flush=True)
        try:
            out = execute(
                path, quick=not full, timeout=timeout, results_dir=out_dir, extra_env=extra_env
            )
        except RuntimeError as err:
            failed.append(path.stem)
            print(f"{path.stem}: FAILED after {time.perf_counter() - start:.0f} s\n{err}")
            continue
        print(f"{path.stem}: ok in {time.perf_counter() - start:.0f} s -> {out}")
    print(f"{len(paths) - len(failed)} passed, {len(failed)} failed")
    return 1 if failed else 0
