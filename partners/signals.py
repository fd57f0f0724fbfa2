from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Membership
from .roles import sync_user_groups


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def keep_role_groups_in_sync(sender, instance: Membership, **kwargs):
    sync_user_groups(instance.user)
