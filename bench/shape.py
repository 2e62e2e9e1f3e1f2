"""The production shape on this machine, from real components: one PostgreSQL, Redis, two app instances
(gunicorn with deploy/gunicorn.conf.py, production settings) on their own ports, nginx in front of them
configured from deploy/nginx/shequ-xuetang.conf, and the task queue's workers (one per host, on Redis).

    .venv/bin/python bench/shape.py [--instances 2] [--workers 2] [--queue-workers 2]   # start, print, wait for ^C

Used by bench/faults.py --shape and tests/test_production_shape.py:

    with Shape(tmp, env={...}).start() as shape:
        shape.port                   # nginx
        shape.apps[0].port           # one app instance directly
        shape.apps[1].kill()         # SIGKILL to the instance's master and every worker (a host gone)
        shape.redis.restart()
        shape.consumers[0].passes()  # a queue worker's sweep passes, from its log

Every process runs unprivileged where it can (PostgreSQL as `postgres` when run as root, nginx's workers as
`nobody`), on free ports of 127.0.0.1, with its files in one temporary folder; stop() ends them all.

The nginx site is the shipped file, rendered (render_site): its upstream's `server` line becomes one line per
instance with the same parameters (max_fails, fail_timeout), the HTTPS server listens on plain HTTP on a free
port (no certificate here: TLS costs CPU the figures would not attribute), the HTTP→HTTPS redirect server is
left out, and /srv/shequ-xuetang and /var/log/nginx become this checkout and the temporary folder. Each
substitution must match, so a change to the shipped file that the harness cannot follow fails loudly.

The task queue (lms/tasks): the instances and `queue_workers` worker processes (`flask --app wsgi worker`,
as deploy/systemd/lms-worker.service runs on each host) share TASK_QUEUE=redis://… of the shape's Redis.
Every worker runs the periodic work, the sweep included, as in production (two hosts: two sweeping consumers);
PERIODIC_SECONDS in `env` makes them look at it every few seconds instead of every minute.
"""
import os
import re
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import ROOT, free_port  # noqa: E402

sys.path.insert(0, str(ROOT))
from tests.pgserver import PostgresServer, find_bindir  # noqa: E402

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS = shutil.which("redis-server") or "/usr/bin/redis-server"
SITE = ROOT / "deploy" / "nginx" / "shequ-xuetang.conf"
GUNICORN_CONF = ROOT / "deploy" / "gunicorn.conf.py"


def wait_port(port: int, seconds: float = 60, proc: subprocess.Popen | None = None, what: str = "") -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what or 'process'} exited with {proc.returncode}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"{what or 'process'} did not listen on {port} within {seconds:g} s")


def wait_healthy(port: int, seconds: float, proc: subprocess.Popen, what: str) -> None:
    """Until GET /healthz answers 200: a worker has imported the app and reached the database."""
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{what} exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=5) as r:
                if r.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{what}: /healthz not 200 within {seconds:g} s")


def python_env(extra: dict) -> dict:
    return {**os.environ, **extra}


# --- Redis ------------------------------------------------------------------------------------------------------

class Redis:
    """redis-server on a free port, no persistence (a restart loses what it held: the worst case)."""

    def __init__(self, base: Path):
        self.base = base / "redis"
        self.base.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> "Redis":
        log = open(self.base / "redis.log", "ab")
        self.proc = subprocess.Popen(
            [REDIS, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.base), "--save", "",
             "--appendonly", "no", "--daemonize", "no", "--protected-mode", "yes"],
            stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        log.close()
        wait_port(self.port, 30, self.proc, "redis-server")
        return self

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(sig)
            self.proc.wait(timeout=30)

    def restart(self, sig: int = signal.SIGKILL) -> float:
        """Stop (SIGKILL by default: a crash) and start again on the same port: seconds it was down."""
        t = time.time()
        self.stop(sig)
        self.start()
        return time.time() - t


# --- the app instances ---------------------------------------------------------------------------------------------

