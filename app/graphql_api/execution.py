"""The executor: graphql-core's, with short paths for plain attribute fields and for fields
whose resolver needs only the request context.

graphql-core runs every field the same way: it builds a ``GraphQLResolveInfo`` (a tuple of 15
values), calls the resolver, checks whether the result is awaitable and completes it. For a
scalar field that is just an attribute of its object (``displayName``, ``title``, ``depth``)
that bookkeeping is nearly all the work, and a page of 100 reports has 400 such fields (~1 ms
of CPU, measured A/B in one process). Here they are read with ``getattr`` and coerced by their
scalar type directly; a value that needs anything else (null for a non-null field, a value the
scalar refuses) takes graphql-core's own path, so answers and errors stay exactly the same.

A field qualifies when strawberry itself would read it as an attribute: no resolver, no
field extensions (strawberry's "basic field"), no arguments, and a scalar or enum type. Schema
extensions with a ``resolve`` hook run as graphql-core middleware; with any, nothing qualifies.
"""

from collections.abc import Callable
from functools import partial
from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from graphql import (
    GraphQLField,
    GraphQLLeafType,
    GraphQLObjectType,
    GraphQLResolveInfo,
    GraphQLSchema,
    Undefined,
    get_nullable_type,
    is_leaf_type,
)

# (attribute name, scalar or enum type, whether null is allowed), or None: not a plain field.
PlainField = tuple[str, GraphQLLeafType, bool] | None

# Keyed by the field's resolver: a function made for this field of this schema, and hashed
# by identity (a StrawberryField hashes its dataclass fields, ~1 µs a look-up).
_plain_fields: dict[Callable[..., Any] | None, PlainField] = {}
_MISSING = object()


def plain_field(field: GraphQLField) -> PlainField:
    try:
        return _plain_fields[field.resolve]
    except KeyError:
        pass
    definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
    leaf = get_nullable_type(field.type)
    found: PlainField = None
    if (
        isinstance(definition, StrawberryField)
        and definition.is_basic_field
        and not field.args
        and is_leaf_type(leaf)
        and field.resolve is not None
    ):
        nullable = leaf is field.type
        found = (definition.python_name, leaf, nullable)
    _plain_fields[field.resolve] = found
    return found


class PlainFieldsExecutor(StrawberryGraphQLCoreExecutionContext):
    def execute_field(
        self,
        parent_type: GraphQLObjectType,
        source: Any,
        field_details_list: Any,
        path: Any,
        position_context: Any,
    ) -> Any:
        field = self.schema.get_field(parent_type, field_details_list[0].node.name.value)
        middleware = self.middleware_manager  # strawberry passes one, empty without hooks
        hooked = middleware is not None and middleware.middlewares
        plain = None if field is None or hooked else plain_field(field)
        if plain is not None:
            name, leaf, nullable = plain
            value = getattr(source, name, _MISSING)
            if value is None:
                if nullable:
                    return None
            elif value is not _MISSING:
                try:
                    coerced = leaf.coerce_output_value(value)
                except Exception:  # graphql-core's own path reports it
                    coerced = None
                if coerced is not None and coerced is not Undefined:
                    return coerced
        return super().execute_field(
            parent_type, source, field_details_list, path, position_context
        )


# -- direct resolvers -----------------------------------------------------------------------
# strawberry calls a field's resolver through ~8 layers (its Info object, argument conversion,
# field extensions, exception handlers): ~6 µs a call, ~0.6 ms for the 100 managers of a page
# of reports. A field without arguments or extensions may name, in its metadata, a function
# of (object, context) doing the same as its resolver; graphql-core then calls that directly.

DIRECT = "blink-direct-resolver"

ContextResolver = Callable[[Any, Any], Any]


def direct(resolve: ContextResolver) -> dict[str, ContextResolver]:
    """Field metadata: ``resolve(object, context)`` answers as the field's resolver does."""
    return {DIRECT: resolve}


def use_direct_resolvers(schema: GraphQLSchema) -> None:
    for named_type in schema.type_map.values():
        if not isinstance(named_type, GraphQLObjectType):
            continue
        for field in named_type.fields.values():
            definition = field.extensions.get(GraphQLCoreConverter.DEFINITION_BACKREF)
            if not isinstance(definition, StrawberryField) or DIRECT not in definition.metadata:
                continue
            if field.args or definition.extensions:
                raise TypeError(f"{named_type.name}.{definition.python_name}: not direct")
            field.resolve = partial(_with_context, definition.metadata[DIRECT])


def _with_context(resolve: ContextResolver, source: Any, info: GraphQLResolveInfo[Any]) -> Any:
    return resolve(source, info.context)
