"""The `tessera` command: serve, db, user (and later blocks add worker, demo, ...).

Every command reads the same settings as the server (`config/*.yml`, `TESSERA_*`), so an
operator's shell and the running service always agree on which database they talk to.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer

from tessera.lib.config import Settings, load_settings
from tessera.lib.migrations import pending_migrations, upgrade_database

if TYPE_CHECKING:
    from tessera.lib.runlock import RunLock
    from tessera.lib.runtime import Runtime

T = TypeVar("T")

app = typer.Typer(
    name="tessera",
    help="Tessera backend platform: run the server and operate it.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
user_app = typer.Typer(help="User administration.", no_args_is_help=True)
demo_app = typer.Typer(help="Demo data for trying Tessera out.", no_args_is_help=True)
events_app = typer.Typer(help="Outbox events: inspect and retry.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")
app.add_typer(events_app, name="events")
app.add_typer(demo_app, name="demo")
files_app = typer.Typer(help="File storage maintenance.", no_args_is_help=True)
reports_app = typer.Typer(help="Export and import jobs (the report block).", no_args_is_help=True)
app.add_typer(reports_app, name="reports")
app.add_typer(files_app, name="files")


def _settings() -> Settings:
    try:
        return load_settings()
    except Exception as exc:  # configuration errors are the operator's to fix: say so plainly
        typer.secho(f"configuration error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


@app.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Interface to bind")] = None,
    port: Annotated[int | None, typer.Option(help="TCP port")] = None,
    workers: Annotated[int | None, typer.Option(help="Worker processes")] = None,
    blocks: Annotated[
        str | None, typer.Option(help="Comma-separated blocks to serve (default: all)")
    ] = None,
    ssl_certfile: Annotated[Path | None, typer.Option(help="PEM certificate: serve HTTPS")] = None,
    ssl_keyfile: Annotated[
        Path | None, typer.Option(help="PEM private key for --ssl-certfile")
    ] = None,
) -> None:
    """Run the HTTP server (uvicorn with uvloop and httptools)."""
    import uvicorn

    settings = _settings()
    host = host or settings.server.host
    port = port or settings.server.port
    workers = workers or settings.server.workers
    if blocks:
        names = [name.strip() for name in blocks.split(",") if name.strip()]
        from tessera.blocks import resolve

        try:
            resolve(names)
        except ValueError as exc:
            typer.secho(str(exc), fg=typer.colors.RED, err=True)
            raise typer.Exit(2) from exc
        settings = settings.model_copy(
            update={"server": settings.server.model_copy(update={"blocks": names})}
        )
    if workers > 1 and settings.embedded:
        typer.secho(
            "--workers > 1 needs a server database and Redis (set TESSERA_DATABASE__URL and "
            "TESSERA_CACHE__URL): with SQLite or the in-process cache each worker would hold "
            "its own cache and rate limits.",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    try:
        missing = pending_migrations(settings.database.url)
    except Exception as exc:  # unreachable database: say so before binding the port
        typer.secho(f"cannot read the database schema: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    if missing:
        typer.secho(
            f"the database is not up to date (missing {', '.join(sorted(missing))}): "
            "run `tessera db upgrade` first",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    if bool(ssl_certfile) != bool(ssl_keyfile):
        typer.secho("--ssl-certfile and --ssl-keyfile go together", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    from tessera.lib.realtime import uvicorn_options

    options: dict[str, Any] = {
        "host": host,
        "port": port,
        "loop": "uvloop" if sys.platform != "win32" else "asyncio",
        "http": "httptools",
        "proxy_headers": False,  # the app applies server.trusted_proxies itself
        "server_header": False,
        "access_log": False,
        "log_config": None,
        "ssl_certfile": str(ssl_certfile) if ssl_certfile else None,
        "ssl_keyfile": str(ssl_keyfile) if ssl_keyfile else None,
        "timeout_graceful_shutdown": 20,
        # WebSockets: sans-I/O implementation, no compression by default; on SIGTERM uvicorn
        # closes every socket with 1012 so clients reconnect elsewhere and resume.
        **uvicorn_options(settings),
    }
    lock = _embedded_lock(settings, "tessera serve")
    try:
        if workers == 1:
            from tessera.app import create_app
            from tessera.lib.logging import configure_logging

            configure_logging(settings.logging, production=settings.env == "production")
            uvicorn.run(create_app(settings), **options)
            return
        # Worker processes are spawned and read their settings afresh; the only channel to
        # them is their environment, so the chosen blocks travel there (restored afterwards).
        # Each worker counts its own requests: with a shared folder (Prometheus multiprocess
        # mode, read by the workers at import) /metrics on any of them adds up all of them.
        extra: dict[str, str] = {}
        if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            from tessera.lib.metrics import MULTIPROC_ENV, prepare_multiprocess_dir

            folder = prepare_multiprocess_dir(settings.var_dir / f"prometheus-{port}")
            extra[MULTIPROC_ENV] = str(folder.resolve())
        with _environment(TESSERA_SERVER__BLOCKS=json.dumps(settings.server.blocks), **extra):
            uvicorn.run(
                "tessera.app:app_from_environment", factory=True, workers=workers, **options
            )
    finally:
        if lock is not None:
            lock.release()


def _embedded_lock(settings: Settings, role: str) -> RunLock | None:
    """In embedded mode one process owns var/ (its cache and worker live in its memory)."""
    if not settings.embedded:
        return None
    from tessera.lib.runlock import AlreadyRunning, RunLock

    try:
        return RunLock(settings.var_dir, role).acquire()
    except AlreadyRunning as exc:
        typer.secho(
            f"{exc.holder} already runs on {settings.var_dir.resolve()} in embedded mode "
            "(SQLite or the in-process cache): its cache, one-time codes and outbox worker "
            "live in that process, so a second one would issue codes and links the first "
            "cannot check. Stop it, give this one another TESSERA_VAR_DIR, or use a server "
            f"database and Redis (lock file: {exc.path}).",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2) from exc


@contextmanager
def _environment(**values: str) -> Iterator[None]:
    saved = {name: os.environ.get(name) for name in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value


@app.command()
def routes(
    blocks: Annotated[
        str | None, typer.Option(help="Comma-separated blocks (default: all)")
    ] = None,
) -> None:
    """List every HTTP and WebSocket route with the block that serves it."""
    from fastapi.routing import APIRoute, APIWebSocketRoute
    from starlette.routing import WebSocketRoute

    from tessera.blocks import resolve

    names = [name.strip() for name in blocks.split(",")] if blocks else ["all"]
    try:
        chosen = resolve(names)
    except ValueError as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc
    rows: list[tuple[str, str, str]] = [
        ("GET", path, "(operations)") for path in ("/healthz", "/readyz", "/metrics")
    ]
    for block in chosen:
        for route in block.router.routes:
            if isinstance(route, APIRoute):
                methods = ",".join(sorted((route.methods or set()) - {"HEAD"}))
                rows.append((methods, route.path, block.name))
            elif isinstance(route, (APIWebSocketRoute, WebSocketRoute)):
                rows.append(("WS", route.path, block.name))
    width = max(len(path) for _, path, _ in rows)
    for methods, path, owner in sorted(rows, key=lambda row: (row[1], row[0])):
        typer.echo(f"{methods:<12} {path:<{width}}  {owner}")


COMMITTED_OPENAPI = Path("clients/openapi.json")


def openapi_document() -> dict[str, Any]:
    """The live document of every block, independent of local settings (secrets, limits
    that a deployment tunes do not change the contract)."""
    from tessera.app import create_app
    from tessera.lib.config import Settings

    app = create_app(Settings(env="test", server={"blocks": ["all"]}))
    return app.openapi()


@app.command()
def openapi(
    write: Annotated[
        bool, typer.Option("--write", help=f"Refresh the committed copy ({COMMITTED_OPENAPI})")
    ] = False,
    accept_breaking: Annotated[
        bool,
        typer.Option(
            "--accept-breaking",
            help="Write even if clients of the committed copy would break (see the README's "
            "versioning policy)",
        ),
    ] = False,
) -> None:
    """Print the OpenAPI document, or refresh the committed copy with --write."""
    from tessera.lib.apidoc import breaking_changes, dumps

    document = openapi_document()
    if not write:
        typer.echo(dumps(document), nl=False)
        return
    if COMMITTED_OPENAPI.exists():
        committed = json.loads(COMMITTED_OPENAPI.read_text(encoding="utf-8"))
        breaks = breaking_changes(committed, document)
        if breaks and not accept_breaking:
            for line in breaks:
                typer.secho(line, fg=typer.colors.RED, err=True)
            typer.secho(
                f"{len(breaks)} breaking change(s); nothing written. If they are intended, "
                "follow the versioning policy and run again with --accept-breaking.",
                err=True,
            )
            raise typer.Exit(1)
    COMMITTED_OPENAPI.parent.mkdir(parents=True, exist_ok=True)
    COMMITTED_OPENAPI.write_text(dumps(document), encoding="utf-8")
    typer.echo(f"wrote {COMMITTED_OPENAPI}")


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[
        str, typer.Argument(help="Target revision (default: the head of every block)")
    ] = "heads",
) -> None:
    """Apply migrations to the configured database."""
    settings = _settings()
    upgrade_database(settings.database.url, revision)
    typer.echo(f"database at {revision}: {_safe_url(settings.database.url)}")


@db_app.command("new-installation-id")
def db_new_installation_id() -> None:
    """Give this database a new installation id (after restoring a backup): the servers,
    once restarted, start with empty cache entries, rate limits and one-time codes."""
    from tessera.lib.db import Database
    from tessera.lib.installation import rotate_installation_id

    settings = _settings()

    async def work() -> str:
        db = Database(settings.database)
        try:
            return await rotate_installation_id(db)
        finally:
            await db.dispose()

    fresh = asyncio.run(work())
    typer.echo(f"installation id is now {fresh}; restart every tessera process")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _run_with_runtime(work: Callable[[Runtime], Awaitable[T]]) -> T:
    from tessera.lib.runtime import Runtime

    settings = _settings()

    async def main() -> T:
        runtime = Runtime.build(settings)
        try:
            await runtime.start()
            return await work(runtime)
        finally:
            await runtime.close()

    from tessera.lib.installation import InstallationMissing

    try:
        return asyncio.run(main())
    except InstallationMissing as exc:
        typer.secho(str(exc), fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


@user_app.command("create-admin")
def create_admin(
    username: Annotated[
        str, typer.Option(prompt=True, help="Username (3-32 of A-Z a-z 0-9 _ . -)")
    ],
    email: Annotated[str, typer.Option(prompt=True, help="Email address")],
    password: Annotated[
        str,
        typer.Option(prompt=True, hide_input=True, confirmation_prompt=True, help="Password"),
    ],
) -> None:
    """Create an administrator account (non-interactive with all three options)."""
    from pydantic import ValidationError

    from tessera.blocks.user import service
    from tessera.lib.errors import DomainError

    async def work(runtime: Runtime) -> str:
        user = await service.create_admin(
            runtime=runtime, username=username, email=email, password=password
        )
        return f"created admin {user.username} (id {user.id})"

    try:
        typer.echo(_run_with_runtime(work))
    except ValidationError as exc:
        for error in exc.errors():
            field = ".".join(str(part) for part in error["loc"])
            typer.secho(f"{field}: {error['msg']}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc
    except DomainError as exc:
        typer.secho(f"{exc.code}: {exc.detail}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1) from exc


async def _start_blocks(runtime: Runtime, blocks: str | None) -> None:
    """Run the chosen blocks' start-up hooks so their event handlers are registered."""
    from tessera.blocks import resolve

    names = [name.strip() for name in blocks.split(",")] if blocks else ["all"]
    for block in resolve(names):
        for hook in block.on_startup:
            await hook(runtime)


