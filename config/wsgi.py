import os

from django.core.wsgi import get_wsgi_application
from django.urls import get_resolver

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Import the URL configuration now (every view and the API's schemas: about a second) rather
# than on the first request. With gunicorn's preload_app the workers are forked with it
# loaded, so a recycled worker's first visitor does not wait for it.
get_resolver().url_patterns
