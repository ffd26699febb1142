"""The ``qmlkit`` command: rerun a chapter, sweep a grid, collect a sweep, print versions.

``qmlkit run CHAPTER [-p NAME VALUE]... [--profile full] [--out DIR]``,
``qmlkit sweep CHAPTER --grid NAME=V1,V2 [--grid ...] [-p NAME VALUE]... [--scheduler ADDR]
[--workers N]``, ``qmlkit collect SWEEP_DIR [--format csv|parquet] [--plot PATH]``,
``qmlkit about`` and ``qmlkit new PROJECT_DIR``. The work is done by :mod:`qmlkit.sweep`
(and :mod:`qmlkit.template`), which are imported only by the subcommand that needs them, so
``qmlkit about`` stays light.

Each subcommand is a function registered with :func:`command`; adding one is one decorated
function that fills its parser and returns its handler. Invalid input (an unknown parameter, a
value of the wrong type, a missing chapter) exits with status 2 and one line on standard
error, before anything runs; a failed chapter run exits with status 1.

Example:
    >>> main(["run", "02_background", "-p", "sead", "3"])
    2
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["build_parser", "command", "main"]

Handler = Callable[[argparse.Namespace], int]
#: name -> (help, function that fills the subparser and returns the handler)
_COMMANDS: dict[str, tuple[str, Callable[[argparse.ArgumentParser], Handler]]] = {}


def command(name: str, help: str) -> Callable:
    """Register a subcommand: the decorated function fills its parser, returns its handler."""
    def register(setup: Callable[[argparse.ArgumentParser], Handler]) -> Callable:
        _COMMANDS[name] = (help, setup)
        return setup
    return register


def _parameter_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-p", "--parameter", nargs=2, action="append", default=[], metavar=("NAME", "VALUE"),
        help="a chapter parameter; VALUE is YAML (2, 0.5, [10, 100], text), checked against "
             "the type of the parameter's default")
    parser.add_argument(
        "--profile", default=None,
        help="parameters from chapters/params/<chapter>.<PROFILE>.yaml (e.g. full) or a YAML "
             "file; -p overrides them")
    parser.add_argument("--out", default="results",
                        help="root of the results (default: results)")
    parser.add_argument("--kernel", default="python3", help="Jupyter kernel (default: python3)")


def _cli_parameters(chapter: str, pairs: Sequence[Sequence[str]]) -> dict[str, Any]:
    from qmlkit import sweep

    defaults = sweep.chapter_defaults(chapter)
    values: dict[str, Any] = {}
    for name, raw in pairs:
        if name in values:
            raise ValueError(f"parameter {name!r} is given twice")
        values[name] = sweep.parse_value(raw, default=defaults.get(name))
    return values


def _show_results(results: dict[str, Any] | None) -> None:
    for key, value in (results or {}).items():
        print(f"  {key} = {value}")


@command("run", "run a chapter with papermill into <out>/<chapter>/<run-id>/")
def _setup_run(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("chapter", help="stem (02_background), number (02) or notebook path")
    _parameter_option(parser)
    parser.add_argument("--progress", action="store_true", help="show papermill's progress bar")

    def handle(args: argparse.Namespace) -> int:
        from qmlkit import sweep

        outcome = sweep.run_chapter(
            args.chapter, parameters=_cli_parameters(args.chapter, args.parameter),
            profile=args.profile, out=args.out, kernel_name=args.kernel,
            progress_bar=args.progress)
        print(f"{outcome.status}: {outcome.run_dir} ({outcome.duration_s} s)")
        if outcome.status == "failed":
            print(f"  {outcome.error}\n  traceback in {outcome.run_dir / sweep.STATUS_FILE}",
                  file=sys.stderr)
            return 1
        _show_results(outcome.results)
        return 0
    return handle


@command("sweep", "run a chapter over a parameter grid on Dask, resumably")
def _setup_sweep(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("chapter", help="stem (02_background), number (02) or notebook path")
    parser.add_argument("--grid", action="append", required=True, metavar="NAME=V1,V2,...",
                        help="values of one parameter (YAML, so lists read [1, 2],[3]); "
                             "repeat for a Cartesian grid")
    _parameter_option(parser)
    parser.add_argument("--scheduler", default=None,
                        help="address of a running Dask scheduler (tcp://host:8786); default: a "
                             "LocalCluster for this sweep")
    parser.add_argument("--workers", type=int, default=None,
                        help="LocalCluster workers, one run each at a time (default 2)")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")

    def handle(args: argparse.Namespace) -> int:
        from qmlkit import sweep

        grid: dict[str, list[Any]] = {}
        for text in args.grid:
            name, values = sweep.parse_grid(text)
            if name in grid:
                raise ValueError(f"--grid {name} is given twice")
            grid[name] = values
        fixed = _cli_parameters(args.chapter, args.parameter)
        both = sorted(set(fixed) & set(grid))
        if both:
            raise ValueError(f"{', '.join(both)} given both with -p and --grid")
        outcome = sweep.run_sweep(
            args.chapter, grid=grid, parameters=fixed, profile=args.profile, out=args.out,
            scheduler=args.scheduler, workers=args.workers, kernel_name=args.kernel,
            progress=not args.no_progress)
        print(f"sweep {outcome.sweep_dir}: {len(outcome.runs)} runs, "
              f"{outcome.count('finished')} run now, {outcome.count('skipped')} finished "
              f"before, {outcome.count('failed')} failed")
        for run in outcome.runs:
            if run.status == "failed":
                print(f"  failed {run.run_id}: {run.error}", file=sys.stderr)
        return 1 if outcome.count("failed") else 0
    return handle


@command("collect", "gather a sweep into one table (and a plot)")
def _setup_collect(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("sweep_dir", help="the sweep directory (with manifest.json)")
    parser.add_argument("--format", choices=("csv", "parquet"), default="csv")
    parser.add_argument("--output", default=None,
                        help="the table's path (default: SWEEP_DIR/results.FORMAT)")
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--plot", default=None,
                       help="the plot's path (default: SWEEP_DIR/plot.png)")
    group.add_argument("--no-plot", action="store_true", help="no plot")
    parser.add_argument("--y", default=None,
                        help="the plotted result (default: the first numeric result that "
                             "differs between runs)")

    def handle(args: argparse.Namespace) -> int:
        import pandas as pd

        from qmlkit import sweep

        plot: str | bool = False if args.no_plot else (args.plot or True)
        outcome = sweep.collect(args.sweep_dir, format=args.format, output=args.output,
                                plot=plot, y=args.y)
        table = outcome.table
        shown = ["run_id", "status", *outcome.grid]
        if outcome.plotted is not None:
            shown.append(outcome.plotted[0])
        with pd.option_context("display.width", 120, "display.max_colwidth", 40):
            print(table[shown].to_string(index=False))
        print(f"table: {outcome.table_path} ({table.shape[0]} runs x {table.shape[1]} columns)")
        if outcome.plot_path is not None:
            print(f"plot: {outcome.plot_path} ({outcome.plotted[0]} against {outcome.plotted[1]})")
        elif plot is not False:
            print("plot: none (no finished run with a numeric result)")
        return 0
    return handle


@command("about", "print Python, platform, package versions and the git commit")
def _setup_about(parser: argparse.ArgumentParser) -> Handler:
    def handle(args: argparse.Namespace) -> int:
        from qmlkit import about

        about()
        return 0
    return handle


@command("new", "create a new compendium project from qmlkit's template")
def _setup_new(parser: argparse.ArgumentParser) -> Handler:
    parser.add_argument("project_dir", help="directory of the new project (new or empty)")
    parser.add_argument("--name", default=None,
                        help="project name, an identifier (default: from the directory's name)")
    parser.add_argument("--force", action="store_true",
                        help="write into a non-empty directory, overwriting the template's files")

    def handle(args: argparse.Namespace) -> int:
        try:
            from qmlkit.template import new_project
        except ImportError as exc:
            raise ImportError(f"qmlkit new needs qmlkit.template, which cannot be imported: "
                              f"{exc}") from None
        written = new_project(args.project_dir, name=args.name, force=args.force)
        print(f"created {len(written)} files in {args.project_dir}")
        for path in written:
            print(f"  {path}")
        return 0
    return handle


def build_parser() -> tuple[argparse.ArgumentParser, dict[str, Handler]]:
    """The argument parser of ``qmlkit`` and the handler of each subcommand."""
    parser = argparse.ArgumentParser(
        prog="qmlkit", description="Rerun, sweep and collect the compendium's chapters.")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    handlers: dict[str, Handler] = {}
    for name, (help_text, setup) in _COMMANDS.items():
        sub = subparsers.add_parser(name, help=help_text, description=help_text)
        handlers[name] = setup(sub)
    return parser, handlers


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``qmlkit`` command with ``argv`` (default: ``sys.argv[1:]``); return the exit
    status: 0 success, 1 a failed run, 2 invalid input (reported on standard error)."""
    parser, handlers = build_parser()
    args = parser.parse_args(argv)
    try:
        return handlers[args.command](args)
    except (ValueError, TypeError, FileNotFoundError, ImportError) as exc:
        print(f"qmlkit {args.command}: error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
