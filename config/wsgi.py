import os
from importlib import import_module

from django.conf import settings
from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
application = get_wsgi_application()

# Import the URL configuration now (every view and the API's schemas: about a second) rather
# than on the first request. With gunicorn's preload_app the workers are forked with it
# loaded, so a recycled worker's first visitor does not wait for it.
import_module(settings.ROOT_URLCONF)
