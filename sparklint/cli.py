"""The `sparklint` command: parse flags, build Settings, run the engine, pick a reporter.

Exit codes (as ruff's): 0 no finding at or above the fail level, 1 findings, 2 usage,
configuration or internal error. Errors are one line, `sparklint: error: ...`; `--debug`
adds the traceback.
"""

from __future__ import annotations

import dataclasses
import os
import sys
import threading
import time
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, NoReturn

import click

from sparklint import __version__
from sparklint.report import printable

EXIT_CLEAN = 0
EXIT_FINDINGS = 1
EXIT_ERROR = 2
PROGRESS_DELAY_SECONDS = 1.0
OUTPUT_FORMATS = ("text", "json", "sarif", "github")
LAZY_COMMANDS = {"profile": ("sparklint.profile.api", "profile_command"),
                 "index": ("sparklint.runindex.cli", "index_command"),
                 "report": ("sparklint.report.html", "report_command")}


class UserError(Exception):
    """A problem the user can fix; printed as one line, exit code 2."""


class SparklintGroup(click.Group):
    """Turns every failure into `sparklint: error: ...` and exit code 2; loads heavy commands lazily."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,  # type: ignore[override]
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> NoReturn:
        argv = list(sys.argv[1:] if args is None else args)
        debug = "--debug" in argv
        try:
            code = super().main(args=argv, prog_name=prog_name or "sparklint", complete_var=complete_var,
                                standalone_mode=False, **extra)
        except click.exceptions.Abort:
            click.echo("sparklint: error: interrupted", err=True)
            code = EXIT_ERROR
        except click.ClickException as error:
            if type(error).__name__ == "NoArgsIsHelpError":  # `sparklint` alone: the help, exit 2
                click.echo(error.format_message(), err=True)
                sys.exit(EXIT_ERROR)
            click.echo(f"sparklint: error: {one_line(error.format_message())}", err=True)
            code = EXIT_ERROR
        except BrokenPipeError:  # `sparklint check | head`: the reader left; say nothing more
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            code = EXIT_FINDINGS
        except UserError as error:
            fail(str(error), debug)
        except Exception as error:  # noqa: BLE001 - the last line of defence
            fail(f"internal error: {type(error).__name__}: {error}", debug, internal=True)
        sys.exit(code if isinstance(code, int) else EXIT_CLEAN)

    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(super().list_commands(ctx))
        names.update(name for name in LAZY_COMMANDS if self.get_command(ctx, name) is not None)
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None or cmd_name not in LAZY_COMMANDS:
            return command
        module_name, attribute = LAZY_COMMANDS[cmd_name]
        try:
            module = __import__(module_name, fromlist=[attribute])
        except ModuleNotFoundError as error:
            if error.name and module_name.startswith(error.name):
                return None
            raise
        return getattr(module, attribute, None)


def existing(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    """Paths that are there, even as a link to nothing or a symlink loop (those get a warning
    when read, like any unreadable file, so pre-commit's list of files never ends the run)."""
    for path in paths:
        if not os.path.lexists(path):
            raise click.BadParameter(f"Path '{path}' does not exist.", param_hint="'[PATHS]...'")
    return paths


def fail(message: str, debug: bool, internal: bool = False) -> NoReturn:
    if debug:
        traceback.print_exc()
    hint = " (run with --debug for the traceback)" if internal and not debug else ""
    click.echo(f"sparklint: error: {one_line(message)}{hint}", err=True)
    sys.exit(EXIT_ERROR)


def one_line(text: str) -> str:
    return printable(" ".join(text.split()))


def warn(message: str) -> None:
    click.echo(f"sparklint: warning: {one_line(message)}", err=True)


SHOWN_NOTES = 10


def note(message: str) -> None:
    click.echo(f"sparklint: note: {one_line(message)}", err=True)


@click.group(cls=SparklintGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, "--version", prog_name="sparklint", message="%(prog)s %(version)s")
def main() -> None:
    """A static linter for Apache Spark jobs in PySpark and Scala."""


# ---------------------------------------------------------------- check


def rule_list(_ctx: click.Context, _param: click.Parameter, value: tuple[str, ...]) -> list[str] | None:
    return list(value) if value else None


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), callback=lambda ctx, param, value: existing(value))
@click.option("--output-format", type=click.Choice(OUTPUT_FORMATS), default="text", show_default=True,
              help="How findings are printed.")