async def _stop_blocks(runtime: Runtime, blocks: str | None) -> None:
    """The shutdown hooks, in reverse order (the report block hands running jobs back)."""
    from tessera.blocks import resolve

    names = [name.strip() for name in blocks.split(",")] if blocks else ["all"]
    for block in reversed(resolve(names)):
        for hook in block.on_shutdown:
            await hook(runtime)


@app.command()
def worker(
    blocks: Annotated[
        str | None, typer.Option(help="Comma-separated blocks whose handlers to run")
    ] = None,
    once: Annotated[bool, typer.Option(help="Deliver what is due, then exit")] = False,
) -> None:
    """Deliver outbox events to their handlers (retries, backoff, dead letters)."""
    import signal

    from tessera.lib.logging import configure_logging
    from tessera.lib.tasks import OutboxWorker

    settings = _settings()
    configure_logging(settings.logging, production=settings.env == "production")
    lock = _embedded_lock(settings, "tessera worker")

    async def work(runtime: Runtime) -> None:
        await _start_blocks(runtime, blocks)
        try:
            outbox = OutboxWorker(runtime.db, runtime.events, settings.tasks)
            if once:
                typer.echo(f"processed {await outbox.drain()} events")
                return
            stop = asyncio.Event()
            loop = asyncio.get_running_loop()
            for signum in (signal.SIGINT, signal.SIGTERM):
                loop.add_signal_handler(signum, stop.set)
            await outbox.run_forever(stop)
        finally:
            await _stop_blocks(runtime, blocks)

    try:
        _run_with_runtime(work)
    finally:
        if lock is not None:
            lock.release()


