"""gunicorn settings for 社区学堂 (see docs/DEPLOYMENT.md).

    gunicorn -c deploy/gunicorn.conf.py wsgi:app

Every value can be overridden from the environment (GUNICORN_BIND, GUNICORN_WORKERS, …).
"""
import multiprocessing
import os

# nginx on the same host proxies to this address; never expose gunicorn directly.
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")

# Threads let a worker serve other requests while one waits on the database; processes use the cores.
workers = int(os.environ.get("GUNICORN_WORKERS", min(2 * multiprocessing.cpu_count() + 1, 9)))
worker_class = "gthread"
threads = int(os.environ.get("GUNICORN_THREADS", 4))

# Connections waiting to be accepted. A mock exam day opens thousands of exam pages within minutes;
# gunicorn's default (2048) overflows then, and the kernel resets what does not fit. Linux caps it
# at net.core.somaxconn (4096 on Debian 12).
backlog = int(os.environ.get("GUNICORN_BACKLOG", 4096))

# A request that takes longer than this is killed (exports of a whole city stay well below it).
timeout = int(os.environ.get("GUNICORN_TIMEOUT", 60))
graceful_timeout = 30
keepalive = 5

# Recycle workers now and then (bounds any slow memory growth); jitter so they do not restart together.
max_requests = 2000
max_requests_jitter = 200

# The app is imported in each worker, not in the master: database connections and the task queue's
# connection must not be shared across fork().
preload_app = False

# Requests are logged by the app itself as JSON lines (REQUEST_LOG=1); gunicorn logs only its own
# events. Both go to stderr, which systemd's journal collects.
accesslog = None
errorlog = "-"
loglevel = os.environ.get("GUNICORN_LOGLEVEL", "info")
capture_output = True

# gunicorn trusts X-Forwarded-Proto only from nginx on this host; the app's ProxyFix
# (TRUSTED_PROXIES) reads the client address.
forwarded_allow_ips = os.environ.get("GUNICORN_FORWARDED_ALLOW_IPS", "127.0.0.1,::1")

# Request size limits against malformed or abusive requests.
limit_request_line = 8190
limit_request_fields = 100

proc_name = "shequ-xuetang"

# The control socket (gunicornc) in systemd's RuntimeDirectory (/run/shequ-xuetang): the service
# user's home is read-only under ProtectHome=. Elsewhere gunicorn's default applies.
if os.environ.get("RUNTIME_DIRECTORY"):
    control_socket = os.path.join(os.environ["RUNTIME_DIRECTORY"].split(":")[0], "gunicorn.ctl")
