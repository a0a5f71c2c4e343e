"""Write-audit-publish: `crm-kpi run` builds a candidate warehouse beside the published one, runs every
dbt test and expectation there, and publishes it only when all pass, atomically. Readers of the
published warehouse never see a half-built or mixed state, and never block the build.

DuckDB: the candidate is a file of the same name in `<db>.build/` (dbt-duckdb's views name their
catalog, the file's base name, so the name must not change). An incremental build starts from a copy
of the published file (a reflink where the filesystem has them, else a byte copy: the cost of the
publish). Publishing is one rename over the published file: a reader that holds the old file keeps
its snapshot (POSIX); where the platform refuses to replace a file that is open (Windows), the
validated candidate stays where it is and `crm-kpi publish` finishes the job once readers close.

PostgreSQL: the candidate is a set of schemas with the prefix `_build_` (dbt's var schema_prefix):
`_build_raw`, `_build_staging`, `_build_intermediate`, `_build_marts`, `_build_audit`. Publishing
renames them over the published schemas in one transaction (views follow their tables by OID, so
they keep pointing inside the swapped set) and drops the old ones afterwards; the read-only BI role
is granted the new `marts` in the same transaction.

Two runs on one warehouse: the second stops at once with a message naming the first (a lock file
beside the DuckDB file, an advisory lock on PostgreSQL); both locks go with their process, so a
killed run leaves none behind.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

BUILD_PREFIX = "_build_"
OLD_PREFIX = "_old_"
# dbt's schemas (generate_schema_name) and the raw schema the loaders fill: swapped together.
SCHEMAS = ("raw", "staging", "intermediate", "marts", "audit")
VALIDATED = "validated"  # a file in the build folder: the candidate passed every test and expectation
PG_LOCK_KEY = 7_401_113  # pg_advisory_lock key of `crm-kpi run` on a database


class RunLocked(RuntimeError):
    """Another run builds or publishes this warehouse."""


class PublishError(RuntimeError):
    """The candidate passed, but could not be published; the message says where it is kept."""


@dataclass
class Publication:
    """What publishing cost and where things are."""

    published: str
    copied_bytes: int = 0
    copy_seconds: float = 0.0
    publish_seconds: float = 0.0
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------ DuckDB


def build_dir(published: Path) -> Path:
    return published.parent / f"{published.name}.build"


def candidate_path(published: Path) -> Path:
    """The candidate file: same base name as the published one, in the build folder."""
    return build_dir(published) / published.name


def wal_of(db_path: Path) -> Path:
    return db_path.with_name(db_path.name + ".wal")


@contextlib.contextmanager
def duckdb_run_lock(published: Path) -> Iterator[None]:
    """Hold `<db>.lock` for the run (filelock: an OS lock, gone with its process); stop at once, naming the
    holder (its pid and start, written into the lock file), if another run holds it."""
    import filelock

    published.parent.mkdir(parents=True, exist_ok=True)
    lock_path = published.with_name(published.name + ".lock")

    def note_holder(descriptor: int) -> None:
        os.ftruncate(descriptor, 0)
        os.lseek(descriptor, 0, os.SEEK_SET)
        os.write(descriptor, f"pid {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}".encode())

    lock = filelock.FileLock(lock_path, timeout=0, on_acquired=note_holder)
    try:
        lock.acquire()
    except filelock.Timeout:
        try:
            holder = lock_path.read_text(encoding="utf-8").strip()
        except OSError:
            holder = ""
        raise RunLocked(
            f"another crm-kpi run is building {published} ({holder or 'another process'}); wait for it to finish, "
            "then run again"
        ) from None
    try:
        yield
    finally:
        lock.release()


def _file_in_use(path: Path) -> bool:
    """Whether a process holds a lock on a DuckDB file (DuckDB writers lock it with fcntl)."""
    if not path.exists():
        return False
    try:
        import fcntl
    except ImportError:  # Windows: an open file cannot be removed; rmtree says so
        return False
    with open(path, "rb+") as handle:
        try:
            fcntl.lockf(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return True
        fcntl.lockf(handle.fileno(), fcntl.LOCK_UN)
    return False


def held_by_writer(path: Path) -> bool:
    """Whether a process holds a DuckDB file open for writing: DuckDB takes an fcntl write lock on the file for
    a read-write connection and a read lock for a read-only one, so a shared lock is refused only by a
    writer (readers never block publishing). False where fcntl is missing (Windows) or the file is absent."""
    try:
        import fcntl
        import struct
    except ImportError:
        return False
    try:
        handle = open(path, "rb")  # noqa: SIM115 (closed below; closing drops our probe lock too)
    except OSError:
        return False
    try:
        probe = struct.pack("hhqqi", fcntl.F_RDLCK, 0, 0, 0, 0)
        try:
            fcntl.fcntl(handle.fileno(), fcntl.F_SETLK, probe)
        except OSError:
            return True
        fcntl.fcntl(handle.fileno(), fcntl.F_SETLK, struct.pack("hhqqi", fcntl.F_UNLCK, 0, 0, 0, 0))
        return False
    finally:
        handle.close()


def check_no_writer(published: Path, kept: Path | None = None) -> None:
    """Refuse to publish over (or start a build from) a file that a read-write session holds, or that has a
    write-ahead log beside it: the session's later writes would go to a WAL named after the file, which the
    new file would then replay (a wrong warehouse, or one nobody can open once the session dies)."""
    then = (
        f"the validated build is kept in {kept}: then run `crm-kpi publish`" if kept else "then run `crm-kpi run` again"
    )
    if held_by_writer(published):
        raise PublishError(
            f"{published} is open for writing by another process (a read-write DuckDB session: BI tools and shells "
            f"should open it read-only): close it; {then}"
        )
    if wal_of(published).exists():
        raise PublishError(
            f"{published} has a write-ahead log beside it ({wal_of(published).name}) that no process holds: a "
            "read-write session wrote to the published warehouse and ended without a checkpoint. Its writes were "
            "never validated; `crm-kpi doctor --repair` moves the log aside (kept, not deleted) so the file is the "
            f"published build again; {then}"
        )


def prepare_duckdb(published: Path, incremental: bool) -> tuple[Path, Publication]:
    """A fresh build folder; for an incremental build, the published file copied into it."""
    folder, candidate = build_dir(published), candidate_path(published)
    if _file_in_use(candidate):
        raise RunLocked(
            f"{candidate} is still being written by an earlier build (was `crm-kpi run` killed? its dbt process "
            "goes on): wait for it to end, or stop it, then run again"
        )
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    publication = Publication(str(published))
    check_no_writer(published)
    if incremental and published.exists():
        started = time.perf_counter()
        publication.copied_bytes = copy_file(published, candidate)
        publication.copy_seconds = time.perf_counter() - started
    return candidate, publication


def copy_file(source: Path, target: Path) -> int:
    """Copy a file, as a reflink (copy-on-write, instant) where the filesystem supports it."""
    with open(source, "rb") as src, open(target, "wb") as dst:
        try:
            import fcntl

            fcntl.ioctl(dst.fileno(), 0x40049409, src.fileno())  # FICLONE (btrfs, XFS, ...)
        except (ImportError, OSError):
            shutil.copyfileobj(src, dst, length=16 * 1024 * 1024)
    return source.stat().st_size


def mark_validated(published: Path) -> None:
    (build_dir(published) / VALIDATED).write_text(time.strftime("%Y-%m-%d %H:%M:%S"), encoding="utf-8")


def publish_duckdb(published: Path, publication: Publication | None = None) -> Publication:
    """Replace the published file by the validated candidate (one rename), and its GX data docs."""
    publication = publication or Publication(str(published))
    folder, candidate = build_dir(published), candidate_path(published)
    if not (folder / VALIDATED).exists() or not candidate.exists():
        raise PublishError(f"no validated build to publish in {folder}: run `crm-kpi run`")
    if wal_of(candidate).exists():
        import duckdb

        with duckdb.connect(str(candidate)) as connection:
            connection.execute("checkpoint")
    check_no_writer(published, kept=folder)
    started = time.perf_counter()
    try:
        os.replace(candidate, published)
    except PermissionError as error:
        raise PublishError(
            f"could not replace {published}: a reader holds it open, and this platform does not replace an open "
            f"file ({error.strerror}). The new warehouse passed every test and is kept in {folder}; close the "
            "readers (BI tools, DuckDB shells), then run `crm-kpi publish`"
        ) from error
    _fsync_dir(published.parent)
    publication.publish_seconds = time.perf_counter() - started
    docs = folder / "gx_docs"
    if docs.is_dir():
        target = published.parent / "gx_docs"
        shutil.rmtree(target, ignore_errors=True)
        os.replace(docs, target)
    shutil.rmtree(folder, ignore_errors=True)
    return publication


def _fsync_dir(folder: Path) -> None:
    """Make the rename durable (POSIX); a no-op where directories cannot be opened (Windows)."""
    try:
        descriptor = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(descriptor)
    except OSError:
        pass
    finally:
        os.close(descriptor)


# -------------------------------------------------------------------------------------- PostgreSQL


@contextlib.contextmanager
def postgres_run_lock(connection: Any, database: str) -> Iterator[None]:
    """An advisory lock on the database, held by `connection` for the run (released when it closes)."""
    with connection.cursor() as cursor:
        cursor.execute("select pg_try_advisory_lock(%s)", (PG_LOCK_KEY,))
        row = cursor.fetchone()
    if not row or not row[0]:
        raise RunLocked(f"another crm-kpi run is building the PostgreSQL database {database}; wait for it to finish")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("select pg_advisory_unlock(%s)", (PG_LOCK_KEY,))


def existing_schemas(connection: Any) -> set[str]:
    with connection.cursor() as cursor:
        cursor.execute("select nspname from pg_namespace")
        return {str(row[0]) for row in cursor.fetchall()}


def drop_schemas(connection: Any, prefix: str, lock_timeout: str = "10s") -> None:
    """Drop the candidate (or old) schemas a killed or failed run left behind; a reader that still
    reads the old tables makes it wait at most `lock_timeout` (then psycopg2 raises)."""
    from psycopg2 import sql

    present = existing_schemas(connection)
    with connection.cursor() as cursor:
        cursor.execute(f"set local lock_timeout = '{lock_timeout}'")
        for schema in SCHEMAS:
            if prefix + schema in present:
                cursor.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(prefix + schema)))
    connection.commit()


def copy_incremental_tables(connection: Any, relations: list[tuple[str, str]]) -> Publication:
    """An incremental build's starting point: the published tables of the incremental models, copied
    into the candidate schemas (every other model is rebuilt from scratch anyway)."""
    from psycopg2 import sql

    publication = Publication("postgres")
    started = time.perf_counter()
    present = existing_schemas(connection)
    with connection.cursor() as cursor:
        for schema, name in relations:
            if schema not in present:
                continue
            cursor.execute("select to_regclass(%s)", (f'"{schema}"."{name}"',))
            found = cursor.fetchone()
            if not found or found[0] is None:
                continue
            cursor.execute(sql.SQL("create schema if not exists {}").format(sql.Identifier(BUILD_PREFIX + schema)))
            cursor.execute(
                sql.SQL("create table {}.{} as table {}.{}").format(
                    sql.Identifier(BUILD_PREFIX + schema),
                    sql.Identifier(name),
                    sql.Identifier(schema),
                    sql.Identifier(name),
                )
            )
            cursor.execute("select pg_total_relation_size(%s)", (f'"{BUILD_PREFIX}{schema}"."{name}"',))
            size = cursor.fetchone()
            publication.copied_bytes += int(size[0]) if size else 0
    connection.commit()
    publication.copy_seconds = time.perf_counter() - started
    return publication


def swap_schemas(connection: Any, bi_role: str | None, publication: Publication) -> Publication:
    """Publish the candidate schemas: rename them over the published ones in one transaction (with the
    BI role's grants), then drop the old ones (which waits for readers that still use them)."""
    from psycopg2 import sql

    started = time.perf_counter()
    present = existing_schemas(connection)
    with connection.cursor() as cursor:
        cursor.execute("set local lock_timeout = '60s'")
        for schema in SCHEMAS:
            if BUILD_PREFIX + schema not in present:
                continue
            if schema in present:
                cursor.execute(
                    sql.SQL("alter schema {} rename to {}").format(
                        sql.Identifier(schema), sql.Identifier(OLD_PREFIX + schema)
                    )
                )
            cursor.execute(
                sql.SQL("alter schema {} rename to {}").format(
                    sql.Identifier(BUILD_PREFIX + schema), sql.Identifier(schema)
                )
            )
        if bi_role:
            grant_marts(cursor, bi_role)
    connection.commit()
    publication.publish_seconds = time.perf_counter() - started
    try:
        drop_schemas(connection, OLD_PREFIX, lock_timeout="5s")
    except Exception as error:  # a reader still reads the old tables: the next run drops them
        connection.rollback()
        publication.notes.append(
            f"the old schemas {OLD_PREFIX}* stay until the next run (a reader holds them: {error})"
        )
    return publication


def clear_leftovers(connection: Any) -> None:
    """Before a run: drop what an earlier run left (a killed run's candidate, old schemas a reader held)."""
    drop_schemas(connection, BUILD_PREFIX)
    try:
        drop_schemas(connection, OLD_PREFIX)
    except Exception as error:
        connection.rollback()
        raise RunLocked(
            f"the previous warehouse's schemas {OLD_PREFIX}* are still read by a session ({error}); "
            "wait for it to finish, then run again"
        ) from error


def grant_marts(cursor: Any, role: str) -> None:
    """The read-only BI role sees the schema marts: usage on it, select on its tables and views."""
    from psycopg2 import sql

    cursor.execute(sql.SQL("grant usage on schema marts to {}").format(sql.Identifier(role)))
    cursor.execute(sql.SQL("grant select on all tables in schema marts to {}").format(sql.Identifier(role)))


def role_exists(connection: Any, role: str) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("select 1 from pg_roles where rolname = %s", (role,))
        return cursor.fetchone() is not None


def create_bi_role(connection: Any, role: str, password: str | None) -> None:
    """Create (or update) the read-only BI role: it may read the tables of `marts` and nothing else.

    The role owns nothing and gets no other privilege: no usage on raw, staging, intermediate or audit,
    `create` on the public schema is revoked from it, and so is `temporary` on the database (PostgreSQL
    grants TEMP to PUBLIC: it is revoked from PUBLIC and granted back to the user that builds, so that the
    BI role cannot create temporary tables). Each publish grants it the new marts again."""
    from psycopg2 import sql

    role_id = sql.Identifier(role)
    with connection.cursor() as cursor:
        cursor.execute("select 1 from pg_roles where rolname = %s", (role,))
        verb = "alter" if cursor.fetchone() else "create"
        login = sql.SQL("login password {}").format(sql.Literal(password)) if password else sql.SQL("nologin")
        cursor.execute(sql.SQL(verb + " role {} with {} nosuperuser nocreatedb nocreaterole").format(role_id, login))
        cursor.execute(sql.SQL("revoke create on schema public from {}").format(role_id))
        cursor.execute("select current_database()")
        database = cursor.fetchone()
        if database:
            database_id = sql.Identifier(database[0])
            cursor.execute(sql.SQL("grant connect on database {} to {}").format(database_id, role_id))
            cursor.execute(sql.SQL("revoke temporary on database {} from public").format(database_id))
            cursor.execute(sql.SQL("revoke temporary on database {} from {}").format(database_id, role_id))
            cursor.execute(sql.SQL("grant temporary on database {} to current_user").format(database_id))
        cursor.execute("select 1 from pg_namespace where nspname = 'marts'")
        if cursor.fetchone():
            grant_marts(cursor, role)
    connection.commit()


# ------------------------------------------------------------------------------------------ doctor


def doctor(published: Path, repair: bool) -> tuple[bool, list[str]]:
    """Whether the published DuckDB file opens as published, and what was found (and done, with `repair`).

    A write-ahead log beside the published file means a read-write session wrote to it: while the session
    lives, it is the session's (close it); once no process holds the file, its writes were never validated,
    and a log left by a session on the file a run has since replaced would be replayed into the new file (a
    wrong warehouse, or one that no longer opens). The repair moves the log aside, kept as
    `<db>.wal.stale-<time>` (never deleted), and checks that the file opens."""
    import duckdb

    wal = wal_of(published)
    found: list[str] = []
    if not published.exists():
        return False, [f"{published} does not exist: run `crm-kpi run`"]
    if wal.exists():
        if held_by_writer(published):
            return False, [
                f"{wal.name}: a read-write session holds {published.name} and writes to this log; close it (readers "
                "should open the warehouse read-only); nothing to repair while it lives"
            ]
        found.append(
            f"{wal.name}: a write-ahead log that no process holds (a read-write session wrote to the published "
            "warehouse and ended without a checkpoint); its writes were never validated"
        )
        if not repair:
            found.append("run `crm-kpi doctor --repair` to move it aside (kept, not deleted)")
            return False, found
        kept = wal.with_name(f"{wal.name}.stale-{time.strftime('%Y%m%d-%H%M%S')}")
        os.replace(wal, kept)
        found.append(f"moved aside to {kept.name}: {published.name} is the published build again")
    try:
        with duckdb.connect(str(published), read_only=True) as connection:
            connection.execute("select count(*) from information_schema.tables").fetchone()
    except Exception as error:
        return False, [*found, f"{published} does not open: {error}"]
    return True, [*found, f"{published} opens"]
