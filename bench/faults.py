"""Faults: the exam day through a killed worker, a PostgreSQL restart and a PostgreSQL outage; nothing lost.
With --shape, the production shape: the exam day through nginx and two app instances, one instance killed.

    .venv/bin/python bench/faults.py [--candidates 200] [--minutes 20] [--kill-at 0.25] [--restart-at 0.45]
                                     [--outage-at 0.65] [--outage-seconds 5] [--outage-mode immediate|fast]
                                     [--grace 10] [--synchronous-commit on|off] [--json FILE]
                                     (and every other option of bench/exam_day.py)
    .venv/bin/python bench/faults.py --shape [--instance-at 0.3] [--instance-down 30] [--redis-at 0.55]
                                     (--kill-at, --restart-at, --outage-at: off unless given; --workers: per instance)

--shape (issue 15, point 5): bench/shape.py's production shape on this machine: the same PostgreSQL, Redis,
two app instances (gunicorn with deploy/gunicorn.conf.py, --workers each, LMS_ENV=production, one SECRET_KEY)
behind nginx configured from deploy/nginx/shequ-xuetang.conf, and the task queue's workers on Redis: one
`flask --app wsgi worker` per host (two), each running the periodic sweep as production does (both at once:
the worst case), looking at it every --sweep-seconds (PERIODIC_SECONDS) instead of every minute.
The candidates talk to nginx only. Faults:
   - instance: SIGKILL to instance b's master and workers at once (a host gone) at --instance-at; started
     again --instance-down seconds later (its window runs until it is back);
   - redis: redis-server killed and started again at --redis-at.
Checks besides exam_day's: every candidate's session (logged in through nginx) is valid on each instance
asked directly; failed logins on one account, alternating between the instances, lock it at
LOGIN_ACCOUNT_LOCK_AFTER in all (production's settings: the slowing between failures is waited out);
the two consumers' sweeps graded every abandoned attempt and no attempt twice (the sum of the attempts their
passes say they graded, read from each worker's log, lies between the abandoned and the abandoned plus those
who let the bell ring, and no mistake was counted twice); each consumer swept after Redis was restarted
(its connection came back by itself).

1. bench/exam_day.py's exam day on PostgreSQL (a throw-away server from tests/pgserver.py, run with
   synchronous_commit=on as in production: see --synchronous-commit), gunicorn, the same candidates,
   the same Ledger of sent and acknowledged saves. The defaults (200 candidates, a 20-minute window: time ×6,
   about 20 saves/s) are a load this 2-core machine carries while shared: faults are measured, not a queue.
   At 500 candidates in 10 minutes (about 90 saves/s) saves wait 15-25 s in gunicorn's queue, and retries
   of saves a fault refused meet the deadline before they get through.
2. While candidates are saving, at the given shares of the window:
   - kill: SIGKILL to one gunicorn worker (a child of the master, which forks a new one), one caught
     running, so most likely in the middle of a request;
   - restart: PostgreSQL stopped with `pg_ctl stop -m fast` (sessions ended, a checkpoint) and started again;
   - outage: PostgreSQL stopped with `pg_ctl stop -m immediate` (every process killed, as in a crash;
     recovered from the WAL at the next start), kept down --outage-seconds, then started again.
   Each fault is logged with its time. Its window runs from its start to --grace seconds after it is over
   (the worker killed; PostgreSQL accepting connections again). Per window: the errors the clients saw
   (503s, other 5xx, connections reset or refused), the longest stretch with no save acknowledged, how
   soon a save was acknowledged once the fault was over, and how long until every save refused in the
   window was acknowledged after all (exam.js's retries; a newer save of the same item counts).
3. exam_day's checks against the database: every acknowledged answer is there with its seq (answers lost),
   every attempt graded once, with the score of its stored answers.
Errors inside the fault windows are expected and reported. The script exits 1 on any answer lost, any
failed check, any error outside the fault windows (a traceback in the gunicorn log counts where the log
shows it), a fault that could not be injected, or a refused save never acknowledged afterwards.
CPU figures of the tenths holding a fault are not meaningful: a killed process takes its CPU time with it.
"""
import asyncio
import bisect
import contextlib
import json
import math
import os
import random
import signal
import sys
import time
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import Session  # noqa: E402
from exam_day import (  # noqa: E402
    EXAM_MINUTES,
    Browser,
    Http,
    Stats,
    build_parser,
    failures,
    fresh_database,
    parse_args,
    pct,
    prepare,
    report,
    run_baseline,
    run_day,
)
from shape import Shape, Site  # noqa: E402


