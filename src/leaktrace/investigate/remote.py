"""Was a remote controller acting, or the user? Evidence so that nobody is blamed for an implant's actions.

For each action (file read, archive write, upload) we ask: was it done by an implant process (an actor that
talks to the server) rather than by a program the user runs, and was the command-and-control channel active
around it (a connection to the server within ``window`` before or after)? Interactive use during the same
period (the user's own Office, browser or Explorer activity) is counted too: a person present at the keyboard
while an implant reads files is not the one reading them.
"""

from __future__ import annotations

from datetime import timedelta

from leaktrace.investigate.actors import LAUNCHERS, Actors, basename
from leaktrace.investigate.case import Case, Row
from leaktrace.investigate.model import RemoteControl


def _c2_window(times: list, default_s: float = 300.0) -> timedelta:  # type: ignore[type-arg]
    if len(times) < 3:
        return timedelta(seconds=default_s)
    gaps = sorted((b - a).total_seconds() for a, b in zip(times, times[1:], strict=False))
    median = gaps[len(gaps) // 2]
    return timedelta(seconds=max(60.0, min(3 * median, 1800.0)))


def remote_control(case: Case, actors: Actors, actions: list[Row]) -> RemoteControl:
    servers = set(actors.servers) | set(case.servers)
    c2_times = sorted(c["ts"] for c in case.conn if c.get("dst_ip") in servers)
    window = _c2_window(c2_times)
    by_implant = 0
    with_c2 = 0
    import bisect

    for a in actions:
        if a.get("dst_ip") in servers or actors.has(a):
            by_implant += 1
        i = bisect.bisect_left(c2_times, a["ts"] - window)
        if i < len(c2_times) and c2_times[i] <= a["ts"] + window:
            with_c2 += 1
    interactive = 0
    if actions:
        lo = min(a["ts"] for a in actions)
        hi = max(a["ts"] for a in actions)
        for f in case.file_event:
            if lo <= f["ts"] <= hi and not actors.has(f) and basename(f.get("image")) in LAUNCHERS:
                interactive += 1
    reasons = []
    n = len(actions)
    if n == 0:
        return RemoteControl(verdict="undetermined", c2_servers=sorted(servers),
                             reasons=["no actions of the implant were found on the host"])
    reasons.append(f"{by_implant} of {n} actions were done by implant processes, not by programs the user runs")
    reasons.append(f"the channel to {', '.join(sorted(servers))} was active within {int(window.total_seconds())} s "
                   f"of {with_c2} of {n} actions")
    if interactive:
        reasons.append(f"the user's own programs were active {interactive} times meanwhile "
                       "(present, but not the actor of the reads)")
    if by_implant >= 0.8 * n and with_c2 >= 0.8 * n:
        verdict = "remote-controlled"
    elif by_implant < 0.2 * n:
        verdict = "user"
    else:
        verdict = "undetermined"
    return RemoteControl(verdict=verdict, c2_servers=sorted(servers), actions=n, actions_by_implant=by_implant,
                         actions_with_c2_active=with_c2, interactive_events_during=interactive, reasons=reasons)
