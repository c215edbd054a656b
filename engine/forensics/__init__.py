"""What needs no weights: provenance findings (content credentials, metadata, JPEG facts) and
classic forensic maps (error level, noise, spectrum).

Everything here reads evidence read-only and is reached by clients through engine.api. Its
findings are kept apart from detector verdicts on purpose: a missing camera field or a
libjpeg quantisation table says how a file was written, not whether a face was swapped, and
nothing in engine/analysis reads them.
"""
