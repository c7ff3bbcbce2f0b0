"""The cost rule: reject, before execution, a query that could return too many nodes.

GitHub-style: a connection field with ``first: n`` may return ``n`` nodes for each node of
its parent, so its cost is ``n`` times the product of the ``first`` of every connection above
it; ``managementChain(maxDepth: d)`` likewise counts ``d``. A few fields that read much more
than a node have a fixed cost per parent node (``FIELD_COSTS``). The query's cost is the sum
over all such fields, computed from literal arguments, variables and schema defaults, and
compared with the per-request budget. ``first`` outside 1..MAX_FIRST is reported here too,
with the limit.

The walk over the document is done once per distinct document and operation name
(``CostPlans``, a bounded LRU): it yields the cost as a sum of products of sizes, each size a
literal, a schema default or a variable. A request then only reads its variables' values into
that sum, so ``first: $n`` is honoured request by request without walking the document again.
The verdict for given values of those variables (the frontend sends the same few: a page
size, or none) is kept with the plan, so a request that repeats them costs a look-up.
"""

from collections import OrderedDict
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal, Protocol
from weakref import WeakKeyDictionary

from strawberry.types import ExecutionContext

from app.graphql_api.limits import COST_BUDGET, DEFAULT_FIRST, MAX_FIRST
from app.request_context import current_request
from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    GraphQLError,
    GraphQLField,
    GraphQLInterfaceType,
    GraphQLNamedType,
    GraphQLObjectType,
    GraphQLSchema,
    InlineFragmentNode,
    OperationDefinitionNode,
    SelectionSetNode,
    VariableNode,
    build_schema,
    get_argument_values,
    get_named_type,
    get_variable_values,
)

# Fields that return many nodes without a ``first`` argument, and their size argument.
LIST_SIZE_ARGUMENTS = {"managementChain": "maxDepth"}
# (type, field): the nodes' worth of work each occurrence costs per parent node. The summary
# aggregates a window of the activity log; an event's member lists hold up to 1,000 ids each.
FIELD_COSTS = {
    ("Query", "provisioningSummary"): 1_000,
    ("ActivityEvent", "membersAdded"): 10,
    ("ActivityEvent", "membersRemoved"): 10,
}
#: Distinct (document, operation name) pairs whose cost plan is kept.
PLANS_KEPT = 256
#: Per plan, the distinct values of its size variables whose verdict is kept.
VERDICTS_KEPT = 64
#: A variable the request does not give (its default applies), in a verdict's key.
_ABSENT = object()


@dataclass(frozen=True, slots=True, eq=False)
class Size:
    """How many nodes one field may return per parent node: from a literal or the schema's
    default (``variable`` None), or from a variable, with the argument's default when the
    request does not give it (as execution reads arguments)."""

    kind: Literal["first", "list"]
    literal: Any
    variable: str | None = None

    def resolve(self, variables: Mapping[str, Any], errors: list[str]) -> int:
        value = self.literal
        if self.variable is not None and self.variable in variables:
            value = variables[self.variable]
        if self.kind == "list":
            return max(1, int(value or 1))
        if value is None:
            value = DEFAULT_FIRST
        if not 1 <= value <= MAX_FIRST:
            errors.append(f"first must be between 1 and {MAX_FIRST} (got {value})")
            return MAX_FIRST
        return int(value)


@dataclass(frozen=True, slots=True)
class Term:
    """``weight`` times the product of ``sizes``: one field's share of the cost."""

    sizes: tuple[Size, ...]
    weight: int


