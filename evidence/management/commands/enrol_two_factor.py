"""Enrol a staff member's authenticator app (TOTP), e.g. the first admin after createsuperuser.

    python manage.py enrol_two_factor USERNAME [--replace]

Prints the otpauth:// URI and draws it as a QR code in the terminal: scan it (or type the
secret) into an authenticator app, then log in to the admin with the password and the app's
current six-digit code. Run it on the server, in a terminal only that person sees: the URI
holds the secret.
"""

from io import StringIO

import qrcode
from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django_otp.plugins.otp_totp.models import TOTPDevice


class Command(BaseCommand):
    help = "Enrol a staff member's authenticator app (TOTP) and print its otpauth URI and QR code."

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--replace",
            action="store_true",
            help="Replace the staff member's devices (a lost phone); old codes stop working.",
        )

    def handle(self, *args, username, replace, **options):
        user = (
            get_user_model()
            .objects.filter(username=username, is_staff=True, is_active=True)
            .first()
        )
        if user is None:
            raise CommandError(f"No staff user named {username!r} (createsuperuser makes one).")
        devices = TOTPDevice.objects.filter(user=user)
        if devices.exists() and not replace:
            raise CommandError(
                f"{username} already has an authenticator; --replace enrols a new one and "
                "retires the old."
            )
        with transaction.atomic():
            devices.delete()
            device = TOTPDevice.objects.create(user=user, name="Authenticator app", confirmed=True)

        qr = qrcode.QRCode(border=2)
        qr.add_data(device.config_url)
        drawing = StringIO()
        qr.print_ascii(out=drawing, invert=True)
        self.stdout.write(
            f"Enrolled an authenticator for {username}. Scan the QR code or enter the URI in "
            "an authenticator app; the admin login then asks for its current code.\n"
        )
        self.stdout.write(device.config_url)
        self.stdout.write(drawing.getvalue())
