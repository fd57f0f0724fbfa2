from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .memberships import forget_memberships
from .models import Membership
from .roles import sync_user_groups


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def keep_role_groups_in_sync(sender, instance: Membership, **kwargs):
    sync_user_groups(instance.user)
    forget_memberships()  # a request that changes memberships sees the change at once
