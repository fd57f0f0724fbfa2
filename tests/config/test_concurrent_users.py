"""Two people using the demo at once: a real threaded server on PostgreSQL, two signed-in users
browsing pages that write access events at the same moment, and never an error page. Their
events land in one unbroken chain (one head, no two events after the same hash)."""

import threading
import urllib.error
import urllib.request

import pytest
from django.conf import settings
from django.test import Client

from casework.models import AccessChainHead, AccessEvent
from tests.builders import hot_paths, populate_hot_paths

REQUESTS = 12  # each person's, cycling through their pages


class NoRedirects(urllib.request.HTTPRedirectHandler):
    """A redirect (to the login page, say) is an answer of its own, not the page behind it."""

    def redirect_request(self, *args, **kwargs):
        return None


def browse(base_url, session_key, pages, start, answers):
    opener = urllib.request.build_opener(NoRedirects)
    opener.addheaders = [("Cookie", f"{settings.SESSION_COOKIE_NAME}={session_key}")]
    start.wait()
    for i in range(REQUESTS):
        path = pages[i % len(pages)]
        try:
            with opener.open(base_url + path, timeout=60) as answer:
                answer.read()
                answers.append((path, answer.status))
        except urllib.error.HTTPError as error:
            answers.append((path, error.code))
        except OSError as error:  # no answer at all: reset, refused, timed out
            answers.append((path, repr(error)))


@pytest.mark.django_db(transaction=True)
def test_two_users_at_once_never_see_an_error_page(world, live_server):
    case = populate_hot_paths(world, 1)
    by_user: dict[str, list[str]] = {}
    for username, path in hot_paths(world, case):
        if "/reports/" in path:
            continue  # aggregates name nobody and write no access event (tests/casework/reports)
        by_user.setdefault(username, []).append(path)
    people = ["coordinator", "centrehead"]  # the school's coordinator, the district's head
    before = AccessEvent.objects.count()

    start = threading.Barrier(len(people))
    answers: dict[str, list] = {username: [] for username in people}
    threads = []
    for username in people:
        client = Client()
        client.force_login(world[username])
        session_key = client.cookies[settings.SESSION_COOKIE_NAME].value
        thread = threading.Thread(
            target=browse,
            args=(live_server.url, session_key, by_user[username], start, answers[username]),
        )
        threads.append(thread)
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)

    for username in people:
        assert len(answers[username]) == REQUESTS
        failed = [(path, status) for path, status in answers[username] if status != 200]
        assert not failed, (username, failed)

    written = AccessEvent.objects.count() - before
    assert written >= REQUESTS * len(people)  # every page read writes its access event
    for head in AccessChainHead.objects.all():
        events = AccessEvent.objects.filter(partition=head.partition)
        assert events.count() == head.count
        previous = list(events.values_list("prev_hash", flat=True))
        assert len(set(previous)) == len(previous)  # no fork: each hash is followed once
        assert events.filter(hash=head.last_hash).exists()
