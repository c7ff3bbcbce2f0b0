"""Attribute metadata (RFC 7643 §7) as plain data, and its rendering for ``/Schemas``.

One ``SchemaDef`` per schema URN. The same objects drive discovery, input normalisation
(canonical attribute names, boolean coercion) and the PATCH engine (multi-valued or not,
mutability), so what ``/Schemas`` says is what the server does.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class Attr:
    name: str
    type: str = "string"  # string boolean decimal integer dateTime binary reference complex
    multi_valued: bool = False
    description: str = ""
    required: bool = False
    case_exact: bool = False
    mutability: str = "readWrite"  # readOnly readWrite immutable writeOnly
    returned: str = "default"  # always never default request
    uniqueness: str = "none"  # none server global
    sub_attributes: tuple["Attr", ...] = ()
    reference_types: tuple[str, ...] = ()
    canonical_values: tuple[str, ...] = ()

    def sub(self, name: str) -> "Attr | None":
        """The sub-attribute called ``name`` (case-insensitively), or None."""
        lowered = name.lower()
        for attribute in self.sub_attributes:
            if attribute.name.lower() == lowered:
                return attribute
        return None

    def to_json(self) -> dict[str, Any]:
        rendered: dict[str, Any] = {
            "name": self.name,
            "type": self.type,
            "multiValued": self.multi_valued,
            "description": self.description,
            "required": self.required,
        }
        if self.type in ("string", "reference", "binary"):
            rendered["caseExact"] = self.case_exact
        if self.canonical_values:
            rendered["canonicalValues"] = list(self.canonical_values)
        if self.sub_attributes:
            rendered["subAttributes"] = [sub.to_json() for sub in self.sub_attributes]
        if self.reference_types:
            rendered["referenceTypes"] = list(self.reference_types)
        rendered["mutability"] = self.mutability
        rendered["returned"] = self.returned
        rendered["uniqueness"] = self.uniqueness
        return rendered


@dataclass(frozen=True, slots=True)
class SchemaDef:
    id: str
    name: str
    description: str
    attributes: tuple[Attr, ...]
    _by_name: dict[str, Attr] = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        for attribute in self.attributes:
            self._by_name[attribute.name.lower()] = attribute

    def attr(self, name: str) -> Attr | None:
        """The attribute called ``name`` (case-insensitively), or None."""
        return self._by_name.get(name.lower())

    def to_json(self, location: str) -> dict[str, Any]:
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Schema"],
            "id": self.id,
            "name": self.name,
            "description": self.description,
            "attributes": [attribute.to_json() for attribute in self.attributes],
            "meta": {"resourceType": "Schema", "location": location},
        }


@dataclass(frozen=True, slots=True)
class ResourceTypeDef:
    """A resource type: its core schema and the extensions it accepts."""

    id: str
    endpoint: str
    description: str
    core: SchemaDef
    extensions: tuple[SchemaDef, ...]
    # Extra spellings of extension URNs accepted on input (e.g. Entra's misspelling).
    aliases: dict[str, str] = field(default_factory=dict)

    def schema(self, urn: str) -> SchemaDef | None:
        """The core or extension schema of this URN (case-insensitively; aliases too)."""
        lowered = urn.lower()
        for schema in (self.core, *self.extensions):
            if schema.id.lower() == lowered:
                return schema
        canonical = self.aliases.get(lowered)
        return self.schema(canonical) if canonical else None

    def to_json(self, location: str) -> dict[str, Any]:
        return {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
            "id": self.id,
            "name": self.id,
            "endpoint": self.endpoint,
            "description": self.description,
            "schema": self.core.id,
            "schemaExtensions": [
                {"schema": extension.id, "required": False} for extension in self.extensions
            ],
            "meta": {"resourceType": "ResourceType", "location": location},
        }