@events_app.command("list")
def events_list(
    status: Annotated[
        str | None, typer.Option(help="pending, delivered or dead (default: all)")
    ] = None,
    limit: Annotated[int, typer.Option(min=1, max=10000)] = 50,
) -> None:
    """Show the newest outbox events."""
    from tessera.lib.tasks.worker import list_events

    if status not in (None, "pending", "delivered", "dead"):
        typer.secho("--status must be pending, delivered or dead", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)

    async def work(runtime: Runtime) -> None:
        rows = await list_events(runtime.db, status=status, limit=limit)
        if not rows:
            typer.echo("no events")
        for row in rows:
            error = f"  {row.last_error.splitlines()[0][:100]}" if row.last_error else ""
            typer.echo(
                f"{row.id:>8}  {row.status:<9} {row.topic:<20} attempts={row.attempts} "
                f"created={row.created_at:%Y-%m-%dT%H:%M:%SZ}{error}"
            )

    _run_with_runtime(work)


@events_app.command("retry")
def events_retry(event_id: Annotated[int, typer.Argument(help="Event number from `list`")]) -> None:
    """Send a dead (or waiting) event again, with a fresh attempt budget."""
    from tessera.lib.tasks.worker import retry_event

    async def work(runtime: Runtime) -> bool:
        return await retry_event(runtime.db, event_id)

    if not _run_with_runtime(work):
        typer.secho(f"no undelivered event {event_id}", fg=typer.colors.RED, err=True)
        raise typer.Exit(1)
    typer.echo(f"event {event_id} queued again")


