"""Settings for the Evidence Stack Builder, read from the environment.

With no environment at all this is the quick start: DEBUG on, SQLite in the project folder.
"""

from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

from config.env import env_bool, env_int, env_list, env_str

BASE_DIR = Path(__file__).resolve().parent.parent

DEBUG = env_bool("DJANGO_DEBUG", True)
SECRET_KEY = env_str("DJANGO_SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("DJANGO_SECRET_KEY is required when DJANGO_DEBUG is off")
    SECRET_KEY = "insecure-quick-start-key-only-for-local-development"

ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", ["127.0.0.1", "localhost", "testserver"])

INSTALLED_APPS = [
    "evidence.apps.StaffAdminConfig",  # django.contrib.admin on a site that asks for TOTP
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.sitemaps",  # its sitemap.xml template (evidence.sitemaps)
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",  # trigram lookups for search; used only on PostgreSQL
    "django_htmx",
    "corsheaders",
    "ninja",
    "simple_history",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "evidence",
    "stacks",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    # Before CommonMiddleware, as django-cors-headers asks: CORS for reads of /api/ only.
    "evidence.http.ReadOnlyCorsMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # request.user.is_verified(): signed in with a TOTP code (evidence.login).
    "django_otp.middleware.OTPMiddleware",
    # Records the signed-in user as the author of every history row written in a request.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Last, as django-axes asks: answers a locked-out login with the lockout page.
    "axes.middleware.AxesMiddleware",
]

# django-axes first: it refuses a locked-out login before the password is even checked.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]

ROOT_URLCONF = "config.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

WSGI_APPLICATION = "config.wsgi.application"

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
# SQLite makes the covering index of a filtered ranking's window (stacks.GoalScore,
# goal_score_goal_place_idx) without its INCLUDE columns: a plain index there, on purpose.
SILENCED_SYSTEM_CHECKS = ["models.W040"]
if DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    DATABASES["default"].setdefault("OPTIONS", {})["application_name"] = "evidence-stack-builder"
    # No JIT: the ranking query's correlated subqueries inflate its estimated cost past
    # jit_above_cost, and compiling it took 1.9 of its 2.0 s on the large preset; a web
    # request's short queries never win that time back.
    DATABASES["default"]["OPTIONS"]["options"] = "-c jit=off"

# A streaming replica of the primary for public reads (config.replica, config.routers);
# optional: unset, every query goes to DATABASE_URL. Tests read it as a mirror of "default".
DATABASE_REPLICA_URL = env_str("DATABASE_REPLICA_URL")
if DATABASE_REPLICA_URL:
    DATABASES["replica"] = dj_database_url.parse(
        DATABASE_REPLICA_URL,
        conn_max_age=DATABASES["default"]["CONN_MAX_AGE"],
        conn_health_checks=True,
    )
    DATABASES["replica"]["OPTIONS"] = {
        **DATABASES["default"].get("OPTIONS", {}),
        # An unreachable replica costs a request at most this long (seconds), then the
        # primary answers and the replica is left alone for a while (config.replica).
        **({"connect_timeout": 2} if "postgresql" in DATABASES["replica"]["ENGINE"] else {}),
    }
    DATABASES["replica"]["TEST"] = {"MIRROR": "default"}
    DATABASE_ROUTERS = ["config.routers.PrimaryReplicaRouter"]
    MIDDLEWARE.insert(
        MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
        "config.replica.ReplicaMiddleware",
    )

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
# The site is written in English only. With translation off, every number a page draws is
# formatted without first asking which language the request is in (a context-local lookup per
# number: a few per cent of a ranking's rendering). Formats still come from the "en" locale.
USE_I18N = False
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s: %(message)s"}},
    "handlers": {
        "console": {
            "class": "logging.StreamHandler",
            "stream": "ext://sys.stdout",
            "formatter": "plain",
        }
    },
    "root": {"handlers": ["console"], "level": env_str("DJANGO_LOG_LEVEL", "INFO")},
    # WeasyPrint (the clinician's PDF) logs every step of every render at INFO.
    "loggers": {"weasyprint": {"level": "WARNING"}},
}

# Part of every cache key (evidence.cache.release_id), so no cached page outlives a deploy;
# unset, the static files' manifest stands for the release.
RELEASE_ID = env_str("RELEASE_ID")