class AppInstance:
    """gunicorn -c deploy/gunicorn.conf.py wsgi:app on its own port (GUNICORN_BIND), its own process group."""

    def __init__(self, name: str, env: dict, log: Path, workers: int, threads: int):
        self.name, self.env, self.log = name, env, log
        self.port = free_port()
        self.workers, self.threads = workers, threads
        self.proc: subprocess.Popen | None = None

    def start(self) -> "AppInstance":
        return self.launch().ready()

    def launch(self) -> "AppInstance":
        env = python_env({**self.env, "GUNICORN_BIND": f"127.0.0.1:{self.port}",
                          "GUNICORN_WORKERS": str(self.workers), "GUNICORN_THREADS": str(self.threads)})
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "-c", str(GUNICORN_CONF), "--name", f"shequ-xuetang-{self.name}",
                 "wsgi:app"], env=env, cwd=ROOT, stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    def ready(self) -> "AppInstance":
        assert self.proc is not None
        wait_port(self.port, 90, self.proc, f"app instance {self.name}")
        wait_healthy(self.port, 90, self.proc, f"app instance {self.name}")
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def kill(self) -> None:
        """SIGKILL to the master and every worker at once (the whole process group): a host gone."""
        if self.proc is not None:
            try:
                os.killpg(self.proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            self.proc.wait(timeout=30)

    def stop(self, wait: bool = True) -> None:
        """gunicorn's quick shutdown (SIGQUIT: workers end at once; the run is over, nothing is in flight)."""
        if self.alive:
            os.killpg(self.proc.pid, signal.SIGQUIT)
            if wait:
                self.wait()

    def wait(self) -> None:
        if self.proc is not None:
            try:
                self.proc.wait(timeout=40)
            except subprocess.TimeoutExpired:
                self.kill()


# --- nginx -------------------------------------------------------------------------------------------------------

def _sub(pattern: str, repl: str, text: str, flags: int = 0, count: int = 0) -> str:
    out, n = re.subn(pattern, repl, text, count=count, flags=flags)
    if not n:
        raise ValueError(f"deploy/nginx/shequ-xuetang.conf no longer has {pattern!r}: update bench/shape.render_site")
    return out


def render_site(upstreams: list[int], port: int, root: Path, logdir: Path, source: Path = SITE) -> str:
    """The shipped site with this machine's ports and paths (see the module's docstring)."""
    text = source.read_text()
    # the upstream: one `server` line per app instance, the shipped line's parameters kept
    m = re.search(r"upstream shequ_xuetang \{\n(.*?)\n\}", text, re.S)
    if not m:
        raise ValueError("deploy/nginx/shequ-xuetang.conf has no `upstream shequ_xuetang { … }`")
    lines = m.group(1).split("\n")
    shipped = [i for i, line in enumerate(lines) if re.match(r"\s*server\s", line)]
    if not shipped:
        raise ValueError("the upstream of deploy/nginx/shequ-xuetang.conf has no `server` line")
    line = re.match(r"(\s*)server\s+\S+((?:\s+[a-z_]+=[^\s;]+|\s+backup)*)\s*;", lines[shipped[0]])
    if not line:
        raise ValueError(f"cannot read the upstream's server line {lines[shipped[0]]!r}")
    indent, params = line.group(1), line.group(2)
    servers = [f"{indent}server 127.0.0.1:{p}{params};" for p in upstreams]
    lines = lines[:shipped[0]] + servers + [x for i, x in enumerate(lines) if i > shipped[0] and i not in shipped]
    text = text[:m.start(1)] + "\n".join(lines) + text[m.end(1):]
    # the redirect to HTTPS goes; the HTTPS server listens on plain HTTP on `port`
    text = _sub(r"server \{[^{}]*?listen 80;[^{}]*?return 301[^{}]*?\}\n*", "", text)
    text = _sub(r"^(\s*)listen 443 ssl[^;\n]*;", rf"\g<1>listen 127.0.0.1:{port};", text, re.M, count=1)
    text = _sub(r"\n[ \t]*listen \[::\]:443[^;\n]*;", "", text)
    text = _sub(r"\n[ \t]*ssl_[a-z_]+ [^;\n]*;", "", text)
    text = _sub(r"/srv/shequ-xuetang/", f"{root}/", text)
    text = _sub(r"/var/log/nginx/", f"{logdir}/", text)
    return text


MAIN_CONF = """# written by bench/shape.py: Debian's /etc/nginx/nginx.conf, reduced, around the shipped site
{user}worker_processes {workers};
pid {base}/nginx.pid;
error_log {base}/error.log warn;
daemon off;
events {{
    worker_connections 8192;
}}
http {{
    include /etc/nginx/mime.types;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    server_tokens off;
    client_body_temp_path {base}/tmp/body;
    proxy_temp_path {base}/tmp/proxy;
    fastcgi_temp_path {base}/tmp/fastcgi;
    uwsgi_temp_path {base}/tmp/uwsgi;
    scgi_temp_path {base}/tmp/scgi;
    access_log {base}/access.log;
    include {base}/site.conf;
}}
"""


class Nginx:
    """nginx with the rendered site, its files in a folder of its own. Run as root, its workers run as root too:
    they serve the static files from the checkout, which may sit in a private (0700) folder, as a fresh clone
    in `mktemp -d` does, that `nobody` could not enter."""

    def __init__(self, upstreams: list[int], workers: int = 1):
        self.base = Path(tempfile.mkdtemp(prefix="lms-nginx-"))
        (self.base / "tmp").mkdir()
        os.chmod(self.base, 0o755)
        os.chmod(self.base / "tmp", 0o777)
        self.port = free_port()
        (self.base / "site.conf").write_text(render_site(upstreams, self.port, ROOT, self.base))
        user = "user root root;\n" if os.geteuid() == 0 else ""
        (self.base / "nginx.conf").write_text(MAIN_CONF.format(base=self.base, workers=workers, user=user))
        self.proc: subprocess.Popen | None = None

    def start(self) -> "Nginx":
        conf = str(self.base / "nginx.conf")
        test = subprocess.run([NGINX, "-t", "-q", "-p", str(self.base), "-c", conf], capture_output=True, text=True)
        if test.returncode:
            raise RuntimeError(f"nginx -t failed:\n{test.stderr}")
        with open(self.base / "stderr.log", "ab") as out:
            self.proc = subprocess.Popen([NGINX, "-p", str(self.base), "-c", conf], stdout=out,
                                         stderr=subprocess.STDOUT, start_new_session=True)
        wait_port(self.port, 30, self.proc, "nginx")
        return self

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)   # fast shutdown: the run is over
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=15)

    def remove(self) -> None:
        shutil.rmtree(self.base, ignore_errors=True)

    def errors(self) -> str:
        """nginx's error logs: its own and the site's."""
        return "".join(p.read_text(errors="replace") for p in sorted(self.base.glob("*error.log")))


