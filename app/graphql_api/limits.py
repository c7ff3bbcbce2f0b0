"""The limits every query is held to, in one place."""

from app.graphql_api.errors import ApiError

MAX_FIRST = 100
DEFAULT_FIRST = 20
MAX_QUERY_DEPTH = 12
MAX_ALIASES = 20
MAX_TOKENS = 2_000
MAX_CHAIN_DEPTH = 100
MAX_REPORT_DEPTH = 50
# GitHub-style node budget: every connection may return ``first`` nodes per parent node, so
# ``users(first: 100) { directReports(first: 100) }`` costs 100 + 100 * 100 = 10,100.
COST_BUDGET = 20_000
# The longest search string, for users and groups alike: a substring search longer than any
# name is a mistake, and SQLite refuses LIKE patterns over 50,000 bytes.
MAX_SEARCH_LENGTH = 1_000


def checked_first(first: int | None) -> int:
    if first is None:
        return DEFAULT_FIRST
    if not 1 <= first <= MAX_FIRST:
        raise ApiError(f"first must be between 1 and {MAX_FIRST} (got {first})")
    return first


def checked_range(name: str, value: int, low: int, high: int) -> int:
    if not low <= value <= high:
        raise ApiError(f"{name} must be between {low} and {high} (got {value})")
    return value


def checked_search(search: str | None) -> str | None:
    if search is not None and len(search) > MAX_SEARCH_LENGTH:
        raise ApiError(f"search must be at most {MAX_SEARCH_LENGTH} characters (got {len(search)})")
    return search