@click.option("-o", "--output-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Write the report to FILE instead of standard output.")
@click.option("--select", multiple=True, callback=rule_list, metavar="RULE,...",
              help="Only these rules (codes, slugs, code prefixes or ALL).")
@click.option("--ignore", multiple=True, callback=rule_list, metavar="RULE,...", help="Skip these rules.")
@click.option("--fail-on", type=click.Choice(["note", "warning", "error"]), default=None,
              help="Lowest severity that makes the exit code 1 [default: warning].")
@click.option("--exit-zero", is_flag=True, help="Exit 0 even when there are findings.")
@click.option("--statistics", is_flag=True, help="Count findings per rule instead of listing them.")
@click.option("--timings", is_flag=True,
              help="Also print where the run spent its time: phases, slowest files and functions (to stderr).")
@click.option("--fix", is_flag=True, help="Apply the safe fixes (with --unsafe-fixes, the unsafe ones too).")
@click.option("--unsafe-fixes", is_flag=True, help="Also apply (or show) fixes that change the data's layout or values.")
@click.option("--diff", is_flag=True, help="Print the fixes as a unified diff instead of writing them (exit 1 if any).")
@click.option("--show-fixes", is_flag=True, help="List the fixes applied (or available) after the findings.")
@click.option("--baseline", "baseline_file", type=click.Path(dir_okay=False, path_type=Path),
              help="Report only findings that are not in this baseline file (see `sparklint baseline`).")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A pyproject.toml or sparklint.toml to read instead of discovering one.")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="The project root (default: nearest pyproject.toml, setup.cfg or .git upward).")
