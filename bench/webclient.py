"""A small browser for the load test: plain http.client, cookies, and HTML forms as sent.

No redirect is ever followed (an outbound click's 302 points off the machine), each request
is timed from connect to the last byte of the body, and a change form is submitted the way a
browser submits it: every successful control of the form (hidden inputs, checked boxes,
selected options, textareas), the clicked submit button, multipart/form-data. The pure
functions (parse_form, add_inline_row, encode_multipart...) are tested in
tests/bench/test_loadtest.py.
"""

import base64
import http.client
import re
import secrets
import time
from dataclasses import dataclass
from html.parser import HTMLParser
from http.cookies import CookieError, SimpleCookie

Fields = list[tuple[str, str]]
VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


@dataclass(frozen=True)
class Response:
    status: int
    headers: dict[str, str]  # lower-cased names; the last value of a repeated header
    body: bytes
    seconds: float

    @property
    def text(self) -> str:
        return self.body.decode("utf-8", errors="replace")

    @property
    def location(self) -> str:
        return self.headers.get("location", "")


class Client:
    """One visitor: its own cookies, one new connection per request (gunicorn's sync workers
    close the connection after every response anyway)."""

    def __init__(self, port: int, timeout: float, headers: dict[str, str] | None = None):
        self.port = port
        self.timeout = timeout
        self.headers = dict(headers or {})
        self.cookies: dict[str, str] = {}

    @property
    def origin(self) -> str:
        # The site believes it is served over https (X-Forwarded-Proto), so a form's Origin
        # must say https, as the browser behind the TLS proxy would.
        return f"https://127.0.0.1:{self.port}"

    def request(
        self,
        method: str,
        path: str,
        body: bytes | None = None,
        headers: dict[str, str] | None = None,
    ) -> Response:
        sent = {**self.headers, **(headers or {})}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        started = time.perf_counter()
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=self.timeout)
        try:
            conn.request(method, path, body=body, headers=sent)
            raw = conn.getresponse()
            content = raw.read()
        finally:
            conn.close()
        seconds = time.perf_counter() - started
        self._keep_cookies(raw.headers.get_all("Set-Cookie") or [])
        headers_seen = {name.lower(): value for name, value in raw.getheaders()}
        return Response(raw.status, headers_seen, content, seconds)

    def get(self, path: str, headers: dict[str, str] | None = None) -> Response:
        return self.request("GET", path, headers=headers)

    def post_form(self, path: str, fields: Fields, referer: str) -> Response:
        body, content_type = encode_multipart(fields)
        return self.request(
            "POST",
            path,
            body=body,
            headers={
                "Content-Type": content_type,
                "Origin": self.origin,
                "Referer": self.origin + referer,
            },
        )

    def _keep_cookies(self, lines: list[str]) -> None:
        for line in lines:
            try:
                jar = SimpleCookie(line)
            except CookieError:
                continue
            for name, morsel in jar.items():
                expired = morsel["max-age"] in ("0", "-1") or morsel.value in ("", '""')
                if expired:
                    self.cookies.pop(name, None)
                else:
                    self.cookies[name] = morsel.value


# --- forms ---------------------------------------------------------------------------------