# --- the task queue's workers ---------------------------------------------------------------------------------------

class QueueWorker:
    """`flask --app wsgi worker` (deploy/systemd/lms-worker.service: one per host), its own process group and log.
    Its periodic sweep logs every pass (lms/tasks/periodic.py): `passes()` reads them back, so a run can add
    up what each consumer graded and check that no attempt was graded by two of them."""

    PASS = re.compile(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d),(\d{3}) lms\.tasks\.periodic INFO "
                      r"(\d+) attempts graded, (\d+) attendance records marked absent$", re.M)

    def __init__(self, name: str, env: dict, log: Path):
        self.name, self.env, self.log = name, env, log
        self.proc: subprocess.Popen | None = None

    def start(self) -> "QueueWorker":
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "flask", "--app", "wsgi", "worker"], cwd=ROOT, env=python_env(self.env),
                stdout=out, stderr=subprocess.STDOUT, start_new_session=True)
        return self

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def stop(self) -> None:
        """SIGTERM (Huey: at once; a running task is tried again by the next consumer), SIGKILL after 30 s."""
        if self.alive:
            assert self.proc is not None
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=30)

    def text(self) -> str:
        return self.log.read_text(errors="replace") if self.log.exists() else ""

    def passes(self) -> list[tuple[float, int, int]]:
        """Its sweep's passes so far: (wall time, attempts graded, attendance records marked absent)."""
        return [(time.mktime(time.strptime(m.group(1), "%Y-%m-%d %H:%M:%S")) + int(m.group(2)) / 1000,
                 int(m.group(3)), int(m.group(4))) for m in self.PASS.finditer(self.text())]


# --- the whole shape ---------------------------------------------------------------------------------------------