@click.option("--no-color", is_flag=True, help="Never colour the output.")
@click.option("-q", "--quiet", is_flag=True, help="Print findings only: no summary, progress or warnings.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the parse cache.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
@click.option("--profile", "profiles", multiple=True, metavar="SOURCE",
              help="Spark event log, log directory or History Server URL (repeatable).")
@click.option("--profile-required", is_flag=True, help="Fail (exit 2) when a run profile cannot be read.")
@click.option("--app-name", help="Use runs of the Spark application with this name.")
@click.option("--app-id", help="Use the run with this Spark application id.")
@click.option("--last", type=click.IntRange(min=1), help="Use the last N runs.")
@click.option("--since", metavar="DATE", help="Use runs that started on or after DATE (2026-03-01; UTC).")
def check(paths: tuple[Path, ...], output_format: str, output_file: Path | None, select: list[str] | None,
          ignore: list[str] | None, fail_on: str | None, exit_zero: bool, statistics: bool, timings: bool,
          fix: bool, unsafe_fixes: bool, diff: bool, show_fixes: bool, baseline_file: Path | None,
          config_file: Path | None, root: Path | None, no_color: bool, quiet: bool, no_cache: bool,
          debug: bool, profiles: tuple[str, ...], profile_required: bool, app_name: str | None,
          app_id: str | None, last: int | None, since: str | None) -> int:
    """Check PATHS (default: the current directory) for Spark performance problems."""
    from sparklint.report.timings import render as timings_report

    if statistics and output_format not in ("text", "json"):
        raise click.UsageError("--statistics works with --output-format text or json")
    paths = paths or (Path("."),)
    settings = check_settings(paths, config_file=config_file, root=root, select=select, ignore=ignore,
                              fail_on=fail_on, no_cache=no_cache, profiles=profiles,
                              profile_required=profile_required, app_name=app_name, app_id=app_id, last=last,
                              since=since, debug=debug)
    if baseline_file is not None:
        settings = dataclasses.replace(settings, baseline=baseline_file)
    baseline_entries = load_baseline(settings)

    if fix or diff:
        result = fix_and_check(list(paths), settings, baseline_entries, quiet, unsafe=unsafe_fixes, write=not diff)
        if diff:
            return EXIT_FINDINGS if result.fixed else EXIT_CLEAN
    else:
        result = full_check(list(paths), settings, baseline_entries, quiet)
    if output_format in ("json", "sarif"):
        result = with_fix_changes(result, settings)
    if not quiet:
        for message in result.warnings:
            warn(message)
        for message in result.notes[:SHOWN_NOTES]:
            note(message)
        if len(result.notes) > SHOWN_NOTES:
            note(f"and {len(result.notes) - SHOWN_NOTES} more places (`--output-format json` lists all)")
    if timings and result.timings is not None:
        click.echo(timings_report(result.timings), err=True, nl=False)

    color = output_file is None and not no_color and "NO_COLOR" not in os.environ and sys.stdout.isatty()
    report = render_report(result, settings, output_format, color=color, quiet=quiet, statistics=statistics,
                           on_warning=(lambda message: None) if quiet else warn, show_fixes=show_fixes)
    emit(report, output_file)
    if exit_zero:
        return EXIT_CLEAN
    failing = any(finding.severity >= settings.fail_on for finding in result.findings)
    return EXIT_FINDINGS if failing else EXIT_CLEAN


def check_settings(paths: Sequence[Path], *, config_file: Path | None = None, root: Path | None = None,
                   select: list[str] | None = None, ignore: list[str] | None = None, fail_on: str | None = None,
                   no_cache: bool = False, profiles: Sequence[str] = (), profile_required: bool = False,
                   app_name: str | None = None, app_id: str | None = None, last: int | None = None,
                   since: str | None = None, debug: bool = False) -> Any:
    """The Settings of a check of `paths`: the configuration file (`config_file`, else the one found
    from `root` or the first path) with these command-line values over it; a bad value is a UserError."""
    from sparklint.config import ConfigError, load_settings

    profile_options = {key: value for key, value in
                       (("app-name", app_name), ("app-id", app_id), ("last", last), ("since", since))
                       if value is not None}
    overrides = {
        "root": root.resolve() if root else None,
        "select": select,
        "ignore": ignore,
        "fail_on": fail_on,
        "use_cache": False if no_cache else None,
        "profiles": tuple(profiles) or None,
        "profile_required": True if profile_required else None,
        "profile_options": profile_options or None,
        "debug": True if debug else None,
    }
    try:
        return load_settings(config_file, root or paths[0], overrides)
    except ConfigError as error:
        raise UserError(str(error)) from None


def load_baseline(settings: Any) -> Any:
    """The entries of the baseline the settings name, or None; a bad file is a UserError."""
    if settings.baseline is None:
        return None
    from sparklint.baseline import BaselineError, load

    try:
        return load(settings.baseline)
    except BaselineError as error:
        raise UserError(str(error)) from None


def full_check(paths: list[Path], settings: Any, baseline_entries: Any, quiet: bool, *,
               overlays: dict[str, bytes] | None = None, profiles: bool = True) -> Any:
    """The engine's result with run profiles, the fixes that need them, and the baseline applied."""
    from sparklint.fixes import described

    result = run_engine(paths, settings, show_progress=not quiet and stderr_is_terminal() and overlays is None,
                        overlays=overlays)
    if profiles and settings.profiles:
        result = apply_run_profiles(result, settings, quiet)
    result = described(result, settings)
    if baseline_entries is not None:
        from sparklint.baseline import apply

        checked = [os.path.relpath(Path(path).resolve(), result.root).replace(os.sep, "/") for path in paths]
        result = apply(result, baseline_entries, str(settings.baseline), checked, texts=overlays)
    return result


def fix_and_check(paths: list[Path], settings: Any, baseline_entries: Any, quiet: bool, *, unsafe: bool,
                  write: bool) -> Any:
    """`--fix` (write) or `--diff` (print): fix until nothing is left to fix; the findings left."""
    from sparklint.fixes import diff, fix_project, write_fixes

    def check_round(overlays: dict[str, bytes], number: int) -> Any:
        return full_check(paths, settings, baseline_entries, quiet, overlays=overlays, profiles=number == 0)

    run = fix_project(paths, settings, check_round, unsafe=unsafe)
    skipped = set(write_fixes(run)) if write else set()
    for message in () if quiet else run.warnings:
        warn(message)
    if not write:
        click.echo(diff(run), nl=False)
        if not quiet:
            click.echo(f"sparklint: would fix {len(run.fixed)} finding{'s' if len(run.fixed) != 1 else ''}", err=True)
        return dataclasses.replace(run.result, fixed=tuple(run.fixed))
    fixed = tuple(finding for finding in run.fixed if finding.autofix and not skipped & set(finding.autofix.paths))
    result = full_check(paths, settings, baseline_entries, quiet) if run.changed else run.result
    return dataclasses.replace(result, fixed=fixed)


def with_fix_changes(result: Any, settings: Any = None) -> Any:
    """Each fix with the text it writes, for the reports that show it (JSON, SARIF). With the
    cache on, the texts made for the same files' contents are taken from the last run."""
    from sparklint.fixes import with_changes
    from sparklint.fixes.store import FixChangesStore
    from sparklint.project import MAX_FILE_BYTES, read_regular_file

    def read(path: str) -> bytes | None:
        data = read_regular_file(Path(result.root) / path, MAX_FILE_BYTES)
        return data if isinstance(data, bytes) else None

    store = FixChangesStore.for_project(Path(result.root), settings) if settings is not None else None
    memo = store.load() if store is not None else None
    result, warnings = with_changes(result, read, memo)
    if store is not None and memo is not None:
        store.save(memo)
    return dataclasses.replace(result, warnings=(*result.warnings, *warnings))


def run_engine(paths: list[Path], settings: Any, show_progress: bool, overlays: dict[str, bytes] | None = None) -> Any:
    try:
        from sparklint.engine import run_check
    except ModuleNotFoundError as error:
        if error.name in ("sparklint.engine", "sparklint"):
            raise UserError("the analysis engine is not available in this build") from None
        raise
    from sparklint.report import plural

    with Progress(enabled=show_progress) as progress:
        if overlays is None:
            result = run_check(paths, settings, progress=progress.update)
        else:
            result = run_check(paths, settings, progress=progress.update, overlays=overlays)
    if progress.shown:
        click.echo(f"sparklint: checked {plural(result.files_checked, 'file')} in {result.seconds or progress.elapsed:.1f}s",
                   err=True)
    return result


def apply_run_profiles(result: Any, settings: Any, quiet: bool) -> Any:
    try:
        from sparklint.profile.api import ProfileError, apply_profiles
    except ModuleNotFoundError as error:
        if error.name and "sparklint.profile.api".startswith(error.name):
            if not quiet:
                warn("run profiles are not available in this build; checked without them")
            return result
        raise UserError(f"run profiles need the module {error.name}, a dependency of sparklint: "
                        "reinstall with: pip install --force-reinstall sparklint") from None
    try:
        return apply_profiles(result, settings)
    except ProfileError as error:
        raise UserError(str(error)) from None


def render_report(result: Any, settings: Any, output_format: str, *, color: bool, quiet: bool, statistics: bool,
                  on_warning: Callable[[str], None], show_fixes: bool = False) -> str:
    if output_format == "text":
        from sparklint.report import text

        return text.render(result, settings, color=color, quiet=quiet, statistics=statistics, show_fixes=show_fixes)
    if output_format == "json":
        from sparklint.report import json

        return json.render(result, settings, statistics=statistics)
    if output_format == "sarif":
        from sparklint.report import sarif

        return sarif.render(result, settings, warn=on_warning)
    from sparklint.report import github

    return github.render(result, settings)


def emit(report: str, output_file: Path | None) -> None:
    if output_file is None:
        click.echo(report, nl=False)
        return
    try:
        output_file.parent.mkdir(parents=True, exist_ok=True)
        output_file.write_text(report, encoding="utf-8")
    except OSError as error:
        raise UserError(f"cannot write {output_file}: {error.strerror}") from None


def stderr_is_terminal() -> bool:
    return sys.stderr.isatty()


class Progress:
    """A status line on stderr, only on a terminal and only once a run takes more than a moment."""

    def __init__(self, enabled: bool) -> None:
        self.enabled = enabled
        self.shown = False
        self.started = time.monotonic()
        self.status = ""
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def elapsed(self) -> float:
        return time.monotonic() - self.started

    def update(self, status: str) -> None:
        """The engine's progress callback: a short status such as "parsing 120 files"."""
        self.status = status

    def __enter__(self) -> "Progress":
        if self.enabled:
            self._thread.start()
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stop.set()
        if self.enabled:
            self._thread.join()
            if self.shown:
                sys.stderr.write("\r\x1b[K")
                sys.stderr.flush()

    def _run(self) -> None:
        if self._stop.wait(PROGRESS_DELAY_SECONDS):
            return
        drawn = ""
        while not self._stop.is_set():
            self.shown = True
            line = f"sparklint: {self.status or 'checking'}... {self.elapsed:.0f}s"
            if line != drawn:
                sys.stderr.write(f"\r{line}\x1b[K")
                sys.stderr.flush()
                drawn = line
            self._stop.wait(0.25)


# ---------------------------------------------------------------- baseline


@main.command()
@click.argument("paths", nargs=-1, type=click.Path(path_type=Path), callback=lambda ctx, param, value: existing(value))
@click.option("-o", "--output-file", type=click.Path(dir_okay=False, path_type=Path),
              help="Where to write it [default: `baseline` in [tool.sparklint], else .sparklint-baseline.json in the root].")
@click.option("--select", multiple=True, callback=rule_list, metavar="RULE,...", help="Only these rules.")
@click.option("--ignore", multiple=True, callback=rule_list, metavar="RULE,...", help="Skip these rules.")
@click.option("--config", "config_file", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="A pyproject.toml or sparklint.toml to read instead of discovering one.")
@click.option("--root", type=click.Path(exists=True, file_okay=False, path_type=Path), help="The project root.")
@click.option("--no-cache", is_flag=True, help="Do not read or write the cache.")
@click.option("-q", "--quiet", is_flag=True, help="No progress, warnings or summary.")
@click.option("--debug", is_flag=True, help="Show tracebacks of internal errors.")
def baseline(paths: tuple[Path, ...], output_file: Path | None, select: list[str] | None, ignore: list[str] | None,
             config_file: Path | None, root: Path | None, no_cache: bool, quiet: bool, debug: bool) -> int:
    """Record today's findings in PATHS (default: .), so `check --baseline FILE` reports only new ones."""
    from sparklint.baseline import DEFAULT_BASELINE, BaselineError, write

    paths = paths or (Path("."),)
    settings = check_settings(paths, config_file=config_file, root=root, select=select, ignore=ignore,
                              no_cache=no_cache, debug=debug)
    result = full_check(list(paths), settings, None, quiet)
    for message in () if quiet else result.warnings:
        warn(message)
    target = output_file or settings.baseline or Path(result.root) / DEFAULT_BASELINE
    try:
        count = write(result, target)
    except BaselineError as error:
        raise UserError(str(error)) from None
    if not quiet:
        click.echo(f"sparklint: wrote {count} finding{'s' if count != 1 else ''} to {target}", err=True)
    return EXIT_CLEAN


# ---------------------------------------------------------------- server


@main.command()
def server() -> int:
    """Run the language server (LSP over stdio) for editors."""
    from sparklint.server import serve

    return serve()


@main.command()
def mcp() -> int:
    """Run the Model Context Protocol server (over stdio) for AI assistants."""
    try:
        from sparklint.mcp import serve
    except ModuleNotFoundError as error:
        if error.name != "mcp" and not (error.name or "").startswith("mcp."):
            raise
        raise UserError("the MCP server needs the `mcp` package: pip install 'sparklint[mcp]'") from None
    return serve()


# ---------------------------------------------------------------- rules, explain


@main.command()
def rules() -> int:
    """List every rule: code, name, default severity, summary."""
    from sparklint.catalogue import all_rules

    catalogue = all_rules()
    slug_width = max(len(rule.slug) for rule in catalogue)
    for rule in catalogue:
        click.echo(f"{rule.code}  {rule.slug:<{slug_width}}  {rule.severity.label:<7}  {rule.summary}")
    return EXIT_CLEAN


@main.command()
@click.argument("rule_id", metavar="RULE")
def explain(rule_id: str) -> int:
    """Print the document of RULE (a code such as SPK001 or a slug such as coalesce-before-write)."""
    click.echo(rule_document_text(rule_id), nl=False)
    return EXIT_CLEAN


def rule_document_text(rule_id: str) -> str:
    """The document of the rule named by code or slug; an unknown rule or a missing document is a UserError."""
    from sparklint.config import did_you_mean
    from sparklint.docs import RuleDocumentMissing, rule_document
    from sparklint.catalogue import all_rules, resolve_rule_id

    rule = resolve_rule_id(rule_id)
    if rule is None:
        names = [name for known in all_rules() for name in (known.code, known.slug)]
        raise UserError(f"unknown rule `{rule_id}`{did_you_mean(rule_id, names)}; `sparklint rules` lists them")
    try:
        return rule_document(rule)
    except RuleDocumentMissing as error:
        raise UserError(str(error)) from None


if __name__ == "__main__":  # pragma: no cover
    main()