# The shared cache: Redis when REDIS_URL is set, else this process. Production needs Redis:
# every gunicorn worker and app server then shares each page it renders, where a cache per
# process would render each page once per worker (measured: a replay of the same pages found
# no hit at all). A one-process site says so with DJANGO_LOCAL_CACHE=true.
REDIS_URL = env_str("REDIS_URL")
if not REDIS_URL and not env_bool("DJANGO_LOCAL_CACHE", DEBUG):
    raise ImproperlyConfigured(
        "REDIS_URL is required when DJANGO_DEBUG is off: the page cache is shared there by "
        "every worker and app server. A one-process site may set DJANGO_LOCAL_CACHE=true."
    )
CACHES = {
    "default": (
        {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": REDIS_URL,
            # A Redis that stops answering costs a request at most this long (seconds);
            # evidence.cache then renders the page without the cache.
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
        if REDIS_URL
        else {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}
    )
}

# Security. Production (DEBUG off) is strict by default; the quick start stays plain HTTP.
SECURE_SSL_REDIRECT = env_bool("DJANGO_SECURE_SSL_REDIRECT", not DEBUG)
BEHIND_TLS_PROXY = env_bool("DJANGO_BEHIND_TLS_PROXY", False)
if BEHIND_TLS_PROXY:
    # Only behind a proxy that sets this header itself and strips it from clients.
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SESSION_COOKIE_SECURE = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
CSRF_COOKIE_SECURE = SESSION_COOKIE_SECURE
SESSION_COOKIE_HTTPONLY = True
# False, as Django's documentation advises for a site whose scripts send the token: htmx reads
# it from the cookie (static/js/site.js), so no public page carries a visitor's token.
CSRF_COOKIE_HTTPONLY = False
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0 if DEBUG else 31_536_000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("DJANGO_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("DJANGO_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "strict-origin-when-cross-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
# No inline script anywhere: htmx and every other script come from our own static files.
SECURE_CSP = {
    "default-src": [CSP.SELF],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "connect-src": [CSP.SELF],
    "font-src": [CSP.SELF],
    "object-src": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
}

# The public API may be read from any site's scripts (evidence.http): no cookies are sent or
# needed, only reads are allowed, and the validators a client revalidates with can be read.
CORS_URLS_REGEX = r"^/api/.*$"
CORS_ALLOW_ALL_ORIGINS = True
CORS_ALLOW_CREDENTIALS = False
CORS_ALLOW_METHODS = ("GET", "HEAD", "OPTIONS")
CORS_ALLOW_HEADERS = ("accept", "if-none-match", "if-modified-since")
CORS_EXPOSE_HEADERS = ("ETag",)
CORS_PREFLIGHT_MAX_AGE = 86_400

# Where `manage.py build_data_export` writes the public download that /data/ offers.
DATA_EXPORT_ROOT = Path(env_str("DATA_EXPORT_ROOT") or BASE_DIR / "exports")

# Admin login throttling (django-axes): after AXES_FAILURE_LIMIT failed logins for one username
# from one address, that pair is locked out for the cool-off; each lockout is logged (logger
# axes.*, to the console handler above) and answered with templates/axes/lockout.html.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = timedelta(minutes=env_int("AXES_COOLOFF_MINUTES", 15))
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_HTTP_RESPONSE_CODE = 403
AXES_LOCKOUT_TEMPLATE = "axes/lockout.html"
AXES_VERBOSE = False  # no start-up banner on stdout, where export_evidence writes its JSON
# Behind guesses spread over many addresses: the username alone is locked after this many
# failures within the cool-off (evidence.login.StaffLoginHandler).
AXES_USERNAME_FAILURE_LIMIT = env_int("AXES_USERNAME_FAILURE_LIMIT", 20)
AXES_HANDLER = "evidence.login.StaffLoginHandler"
# The client's address behind proxies: the proxies in front of the app that append to
# X-Forwarded-For (one TLS proxy: 1). Unset, 1 when DJANGO_BEHIND_TLS_PROXY is on, else 0
# (X-Forwarded-For ignored). django-ipware is not used: evidence.login.client_ip is the rule.
TRUSTED_PROXY_COUNT = env_int("DJANGO_TRUSTED_PROXY_COUNT", 1 if BEHIND_TLS_PROXY else 0)
AXES_CLIENT_IP_CALLABLE = "evidence.login.client_ip"

# Staff two-factor authentication (django-otp, TOTP): always when DEBUG is off, optional in
# development. `manage.py enrol_two_factor USERNAME` enrols a staff member's device.
STAFF_TWO_FACTOR = not DEBUG or env_bool("DJANGO_STAFF_TWO_FACTOR", False)
OTP_TOTP_ISSUER = "Evidence Stack Builder"
