"""The self-test: proof, on this machine and in this build, that the program works end to end.

`python main.py self-test` (and `dfw self-test` in a frozen build) writes tiny random-weight
ONNX models shaped like each supported architecture (a ViT, a SigLIP, a timm ViT) with
`onnx.helper`, never with torch, imports them into a temporary app home as marked test
fixtures, scores a generated image and clip, runs a whole case (add, analyse with attention
overlays, verify, PDF report) and removes everything again. `run.run_self_test` runs the
steps through `engine.api`, the door the window and the command line use; `records` holds
what it reports. This package imports nothing at import time, so `engine.api` can name it.
"""
