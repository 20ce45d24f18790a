"""The staff login: who is throttled (django-axes) and the second factor (django-otp, TOTP).

Throttling. Behind a proxy every request arrives from the proxy's address, so the client's
address is read from X-Forwarded-For, trusting exactly TRUSTED_PROXY_COUNT proxies: each one
appends the address it saw, so the client is the entry that many places from the right, and
whatever a client wrote into the header before that is ignored. Five failures lock one
username from one address (settings.AXES_FAILURE_LIMIT); guesses spread over many addresses
lock the username alone after AXES_USERNAME_FAILURE_LIMIT failures within the cool-off.

Two factors. When settings.STAFF_TWO_FACTOR is on (always when DEBUG is off) the admin's login
form asks for a code from the staff member's TOTP device, and a session signed in without one
does not reach the admin. `manage.py enrol_two_factor USERNAME` enrols a device.
"""

from functools import wraps

from axes.attempts import get_cool_off_threshold
from axes.handlers.database import AxesDatabaseHandler
from axes.helpers import get_client_username
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib import admin
from django.db.models import Sum
from django_otp.admin import OTPAdminAuthenticationForm
from django_otp.plugins.otp_totp.models import TOTPDevice

from evidence.cache import retiring_at_most_once_per_interval
from evidence.roles import is_vendor_account


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR with no trusted proxy; behind N trusted proxies the
    address the outermost of them saw (N entries from the right of X-Forwarded-For, where the
    nearest proxy's peer is REMOTE_ADDR). A header shorter than that did not come through every
    proxy, so the connecting address stands."""
    count = settings.TRUSTED_PROXY_COUNT
    remote = request.META.get("REMOTE_ADDR")
    if count <= 0:
        return remote
    hops = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    return hops[-count] if len(hops) >= count else remote


class StaffLoginHandler(AxesDatabaseHandler):
    """Axes' database handler plus a lockout on the username alone.

    Axes compares one failure count with one limit; this handler reports the limit itself as
    the count once the username's failures from every address reach the higher
    AXES_USERNAME_FAILURE_LIMIT, so the lockout, its log line and its page are axes' own.
    """

    def get_failures(self, request, credentials=None) -> int:
        failures = super().get_failures(request, credentials)
        username = get_client_username(request, credentials)
        if username is None:
            return failures
        attempts = AccessAttempt.objects.filter(username=username)
        if settings.AXES_COOLOFF_TIME is not None:
            attempts = attempts.filter(attempt_time__gte=get_cool_off_threshold(request))
        by_username = attempts.aggregate(n=Sum("failures_since_start"))["n"] or 0
        if by_username >= settings.AXES_USERNAME_FAILURE_LIMIT:
            return max(failures, settings.AXES_FAILURE_LIMIT)
        return failures


class StaffLoginForm(OTPAdminAuthenticationForm):
    """The admin login with a code. django-otp asks which device a code is for; a staff member
    with one TOTP device (all that enrol_two_factor makes) need not say."""

    def _chosen_device(self, user):
        device = super()._chosen_device(user)
        if device is None:
            devices = list(TOTPDevice.objects.devices_for_user(user, confirmed=True)[:2])
            device = devices[0] if len(devices) == 1 else None
        return device


class StaffAdminSite(admin.AdminSite):
    """The admin site. With settings.STAFF_TWO_FACTOR the login asks for a TOTP code and only
    a session verified by one is let in (as django-otp's OTPAdminSite, read per request so a
    setting decides, not the class)."""

    @property
    def login_form(self):
        return StaffLoginForm if settings.STAFF_TWO_FACTOR else None

    @property
    def login_template(self):
        return "otp/admin111/login.html" if settings.STAFF_TWO_FACTOR else None

    def has_permission(self, request):
        verified = not settings.STAFF_TWO_FACTOR or request.user.is_verified()
        return super().has_permission(request) and verified

    def admin_view(self, view, cacheable=False):
        """Every admin view; a vendor account's saves in it retire the page cache at most
        once per interval (evidence.cache), so re-saving an offer in a loop cannot keep
        every visitor's pages uncached."""
        inner = super().admin_view(view, cacheable)

        @wraps(inner)
        def limited(request, *args, **kwargs):
            if not is_vendor_account(request.user):
                return inner(request, *args, **kwargs)
            with retiring_at_most_once_per_interval(request.user.pk):
                return inner(request, *args, **kwargs)

        return limited