@demo_app.command("seed")
def demo_seed(
    force: Annotated[bool, typer.Option(help="Seed even with TESSERA_ENV=production")] = False,
) -> None:
    """Create a staff user, a customer and a few dozen products (safe to run twice)."""
    from tessera.demo import CUSTOMER, STAFF, seed

    settings = _settings()
    if settings.env == "production" and not force:
        typer.secho(
            "refusing to seed demo data in production (use --force)", fg=typer.colors.RED, err=True
        )
        raise typer.Exit(2)

    async def work(runtime: Runtime) -> None:
        await _start_blocks(runtime, None)
        report = await seed(runtime=runtime)
        typer.echo(
            f"products: {report.products_created} created, {report.products_existing} existed"
        )
        for username, _, password in (STAFF, CUSTOMER):
            state = "created" if username in report.users_created else "exists"
            typer.echo(f"user {username} ({state}), password: {password}")

    _run_with_runtime(work)


@files_app.command("sweep")
def files_sweep(
    older_than_minutes: Annotated[
        int | None,
        typer.Option(
            help="Only touch leftovers older than this (default: storage.sweep_grace_seconds)"
        ),
    ] = None,
    dry_run: Annotated[
        bool, typer.Option(help="Report what would be removed, remove nothing")
    ] = False,
) -> None:
    """Remove stored bytes that no file row owns (uploads interrupted by a crash)."""
    from tessera.blocks.file import service as file_service
    from tessera.lib.storage import open_storage

    settings = _settings()
    grace = (
        settings.storage.sweep_grace_seconds
        if older_than_minutes is None
        else older_than_minutes * 60
    )

    async def work(runtime: Runtime) -> list[file_service.SweptItem]:
        runtime.storage = storage = await open_storage(settings.storage, var_dir=settings.var_dir)
        try:
            return await file_service.sweep_orphans(
                runtime=runtime, grace_seconds=grace, dry_run=dry_run
            )
        finally:
            await storage.aclose()

    swept = _run_with_runtime(work)
    verb = "would remove" if dry_run else "removed"
    for item in swept:
        state = verb if (item.removed or dry_run) else "kept" if item.kept else "already gone"
        typer.echo(f"{state}: {item.backend} {item.key or '<unknown key>'} ({item.reason})")
    typer.echo(f"{len(swept)} orphan(s) {'found' if dry_run else 'swept'}")


@reports_app.command("run-jobs")
def reports_run_jobs() -> None:
    """Run every due export/import job to its end and delete expired files, then exit
    (the worker does both on its own; this is for cron or a one-off)."""
    from tessera.blocks.report import service as report_service

    async def work(runtime: Runtime) -> tuple[int, int]:
        await _start_blocks(runtime, "report")
        try:
            ran = await report_service.run_jobs(runtime=runtime)
            expired = await report_service.expire_jobs(runtime=runtime)
        finally:
            await _stop_blocks(runtime, "report")
        return ran, expired

    ran, expired = _run_with_runtime(work)
    typer.echo(f"ran {ran} job(s); {expired} expired job file(s) deleted")


def main() -> None:
    app()


if __name__ == "__main__":
    main()