@dataclass(frozen=True, slots=True)
class OperationPlan:
    terms: tuple[Term, ...]
    #: The definitions of the variables some size reads (coerced per request, defaults too).
    variable_definitions: tuple[Any, ...]
    #: The cost and errors for the raw values of those variables, by the values and their
    #: types (``True == 1``, but only 1 is an Int): the first ``VERDICTS_KEPT`` seen.
    verdicts: dict[tuple[Any, ...], tuple[int, tuple[str, ...]]] = field(
        default_factory=dict, compare=False
    )

    def cost(self, schema: GraphQLSchema, variables: dict[str, Any]) -> tuple[int, list[str]]:
        key = tuple(
            (type(value), value)
            for value in (
                variables.get(definition.variable.name.value, _ABSENT)
                for definition in self.variable_definitions
            )
        )
        try:
            known = self.verdicts.get(key)
            keep = len(self.verdicts) < VERDICTS_KEPT
        except TypeError:  # a list or an object: not kept
            known, keep = None, False
        if known is not None:
            return known[0], list(known[1])
        total, errors = self._cost(schema, variables)
        if keep:
            self.verdicts[key] = (total, tuple(errors))
        return total, errors

    def _cost(self, schema: GraphQLSchema, variables: dict[str, Any]) -> tuple[int, list[str]]:
        values: Mapping[str, Any] = {}
        if self.variable_definitions:
            # Coerce as execution will: defaults of the operation's variables apply.
            coerced = get_variable_values(schema, self.variable_definitions, variables)
            if isinstance(coerced, list):
                return 0, []  # execution reports the bad variables itself
            values = coerced.coerced
        errors: list[str] = []
        resolved: dict[int, int] = {}
        total = 0
        for term in self.terms:
            product = term.weight
            for size in term.sizes:
                value = resolved.get(id(size))
                if value is None:
                    value = resolved[id(size)] = size.resolve(values, errors)
                product *= value
            total += product
        return total, errors


