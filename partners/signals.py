from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from . import register
from .memberships import forget_memberships
from .models import Membership
from .roles import sync_user_groups


@receiver(post_save, sender=Membership)
@receiver(post_delete, sender=Membership)
def keep_role_groups_in_sync(sender, instance: Membership, **kwargs):
    sync_user_groups(instance.user)
    forget_memberships()  # a request that changes memberships sees the change at once


@receiver(pre_save, sender=Membership)
def remember_membership_before(sender, instance: Membership, raw=False, **kwargs):
    if not raw:
        register.remember_before(instance)


@receiver(post_save, sender=Membership)
def register_membership_change(sender, instance: Membership, created, raw=False, **kwargs):
    if not raw:
        register.record_save(instance, created)


@receiver(post_delete, sender=Membership)
def register_membership_deletion(sender, instance: Membership, **kwargs):
    register.record_delete(instance)
