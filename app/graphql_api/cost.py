"""The cost rule: reject, before execution, a query that could return too many nodes.

GitHub-style: a connection field with ``first: n`` may return ``n`` nodes for each node of
its parent, so its cost is ``n`` times the product of the ``first`` of every connection above
it; ``managementChain(maxDepth: d)`` likewise counts ``d``. A few fields that read much more
than a node have a fixed cost per parent node (``FIELD_COSTS``). The query's cost is the sum
over all such fields, computed from literal arguments, variables and schema defaults, and
compared with the per-request budget. ``first`` outside 1..MAX_FIRST is reported here too,
with the limit.
"""

from collections.abc import Iterator
from typing import Any, Protocol
from weakref import WeakKeyDictionary

from strawberry.extensions import SchemaExtension
from strawberry.types.graphql import OperationType

from app.graphql_api.limits import COST_BUDGET, DEFAULT_FIRST, MAX_FIRST
from app.request_context import current_request
from graphql import ExecutionResult as GraphQLExecutionResult
from graphql import (
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
    VariableValues,
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


class QueryCost:
    def __init__(
        self,
        schema: GraphQLSchema,
        fragments: dict[str, FragmentDefinitionNode],
        variables: VariableValues,
    ) -> None:
        self.schema = schema
        self.fragments = fragments
        self.variables = variables
        self.errors: list[str] = []

    def of_selection(
        self,
        parent: GraphQLNamedType,
        selection_set: SelectionSetNode,
        multiplier: int,
        seen: frozenset[str],
    ) -> int:
        total = 0
        for selection in selection_set.selections:
            if isinstance(selection, FieldNode):
                total += self.of_field(parent, selection, multiplier, seen)
            elif isinstance(selection, InlineFragmentNode):
                target = parent
                if selection.type_condition is not None:
                    target = self.schema.get_type(selection.type_condition.name.value) or parent
                total += self.of_selection(target, selection.selection_set, multiplier, seen)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                fragment = self.fragments.get(name)
                if fragment is None or name in seen:
                    continue
                target = self.schema.get_type(fragment.type_condition.name.value) or parent
                total += self.of_selection(
                    target, fragment.selection_set, multiplier, seen | {name}
                )
        return total

    def of_field(
        self, parent: GraphQLNamedType, node: FieldNode, multiplier: int, seen: frozenset[str]
    ) -> int:
        if not isinstance(parent, GraphQLObjectType | GraphQLInterfaceType):
            return 0
        definition = parent.fields.get(node.name.value)
        if definition is None:
            return 0
        size = self.size_of(definition, node)
        cost = multiplier * size if size else 0
        cost += multiplier * FIELD_COSTS.get((parent.name, node.name.value), 0)
        if node.selection_set is None:
            return cost
        inner = multiplier * size if size else multiplier
        return cost + self.of_selection(
            get_named_type(definition.type), node.selection_set, inner, seen
        )

    def size_of(self, definition: GraphQLField, node: FieldNode) -> int:
        """How many nodes this field may return per parent (0 when it is a single object)."""
        if "first" in definition.args:
            first = self.argument(definition, node, "first")
            if first is None:
                first = DEFAULT_FIRST
            if not 1 <= first <= MAX_FIRST:
                self.errors.append(f"first must be between 1 and {MAX_FIRST} (got {first})")
                return MAX_FIRST
            return int(first)
        size_argument = LIST_SIZE_ARGUMENTS.get(node.name.value)
        if size_argument is not None and size_argument in definition.args:
            value = self.argument(definition, node, size_argument)
            return max(1, int(value or 1))
        return 0

    def argument(self, definition: GraphQLField, node: FieldNode, name: str) -> Any:
        """The argument's value as execution will see it (given, from a variable or the
        default), or None when it has none or it is invalid (execution reports that)."""
        try:
            return get_argument_values(definition, node, self.variables).get(name)
        except GraphQLError:
            return None


def query_cost(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: dict[str, FragmentDefinitionNode],
    variables: dict[str, Any],
) -> tuple[int, list[str]]:
    root = schema.get_root_type(operation.operation)
    if root is None:
        return 0, []
    # Coerce as execution will: defaults of the operation's variables apply.
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    if isinstance(coerced, list):
        return 0, []  # execution reports the bad variables itself
    counter = QueryCost(schema, fragments, coerced)
    return counter.of_selection(root, operation.selection_set, 1, frozenset()), counter.errors


class PrintableSchema(Protocol):
    def as_str(self) -> str: ...


_typed_schemas: "WeakKeyDictionary[PrintableSchema, GraphQLSchema]" = WeakKeyDictionary()


def typed_schema(schema: PrintableSchema) -> GraphQLSchema:
    """The schema's types and arguments as graphql-core sees them, built once per schema from
    its SDL: strawberry publishes its schema as SDL, not as graphql-core objects."""
    typed = _typed_schemas.get(schema)
    if typed is None:
        typed = _typed_schemas[schema] = build_schema(schema.as_str())
    return typed


class CostLimiter(SchemaExtension):
    """Runs after validation, when variables are known, and skips execution when over budget."""

    budget = COST_BUDGET

    def on_execute(self) -> Iterator[None]:
        context = self.execution_context
        document = context.graphql_document
        if document is not None and context.result is None:
            messages = self._problems(document)
            if messages and context.operation_type is OperationType.SUBSCRIPTION:
                # A subscription's source is created whatever the result says: stop it here,
                # strawberry answers an error raised by this hook as the operation's error.
                raise GraphQLError("; ".join(messages))
            if messages:
                context.result = GraphQLExecutionResult(
                    data=None, errors=[GraphQLError(message) for message in messages]
                )
        yield

    def _problems(self, document: Any) -> list[str]:
        context = self.execution_context
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
                context.operation_name is None
                or definition.name is None
                or definition.name.value == context.operation_name
            )
        ]
        schema = typed_schema(context.schema)
        messages: list[str] = []
        for operation in operations[:1] if context.operation_name is None else operations:
            cost, errors = query_cost(schema, operation, fragments, context.variables or {})
            facts = current_request()
            if facts is not None:
                facts.graphql_cost = cost  # for the request log and metrics
            messages.extend(dict.fromkeys(errors))
            if cost > self.budget:
                messages.append(
                    f"query cost {cost} exceeds the budget of {self.budget} "
                    "(each connection counts `first` nodes per parent node)"
                )
        return messages
