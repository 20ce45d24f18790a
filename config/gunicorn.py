"""gunicorn settings: `gunicorn -c config/gunicorn.py config.wsgi`.

Every value can be overridden from the environment, as the platform running it prefers.
"""

import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
workers = int(os.environ.get("WEB_CONCURRENCY", "2"))
threads = int(os.environ.get("GUNICORN_THREADS", "1"))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
# Load the app once in the master; workers are forked from it. A recycled or replaced worker
# is then serving within milliseconds instead of importing Django again (about a second of
# CPU, during which its share of requests waited: the tail latency of every recycling). A
# deploy restarts gunicorn (a HUP would keep the master's old code).
preload_app = os.environ.get("GUNICORN_PRELOAD", "true").lower() in ("1", "true", "yes", "on")
# Recycle workers now and then so a slow leak can never grow without bound. A worker's memory
# stays flat under load (docs/performance.md), so rarely. The jitter is wide: workers start
# together and serve alike, and with a 10% jitter both were measured restarting in the same
# second, leaving none to serve for most of a second (a floor p95 of 700 ms); spread over
# half the interval, one restarts while the other serves.
max_requests = int(os.environ.get("GUNICORN_MAX_REQUESTS", "25000"))
max_requests_jitter = max_requests // 2
accesslog = "-"  # stdout
# gunicorn's default minus what can hold personal data: the request line and the referer carry
# query strings (`?condition=pregnancy` is health data, and the line starts with the address),
# so the log has the method, the path alone (%(U)s), the status, size, user agent and the time
# the worker took in microseconds (%(D)s: bench/run.py reads it, and whole milliseconds are too
# coarse for requests of about 10 ms).
access_log_format = '%(h)s %(l)s %(u)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s "%(a)s" %(D)sus'
errorlog = "-"
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