@dataclass
class Fault:
    name: str                     # kill, restart, outage; --shape: instance, redis
    at: float                     # share of the window
    started: float = 0.0          # wall time it began
    ended: float = 0.0            # wall time it was over: the worker killed, PostgreSQL accepting connections
    detail: str = ""
    failed: str = ""              # the injection itself failed (an exception)
    log_from: int = 0             # size of the gunicorn log when it began, and when its window closed
    log_to: int = 0
    errors: Counter = field(default_factory=Counter)   # category → errors the clients saw in the window
    tracebacks: int = 0

    def window(self, grace) -> tuple[float, float]:
        return self.started, self.ended + grace


def gunicorn_workers(master: int) -> list[int]:
    """The master's children: its workers."""
    out = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                stat = (d / "stat").read_text()
            except OSError:
                continue
            if int(stat[stat.rindex(")") + 2:].split()[1]) == master:
                out.append(int(d.name))
    return out


def process_state(pid: int) -> str:
    """R (running), S (sleeping), …; "" once it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat[stat.rindex(")") + 2]


def category(what: str) -> str:
    """What the client saw: a 503, another 5xx, another HTTP status, or no answer (reset, refused, timeout)."""
    if what.startswith("HTTP 503"):
        return "503"
    if what.startswith("HTTP 5"):
        return "other 5xx"
    if what.startswith("HTTP") or what.startswith("409") or what.startswith("status") or what.startswith("answer"):
        return "other"
    return "reset/refused"


# --- injecting ------------------------------------------------------------------------------------------------

def during(faults: list, pg, args, checks: "ShapeChecks | None" = None):
    """The hook bench/exam_day.run_day runs alongside the candidates: every fault at its time."""
    rng = random.Random(args.seed)

    async def hook(day):
        jobs = [one(f, day) for f in faults]
        if checks is not None:
            jobs += [check_sessions(day, checks), shape_throttle(day)]
        await asyncio.gather(*jobs)

    async def shape_throttle(day):
        checks.throttle = await asyncio.to_thread(check_throttle, checks.shape)

    async def one(f: Fault, day):
        clock = day.clock
        await asyncio.sleep(max(0.0, clock.t0 + f.at * clock.window - time.time()))
        f.started = time.time()
        f.log_from = day.log.stat().st_size
        try:   # the blocking pg_ctl calls run in a thread: the candidates go on meanwhile
            if f.name == "kill":
                await kill_worker(f, day)
            elif f.name == "instance":
                await kill_instance(f, day.site.shape)
            elif f.name == "redis":
                down = await asyncio.to_thread(day.site.shape.redis.restart)
                f.ended = time.time()
                f.detail = f"redis-server killed (SIGKILL) and started again: down {down:.1f} s"
            elif f.name == "restart":
                await asyncio.to_thread(pg.restart, args.restart_mode)
                f.ended = time.time()
                f.detail = f"pg_ctl stop -m {args.restart_mode}, then start: {f.ended - f.started:.1f} s"
            else:
                await asyncio.to_thread(pg.halt, args.outage_mode)
                down = time.time()
                await asyncio.sleep(args.outage_seconds)
                t = time.time()
                await asyncio.to_thread(pg.resume)
                f.ended = time.time()
                f.detail = (f"pg_ctl stop -m {args.outage_mode}: {down - f.started:.1f} s, down {t - down:.1f} s, "
                            f"start{' (with crash recovery)' if args.outage_mode == 'immediate' else ''}: "
                            f"{f.ended - t:.1f} s")
            if f.name in ("restart", "outage"):   # a new postmaster: the CPU sampler follows it
                day.db_pid = day.sampler.db_pid = pg.pid()
        except Exception as exc:  # a fault that could not be injected fails the run, never silently
            f.failed = f"{type(exc).__name__}: {exc}"[:300]
            f.ended = f.ended or time.time()
        at = f.started - clock.t0
        print(f"  fault at {at:6.1f} s (exam minute {at / clock.window * EXAM_MINUTES:.0f}): {f.name}: {f.detail}"
              + (f" FAILED: {f.failed}" if f.failed else ""), flush=True)
        await asyncio.sleep(max(0.0, f.ended + args.grace - time.time()))
        f.log_to = day.log.stat().st_size

    async def kill_instance(f: Fault, shape: Shape):
        """SIGKILL to instance b, master and workers at once; started again --instance-down seconds later."""
        app = shape.apps[-1]
        app.kill()
        killed = time.time()
        await asyncio.sleep(args.instance_down)
        t = time.time()
        await asyncio.to_thread(app.start)
        f.ended = time.time()
        f.detail = (f"SIGKILL to instance {app.name} (master and {shape.workers} workers) after "
                    f"{killed - f.started:.2f} s; started again after {t - killed:.0f} s, serving (/healthz) after "
                    f"{f.ended - t:.1f} s")

    async def kill_worker(f: Fault, day):
        """SIGKILL to a worker caught running (in the middle of a request, most likely: an idle sync worker
        sleeps in accept), else, after 5 s of looking, to any worker."""
        master = day.site.proc.pid
        workers = sorted(gunicorn_workers(master))
        victim, end = None, time.time() + 5
        while victim is None and time.time() < end:
            victim = next((w for w in workers if process_state(w) == "R"), None)
            await asyncio.sleep(0.002)
        how = "running" if victim else "idle"
        victim = victim or rng.choice(workers)
        os.kill(victim, signal.SIGKILL)
        f.ended = time.time()
        while time.time() < f.ended + 60:    # the master notices the death and forks a new worker
            now = gunicorn_workers(master)
            if victim not in now and len(now) >= args.workers:
                f.detail = (f"SIGKILL to worker {victim} ({how}) after {f.ended - f.started:.2f} s of looking; the "
                            f"master had {len(now)} workers again after {time.time() - f.ended:.1f} s")
                return
            await asyncio.sleep(0.05)
        f.detail = f"SIGKILL to worker {victim} ({how}); not replaced within 60 s"

    return hook


# --- the production shape -----------------------------------------------------------------------------------------

@dataclass
class ShapeChecks:
    sessions: Counter = field(default_factory=Counter)   # instance → candidates' sessions valid there
    sessions_refused: list = field(default_factory=list)
    throttle: dict = field(default_factory=dict)
    passes: dict = field(default_factory=dict)           # queue worker → its sweep's passes (time, graded, absent)
    shape: Shape | None = None
    nginx_errors: str = ""


def shape_server(args, url: str, checks: ShapeChecks):
    """run_day's server: the production shape on the exam day's database, a queue worker per host sweeping."""

    @contextlib.contextmanager
    def server(env, log):
        shape = Shape(log.parent / "shape", url=url, instances=args.instances, workers=args.workers,
                      threads=args.threads, queue_workers=args.instances, log=log,
                      env={**env, "SWEEP_MINUTES": "1", "PERIODIC_SECONDS": str(args.sweep_seconds),
                           "REQUEST_LOG": "0"})
        (log.parent / "shape").mkdir(exist_ok=True)
        shape.start(migrate=False)
        checks.shape = shape
        print(f"production shape: nginx :{shape.port} → instances "
              + ", ".join(f"{a.name} :{a.port}" for a in shape.apps)
              + f" ({args.workers} workers × {args.threads} threads each), Redis :{shape.redis.port}, "
              f"queue workers {len(shape.consumers)} (each sweeping every {args.sweep_seconds} s)", flush=True)
        try:
            yield Site(shape)
        finally:
            checks.nginx_errors = shape.nginx.errors() if shape.nginx else ""
            shape.stop()
            checks.passes = {w.name: w.passes() for w in shape.consumers}

    return server


async def check_sessions(day, checks: ShapeChecks):
    """Every candidate's cookies (a login through nginx) sent to each instance directly: /mock/ must answer
    200 (a session not valid there answers a redirect to the login page)."""
    for app in checks.shape.apps:
        http = Http(app.port, 60)
        sem = asyncio.Semaphore(8)

        async def one(c, app=app, http=http, sem=sem):
            b = Browser(http, Stats())
            b.cookies = dict(c.browser.cookies)
            async with sem:
                got = await b.request("session", "GET", "/mock/", record=False)
            if got and got[0] == 200:
                checks.sessions[app.name] += 1
            else:
                checks.sessions_refused.append((c.username, app.name, got[0] if got else "no answer"))

        await asyncio.gather(*(one(c) for c in day.cands))
        await http.close()


def check_throttle(shape: Shape, username: str = "trainer_zhaol", password: str = "Demo2026") -> dict:
    """Wrong passwords for one account, alternating between the instances (asked directly, one client address),
    until the account is locked; then the right password must be refused (429) by every instance and nginx.
    A slowed attempt (429 before the lock) is not counted by the app: waited out and made again."""
    who = {"X-Forwarded-For": "203.0.113.9"}
    lock_after = int(shape.env.get("LOGIN_ACCOUNT_LOCK_AFTER", 10))   # lms/config.py's default
    per = Counter()
    failures, end, i = 0, time.time() + 180, 0
    locked = False
    while not locked and time.time() < end:
        app = shape.apps[i % len(shape.apps)]
        s = Session(app.port)
        status = s.login(username, "not the password", headers=who, expect=None)
        if status == 200:
            failures += 1
            per[app.name] += 1
            i += 1
            locked = failures >= lock_after
        else:
            time.sleep(0.5)          # slowed: the app asks to wait (1, 2, 4 … s after a failure)
    after = {app.name: Session(app.port).login(username, password, headers=who, expect=None) for app in shape.apps}
    after["nginx"] = Session(shape.port).login(username, password, headers=who, expect=None)
    return {"failures": failures, "per_instance": dict(per), "right_password_afterwards": after,
            "ok": failures >= lock_after and all(v == 429 for v in after.values())}


# --- the figures ----------------------------------------------------------------------------------------------

def attribute(faults: list, day, grace: float, log: bytes) -> tuple[list, int]:
    """Each client error to the first fault window holding it: (the errors outside every window, the tracebacks
    outside). Tracebacks in the gunicorn log (`log`) go by where they are in it."""
    outside = []
    for kind, what, t in day.stats.errors:
        for f in faults:
            lo, hi = f.window(grace)
            if lo <= t <= hi:
                f.errors[category(what)] += 1
                break
        else:
            outside.append((kind, what, t))
    inside = 0
    for f in faults:
        f.tracebacks = log[f.log_from:f.log_to].count(b"Traceback")
        inside += f.tracebacks
    return outside, day.tracebacks - inside


class Recovery:
    """When saves were acknowledged, overall and per item of each attempt."""

    def __init__(self, stats, cands):
        self.times = sorted(t for t, _a, _i, _s in stats.acks)
        self.items = defaultdict(list)          # (attempt, item) → [(time, seq)] acknowledged
        for t, a, i, s in stats.acks:
            self.items[(a, i)].append((t, s))
        self.refused = stats.refused
        self.pending = {c.ledger.attempt_id: c.pending for c in cands}   # what each client still resends

    def of(self, f: Fault, grace: float) -> dict:
        lo, hi = f.window(grace)
        acks = self.times
        i, j = bisect.bisect_left(acks, lo), bisect.bisect_right(acks, hi)
        points = [lo] + acks[i:j + 1]       # the first acknowledgement after the window closes the last gap
        gap = max((b - a for a, b in zip(points, points[1:], strict=False)), default=float("nan"))
        k = bisect.bisect_left(acks, f.ended)
        first = acks[k] - f.ended if k < len(acks) else float("nan")
        # every save refused in the window: when it (or a newer save of its item) was acknowledged
        refused = [(a, i, s) for t, a, i, s in self.refused if lo <= t <= hi]
        saved, never, closed = [], 0, 0
        for a, i, s in refused:
            later = [t for t, seq in self.items.get((a, i), []) if seq >= s]
            if later:
                saved.append(min(later))
            elif self.pending.get(a, {}).get(i, (0,))[0] >= s:
                never += 1           # still resent at the end: the app never took it again
            else:
                closed += 1          # a 409 first: the deadline passed (or the candidate submitted) while resending
        return {"no_ack_s": gap, "first_ack_after_s": first, "refused_saves": len(refused),
                "all_saved_after_s": (max(saved) - f.started) if saved else float("nan"), "never_saved": never,
                "closed_before_saved": closed}


def shape_report(checks: ShapeChecks, day, faults: list) -> list[str]:
    """Print the shape's checks; return those that failed."""
    bad = []
    n = len(day.cands)
    print("Shape: sessions made through nginx, valid on each instance asked directly: "
          + ", ".join(f"{k} {v} of {n}" for k, v in sorted(checks.sessions.items())))
    if checks.sessions_refused or len(checks.sessions) != len(checks.shape.apps) or \
            any(v != n for v in checks.sessions.values()):
        bad.append(f"sessions not valid on every instance: {checks.sessions_refused[:5]}")
    t = checks.throttle
    print(f"Shape: login throttling: {t.get('failures')} failed logins on one account, per instance "
          f"{t.get('per_instance')}; the right password afterwards: {t.get('right_password_afterwards')} "
          f"(429: locked)")
    if not t.get("ok"):
        bad.append("login throttling not shared across the instances")
    groups = Counter(c.ledger.group for c in day.cands if c.ledger.attempt_id is not None)
    lo, hi = groups["abandon"], groups["abandon"] + groups["bell"]
    graded = {k: sum(g for _t, g, _a in v) for k, v in checks.passes.items()}
    total = sum(graded.values())
    print("Shape: sweep: " + "; ".join(
        f"queue worker {k}: {len(v)} passes, {graded[k]} attempts graded, {sum(a for _t, _g, a in v)} absences"
        for k, v in sorted(checks.passes.items()))
        + f"; {total} graded in all (abandoned {lo}, let the bell ring {groups['bell']}: between {lo} and {hi} "
        "when none is graded twice)")
    if not lo <= total <= hi:
        bad.append(f"the sweeps graded {total} attempts, expected between {lo} and {hi}")
    if len(checks.passes) < 2 or any(not v for v in checks.passes.values()):
        bad.append(f"not every queue worker swept: {sorted((k, len(v)) for k, v in checks.passes.items())}")
    for f in faults:
        if f.name == "redis" and f.ended:
            after = {k: sum(1 for t, _g, _a in v if t > f.ended) for k, v in sorted(checks.passes.items())}
            print(f"Shape: sweep passes after Redis came back: {after}")
            if not all(after.values()):
                bad.append(f"a queue worker did not sweep after Redis was restarted: {after}")
    print(f"Shape: nginx error log: {checks.nginx_errors.count('upstream')} lines about an upstream "
          "(the killed instance)")
    return bad


