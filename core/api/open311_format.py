"""Open311 output: the same data as XML (the format the spec requires) or JSON, always UTF-8.

XML follows the element names and nesting of the GeoReport v2 examples: a collection element
(``services``, ``service_requests`` …) holding one element per item, lists inside an item wrapped
in their plural (``attributes/attribute``, ``values/value``, ``endpoints/endpoint``,
``formats/format``); ``true``/``false`` for booleans, an empty element for an absent value.
"""

from __future__ import annotations

import json
import re
from typing import Any
from xml.etree import ElementTree

from flask import Response

FORMATS = {"xml": "text/xml; charset=utf-8", "json": "application/json; charset=utf-8"}
XML_DECLARATION = '<?xml version="1.0" encoding="UTF-8"?>\n'
LIST_ITEMS = {"attributes": "attribute", "values": "value", "endpoints": "endpoint", "formats": "format"}
# Characters XML 1.0 cannot carry at all (escaping does not help): left out of XML answers.
_NOT_IN_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def _text(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    return _NOT_IN_XML.sub("", str(value))


def _fill(element: ElementTree.Element, value: Any) -> None:
    """Put ``value`` (a dict, a list or a scalar) inside ``element``."""
    if isinstance(value, dict):
        for name, child in value.items():
            _fill(ElementTree.SubElement(element, name), child)
    elif isinstance(value, list | tuple):
        item_name = LIST_ITEMS.get(element.tag, "item")
        for child in value:
            _fill(ElementTree.SubElement(element, item_name), child)
    else:
        element.text = _text(value)


def to_xml(root: str, payload: Any, item: str | None = None) -> bytes:
    """``payload`` as an XML document: a dict becomes ``root``'s children, a list ``root/item`` elements."""
    element = ElementTree.Element(root)
    if isinstance(payload, list):
        for entry in payload:
            _fill(ElementTree.SubElement(element, item or "item"), entry)
    else:
        _fill(element, payload)
    return (XML_DECLARATION + ElementTree.tostring(element, encoding="unicode")).encode("utf-8")


def to_json(payload: Any) -> bytes:
    return json.dumps(payload, ensure_ascii=False).encode("utf-8")


def render(fmt: str, payload: Any, *, root: str, item: str | None = None, status: int = 200) -> Response:
    """One response in the requested format (``xml`` or ``json``)."""
    body = to_json(payload) if fmt == "json" else to_xml(root, payload, item)
    return Response(body, status=status, content_type=FORMATS["json" if fmt == "json" else "xml"])


def render_errors(fmt: str, status: int, descriptions: list[str]) -> Response:
    """The spec's error body: ``[{code, description}]`` or ``<errors><error><code/><description/>…``."""
    errors = [{"code": status, "description": description} for description in descriptions]
    return render(fmt, errors, root="errors", item="error", status=status)
