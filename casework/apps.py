from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class CaseworkConfig(AppConfig):
    name = "casework"
    verbose_name = _("사례관리")

    def ready(self):
        from django.db.models.signals import post_delete, post_save, pre_save

        from partners.models import Membership

        from .identifiers import refuse_resident_numbers
        from .workflows import memberships

        # No resident registration number in any free text of casework (DESIGN.md §9).
        for model in self.get_models():
            pre_save.connect(
                refuse_resident_numbers,
                sender=model,
                dispatch_uid=f"casework.identifiers.{model._meta.model_name}",
            )

        # A membership that stops counting drops its grants (partners never imports casework).
        post_save.connect(
            memberships.on_membership_saved,
            sender=Membership,
            dispatch_uid="casework.membership_saved",
        )
        post_delete.connect(
            memberships.on_membership_deleted,
            sender=Membership,
            dispatch_uid="casework.membership_deleted",
        )
