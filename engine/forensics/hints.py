"""Generator hints in metadata: source types, AI fields, software names, generation parameters.

Image generators and their front ends say what they are more often than not: Automatic1111
and its forks write a `parameters` text ("Steps: 20, Sampler: …, Seed: …, Model: …") into PNG
text chunks or EXIF UserComment, ComfyUI writes its node graph as JSON (`prompt`, `workflow`),
InvokeAI and NovelAI their own keys, and many services set the IPTC digital source type.
Each hint is a claim written by software; its absence shows nothing, since metadata is
stripped by nearly every upload.
"""

from __future__ import annotations

import json
import re
from typing import Any

from engine.forensics.exif_facts import SOFTWARE, USER_COMMENT, ExifFacts
from engine.forensics.names import judge_software, judge_source_type, source_type_code
from engine.forensics.png_chunks import PngLayout
from engine.forensics.records import Found, Severity
from engine.forensics.tools import OWN, PILLOW, finding
from engine.forensics.xmp import XmpFacts

_A1111 = re.compile(r"\bSteps: *\d+")
_A1111_FIELDS = re.compile(r"\b(Model|Model hash|Sampler|Steps|Seed|CFG scale|Size|Version): *([^,\n]{1,80})")
_GENERATOR_KEYS = {"invokeai_metadata": "InvokeAI", "invokeai_graph": "InvokeAI", "sd-metadata": "InvokeAI",
                   "dream": "InvokeAI (older)", "fooocus_scheme": "Fooocus", "generation_data": "a generator",
                   "sd_metadata": "a Stable Diffusion front end", "negative_prompt": "a generator"}
_GENERATION_WORDS = ("steps", "sampler", "seed", "cfg_scale", "scale", "prompt", "uc", "noise_schedule")


def xmp_hints(xmp: XmpFacts, found: Found) -> None:
    for value in xmp.values.get("Iptc4xmpExt:DigitalSourceType", []):
        severity, meaning = judge_source_type(value)
        found.findings.append(finding(
            "xmp.digital_source_type", severity, f"XMP declares the picture {meaning} ({source_type_code(value)})",
            "XMP Iptc4xmpExt:DigitalSourceType", value=value))
    for name in ("Iptc4xmpExt:AISystemUsed", "Iptc4xmpExt:AIPromptInformation"):
        for value in xmp.values.get(name, []):
            found.findings.append(finding("xmp.ai_fields", Severity.STRONG,
                                          f"XMP names the AI system or prompt used ({name.split(':')[1]})",
                                          f"XMP {name}", value=value))
    for name in ("xmp:CreatorTool", "tiff:Software", "stEvt:softwareAgent"):
        for value in xmp.values.get(name, []):
            software_hint(value, f"XMP {name}", found)


def software_hint(value: str, source: str, found: Found, tool: str | None = None) -> None:
    judged = judge_software(value)
    reader = tool or OWN
    if judged is None:
        found.findings.append(finding("metadata.software", Severity.INFORMATIVE, f"written or processed by {value[:80]}",
                                      source, reader, value))
        return
    severity, meaning = judged
    found.findings.append(finding("metadata.software", severity, f"{source} names {meaning}", source, reader, value))


def exif_hints(exif: ExifFacts, found: Found) -> None:
    software = exif.text(SOFTWARE)
    if software:
        software_hint(software, "EXIF IFD0 Software", found, PILLOW)
    comment = _user_comment(exif.exif.get(USER_COMMENT))
    if comment:
        parameters_hint(comment, "EXIF UserComment", found)


def _user_comment(value: Any) -> str | None:
    """EXIF UserComment: an 8-byte character-code prefix, then the text."""
    if isinstance(value, str):
        return value.strip("\x00 ") or None
    if not isinstance(value, bytes) or len(value) <= 8:
        return None
    code, body = value[:8], value[8:]
    if code.startswith(b"UNICODE"):
        # Writers disagree on byte order; the one that yields more ASCII letters is the right one.
        texts = [body.decode(enc, "replace") for enc in ("utf-16-be", "utf-16-le")]
        text = max(texts, key=lambda t: sum(ch.isascii() and ch.isprintable() for ch in t))
    else:
        text = body.decode("utf-8" if not code.startswith(b"ASCII") else "ascii", "replace")
    return text.strip("\x00 ") or None


def parameters_hint(text: str, source: str, found: Found) -> bool:
    """An Automatic1111-style parameters text; True when it was one."""
    if not _A1111.search(text):
        return False
    facts = ", ".join(f"{k}: {v.strip()}" for k, v in _A1111_FIELDS.findall(text)[:8])
    found.findings.append(finding(
        "generator.parameters", Severity.STRONG,
        "Stable Diffusion-style generation parameters (Automatic1111, Forge, SD.Next and similar front ends write them)",
        source, value=facts or text))
    return True


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except (ValueError, RecursionError):
        return None


def _comfy_models(graph: Any) -> list[str]:
    nodes = graph.values() if isinstance(graph, dict) else []
    names = []
    for node in nodes:
        inputs = node.get("inputs") if isinstance(node, dict) else None
        if isinstance(inputs, dict):
            names += [str(inputs[k]) for k in ("ckpt_name", "unet_name", "model_name") if isinstance(inputs.get(k), str)]
    return names[:4]


def png_hints(png: PngLayout, found: Found) -> None:
    for kind, key, text in png.texts:
        source = f"PNG {kind} {key!r}"
        lowered = key.lower()
        if lowered == "parameters":
            if not parameters_hint(text, source, found):
                found.findings.append(finding("generator.parameters", Severity.NOTEWORTHY,
                                              "a 'parameters' text, the key image generators write", source, value=text))
        elif lowered in ("prompt", "workflow") and isinstance(_json(text), dict):
            graph = _json(text)
            models = _comfy_models(graph) if lowered == "prompt" else []
            comfy = lowered == "workflow" and "nodes" in graph or any(
                isinstance(n, dict) and "class_type" in n for n in graph.values())
            found.findings.append(finding(
                "generator.workflow", Severity.STRONG,
                f"a {'ComfyUI ' if comfy else ''}generation graph in the {key!r} text"
                + (f" (models: {', '.join(models)})" if models else ""), source, value=text))
        elif lowered in _GENERATOR_KEYS:
            found.findings.append(finding("generator.metadata", Severity.STRONG,
                                          f"the {key!r} text that {_GENERATOR_KEYS[lowered]} writes", source, value=text))
        elif lowered in ("software", "source"):
            software_hint(text, source, found)
        elif lowered == "comment" and _looks_generated(_json(text)):
            found.findings.append(finding("generator.metadata", Severity.STRONG,
                                          "generation settings in the 'Comment' text (NovelAI style)", source, value=text))
    keys = sorted({key for _kind, key, _text in png.texts})
    if keys:
        found.findings.append(finding("png.text", Severity.INFORMATIVE, f"PNG text chunks: {', '.join(keys)[:200]}",
                                      "PNG tEXt/zTXt/iTXt chunks", value=", ".join(keys)))


def _looks_generated(data: Any) -> bool:
    return isinstance(data, dict) and sum(word in data for word in _GENERATION_WORDS) >= 2