class _FormParser(HTMLParser):
    """The successful controls of one <form id=...>, in document order, as a browser sends."""

    def __init__(self, form_id: str):
        super().__init__(convert_charrefs=True)
        self.form_id = form_id
        self.found = False
        self.fields: Fields = []
        self._in_form = False
        self._depth = 0  # nested <form> tags are invalid HTML; count them anyway
        self._select: dict | None = None
        self._option: dict | None = None
        self._textarea: dict | None = None

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if tag == "form":
            if self._in_form:
                self._depth += 1
            elif attrs.get("id") == self.form_id:
                self._in_form = self.found = True
            return
        if not self._in_form:
            return
        name = attrs.get("name")
        disabled = "disabled" in attrs
        if tag == "input" and name and not disabled:
            kind = (attrs.get("type") or "text").lower()
            if kind in ("submit", "button", "reset", "image", "file"):
                return  # only the clicked button is sent; the caller adds it
            if kind in ("checkbox", "radio"):
                if "checked" in attrs:
                    self.fields.append((name, attrs.get("value", "on")))
                return
            self.fields.append((name, attrs.get("value", "")))
        elif tag == "select":
            self._select = {
                "name": name,
                "multiple": "multiple" in attrs,
                "disabled": disabled,
                "options": [],
            }
        elif tag == "option" and self._select is not None:
            self._option = {
                "value": attrs.get("value"),
                "selected": "selected" in attrs,
                "text": "",
            }
            self._select["options"].append(self._option)
        elif tag == "textarea" and name and not disabled:
            self._textarea = {"name": name, "text": ""}

    def handle_data(self, data):
        if self._option is not None:
            self._option["text"] += data
        if self._textarea is not None:
            self._textarea["text"] += data

    def handle_endtag(self, tag):
        if tag == "form" and self._in_form:
            if self._depth:
                self._depth -= 1
            else:
                self._in_form = False
        elif tag == "option":
            self._option = None
        elif tag == "select" and self._select is not None:
            self._close_select()
        elif tag == "textarea" and self._textarea is not None:
            text = self._textarea["text"]
            # A browser drops the one newline that may follow <textarea>.
            self.fields.append((self._textarea["name"], text.removeprefix("\n")))
            self._textarea = None

    def _close_select(self):
        select, self._select, self._option = self._select, None, None
        if not select["name"] or select["disabled"] or not select["options"]:
            return
        chosen = [o for o in select["options"] if o["selected"]]
        if not chosen and not select["multiple"]:
            chosen = select["options"][:1]  # a single select sends its first option
        for option in chosen:
            value = option["value"] if option["value"] is not None else option["text"].strip()
            self.fields.append((select["name"], value))


def parse_form(html: str, form_id: str) -> Fields:
    """What a browser would submit from the form with this id (without a submit button)."""
    parser = _FormParser(form_id)
    parser.feed(html)
    parser.close()
    if not parser.found:
        raise ValueError(f"no <form id={form_id!r}> in the page")
    return parser.fields


def get_field(fields: Fields, name: str) -> str | None:
    return next((value for key, value in fields if key == name), None)


def set_field(fields: Fields, name: str, value: str | None) -> Fields:
    """A copy with `name` set to `value` in its place (None removes it, as unticking a box
    does); a field the form did not have is appended."""
    out: Fields = []
    placed = value is None
    for key, old in fields:
        if key != name:
            out.append((key, old))
        elif not placed:
            out.append((key, value))
            placed = True
    if not placed:
        out.append((name, value))
    return out


def without_template_rows(fields: Fields) -> Fields:
    """Drop the admin's hidden empty-row template (names with __prefix__); the formset ignores
    it anyway, and add_inline_row clones it first."""
    return [(k, v) for k, v in fields if "__prefix__" not in k]


def add_inline_row(fields: Fields, prefix: str, values: dict[str, str]) -> tuple[Fields, int]:
    """Add one row to an inline formset, as the admin's "Add another" does: clone the
    __prefix__ template row under the next index, fill in `values`, raise TOTAL_FORMS.

    Returns the new fields and the new row's index.
    """
    total_name = f"{prefix}-TOTAL_FORMS"
    total = get_field(fields, total_name)
    if total is None:
        raise ValueError(f"no {total_name} in the form")
    index = int(total)
    template = f"{prefix}-__prefix__-"
    row = [
        (f"{prefix}-{index}-{key.removeprefix(template)}", value)
        for key, value in fields
        if key.startswith(template)
    ]
    if not row:
        raise ValueError(f"no {template}* template row in the form")
    for name, value in values.items():
        row = set_field(row, f"{prefix}-{index}-{name}", value)
    out = set_field(without_template_rows(fields), total_name, str(index + 1))
    return out + row, index


