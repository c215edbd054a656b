"""One exception family for the engine.

Every error the engine raises on purpose derives from EngineError and carries a one-line,
human-readable message; the CLI prints it as is and the GUI shows it in a dialog. Anything
else escaping the engine is a bug.
"""


class EngineError(Exception):
    """Base class: str(error) is a complete sentence an analyst can act on."""


class ModelError(EngineError):
    """A model folder, ONNX file or model store entry is unusable."""


class MeaningUnknown(ModelError):
    """The label names do not say which output means manipulated: the user must state it
    (which label, or that the model judges something else). `labels` are the model's labels."""

    def __init__(self, message: str, labels: tuple[str, ...]) -> None:
        super().__init__(message)
        self.labels = labels


class MediaError(EngineError):
    """An evidence file cannot be decoded, probed or sampled."""


class CaseError(EngineError):
    """A case file is missing, corrupt, locked, or from a newer program."""


class CaseNotWritable(CaseError):
    """The case can be read but not opened for writing now: another writer holds it, or
    the file or its folder is write-protected. `reason` says which, in a few words."""

    def __init__(self, message: str, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class CaseForeign(CaseNotWritable):
    """The case holds schema objects (triggers, views, tables, indexes, columns) or header
    fields this program did not write: it may be read, never written, until `case repair`
    copies it. `foreign` lists each one in a sentence."""

    def __init__(self, message: str, foreign: tuple[str, ...]) -> None:
        super().__init__(message, "it holds things this program did not write")
        self.foreign = foreign


class ReportError(EngineError):
    """A report cannot be written."""


class SettingsError(EngineError):
    """A setting given to a run or command is out of range."""


class Cancelled(EngineError):
    """The user cancelled a long operation; work done so far is kept."""
