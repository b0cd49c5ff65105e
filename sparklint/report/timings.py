"""`sparklint check --timings`: where a run spent its time, like pytest's `--durations`.

    timings: lowering 2.31s, analysis 0.84s, total 3.40s
    cache: lowered 3 of 120 files (the rest read from the cache); analysis run anew
    slowest files (lowering + analysis):
       0.91s  jobs/big_job.py (4,210 lines: lowering 0.52s, analysis 0.39s)
    slowest analysis roots:
       0.35s  jobs/big_job.py main()
"""

from __future__ import annotations

from sparklint.findings import Timings

SHOWN = 10


def render(timings: Timings, shown: int = SHOWN) -> str:
    lines = ["timings: " + ", ".join(f"{name} {seconds:.2f}s" for name, seconds in timings.phases)]
    if timings.analysis_reused:
        analysis = "reused from the last run (no code it reads changed)"
    elif timings.groups and not timings.groups_analysed:
        analysis = "reused from the last run, moved to where the edit left its code"
    elif timings.groups_analysed < timings.groups:
        analysis = (f"run anew for {timings.groups_analysed} of {timings.groups} files' roots "
                    "(the others read no edited code)")
    else:
        analysis = "run anew"
    lines.append(f"cache: lowered {timings.lowered_files} of {len(timings.files)} files (the rest read from the cache); "
                 f"analysis {analysis}")
    files = sorted(timings.files, key=lambda file: (-(file.lower_seconds + file.analyse_seconds), file.path))
    if files:
        lines.append("slowest files (lowering + analysis):")
        for file in files[:shown]:
            lines.append(f"  {file.lower_seconds + file.analyse_seconds:6.2f}s  {file.path} ({file.lines:,} lines: "
                         f"lowering {file.lower_seconds:.2f}s, analysis {file.analyse_seconds:.2f}s)")
    if timings.slowest_roots:
        lines.append("slowest analysis roots:")
        for root in timings.slowest_roots[:shown]:
            lines.append(f"  {root.seconds:6.2f}s  {root.path} {root.label}")
    return "\n".join(lines) + "\n"