class Shape:
    """PostgreSQL (or a database URL given), Redis, `instances` app instances, nginx; see the module's docstring.
    `env`: the app's environment on top of production's (LMS_ENV=production, one SECRET_KEY for all,
    TRUSTED_PROXIES=1 for nginx, plain-HTTP cookies). `queue_workers`: one `flask worker` per host (QueueWorker),
    each with its own log, all on the shape's Redis, each running the periodic work (the sweep) as production does."""

    def __init__(self, base: Path | None = None, *, instances: int = 2, workers: int = 2, threads: int = 4,
                 env: dict | None = None, url: str | None = None, pg_settings: dict | None = None,
                 queue_workers: int = 2, nginx_workers: int = 1, log: Path | None = None):
        self.base = base or Path(tempfile.mkdtemp(prefix="lms-shape-"))
        self.owns_base = base is None
        self.nginx_workers = nginx_workers
        self._log = log
        self.instances, self.workers, self.threads = instances, workers, threads
        self.pg: PostgresServer | None = None
        self.url = url
        self.pg_settings = pg_settings
        self.redis = Redis(self.base)
        self.apps: list[AppInstance] = []
        self.nginx: Nginx | None = None
        self.queue_workers = queue_workers
        self.consumers: list[QueueWorker] = []
        self.env = {"LMS_ENV": "production", "SECRET_KEY": secrets.token_hex(32), "TRUSTED_PROXIES": "1",
                    "SESSION_COOKIE_SECURE": "0", "REQUEST_LOG": "0",
                    "LMS_INSTANCE_PATH": str(self.base / "instance"), **(env or {})}

    @property
    def port(self) -> int:
        assert self.nginx is not None
        return self.nginx.port

    @property
    def log(self) -> Path:
        """The app instances' log (all of them append to it)."""
        return self._log or self.base / "gunicorn.log"

    def start_database(self) -> str:
        if self.url is None:
            bindir = find_bindir()
            if bindir is None:
                raise RuntimeError("no PostgreSQL binaries (apt-get install postgresql)")
            self.pg = PostgresServer(bindir, settings=self.pg_settings).start()
            self.url = self.pg.create_database("shape")
        self.env["DATABASE_URL"] = self.url
        return self.url

    def migrate(self, seed: bool = False) -> None:
        """`flask db upgrade` (and `flask seed-demo`) against the shape's database."""
        (self.base / "instance").mkdir(exist_ok=True)
        for cmd in (["db", "upgrade"], *([["seed-demo"]] if seed else [])):
            subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", *cmd], cwd=ROOT,
                           env=python_env(self.env), check=True, capture_output=True)

    def start(self, migrate: bool = True, seed: bool = False) -> "Shape":
        try:
            self.start_database()
            self.redis.start()
            self.env["TASK_QUEUE"] = self.redis.url
            if migrate:
                self.migrate(seed)
            self.start_apps()
            self.start_queue_workers()
            self.nginx = Nginx([a.port for a in self.apps], self.nginx_workers)
            self.nginx.start()
        except BaseException:
            self.stop()
            raise
        return self

    def start_apps(self) -> None:
        (self.base / "instance").mkdir(exist_ok=True)
        self.apps = [AppInstance(chr(ord("a") + i), self.env, self.log, self.workers, self.threads)
                     for i in range(self.instances)]
        for a in self.apps:
            a.launch()
        for a in self.apps:
            a.ready()

    def start_queue_workers(self) -> None:
        """The task queue's consumers (`flask --app wsgi worker`), one log each (worker-a.log, …)."""
        self.consumers = [QueueWorker(chr(ord("a") + i), self.env, self.base / f"worker-{chr(ord('a') + i)}.log")
                          for i in range(self.queue_workers)]
        for w in self.consumers:
            w.start()

    def pgrps(self) -> list[int]:
        """Process groups of the app instances, nginx and the queue's workers (CPU accounting)."""
        procs = [a.proc for a in self.apps] + [self.nginx.proc if self.nginx else None] + [
            w.proc for w in self.consumers]
        return [p.pid for p in procs if p is not None and p.poll() is None]

    def stop(self) -> None:
        if self.nginx is not None:
            self.nginx.stop()
        for w in self.consumers:
            w.stop()
        for a in self.apps:
            a.stop(wait=False)
        for a in self.apps:
            a.wait()
        self.redis.stop()
        if self.pg is not None:
            self.pg.stop()
            self.pg = None
        if self.nginx is not None:
            self.nginx.remove()
        if self.owns_base:
            shutil.rmtree(self.base, ignore_errors=True)

    def __enter__(self) -> "Shape":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


class Site:
    """The shape as bench/exam_day.run_day's server: the candidates talk to nginx; `proc` is instance a's
    gunicorn master (bench/faults.py's worker kill picks one of its workers); CPU is counted over every
    process group of the shape."""

    def __init__(self, shape: Shape):
        self.shape = shape

    @property
    def port(self) -> int:
        return self.shape.port

    @property
    def proc(self) -> subprocess.Popen:
        proc = self.shape.apps[0].proc
        assert proc is not None
        return proc

    def pgrps(self) -> list[int]:
        return self.shape.pgrps()


def main() -> int:
    import argparse

    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--instances", type=int, default=2)
    p.add_argument("--workers", type=int, default=2, help="gunicorn workers per instance")
    p.add_argument("--queue-workers", type=int, default=2, help="`flask worker` processes (one per host)")
    p.add_argument("--seed", action="store_true", help="flask seed-demo (the demo city, password Demo2026)")
    args = p.parse_args()
    with Shape(instances=args.instances, workers=args.workers, queue_workers=args.queue_workers).start(
            seed=args.seed) as shape:
        print(f"nginx http://127.0.0.1:{shape.port}/  instances "
              + ", ".join(f"{a.name} :{a.port}" for a in shape.apps)
              + f"  PostgreSQL {shape.url}  Redis {shape.redis.url}  queue workers {len(shape.consumers)}"
              + f"  files {shape.base}", flush=True)
        try:
            signal.pause()
        except KeyboardInterrupt:
            pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
