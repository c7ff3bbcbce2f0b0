"""The ``blink-directory`` command: serve, migrate, tenant and token administration."""

import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Annotated, NoReturn, TypeVar

import typer
import uvicorn
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table
from sqlalchemy import Connection
from sqlalchemy.exc import ArgumentError, OperationalError

from app.activity_listing import ActivityLog, event_table, find_user_id, json_line, parse_since
from app.bootstrap import DEFAULT_TENANT, banner, bootstrap_if_empty, has_users
from app.demo.command import ProgressBars, run_demo, summary
from app.demo.org import generate_org
from app.demo.provision import ProvisioningError
from app.demo.shape import MIN_SIZE
from app.graphql_api.schema import schema_sdl
from app.header_timeout import HeaderTimeoutProtocol
from app.logging_setup import logging_config, resolve_format
from app.metrics_exposure import multiprocess_registry, prepare_multiprocess_dir, serve_metrics
from app.settings import Settings, describe_validation_error
from db.activity import Outcome, ResourceType
from db.activity_reads import ActivityFilterSpec, EventRecord
from db.activity_retention import prune_sync
from db.database import Database
from db.engine import is_sqlite
from db.errors import StoreError
from db.migrate import upgrade
from db.oauth_clients import (
    DEFAULT_SECRET_DAYS,
    MAX_SECRET_DAYS,
    IssuedSecret,
    add_secret,
    create_client,
    list_clients,
    revoke_client,
    revoke_secret,
)
from db.tenants import create_tenant, get_tenant, list_tenants
from db.tokens import TokenScope, issue_token, list_tokens, revoke_token
from db.types import utcnow

T = TypeVar("T")

WORKER_HEALTHCHECK_SECONDS = 60

SQLITE_ONE_WORKER = (
    "SQLite serves one worker: use --workers 1 (BLINK_WORKERS=1), or PostgreSQL for several"
)