def inline_row_with(fields: Fields, prefix: str, name: str, value: str) -> int | None:
    """The index of the inline row whose `name` field holds `value`, or None."""
    suffix = f"-{name}"
    for key, found in fields:
        if key.startswith(f"{prefix}-") and key.endswith(suffix) and found == value:
            middle = key[len(prefix) + 1 : -len(suffix)]
            if middle.isdigit():
                return int(middle)
    return None


def encode_multipart(fields: Fields) -> tuple[bytes, str]:
    """multipart/form-data, as a browser encodes a form with enctype="multipart/form-data"."""
    boundary = "----loadtest" + secrets.token_hex(12)
    parts = []
    for name, value in fields:
        quoted = name.replace('"', "%22")
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="{quoted}"\r\n\r\n'.encode()
            + value.encode()
            + b"\r\n"
        )
    body = b"".join(parts) + f"--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


def error_text(html: str, limit: int = 300) -> str:
    """The admin's error note and error lists of a refused form, as plain text."""

    class Errors(HTMLParser):
        def __init__(self):
            super().__init__(convert_charrefs=True)
            self.depth = 0
            self.parts: list[str] = []

        def handle_starttag(self, tag, attrs):
            if tag in VOID_TAGS:
                return
            classes = (dict(attrs).get("class") or "").split()
            if self.depth:
                self.depth += 1
            elif "errornote" in classes or "errorlist" in classes:
                self.depth = 1

        def handle_endtag(self, tag):
            if self.depth:
                self.depth -= 1

        def handle_data(self, data):
            if self.depth and data.strip():
                self.parts.append(data.strip())

    parser = Errors()
    parser.feed(html)
    return " | ".join(parser.parts)[:limit] or "(no error message found)"


# --- two-factor login ----------------------------------------------------------------------


def totp_secret(uri: str) -> str:
    """The base32 secret of an otpauth:// URI (what `manage.py enrol_two_factor` prints)."""
    match = re.search(r"[?&]secret=([A-Z2-7]+)", uri)
    if match is None:
        raise ValueError("the otpauth URI holds no secret")
    return match.group(1)


def totp_code(secret: str, at: float | None = None) -> str:
    """The six-digit code an authenticator app shows for the secret at `at` (now), computed
    by django-otp's own TOTP (django_otp.oath, the code its TOTP devices verify against;
    30-second steps, six digits, their defaults). django_otp.oath needs no Django settings."""
    from django_otp.oath import TOTP

    totp = TOTP(base64.b32decode(secret + "=" * (-len(secret) % 8)))
    if at is not None:
        totp.time = at
    return f"{totp.token():06d}"


def admin_login(client: Client, username: str, password: str, secret: str, call) -> Response:
    """Log in through the admin's two-factor login form as a person would: the page (CSRF
    token), then username, password and the current TOTP code. `call(kind, send, path,
    expect)` sends and records each request (the load test's Recorder.call). Raises
    ValueError unless the answer is the 302 into the admin with a session cookie."""
    path = "/admin/login/?next=/admin/"
    page = call("admin page (GET)", lambda: client.get(path), path, 200)
    if page is None or page.status != 200:
        raise ValueError(f"{username}: the login page answered {page and page.status}")
    fields = parse_form(page.text, "login-form")
    fields = set_field(fields, "username", username)
    fields = set_field(fields, "password", password)
    fields = set_field(fields, "otp_token", totp_code(secret))
    response = call(
        "admin form (POST)", lambda: client.post_form(path, fields, referer=path), path, 302
    )
    if response is None or response.status != 302 or "sessionid" not in client.cookies:
        status = None if response is None else response.status
        detail = error_text(response.text) if response is not None else "no answer"
        raise ValueError(f"{username}: login failed: answered {status} ({detail})")
    return response
