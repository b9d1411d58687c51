"""The `tessera` command: serve, db, user (and later blocks add worker, demo, ...).

Every command reads the same settings as the server (`config/*.yml`, `TESSERA_*`), so an
operator's shell and the running service always agree on which database they talk to.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Annotated, TypeVar

import typer

from tessera.lib.config import Settings, load_settings

T = TypeVar("T")

app = typer.Typer(
    name="tessera",
    help="Tessera backend platform: run the server and operate it.",
    no_args_is_help=True,
    add_completion=False,
)
db_app = typer.Typer(help="Database schema migrations.", no_args_is_help=True)
user_app = typer.Typer(help="User administration.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(user_app, name="user")


def _settings() -> Settings:
    try:
        return load_settings()
    except Exception as exc:  # configuration errors are the operator's to fix: say so plainly
        typer.secho(f"configuration error: {exc}", fg=typer.colors.RED, err=True)
        raise typer.Exit(2) from exc


def migrations_dir() -> Path:
    configured = os.environ.get("TESSERA_MIGRATIONS_DIR")
    if configured:
        return Path(configured)
    here = Path(__file__).resolve()
    for parent in here.parents:
        candidate = parent / "migrations"
        if (candidate / "env.py").is_file():
            return candidate
    raise RuntimeError("cannot find the migrations folder; set TESSERA_MIGRATIONS_DIR")


def upgrade_database(database_url: str, revision: str = "head") -> None:
    """Apply Alembic migrations (used by `tessera db upgrade` and the test suite)."""
    from alembic import command
    from alembic.config import Config

    if database_url.startswith("sqlite"):
        _, _, path = database_url.partition(":///")
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
    config = Config()
    config.set_main_option("script_location", str(migrations_dir()))
    config.attributes["database_url"] = database_url
    command.upgrade(config, revision)


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
        os.environ["TESSERA_SERVER__BLOCKS"] = json.dumps(names)
    if workers > 1 and settings.embedded:
        typer.secho(
            "--workers > 1 needs a server database and Redis (set TESSERA_DATABASE__URL and "
            "TESSERA_CACHE__URL): with SQLite or the in-process cache each worker would hold "
            "its own cache and rate limits.",
            fg=typer.colors.RED,
            err=True,
        )
        raise typer.Exit(2)
    if bool(ssl_certfile) != bool(ssl_keyfile):
        typer.secho("--ssl-certfile and --ssl-keyfile go together", fg=typer.colors.RED, err=True)
        raise typer.Exit(2)
    uvicorn.run(
        "tessera.app:app_from_environment",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        http="httptools",
        proxy_headers=False,  # the app applies server.trusted_proxies itself
        server_header=False,
        access_log=False,
        log_config=None,
        ssl_certfile=str(ssl_certfile) if ssl_certfile else None,
        ssl_keyfile=str(ssl_keyfile) if ssl_keyfile else None,
        timeout_graceful_shutdown=20,
    )


@db_app.command("upgrade")
def db_upgrade(
    revision: Annotated[str, typer.Argument(help="Target revision")] = "head",
) -> None:
    """Apply migrations to the configured database."""
    settings = _settings()
    upgrade_database(settings.database.url, revision)
    typer.echo(f"database at {revision}: {_safe_url(settings.database.url)}")


def _safe_url(url: str) -> str:
    from sqlalchemy.engine import make_url

    return make_url(url).render_as_string(hide_password=True)


def _run_with_runtime(work: Callable[..., Awaitable[T]]) -> T:
    from tessera.lib.runtime import Runtime

    settings = _settings()

    async def main() -> T:
        runtime = Runtime.build(settings)
        try:
            return await work(runtime)
        finally:
            await runtime.close()

    return asyncio.run(main())


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

    async def work(runtime: object) -> str:
        from tessera.lib.runtime import Runtime

        assert isinstance(runtime, Runtime)
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


def main() -> None:
    app()


if __name__ == "__main__":
    main()