def main() -> int:
    p = build_parser(description=__doc__, candidates=200, minutes=20, database="postgresql", baseline_seconds=0)
    p.add_argument("--kill-at", type=float, help="SIGKILL a gunicorn worker at this share of the window (0.25)")
    p.add_argument("--restart-at", type=float, help="restart PostgreSQL at this share of the window (0.45)")
    p.add_argument("--outage-at", type=float, help="stop PostgreSQL at this share of the window (0.65)")
    p.add_argument("--shape", action="store_true",
                   help="the production shape: nginx, two app instances, Redis (bench/shape.py)")
    p.add_argument("--instances", type=int, default=2, help="--shape: app instances")
    p.add_argument("--instance-at", type=float, default=0.3, help="--shape: SIGKILL instance b at this share")
    p.add_argument("--instance-down", type=float, default=30, help="--shape: seconds before instance b starts again")
    p.add_argument("--redis-at", type=float, default=0.55, help="--shape: restart Redis at this share")
    p.add_argument("--outage-seconds", type=float, default=5, help="how long PostgreSQL stays stopped")
    p.add_argument("--restart-mode", choices=("fast", "immediate"), default="fast",
                   help="pg_ctl stop mode of the restart")
    p.add_argument("--outage-mode", choices=("fast", "immediate"), default="immediate",
                   help="pg_ctl stop mode of the outage (immediate: a crash)")
    p.add_argument("--grace", type=float, default=10,
                   help="a fault's window ends this many seconds after the fault is over")
    p.add_argument("--synchronous-commit", choices=("on", "off"), default="on",
                   help="PostgreSQL's synchronous_commit (on, as in production; tests/pgserver.py's default is off)")
    args = parse_args(p)
    if args.database != "postgresql":
        p.error("the faults need PostgreSQL (--database postgresql)")
    for name, default in (("kill_at", 0.25), ("restart_at", 0.45), ("outage_at", 0.65)):
        if getattr(args, name) is None:    # with --shape, the one-instance faults only when asked for
            setattr(args, name, -1 if args.shape else default)
    chosen = [("kill", args.kill_at), ("restart", args.restart_at), ("outage", args.outage_at)]
    if args.shape:
        if args.instances < 2:
            p.error("--instances: at least 2")
        chosen += [("instance", args.instance_at), ("redis", args.redis_at)]
    faults = sorted((Fault(n, at) for n, at in chosen if at >= 0), key=lambda f: f.at)
    if any(not 0 < f.at < 1 for f in faults):
        p.error("--kill-at, --restart-at, --outage-at, --instance-at, --redis-at: shares of the window between 0 and 1 "
                "(negative: leave out)")

    with fresh_database(args, p, pg_settings={"synchronous_commit": args.synchronous_commit}) as (tmp, url, pg):
        env, engine, names = prepare(args, tmp, url)
        print(f"faults: {', '.join(f'{f.name} at {f.at:.0%}' for f in faults)} of the window; "
              f"PostgreSQL synchronous_commit={args.synchronous_commit}", flush=True)
        checks = ShapeChecks() if args.shape else None
        day = run_day(args, tmp, url, env, engine, names, pg, during=during(faults, pg, args, checks),
                      server=shape_server(args, url, checks) if checks else None)
        figures = report(args, day, run_baseline(args, day))
        outside, tracebacks_outside = attribute(faults, day, args.grace, day.log.read_bytes())

    rec = Recovery(day.stats, day.cands)
    clock = day.clock
    print()
    print(f"Faults: the window of each runs from its start to {args.grace:g} s after it is over; "
          f"save p50 over the whole day {pct(day.stats.latency['save'], 50) * 1000:.0f} ms")
    print(f"{'fault':<9}{'at s':>7}{'min':>5}{'503':>6}{'5xx':>5}{'reset':>7}{'tb':>4}{'no ack s':>10}"
          f"{'ack after s':>13}{'refused':>9}{'saved after s':>15}  what happened")
    rows = []
    for f in faults:
        r = rec.of(f, args.grace)
        at = f.started - clock.t0
        rows.append({"fault": f.name, "at_s": at, "exam_minute": at / clock.window * EXAM_MINUTES, "detail": f.detail,
                     "failed": f.failed, "errors": dict(f.errors), "tracebacks": f.tracebacks, **r})
        saved_after = "-" if math.isnan(r["all_saved_after_s"]) else f"{r['all_saved_after_s']:.1f}"
        print(f"{f.name:<9}{at:>7.1f}{at / clock.window * EXAM_MINUTES:>5.0f}{f.errors['503']:>6}"
              f"{f.errors['other 5xx']:>5}{f.errors['reset/refused']:>7}{f.tracebacks:>4}{r['no_ack_s']:>10.1f}"
              f"{r['first_ack_after_s']:>13.2f}{r['refused_saves']:>9}{saved_after:>15}  {f.detail}"
              + (f"; {f.errors['other']} other errors" if f.errors["other"] else "")
              + (f"; {r['never_saved']} refused saves never acknowledged" if r["never_saved"] else "")
              + (f"; {r['closed_before_saved']} refused saves then refused with 409 (attempt closed)"
                 if r["closed_before_saved"] else "")
              + (f" FAILED: {f.failed}" if f.failed else ""))
    print("  503 / 5xx / reset: errors the clients saw in the window (reset: no answer: connection reset or refused);"
          " tb: tracebacks in the gunicorn log in the window")
    print("  no ack s: the longest stretch with no save acknowledged; ack after s: from the end of the fault to the"
          " next save acknowledged; refused: saves answered with an error; saved after s: from the start of the"
          " fault until every refused save (or a newer one of its item) was acknowledged")
    for kind, what, t in outside[:12]:
        print(f"  outside the fault windows, at {t - clock.t0:.1f} s: {kind}: {what}")

    bad = failures(day)
    if checks is not None:
        bad += shape_report(checks, day, faults)
    if outside or tracebacks_outside:
        bad.append(f"errors outside the fault windows: {len(outside)} from clients, {tracebacks_outside} tracebacks")
    bad += [f"fault {f.name} not injected: {f.failed}" for f in faults if f.failed]
    never = sum(r["never_saved"] + r["closed_before_saved"] for r in rows)
    if never:
        bad.append(f"saves refused in a fault window never acknowledged: {never}")
    in_windows = sum(sum(f.errors.values()) + f.tracebacks for f in faults)
    print(f"FAULTS: {len(faults)}   ERRORS IN FAULT WINDOWS (expected): {in_windows}   "
          f"ERRORS OUTSIDE: {len(outside) + tracebacks_outside}   "
          f"ANSWERS CHECKED: {day.results['acknowledged answers']}   ANSWERS LOST: {day.lost}   "
          f"GRADED TWICE: {day.results['mistakes counted twice (graded twice)']}")
    print("PASS" if not bad else "FAIL: " + "; ".join(bad))

    if args.json:
        if checks is not None:
            figures.update(shape={"sessions_valid": dict(checks.sessions), "sessions_refused": checks.sessions_refused,
                                  "throttle": checks.throttle,
                                  "sweep_passes": {k: len(v) for k, v in checks.passes.items()},
                                  "sweep_graded": {k: sum(g for _t, g, _a in v) for k, v in checks.passes.items()}})
        figures.update(faults=rows, errors_in_fault_windows=in_windows,
                       errors_outside_fault_windows=len(outside) + tracebacks_outside,
                       synchronous_commit=args.synchronous_commit, failed=bad)
        Path(args.json).write_text(json.dumps(figures, indent=2, default=str))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
