"""``blink-directory demo``: a temporary SCIM token, the provisioning, and what to tell the user."""

from dataclasses import dataclass
from functools import partial

import anyio
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, TaskID, TextColumn, TimeElapsedColumn
from rich.progress import Progress as RichBar
from sqlalchemy import Connection
from starlette.applications import Starlette

from app.bootstrap import DEFAULT_TENANT, FirstRun, bootstrap_if_empty
from app.demo.org import DemoOrg
from app.demo.provision import Progress, ProvisionReport, provision
from app.main import create_app
from app.settings import Settings
from db.activity_sequencer import Sequencer
from db.errors import NotFound
from db.tenants import create_tenant, get_tenant
from db.tokens import TokenScope, issue_token, revoke_token

DEMO_TOKEN_NAME = "blink-directory demo (revoked when it ends)"  # noqa: S105 - a label


@dataclass(frozen=True, slots=True)
class Access:
    """How the demo reaches SCIM, and the secrets a new tenant got (shown once)."""

    scim_token_id: int
    scim_secret: str
    first_run: FirstRun | None
    new_graphql_secret: str | None


@dataclass(frozen=True, slots=True)
class DemoOutcome:
    report: ProvisionReport
    first_run: FirstRun | None
    new_graphql_secret: str | None


def _prepare(slug: str, connection: Connection) -> Access:
    first_run = bootstrap_if_empty(connection) if slug == DEFAULT_TENANT else None
    graphql_secret = None
    try:
        get_tenant(connection, slug)
    except NotFound:
        create_tenant(connection, slug, slug.replace("-", " ").title())
        graphql_secret = issue_token(connection, slug, TokenScope.GRAPHQL, "GraphQL reader").secret
    scim = issue_token(connection, slug, TokenScope.SCIM, DEMO_TOKEN_NAME)
    return Access(scim.info.id, scim.secret, first_run, graphql_secret)


def run_demo(
    settings: Settings, slug: str, org: DemoOrg, progress: Progress | None = None
) -> DemoOutcome:
    """Provision ``org`` into tenant ``slug`` (created when missing) through the SCIM API."""
    # The demo is the operator's own process calling the SCIM app in memory: no client to
    # throttle, and one request line per person would bury the progress bars.
    app = create_app(settings.model_copy(update={"rate_limit_per_second": 0, "request_log": False}))
    database = app.state.database
    try:
        access: Access = database.write_sync(partial(_prepare, slug))
        try:
            report = anyio.run(_provision_and_number, app, access.scim_secret, org, progress)
        finally:
            database.write_sync(partial(revoke_token, token_id=access.scim_token_id))
    finally:
        database.dispose()
    return DemoOutcome(report, access.first_run, access.new_graphql_secret)


async def _provision_and_number(
    app: Starlette, scim_secret: str, org: DemoOrg, progress: Progress | None
) -> ProvisionReport:
    try:
        return await provision(app, scim_secret, org, progress)
    finally:
        # The app's lifespan, which waits for the activity log's numbering passes, does not
        # run here: wait for them, or the last writes' events stay unnumbered and a pass cut
        # off by the loop's end holds a pooled connection past the store's dispose.
        sequencer: Sequencer = app.state.sequencer
        await sequencer.drain()


class ProgressBars:
    """One rich progress bar per phase (users, then groups)."""

    def __init__(self, console: Console) -> None:
        self.bars = RichBar(
            TextColumn("{task.description:<7}"),
            BarColumn(),
            MofNCompleteColumn(),
            TimeElapsedColumn(),
            console=console,
            transient=False,
        )
        self.tasks: dict[str, TaskID] = {}

    def __enter__(self) -> "ProgressBars":
        self.bars.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.bars.stop()

    def start(self, phase: str, total: int) -> None:
        self.tasks[phase] = self.bars.add_task(phase, total=total)

    def advance(self, phase: str, amount: int = 1) -> None:
        self.bars.advance(self.tasks[phase], amount)


def summary(outcome: DemoOutcome, slug: str, base_url: str) -> list[str]:
    report = outcome.report
    lines = [
        f"tenant {slug!r}: users {report.users_created} created, {report.users_updated} "
        f"updated, {report.users_unchanged} unchanged; groups {report.groups_created} created, "
        f"{report.groups_updated} updated, {report.groups_unchanged} unchanged "
        f"({report.writes} SCIM writes)",
        "",
        f"Org chart: {base_url}/orgchart    GraphiQL: {base_url}/graphql",
    ]
    if outcome.first_run is not None:
        lines += [
            "",
            f"Created tenant {DEFAULT_TENANT!r}. These secrets are shown once, never again:",
            f"  SCIM Secret Token (Entra): {outcome.first_run.scim_secret}",
            f"  GraphQL bearer token:      {outcome.first_run.graphql_secret}",
        ]
    elif outcome.new_graphql_secret is not None:
        lines += [
            "",
            f"Created tenant {slug!r}. Its GraphQL token is shown once, never again:",
            f"  GraphQL bearer token: {outcome.new_graphql_secret}",
        ]
    else:
        lines.append(
            "Sign in with a GraphQL token of this tenant; a new one: "
            f"blink-directory token create --tenant {slug} --scope graphql"
        )
    return lines
