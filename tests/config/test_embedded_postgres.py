"""The embedded PostgreSQL of the demo and the tests (config/embedded_postgres.py): its URL needs
no running server, and a cluster of its own starts, is reused, answers and stops."""

import shutil
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg2
import pytest

from config import embedded_postgres

ROOT = Path(__file__).resolve().parents[2]


def test_the_url_names_the_socket_in_var_pg_and_starts_nothing(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(embedded_postgres, "DATA_DIR", tmp_path / "pg")
    expected = f"postgres://postgres@{quote(str(tmp_path / 'pg'), safe='')}:5432/ieum"
    assert embedded_postgres.url() == expected
    assert not embedded_postgres.answers()
    assert embedded_postgres.main(["status"]) == 3
    assert "stopped (not initialised)" in capsys.readouterr().out
    assert not (tmp_path / "pg").exists()
    assert embedded_postgres.main(["restart"]) == 2


@pytest.fixture
def cluster(monkeypatch):
    """A cluster of its own under the checkout's var/ (git-ignored), removed afterwards."""
    data_dir = ROOT / "var" / f"pg-test-{uuid.uuid4().hex[:8]}"
    monkeypatch.setattr(embedded_postgres, "DATA_DIR", data_dir)
    yield data_dir
    embedded_postgres.stop()
    shutil.rmtree(data_dir, ignore_errors=True)


def postmaster_pid(data_dir: Path) -> str:
    return (data_dir / "postmaster.pid").read_text().splitlines()[0]


def test_a_cluster_is_initialised_reused_and_stopped(cluster):
    url = embedded_postgres.start("ieum_probe")
    assert url == f"postgres://postgres@{quote(str(cluster), safe='')}:5432/ieum_probe"
    assert (cluster / "PG_VERSION").exists() and embedded_postgres.answers()
    connection = psycopg2.connect(
        host=str(cluster), port=5432, user="postgres", dbname="ieum_probe"
    )
    with connection, connection.cursor() as cursor:
        cursor.execute("SHOW listen_addresses")
        assert cursor.fetchone() == ("",)  # the socket only: no TCP port
    connection.close()

    pid = postmaster_pid(cluster)
    assert embedded_postgres.start("ieum_probe") == url  # running: reused as it is
    assert postmaster_pid(cluster) == pid

    assert embedded_postgres.stop()
    assert not embedded_postgres.answers()
    assert not embedded_postgres.stop()  # nothing left to stop
    assert embedded_postgres.start("ieum_probe") == url  # the initialised cluster starts again
    assert postmaster_pid(cluster) != pid
