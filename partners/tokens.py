"""API bearer tokens: revocation (issue is `ApiToken.issue`). A token is never deleted; its
revocation is an access-rights record kept in its history."""

from django.db import transaction
from django.utils import timezone

from .models import ApiToken, User


@transaction.atomic
def revoke_token(token: ApiToken, *, by: User) -> ApiToken:
    """End the token now; every later request presenting it answers 401."""
    token.revoked_at = timezone.now()
    token._history_user = by
    token.save(update_fields=["revoked_at"])
    return token