class _Planner:
    """Walks an operation once, the way execution would, collecting its cost terms."""

    def __init__(self, schema: GraphQLSchema, fragments: dict[str, FragmentDefinitionNode]) -> None:
        self.schema = schema
        self.fragments = fragments
        self.terms: list[Term] = []
        self.variables: set[str] = set()

    def of_selection(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        path: tuple[Size, ...],
        seen: frozenset[str],
    ) -> None:
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                self.of_field(parent, selection, path, seen)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value) or parent
                self.of_selection(target, selection.selection_set, path, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                self.of_selection(target, fragment.selection_set, path, seen | {name})

    def of_field(
        self,
        parent: GraphQLNamedType,
        node: FieldNode,
        path: tuple[Size, ...],
        seen: frozenset[str],
    ) -> None:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return
        size = self.size_of(definition, node)
        if size is not None:
            self.terms.append(Term((*path, size), 1))
        fixed = FIELD_COSTS.get((parent.name, node.name.value), 0)
        if fixed:
            self.terms.append(Term(path, fixed))
        if node.selection_set is not None:
            inner = path if size is None else (*path, size)
            self.of_selection(get_named_type(definition.type), node.selection_set, inner, seen)

    def size_of(self, definition: GraphQLField, node: FieldNode) -> Size | None:
        """How this field's size per parent is read (None when it is a single object)."""
        if "first" in definition.args:
            return self.argument(definition, node, "first", "first")
        size_argument = LIST_SIZE_ARGUMENTS.get(node.name.value)
        if size_argument is not None and size_argument in definition.args:
            return self.argument(definition, node, size_argument, "list")
        return None

    def argument(
        self, definition: GraphQLField, node: FieldNode, name: str, kind: Literal["first", "list"]
    ) -> Size:
        """The argument's literal value, or its default when absent or given by a variable
        (which a request may leave out): what execution reads without variables. An invalid
        value counts as absent (execution reports it)."""
        try:
            literal = get_argument_values(definition, node).get(name)
        except GraphQLError:
            literal = None
        given = next((a for a in node.arguments or () if a.name.value == name), None)
        if given is not None and isinstance(given.value, VariableNode):
            self.variables.add(given.value.name.value)
            return Size(kind, literal, given.value.name.value)
        return Size(kind, literal)


def operation_plan(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
) -> OperationPlan:
    root = schema.get_root_type(operation.operation)
    if root is None:
        return OperationPlan((), ())
    planner = _Planner(schema, fragments)
    planner.of_selection(root, operation.selection_set, (), frozenset())
    definitions = tuple(
        definition
        for definition in operation.variable_definitions or ()
        if definition.variable.name.value in planner.variables
    )
    return OperationPlan(tuple(planner.terms), definitions)


def query_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> tuple[int, list[str]]:
    return operation_plan(schema, operation, fragments).cost(schema, variables)


def document_plans(
    schema: GraphQLSchema, document: DocumentNode, operation_name: str | None
) -> tuple[OperationPlan, ...]:
    """The plans of the operations a request runs: the named one, or the first."""
    fragments = {
        definition.name.value: definition
        for definition in document.definitions
        if isinstance(definition, FragmentDefinitionNode)
    }
    operations = [
        definition
        for definition in document.definitions
        if isinstance(definition, OperationDefinitionNode)
        and (
            operation_name is None
            or definition.name is None
            or definition.name.value == operation_name
        )
    ]
    chosen = operations[:1] if operation_name is None else operations
    return tuple(operation_plan(schema, operation, fragments) for operation in chosen)


class CostPlans:
    """The plans of the last ``PLANS_KEPT`` distinct (document text, operation name) pairs:
    the frontend sends the same few documents over and over."""

    def __init__(self, schema: GraphQLSchema, kept: int = PLANS_KEPT) -> None:
        self.schema = schema
        self.kept = kept
        self.built = 0  # how many plans were computed (a test reads it)
        self._plans: OrderedDict[tuple[str, str | None], tuple[OperationPlan, ...]] = OrderedDict()

    def plans(
        self, query: str | None, document: DocumentNode, operation_name: str | None
    ) -> tuple[OperationPlan, ...]:
        if query is None:
            self.built += 1
            return document_plans(self.schema, document, operation_name)
        key = (query, operation_name)
        found = self._plans.get(key)
        if found is not None:
            self._plans.move_to_end(key)
            return found
        self.built += 1
        found = self._plans[key] = document_plans(self.schema, document, operation_name)
        if len(self._plans) > self.kept:
            self._plans.popitem(last=False)
        return found


class PrintableSchema(Protocol):
    def as_str(self) -> str: ...


_plans: "WeakKeyDictionary[PrintableSchema, CostPlans]" = WeakKeyDictionary()


def cost_plans(schema: PrintableSchema) -> CostPlans:
    """The schema's cost plans, with its types and arguments as graphql-core sees them,
    built once per schema from its SDL: strawberry publishes its schema as SDL, not as
    graphql-core objects."""
    plans = _plans.get(schema)
    if plans is None:
        plans = _plans[schema] = CostPlans(build_schema(schema.as_str()))
    return plans


def typed_schema(schema: PrintableSchema) -> GraphQLSchema:
    return cost_plans(schema).schema


def cost_errors(context: ExecutionContext) -> list[GraphQLError]:
    """The cost rule's verdict on a validated operation, its variables known: an error per
    problem (a ``first`` out of range, a cost over the budget), none when it may run. Run by
    the validation step (``app.graphql_api.document_caches``), so that a query refused here
    is refused before anything executes, a subscription's source included."""
    document = context.graphql_document
    if document is None:
        return []
    plans = cost_plans(context.schema)
    messages: list[str] = []
    for plan in plans.plans(context.query, document, context.operation_name):
        cost, errors = plan.cost(plans.schema, context.variables or {})
        facts = current_request()
        if facts is not None:
            facts.graphql_cost = cost  # for the request log and metrics
        messages.extend(dict.fromkeys(errors))
        if cost > COST_BUDGET:
            messages.append(
                f"query cost {cost} exceeds the budget of {COST_BUDGET} "
                "(each connection counts `first` nodes per parent node)"
            )
    return [GraphQLError(message) for message in messages]
