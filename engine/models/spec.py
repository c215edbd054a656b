"""What the engine knows about a detector: `ModelSpec`, and what its labels mean.

A classifier's labels are only names. Whether a model judges authenticity at all, and which
output index means "manipulated", is inferred from those names when they say it plainly
(`Real`/`Fake`, `fake`/`real`, a single `fake` logit) and otherwise must be stated by the
user; the engine refuses rather than guesses. A model whose every label names a deepfake
and none names real media (a deepfake-quality grader) is kept out of authenticity verdicts.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from engine.errors import MeaningUnknown, ModelError
from engine.models.preprocess import PreprocessRecipe
from engine.vocab import Judges

AUTHENTICITY, OTHER = Judges.AUTHENTICITY, Judges.OTHER

_FAKE_WORDS = {
    "fake", "deepfake", "deepfakes", "manipulated", "manipulation", "synthetic", "generated",
    "ai", "aigenerated", "forged", "forgery", "spoof", "spoofed", "tampered", "altered",
    "swapped", "faceswap", "morphed", "artificial", "gan", "diffusion",
}
_REAL_WORDS = {
    "real", "authentic", "genuine", "original", "pristine", "bonafide", "live", "human",
    "natural", "camera", "unaltered", "untampered",
}


def _words(label: str) -> set[str]:
    text = label.lower().replace("ai-generated", "aigenerated").replace("bona fide", "bonafide")
    text = text.replace("deep fake", "deepfake")
    return set(re.findall(r"[a-z]+", text))


def label_kind(label: str) -> str:
    """'fake', 'real' or 'unknown' for one label name."""
    words = _words(label)
    if words & {"not", "non", "no", "un"}:
        return "unknown"  # "not fake", "non-AI": negations are for the user to confirm
    fake, real = bool(words & _FAKE_WORDS), bool(words & _REAL_WORDS)
    if fake and not real:
        return "fake"
    if real and not fake:
        return "real"
    return "unknown"


@dataclass(frozen=True)
class LabelMeaning:
    """What the model's output says about authenticity, and how that was established.

    judges: "authenticity" (feeds verdicts) or "other" (scored and shown, never in verdicts).
    manipulated_indices: output indices whose probabilities add up to p(manipulated);
    for a single sigmoid logit, (0,) means sigmoid = p(manipulated) and () with
    `sigmoid_means_real` means p(manipulated) = 1 − sigmoid.
    """

    judges: str
    manipulated_indices: tuple[int, ...] = ()
    sigmoid_means_real: bool = False
    source: str = "inferred from label names"
    explanation: str = ""

    @property
    def is_authenticity(self) -> bool:
        return self.judges == AUTHENTICITY

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "LabelMeaning":
        values = dict(data)
        values["manipulated_indices"] = tuple(values.get("manipulated_indices", ()))
        return cls(**values)


def infer_meaning(labels: Sequence[str], activation: str) -> LabelMeaning:
    """Read the meaning from label names, or raise ModelError asking the user to state it."""
    kinds = [label_kind(label) for label in labels]
    if activation == "sigmoid":
        if len(labels) != 1:
            raise ModelError("a sigmoid model must have exactly one label")
        if kinds[0] == "fake":
            return LabelMeaning(AUTHENTICITY, (0,), explanation=f"single logit {labels[0]!r}: sigmoid = p(manipulated)")
        if kinds[0] == "real":
            return LabelMeaning(AUTHENTICITY, (), sigmoid_means_real=True,
                                explanation=f"single logit {labels[0]!r}: p(manipulated) = 1 − sigmoid")
    else:
        fake = tuple(i for i, kind in enumerate(kinds) if kind == "fake")
        real = tuple(i for i, kind in enumerate(kinds) if kind == "real")
        if fake and real and len(fake) + len(real) == len(labels):
            names = ", ".join(repr(labels[i]) for i in fake)
            return LabelMeaning(AUTHENTICITY, fake, explanation=f"p(manipulated) = p({names})")
        if fake and not real and len(fake) == len(labels) and len(labels) >= 2:
            return LabelMeaning(
                OTHER,
                explanation="every label names a deepfake and none names real media: "
                "the model grades deepfakes rather than detecting them, so it never feeds a verdict",
            )
    raise MeaningUnknown(
        f"cannot tell from the labels {list(labels)} which output means manipulated; "
        "state it with --manipulated-label NAME (authenticity) or --judges other", tuple(labels)
    )


def confirmed_meaning(labels: Sequence[str], activation: str, judges: str | None,
                      manipulated_labels: Sequence[str] | None) -> LabelMeaning:
    """The meaning the user stated, checked against the labels; falls back to inference."""
    if judges is None and not manipulated_labels:
        return infer_meaning(labels, activation)
    if judges == OTHER:
        if manipulated_labels:
            raise ModelError("--judges other and --manipulated-label contradict each other")
        return LabelMeaning(OTHER, source="stated by the user", explanation="stated: judges something other than authenticity")
    if not manipulated_labels:
        raise ModelError("an authenticity model needs --manipulated-label naming the label that means manipulated")
    lookup = {label.lower(): index for index, label in enumerate(labels)}
    indices = []
    for name in manipulated_labels:
        if name.lower() not in lookup:
            raise ModelError(f"--manipulated-label {name!r} is not one of the model's labels {list(labels)}")
        indices.append(lookup[name.lower()])
    if activation == "sigmoid":
        return LabelMeaning(AUTHENTICITY, (0,), source="stated by the user",
                            explanation=f"stated: sigmoid({labels[0]!r}) = p(manipulated)")
    if len(set(indices)) == len(labels):
        raise ModelError("every label cannot mean manipulated")
    return LabelMeaning(AUTHENTICITY, tuple(sorted(set(indices))), source="stated by the user",
                        explanation="stated: p(manipulated) = p(" + ", ".join(labels[i] for i in sorted(set(indices))) + ")")


@dataclass(frozen=True)
class ModelSpec:
    """Everything needed to run a detector and to say afterwards exactly what ran."""

    name: str
    architecture: str
    onnx_path: Path
    onnx_sha256: str
    input_name: str
    output_name: str
    input_size: tuple[int, int]
    preprocess: PreprocessRecipe
    labels: tuple[str, ...]
    activation: str  # "softmax" (≥2 logits) or "sigmoid" (1 logit)
    meaning: LabelMeaning
    layout: str  # optimum | transformers.js | timm | bare
    variant: str = "default"
    variants: tuple[str, ...] = ("default",)
    folder: Path | None = None
    source: str | None = None
    revision: str | None = None
    fixed_batch: int | None = None
    is_test_fixture: bool = False
    extras: Mapping[str, Any] = field(default_factory=dict)
    # SHA-256 of each configuration file the spec was read from (config.json,
    # preprocessor_config.json, ...), by its name in the model folder: the bytes actually parsed.
    config_sha256: Mapping[str, str] = field(default_factory=dict)

    def with_name(self, name: str) -> "ModelSpec":
        return replace(self, name=name)

    def probabilities(self, logits: np.ndarray) -> np.ndarray:
        """Logits (N, K) → probabilities, in float64 for stable ranking."""
        values = np.asarray(logits, dtype=np.float64)
        if self.activation == "sigmoid":
            return 1.0 / (1.0 + np.exp(-values))
        shifted = values - values.max(axis=-1, keepdims=True)
        exp = np.exp(shifted)
        return exp / exp.sum(axis=-1, keepdims=True)

    def p_manipulated(self, probabilities: np.ndarray) -> np.ndarray | None:
        """Per-image p(manipulated), or None when the model does not judge authenticity."""
        if not self.meaning.is_authenticity:
            return None
        probs = np.asarray(probabilities, dtype=np.float64)
        if self.activation == "sigmoid":
            p = probs[..., 0]
            return 1.0 - p if self.meaning.sigmoid_means_real else p
        return probs[..., list(self.meaning.manipulated_indices)].sum(axis=-1)

    def provenance(self) -> dict[str, Any]:
        """What a case run or a report records about the model."""
        return {
            "name": self.name,
            "architecture": self.architecture,
            "layout": self.layout,
            "variant": self.variant,
            "onnx_file": self.onnx_path.name,
            "sha256": self.onnx_sha256,
            "config_sha256": dict(sorted(self.config_sha256.items())),
            "labels": list(self.labels),
            "activation": self.activation,
            "meaning": self.meaning.to_dict(),
            "input_size": list(self.input_size),
            "preprocess": self.preprocess.describe(),
            "source": self.source,
            "revision": self.revision,
            "is_test_fixture": self.is_test_fixture,
            **({"quantization": dict(self.extras["quantization"])} if "quantization" in self.extras else {}),
            **({"external_sha256": dict(self.extras["external_sha256"])} if "external_sha256" in self.extras else {}),
        }
