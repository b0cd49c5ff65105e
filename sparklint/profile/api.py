"""Entry points the command line uses: `apply_profiles` for `sparklint check --profile` and the
`sparklint profile` command.

Reading never breaks a check: a source that cannot be read becomes one line in
`CheckResult.warnings` (static findings are still reported, the exit code is unchanged), unless
`--profile-required`, when it raises `ProfileError` with that line.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import click

from sparklint.config import PROFILE_READER_OPTIONS
from sparklint.findings import CheckResult
from sparklint.profile.cache import ProfileCache
from sparklint.profile.codecs import DEFAULT_LIMIT, LogFormatError
from sparklint.profile.model import RunProfile
from sparklint.profile.sources import (
    DEFAULT_TIMEOUT,
    MAX_DOWNLOAD_BYTES,
    SOURCE_TIMEOUTS,
    ReadOptions,
    RunRef,
    SourceError,
    app_name_matches,
    discover,
    is_url,
    read_run,
    select_runs,
)
from sparklint.runindex.store import is_index
from sparklint.settings import Settings

KNOWN_OPTIONS = tuple(PROFILE_READER_OPTIONS)
# Without --last, --app-name or --app-id a History Server source is read for its newest runs only:
# one listing request of at most LISTING_LIMIT applications, then DEFAULT_SERVER_RUNS downloads.
DEFAULT_SERVER_RUNS = 10
LISTING_LIMIT = 1000


class ProfileError(Exception):
    """A run profile that had to be read (`--profile-required`) could not be; one line."""


@dataclass(frozen=True, slots=True)
class RunFilter:
    app_name: str | None = None
    app_id: str | None = None
    last: int | None = None
    since_ms: int | None = None  # only runs that started at or after this epoch millisecond (--since)


def parse_since(text: str) -> int:
    """`--since` as epoch milliseconds: a date (`2026-03-01`, UTC midnight) or an ISO date and time
    (`2026-03-01T12:00`, UTC unless it names an offset). Raises ValueError."""
    import datetime

    try:
        moment = datetime.datetime.fromisoformat(text.strip())
    except ValueError:
        raise ValueError(f"--since {text!r}: expected a date like 2026-03-01 or 2026-03-01T12:00") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return int(moment.timestamp() * 1000)


@dataclass(frozen=True, slots=True)
class LoadedRuns:
    runs: tuple[RunProfile, ...]
    warnings: tuple[str, ...]
    cache_hits: int = 0


def options_from(profile_options: dict[str, Any]) -> tuple[RunFilter, ReadOptions]:
    """The filters and read options in `Settings.profile_options` (kebab-case keys)."""
    last, since = profile_options.get("last"), profile_options.get("since")
    run_filter = RunFilter(
        app_name=profile_options.get("app-name") or None,
        app_id=profile_options.get("app-id") or None,
        last=int(last) if last is not None else None,
        since_ms=parse_since(str(since)) if since else None,
    )
    read = ReadOptions(
        timeout=float(profile_options.get("timeout", DEFAULT_TIMEOUT)),
        max_log_bytes=int(profile_options.get("max-log-bytes", DEFAULT_LIMIT)),
        max_download_bytes=int(profile_options.get("max-download-bytes", MAX_DOWNLOAD_BYTES)),
    )
    return run_filter, read


def load_runs(
    sources: tuple[str, ...] | list[str],
    run_filter: RunFilter,
    read_options: ReadOptions,
    cache: ProfileCache | None,
    debug: bool = False,
) -> LoadedRuns:
    """Read every run the sources name that passes the filters, newest first per source.

    Problems become warnings: one line each, prefixed by the source; even an unexpected
    exception, unless `debug` (then it propagates with its traceback)."""
    runs: list[RunProfile] = []
    warnings: list[str] = []
    hits = 0
    for source in sources:
        if is_index(source):
            indexed_runs, index_warnings = _load_index(source, run_filter, debug)
            runs.extend(indexed_runs)
            warnings.extend(index_warnings)
            continue
        options = _source_options(source, run_filter, read_options)
        try:
            refs = select_runs(discover(source, options), run_filter.app_id)
        except (SourceError, LogFormatError) as error:
            warnings.append(f"run profile {error}")
            continue
        except Exception as error:  # one bad source costs one warning, never the run
            if debug:
                raise
            warnings.append(f"run profile {source}: cannot read ({type(error).__name__}: {_one_line(error)})")
            continue
        if run_filter.app_id and not refs:
            warnings.append(f"run profile {source}: no run with app id {run_filter.app_id}")
            continue
        wanted = run_filter.last
        if _reads_newest_only(source, run_filter):
            wanted = DEFAULT_SERVER_RUNS
            if len(refs) > wanted:
                warnings.append(_newest_only_warning(source, len(refs), options.listing_limit))
                refs = refs[:wanted]
        taken = 0
        # Log files are ordered by when their applications started, which a copy or a re-upload
        # does not change (their modification time does): read them all (the cache keeps them).
        by_start = wanted is not None and not is_url(source)
        first = len(runs)
        for position, ref in enumerate(refs):
            if wanted is not None and taken >= wanted and not by_start:
                break
            if options.deadline is not None and time.monotonic() >= options.deadline:
                warnings.append(f"run profile {source}: stopped after {SOURCE_TIMEOUTS * options.timeout:g} s, "
                                f"{len(refs) - position} runs not read (raise profile option timeout)")
                break
            if run_filter.app_name and ref.app_name and not app_name_matches(run_filter.app_name, ref.app_name):
                continue  # a History Server listing names the app: no need to download it
            run, from_cache, problem = _read_one(ref, options, cache, debug)
            hits += from_cache
            if problem:
                warnings.append(problem)
                continue
            assert run is not None
            if run_filter.app_name and not app_name_matches(run_filter.app_name, run.app_name):
                continue
            if run_filter.app_id and run.app_id and run.app_id != run_filter.app_id:
                continue
            if run_filter.since_ms is not None and run.started_ms < run_filter.since_ms:
                continue
            runs.append(run)
            taken += 1
            # What the reader skipped or cut (bad lines, numbers, bounds), each one line; events of
            # a shape another Spark version writes stay quiet (they are noted in the profile).
            warnings.extend(f"run profile {ref.display}: {note}" for note in run.problems if " shape (" not in note)
        if by_start:
            runs[first:] = sorted(runs[first:], key=lambda run: run.started_ms or 0, reverse=True)[:wanted]
        if run_filter.app_name and not taken:
            warnings.append(f"run profile {source}: no run of an application named {run_filter.app_name!r}")
    return LoadedRuns(tuple(runs), tuple(dict.fromkeys(warnings)), hits)


def _load_index(source: str, run_filter: RunFilter, debug: bool) -> tuple[list[RunProfile], list[str]]:
    """The runs of a run index (`sparklint index build`) that pass the filters, selected in SQL."""
    from sparklint.runindex import IndexUnavailable
    from sparklint.runindex.query import IndexSelection, load_index_runs

    selection = IndexSelection(run_filter.app_name, run_filter.app_id, run_filter.last, run_filter.since_ms)
    try:
        loaded = load_index_runs(source, selection)
    except IndexUnavailable as error:
        return [], [f"run profile {source}: {error}"]
    except Exception as error:  # a damaged index costs one warning, never the check
        if debug:
            raise
        return [], [f"run profile {source}: cannot read the run index ({type(error).__name__}: {_one_line(error)})"]
    warnings = list(loaded.warnings)
    if not loaded.runs and selection.names_runs:
        warnings.append(f"run profile {source}: no run in the index passes the filters")
    return list(loaded.runs), warnings


def _source_options(source: str, run_filter: RunFilter, read_options: ReadOptions) -> ReadOptions:
    """A History Server source gets its own deadline and, when no filter names runs, a bounded listing."""
    if not is_url(source):
        return read_options
    deadline = time.monotonic() + SOURCE_TIMEOUTS * read_options.timeout
    limit = None if run_filter.app_name or run_filter.app_id else max(LISTING_LIMIT, run_filter.last or 0)
    return replace(read_options, deadline=deadline, listing_limit=limit)


def _reads_newest_only(source: str, run_filter: RunFilter) -> bool:
    return is_url(source) and not (run_filter.last or run_filter.app_name or run_filter.app_id)


def _newest_only_warning(source: str, listed: int, listing_limit: int | None) -> str:
    skipped = listed - DEFAULT_SERVER_RUNS
    more = " or more" if listing_limit is not None and listed >= listing_limit else ""
    return (f"run profile {source}: read the newest {DEFAULT_SERVER_RUNS} of {listed}{more} runs, "
            f"{skipped}{more} skipped (--last N reads more, --app-name or --app-id picks runs)")


def _read_one(ref: RunRef, read_options: ReadOptions, cache: ProfileCache | None,
              debug: bool = False) -> tuple[RunProfile | None, int, str]:
    if cache is not None:
        cached = cache.get(ref)
        if cached is not None:
            return cached, 1, ""
    try:
        run = read_run(ref, read_options)
    except (SourceError, LogFormatError) as error:
        return None, 0, f"run profile {ref.display}: {error}" if ref.display not in str(error) else f"run profile {error}"
    except MemoryError:
        return None, 0, f"run profile {ref.display}: out of memory while reading"
    except Exception as error:  # one bad run costs one warning, never the run
        if debug:
            raise
        return None, 0, f"run profile {ref.display}: cannot read ({type(error).__name__}: {_one_line(error)})"
    if not run.events_read:
        return None, 0, f"run profile {ref.display}: no Spark events in this log"
    if cache is not None:
        cache.put(ref, run)
    return run, 0, ""


def _one_line(error: Exception) -> str:
    text = " ".join(str(error).split())
    return text if len(text) <= 160 else text[:157] + "..."


def cache_for(settings: Settings, root: str | Path | None) -> ProfileCache | None:
    if not settings.use_cache:
        return None
    base = settings.cache_dir or Path(root or Path.cwd()) / ".sparklint_cache"
    return ProfileCache(Path(base) / "profiles")


def apply_profiles(result: CheckResult, settings: Settings) -> CheckResult:
    """Read the run profiles in `settings` and attach what they measured to `result`.

    Findings gain evidence once the runtime plan matches the static operation they are about
    (see `sparklint.profile.matching`); read problems become warnings, or a `ProfileError`
    under `settings.profile_required`."""
    unknown = sorted(set(settings.profile_options) - set(KNOWN_OPTIONS) - _threshold_options())
    if unknown:
        message = f"unknown profile option {unknown[0]!r} (known: {', '.join(KNOWN_OPTIONS)})"
        if settings.profile_required:
            raise ProfileError(message)
        return replace(result, warnings=(*result.warnings, message))
    bad = _bad_threshold(settings.profile_options)
    if bad:
        if settings.profile_required:
            raise ProfileError(bad)
        return replace(result, warnings=(*result.warnings, bad))
    try:
        run_filter, read_options = options_from(settings.profile_options)
    except (TypeError, ValueError) as error:
        raise ProfileError(f"bad profile option: {error}") from None
    loaded = load_runs(settings.profiles, run_filter, read_options, cache_for(settings, result.root), settings.debug)
    if settings.profile_required:
        failures = [warning for warning in loaded.warnings if _is_read_failure(warning)]
        if failures or not loaded.runs:
            raise ProfileError(failures[0] if failures else "no run profile could be read")
    matched = _match(result, loaded.runs, settings)
    return replace(matched, warnings=(*matched.warnings, *loaded.warnings))


def _is_read_failure(warning: str) -> bool:
    return "no application end event" not in warning and "cut off" not in warning and "mid-block" not in warning


def _bad_threshold(profile_options: dict[str, Any]) -> str:
    """A one-line complaint about the first threshold in `profile-options` of the wrong type."""
    try:
        from sparklint.profile.runtime_rules import THRESHOLD_OPTIONS
    except ImportError:
        return ""
    for name, value in profile_options.items():
        option = THRESHOLD_OPTIONS.get(name)
        if option is None:
            continue
        numeric = option.type in (int, float) and isinstance(value, (int, float)) and not isinstance(value, bool)
        if option.type is bool and isinstance(value, bool) or numeric and (option.type is float or isinstance(value, int)):
            continue
        wanted = {bool: "true or false", int: "a whole number"}.get(option.type, "a number")
        return f"profile option {name!r} must be {wanted}, not {value!r}"
    return ""


def _threshold_options() -> set[str]:
    try:
        from sparklint.profile.runtime_rules import THRESHOLD_OPTIONS
    except ImportError:
        return set()
    return set(THRESHOLD_OPTIONS)


def _match(result: CheckResult, runs: tuple[RunProfile, ...], settings: Settings) -> CheckResult:
    try:
        from sparklint.profile.matching import attach_evidence
    except ImportError:
        return result
    return attach_evidence(result, runs, settings)


# ---------------------------------------------------------------- `sparklint profile`


def _checked_seconds(context: click.Context, parameter: click.Parameter, value: float) -> float:
    from sparklint.config import SECONDS, ConfigError, checked

    try:
        return checked(SECONDS, value, "--timeout")
    except ConfigError as error:
        raise click.BadParameter(str(error).removeprefix("--timeout: ")) from None


def _since_ms(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return parse_since(value)
    except ValueError as error:
        raise click.BadParameter(str(error).removeprefix(f"--since {value!r}: ")) from None


@click.command("profile")
@click.argument("sources", nargs=-1, required=True, metavar="SOURCE...")
@click.option("--app-name", help="Only runs of the Spark application with this name (glob patterns allowed).")
@click.option("--app-id", help="Only the run with this Spark application id.")
@click.option("--last", type=click.IntRange(min=1), help="Only the newest N runs of each source.")
@click.option("--since", "since", metavar="DATE", callback=lambda context, parameter, value: _since_ms(value),
              help="Only runs that started on or after DATE (2026-03-01, or 2026-03-01T12:00; UTC).")
@click.option("--output-format", type=click.Choice(["text", "json"]), default="text", show_default=True)
@click.option("--timeout", type=float, default=DEFAULT_TIMEOUT, show_default=True, callback=_checked_seconds,
              help="Seconds one History Server request may take in all (a whole source: 5 times that).")
@click.option("--no-cache", is_flag=True, help="Do not read or write the profile cache.")
@click.option("--cache-dir", type=click.Path(file_okay=False, path_type=Path),
              help="Where parsed runs are cached [default: ./.sparklint_cache].")
def profile_command(sources: tuple[str, ...], app_name: str | None, app_id: str | None, last: int | None,
                    since: int | None, output_format: str, timeout: float, no_cache: bool, cache_dir: Path | None) -> None:
    """Print what the run profiles SOURCE... hold (event logs, log directories, History Server
    URLs), without checking code."""
    from sparklint.profile.summary import render_json, render_text

    settings = Settings(use_cache=not no_cache, cache_dir=cache_dir)
    loaded = load_runs(
        sources,
        RunFilter(app_name=app_name, app_id=app_id, last=last, since_ms=since),
        ReadOptions(timeout=timeout),
        cache_for(settings, None),
    )
    if output_format == "json":
        click.echo(render_json(list(loaded.runs), list(loaded.warnings)), nl=False)
    else:
        for warning in loaded.warnings:
            click.echo(f"sparklint: warning: {' '.join(warning.split())}", err=True)
        if loaded.runs:
            click.echo(render_text(list(loaded.runs), []), nl=False)
    if not loaded.runs:
        raise click.ClickException("no run could be read from " + ", ".join(sources))
