"""Cross-origin reads of the public API: any site's script may read it, none may write.

django-cors-headers answers the CORS headers for the paths CORS_URLS_REGEX names (/api/);
this middleware narrows it to the reading methods, so a POST (or any other write) from
another origin gets no Access-Control-Allow-Origin at all, and a preflight offers only
GET, HEAD and OPTIONS (settings.CORS_ALLOW_METHODS).
"""

from corsheaders.middleware import CorsMiddleware
from django.http import HttpRequest

READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class ReadOnlyCorsMiddleware(CorsMiddleware):
    def is_enabled(self, request: HttpRequest) -> bool:
        return request.method in READ_METHODS and super().is_enabled(request)
