from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PartnersConfig(AppConfig):
    name = "partners"
    verbose_name = _("기관과 사용자")

    def ready(self):
        from . import signals  # noqa: F401
