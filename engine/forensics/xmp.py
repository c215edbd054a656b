"""The XMP properties that bear on provenance, read from a packet treated as hostile input.

XMP is XML written by whoever made the file, so it is parsed with defusedxml (no DTDs, no
entity expansion, no external references), after a size bound, with a bound on elements
walked and values kept. Each wanted property is collected wherever RDF allows it to be:
as an attribute of a description, as an element's text, as an rdf:resource, or as the
items of an rdf:Seq / Bag / Alt. A packet that does not parse gives an error, not a crash.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from xml.etree.ElementTree import Element

MAX_PACKET = 4 * 1024 * 1024
MAX_ELEMENTS = 50_000
MAX_VALUES = 64
MAX_VALUE_CHARS = 2_000

_RDF = "http://www.w3.org/1999/02/22-rdf-syntax-ns#"
_NS = {
    "Iptc4xmpExt": "http://iptc.org/std/Iptc4xmpExt/2008-02-29/",
    "xmp": "http://ns.adobe.com/xap/1.0/",
    "xmpMM": "http://ns.adobe.com/xap/1.0/mm/",
    "stEvt": "http://ns.adobe.com/xap/1.0/sType/ResourceEvent#",
    "photoshop": "http://ns.adobe.com/photoshop/1.0/",
    "exif": "http://ns.adobe.com/exif/1.0/",
    "tiff": "http://ns.adobe.com/tiff/1.0/",
    "dc": "http://purl.org/dc/elements/1.1/",
}
# The properties read, as "prefix:name"; anything else in the packet is ignored.
WANTED = (
    "Iptc4xmpExt:DigitalSourceType", "Iptc4xmpExt:AISystemUsed", "Iptc4xmpExt:AISystemVersionUsed",
    "Iptc4xmpExt:AIPromptInformation", "xmp:CreatorTool", "xmp:CreateDate", "xmp:ModifyDate",
    "xmp:MetadataDate", "photoshop:DateCreated", "exif:DateTimeOriginal", "tiff:Make", "tiff:Model",
    "tiff:Software", "stEvt:softwareAgent", "stEvt:action", "stEvt:when", "dc:creator",
)
_CLARK = {f"{{{_NS[name.split(':')[0]]}}}{name.split(':')[1]}": name for name in WANTED}


@dataclass
class XmpFacts:
    values: dict[str, list[str]] = field(default_factory=dict)  # "prefix:name" → values in document order
    error: str | None = None
    truncated: bool = False  # the walk stopped at MAX_ELEMENTS

    def first(self, name: str) -> str | None:
        found = self.values.get(name)
        return found[0] if found else None


def _add(facts: XmpFacts, name: str, value: str | None) -> None:
    text = (value or "").strip()
    if not text:
        return
    kept = facts.values.setdefault(name, [])
    text = text[:MAX_VALUE_CHARS]
    if text not in kept and len(kept) < MAX_VALUES:
        kept.append(text)


def _collect(facts: XmpFacts, element: Element, name: str) -> None:
    resource = element.get(f"{{{_RDF}}}resource")
    if resource:
        _add(facts, name, resource)
    if len(element) == 0:
        _add(facts, name, element.text)
        return
    for item in element.iter(f"{{{_RDF}}}li"):
        if len(item) == 0:
            _add(facts, name, item.text)
        else:  # a struct item (rdf:parseType="Resource" or a nested description): its rdf:value
            _add(facts, name, item.findtext(f"{{{_RDF}}}value"))


def parse_xmp(packet: bytes) -> XmpFacts:
    """The wanted properties of an XMP packet; `error` says why none could be read."""
    from defusedxml import DefusedXmlException  # noqa: PLC0415
    from defusedxml.ElementTree import ParseError, fromstring  # noqa: PLC0415

    facts = XmpFacts()
    if len(packet) > MAX_PACKET:
        facts.error = f"the XMP packet is {len(packet):,} bytes, over the {MAX_PACKET:,}-byte limit: not read"
        return facts
    text = packet.rstrip(b"\x00 \t\r\n")
    start = text.find(b"<")
    if start < 0:
        facts.error = "the XMP packet holds no XML"
        return facts
    try:
        root = fromstring(text[start:], forbid_dtd=True, forbid_entities=True, forbid_external=True)
    except (ParseError, DefusedXmlException, ValueError) as exc:
        facts.error = f"the XMP packet is not well-formed XML ({str(exc)[:160]})"
        return facts
    for count, element in enumerate(root.iter()):
        if count >= MAX_ELEMENTS:
            facts.truncated = True
            break
        for key, value in element.attrib.items():
            if key in _CLARK:
                _add(facts, _CLARK[key], value)
        if element.tag in _CLARK:
            _collect(facts, element, _CLARK[element.tag])
    return facts