cli = typer.Typer(
    help="Blink directory service: SCIM 2.0 provisioning and a GraphQL org-chart API.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
tenant_cli = typer.Typer(help="Manage tenants (one per Blink customer).", no_args_is_help=True)
token_cli = typer.Typer(help="Manage API tokens.", no_args_is_help=True)
cli.add_typer(tenant_cli, name="tenant")
cli.add_typer(token_cli, name="token")
# ``activity`` lists the log itself (its callback) and has sub-commands (``prune``).
activity_cli = typer.Typer(
    help="The provisioning activity log: every change a SCIM client made, every write it was "
    "refused.",
    no_args_is_help=True,
)
cli.add_typer(activity_cli, name="activity")
client_cli = typer.Typer(
    help="Manage OAuth 2.0 clients (client credentials for POST /oauth/token).",
    no_args_is_help=True,
)
client_secret_cli = typer.Typer(help="Add and revoke a client's secrets.", no_args_is_help=True)
client_cli.add_typer(client_secret_cli, name="secret")
cli.add_typer(client_cli, name="client")

out = Console(highlight=False, soft_wrap=True)

DatabaseUrlOption = Annotated[
    str | None,
    typer.Option("--database-url", help="Overrides BLINK_DATABASE_URL.", show_default=False),
]


def fail(message: str) -> NoReturn:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(code=1)


def load_settings(**overrides: object) -> Settings:
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return Settings(**given)  # type: ignore[arg-type]
    except ValidationError as error:
        fail(describe_validation_error(error))


@contextmanager
def store_errors() -> Iterator[None]:
    """Turn the store's expected failures into one line on stderr and exit status 1."""
    try:
        yield
    except (StoreError, ValueError) as error:
        fail(str(error))
    except OperationalError as error:
        reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
        fail(f"database unreachable: {reason}")
    except ArgumentError as error:
        fail(f"bad database URL: {error}")


@contextmanager
def open_database(database_url: str | None, *, migrate: bool = True) -> Iterator[Database]:
    settings = load_settings(database_url=database_url)
    with store_errors():
        database = Database(settings.database_url)
        try:
            if migrate:
                upgrade(database.engine)
            yield database
        finally:
            database.dispose()


def in_transaction(database_url: str | None, work: Callable[[Connection], T]) -> T:
    with open_database(database_url) as database, store_errors():
        return database.write_sync(work)


@cli.command()
def migrate(database_url: DatabaseUrlOption = None) -> None:
    """Apply pending database migrations and exit."""
    with open_database(database_url, migrate=True) as database:
        out.print(f"database at {database.url.render_as_string(hide_password=True)} is up to date")


@cli.command()
def serve(
    host: Annotated[str | None, typer.Option(help="Overrides BLINK_HOST.")] = None,
    port: Annotated[int | None, typer.Option(help="Overrides BLINK_PORT.")] = None,
    database_url: DatabaseUrlOption = None,
    workers: Annotated[
        int, typer.Option(min=1, envvar="BLINK_WORKERS", help="uvicorn worker processes.")
    ] = 1,
    no_migrate: Annotated[
        bool, typer.Option("--no-migrate", help="Do not apply pending migrations first.")
    ] = False,
) -> None:
    """Serve SCIM at /scim, GraphQL at /graphql (migrating the database first)."""
    settings = load_settings(host=host, port=port, database_url=database_url)
    if workers > 1 and is_sqlite(settings.database_url):
        # SQLite admits one writer at a time: more processes only queue on its lock (and
        # none would let the others' WAL checkpoints finish), so they would add waits, not speed.
        fail(SQLITE_ONE_WORKER)
    with (
        open_database(settings.database_url, migrate=not no_migrate) as database,
        store_errors(),
    ):
        first_run = database.write_sync(bootstrap_if_empty)
        empty = not database.read_sync(has_users)
    out.print(banner(f"http://{settings.host}:{settings.port}", first_run, empty))
    # Workers re-create the app from the environment, so pass the effective settings on.
    os.environ["BLINK_DATABASE_URL"] = settings.database_url
    serve_metrics_of_workers(settings, workers)
    uvicorn.run(
        "app.main:create_app",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level=settings.log_level,
        # The request log (app.request_log) replaces uvicorn's access line.
        access_log=False,
        log_config=logging_config(settings.log_level, resolve_format(settings.log_format)),
        proxy_headers=True,
        # uvicorn's own HTTP protocol under a deadline for each request head (slow clients).
        http=HeaderTimeoutProtocol,
        # uvicorn replaces a worker that has not answered its supervisor within this time; its
        # default (5 s) is shorter than a worker's start on a busy host, where every worker
        # was then replaced before it could serve, over and over.
        timeout_worker_healthcheck=WORKER_HEALTHCHECK_SECONDS,
    )


def serve_metrics_of_workers(settings: Settings, workers: int) -> None:
    """Several workers: prometheus-client's multiprocess mode, served by this process."""
    if prepare_multiprocess_dir(workers) is None:
        return  # one worker: the app serves its own metrics
    address = settings.metrics_host_port
    if address is not None:
        serve_metrics(*address, multiprocess_registry())


@cli.command()
def demo(
    tenant: Annotated[str, typer.Option(help="Tenant slug (created when missing).")] = (
        DEFAULT_TENANT
    ),
    users: Annotated[int, typer.Option(min=MIN_SIZE, help="Number of people.")] = 250,
    seed: Annotated[int, typer.Option(help="The same seed gives the same organisation.")] = 0,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Provision a demo organisation through the SCIM API; running it again changes nothing."""
    settings = load_settings(database_url=database_url)
    org = generate_org(users, seed)
    with open_database(settings.database_url, migrate=True), store_errors():
        try:
            with ProgressBars(out) as bars:
                outcome = run_demo(settings, tenant, org, bars)
        except ProvisioningError as error:
            fail(str(error))
    for line in summary(outcome, tenant, f"http://{settings.host}:{settings.port}"):
        out.print(line)


@cli.command("export-schema")
def export_schema(
    output: Annotated[Path, typer.Option("--output", "-o", help="Where the SDL goes.")] = Path(
        "graphql/schema.graphql"
    ),
    check: Annotated[
        bool, typer.Option("--check", help="Only check that the file is up to date.")
    ] = False,
) -> None:
    """Write the GraphQL schema (SDL) to graphql/schema.graphql, or check it is current."""
    sdl = schema_sdl()
    if check:
        current = output.read_text(encoding="utf-8") if output.exists() else None
        if current != sdl:
            fail(f"{output} is out of date: run `blink-directory export-schema`")
        out.print(f"{output} is up to date")
        return
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(sdl, encoding="utf-8")
    out.print(f"wrote {output}")


@tenant_cli.command("create")
def tenant_create(
    slug: str,
    name: Annotated[str | None, typer.Option(help="Display name (defaults to the slug).")] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a tenant."""
    tenant = in_transaction(database_url, lambda connection: create_tenant(connection, slug, name))
    out.print(f"created tenant {tenant.slug!r} ({tenant.name})")


@tenant_cli.command("list")
def tenant_list(database_url: DatabaseUrlOption = None) -> None:
    """List tenants."""
    table = Table("slug", "name", "created")
    for tenant in in_transaction(database_url, list_tenants):
        table.add_row(tenant.slug, tenant.name, tenant.created.isoformat(timespec="seconds"))
    out.print(table)


@token_cli.command("create")
def token_create(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    scope: Annotated[TokenScope, typer.Option(help="scim (for Entra) or graphql (readers).")],
    name: Annotated[str | None, typer.Option(help="A label for the token.")] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a token; its secret is printed once, as the last line of standard output."""
    issued = in_transaction(
        database_url, lambda connection: issue_token(connection, tenant, scope, name)
    )
    out.print(
        f"created {issued.info.scope.value} token {issued.info.id} ({issued.info.name}) "
        f"for tenant {issued.info.tenant_slug!r}; the secret follows and is not shown again:"
    )
    typer.echo(issued.secret)


@token_cli.command("list")
def token_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's tokens.")] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List tokens (never their secrets)."""
    table = Table("id", "tenant", "scope", "name", "created", "last used", "revoked")
    for token in in_transaction(database_url, lambda connection: list_tokens(connection, tenant)):
        table.add_row(
            str(token.id),
            token.tenant_slug,
            token.scope.value,
            token.name,
            token.created.isoformat(timespec="seconds"),
            token.last_used.isoformat(timespec="seconds") if token.last_used else "-",
            token.revoked.isoformat(timespec="seconds") if token.revoked else "-",
        )
    out.print(table)


@token_cli.command("revoke")
def token_revoke(token_id: int, database_url: DatabaseUrlOption = None) -> None:
    """Revoke a token; running servers stop accepting it within seconds."""
    in_transaction(database_url, lambda connection: revoke_token(connection, token_id))
    out.print(f"revoked token {token_id}")


@activity_cli.callback(invoke_without_command=True)
def activity(
    context: typer.Context,
    tenant: Annotated[
        str | None, typer.Option(help="Tenant slug (required to list).", show_default=False)
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            help="Only events since then: a duration (30m, 2h, 7d) or an ISO-8601 time.",
            show_default=False,
        ),
    ] = None,
    user: Annotated[
        str | None,
        typer.Option(help="Only events about this user: id or userName.", show_default=False),
    ] = None,
    failures: Annotated[bool, typer.Option("--failures", help="Only refused writes.")] = False,
    limit: Annotated[int, typer.Option(min=1, help="How many of the newest events.")] = 50,
    json_lines: Annotated[
        bool, typer.Option("--json", help="One JSON document per line, every field.")
    ] = False,
    follow: Annotated[
        bool, typer.Option("--follow", "-f", help="Keep printing new events (Ctrl-C ends).")
    ] = False,
    interval: Annotated[
        float, typer.Option(min=0.05, help="Seconds between polls with --follow.")
    ] = 1.0,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List a tenant's activity log: the newest --limit events, oldest first."""
    if context.invoked_subcommand is not None:
        return
    if tenant is None:
        fail("--tenant is required to list a tenant's activity")
    try:
        start = None if since is None else parse_since(since, datetime.now(UTC))
    except ValueError as error:
        fail(str(error))

    def show(events: list[EventRecord], header: bool) -> None:
        if json_lines:
            for event in events:
                typer.echo(json_line(event))
        elif events or header:
            out.print(event_table(events, header=header))

    try:
        with open_database(database_url) as database, store_errors():
            tenant_id = database.read_sync(partial(get_tenant, slug=tenant)).id
            user_id = None
            if user is not None:
                user_id = database.read_sync(partial(find_user_id, tenant_id=tenant_id, user=user))
                if user_id is None:
                    fail(f"no user {user!r} in tenant {tenant!r}")
            spec = ActivityFilterSpec(
                resource_id=user_id,
                resource_type=None if user_id is None else ResourceType.USER.value,
                outcome=Outcome.FAILURE.value if failures else None,
                since=start,
            )
            log = ActivityLog(database, tenant_id, spec)
            events, position = log.newest(limit)
            show(events, header=bool(events) or follow)
            if not events and not follow and not json_lines:
                out.print("no matching events")
            if follow:
                log.follow(position, partial(show, header=False), interval)
    except KeyboardInterrupt:
        pass  # Ctrl-C is how --follow ends


@activity_cli.command("prune")
def activity_prune(
    days: Annotated[
        int | None,
        typer.Option(min=0, help="Keep this many days (overrides BLINK_ACTIVITY_RETENTION_DAYS)."),
    ] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Delete activity events older than the retention period, in batches (0 keeps all)."""
    keep = load_settings(activity_retention_days=days).activity_retention_days
    if keep == 0:
        out.print("retention is 0 days: every event is kept, nothing deleted")
        return
    with open_database(database_url) as database, store_errors():
        deleted = prune_sync(database, keep)
    out.print(f"deleted {deleted} activity events older than {keep} days")


# --- OAuth 2.0 clients (issue 16) ---------------------------------------------------------


def _print_secret(issued: IssuedSecret) -> None:
    out.print(
        f"secret {issued.info.id} of client {issued.client_id} expires "
        f"{issued.info.expires.isoformat(timespec='seconds')}; it follows and is not shown again:"
    )
    typer.echo(issued.secret)


@client_cli.command("create")
def client_create(
    tenant: Annotated[str, typer.Option(help="Tenant slug.")],
    scope: Annotated[TokenScope, typer.Option(help="scim (for Entra) or graphql (readers).")],
    name: Annotated[str | None, typer.Option(help="A label for the client.")] = None,
    secret_days: Annotated[
        int, typer.Option(min=1, max=MAX_SECRET_DAYS, help="Days until the first secret expires.")
    ] = DEFAULT_SECRET_DAYS,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Create a client; its id is printed, then its secret once, as the last line."""
    info, issued = in_transaction(
        database_url,
        lambda connection: create_client(connection, tenant, scope, utcnow(), name, secret_days),
    )
    out.print(
        f"created {info.scope.value} OAuth client ({info.name}) for tenant {info.tenant_slug!r}"
    )
    out.print(f"client id: {info.client_id}")
    _print_secret(issued)


@client_secret_cli.command("add")
def client_secret_add(
    client_id: str,
    days: Annotated[
        int, typer.Option(min=1, max=MAX_SECRET_DAYS, help="Days until the secret expires.")
    ] = DEFAULT_SECRET_DAYS,
    database_url: DatabaseUrlOption = None,
) -> None:
    """Add a secret (the others stay valid): deploy it, then revoke the old one."""
    issued = in_transaction(
        database_url, lambda connection: add_secret(connection, client_id, utcnow(), days)
    )
    _print_secret(issued)


@client_secret_cli.command("revoke")
def client_secret_revoke(
    client_id: str, secret_id: int, database_url: DatabaseUrlOption = None
) -> None:
    """Revoke one secret and the access tokens it minted."""
    in_transaction(
        database_url, lambda connection: revoke_secret(connection, client_id, secret_id, utcnow())
    )
    out.print(f"revoked secret {secret_id} of client {client_id}")


@client_cli.command("list")
def client_list(
    tenant: Annotated[str | None, typer.Option(help="Only this tenant's clients.")] = None,
    database_url: DatabaseUrlOption = None,
) -> None:
    """List clients and their secrets' ids, expiry and state (never the secrets)."""
    # One line per client and one per secret rather than a table: client ids stay whole on
    # any terminal width, and the output greps.
    for client in in_transaction(database_url, lambda connection: list_clients(connection, tenant)):
        state = f"revoked {_day(client.revoked)}" if client.revoked else "active"
        out.print(
            f"{client.client_id}  tenant {client.tenant_slug}  scope {client.scope.value}  "
            f"{state}  {client.name!r}"
        )
        for secret in client.secrets:
            line = f"  secret {secret.id}  expires {_day(secret.expires)}"
            if secret.last_used:
                line += f"  last used {_day(secret.last_used)}"
            if secret.revoked:
                line += f"  revoked {_day(secret.revoked)}"
            out.print(line)


def _day(moment: datetime) -> str:
    return moment.date().isoformat()


@client_cli.command("revoke")
def client_revoke(client_id: str, database_url: DatabaseUrlOption = None) -> None:
    """Revoke a client: its secrets and access tokens stop working within seconds."""
    in_transaction(database_url, lambda connection: revoke_client(connection, client_id, utcnow()))
    out.print(f"revoked client {client_id}")


def main() -> None:
    cli()
