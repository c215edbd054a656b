"""What the words found in metadata mean: IPTC digital source types and software names.

The digital source types are the IPTC NewsCodes vocabulary that both XMP
(Iptc4xmpExt:DigitalSourceType) and C2PA actions (digitalSourceType) use. The software names
are the generators, face-swap tools and editors an examiner would want named when a
Software, CreatorTool or softwareAgent field mentions them. A name in a metadata field is a
claim made by whatever wrote the file: present, it says something; absent, nothing.
"""

from __future__ import annotations

import re

from engine.forensics.records import Severity

IPTC_PREFIX = "http://cv.iptc.org/newscodes/digitalsourcetype/"

# code → (severity, what it declares)
DIGITAL_SOURCE_TYPES: dict[str, tuple[Severity, str]] = {
    "trainedAlgorithmicMedia": (Severity.STRONG, "created by generative AI (a model trained on sampled content)"),
    "compositeWithTrainedAlgorithmicMedia": (Severity.STRONG, "a composite that includes generative-AI elements"),
    "algorithmicMedia": (Severity.STRONG, "created purely by an algorithm, not from a capture"),
    "compositeSynthetic": (Severity.STRONG, "a composite of synthetic elements"),
    "algorithmicallyEnhanced": (Severity.NOTEWORTHY, "a capture enhanced or altered by an algorithm"),
    "dataDrivenMedia": (Severity.NOTEWORTHY, "rendered from data, not captured"),
    "digitalCreation": (Severity.NOTEWORTHY, "created by a person with software, not captured"),
    "digitalArt": (Severity.NOTEWORTHY, "created by a person with software, not captured"),
    "virtualRecording": (Severity.NOTEWORTHY, "a recording of a virtual scene"),
    "composite": (Severity.NOTEWORTHY, "a composite of several elements"),
    "compositeCapture": (Severity.NOTEWORTHY, "a composite of several captures"),
    "humanEdits": (Severity.NOTEWORTHY, "a capture edited by a person"),
    "minorHumanEdits": (Severity.INFORMATIVE, "a capture with minor edits by a person"),
    "screenCapture": (Severity.INFORMATIVE, "a capture of a screen"),
    "computationalCapture": (Severity.INFORMATIVE, "a capture with the device's computational processing"),
    "digitalCapture": (Severity.INFORMATIVE, "an original digital capture of a real scene"),
    "negativeFilm": (Severity.INFORMATIVE, "a scan of a film negative"),
    "positiveFilm": (Severity.INFORMATIVE, "a scan of a film positive"),
    "print": (Severity.INFORMATIVE, "a scan of a print"),
}


def source_type_code(value: str) -> str:
    """The code of a digital source type, whether given as the full IPTC URI or bare."""
    text = value.strip()
    return text.rstrip("/").rsplit("/", 1)[-1] if "/" in text else text


def judge_source_type(value: str) -> tuple[Severity, str]:
    code = source_type_code(value)
    if code in DIGITAL_SOURCE_TYPES:
        return DIGITAL_SOURCE_TYPES[code]
    return Severity.NOTEWORTHY, "a digital source type this program does not know"


def _any(*names: str) -> re.Pattern[str]:
    return re.compile(r"(?<![a-z0-9])(?:" + "|".join(names) + r")(?![a-z0-9])", re.IGNORECASE)


GENERATORS = _any(
    r"stable[ _-]?diffusion", r"sdxl", r"sd ?3(?:\.5)?", r"automatic1111", r"a1111", r"comfy ?ui", r"invoke ?ai",
    r"fooocus", r"novel ?ai", r"midjourney", r"dall[-·. ]?e(?: ?[23])?", r"chatgpt", r"gpt-?4o", r"gpt-image-?\d*",
    r"sora", r"(?:adobe )?firefly", r"google imagen", r"imagen ?[234]", r"gemini", r"nano ?banana", r"leonardo(?:\.ai)?", r"runway(?:ml)?",
    r"flux(?:\.1)?", r"dreamstudio", r"nightcafe", r"craiyon", r"ideogram", r"bing image creator", r"playground ?ai",
    r"krea", r"stability ?ai", r"kandinsky", r"dreamshaper", r"pika", r"kling", r"hailuo", r"veo ?\d*",
    r"generative fill", r"ai[- ]generated")
FACE_TOOLS = _any(r"deepfacelab", r"deepfacelive", r"faceswap", r"face ?fusion", r"roop", r"reface", r"faceapp",
                  r"swapface", r"deep ?swap", r"inswapper", r"simswap")
EDITORS = _any(r"photoshop", r"lightroom", r"camera raw", r"gimp", r"affinity(?: photo)?", r"pixelmator",
               r"snapseed", r"paint\.net", r"canva", r"picsart", r"facetune", r"photoroom", r"luminar",
               r"capture one", r"darktable", r"rawtherapee", r"krita", r"photopea", r"fotor", r"meitu",
               r"photoscape", r"corel", r"paintshop", r"imagemagick", r"graphicsmagick")


def judge_software(value: str) -> tuple[Severity, str] | None:
    """What a software name says, or None when it names nothing this program recognises."""
    for pattern, severity, meaning in ((GENERATORS, Severity.STRONG, "an image generator"),
                                       (FACE_TOOLS, Severity.STRONG, "a face-swap or face-morphing tool"),
                                       (EDITORS, Severity.NOTEWORTHY, "an image editor")):
        found = pattern.search(value)
        if found:
            return severity, f"{meaning} ({found.group(0)})"
    return None
