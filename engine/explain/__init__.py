"""Explanation overlays: attention rollout read from the ONNX graph, occlusion otherwise.

`open_attention_runner` gives a ModelRunner whose session also returns head-mean attention
(None for models without readable attention); `occlusion_map` is the fallback; the geometry
and colour modules map a grid back onto the frame and draw it; `Overlay` is what is stored.
"""

from engine.explain.attention_graph import AttentionGraph, attention_model_path, find_attention_softmax
from engine.explain.attention_runner import AttentionRunner, check_attention, open_attention_runner
from engine.explain.colormap import blend_overlay, colorize, colorize_rgba
from engine.explain.geometry import heatmap_to_region, input_window
from engine.explain.occlusion import default_window, occlusion_map, score_function
from engine.explain.overlay import CAVEAT, OCCLUSION, ROLLOUT, Overlay
from engine.explain.rollout import TokenLayout, rollout_from_outputs, token_layout

__all__ = [
    "CAVEAT", "OCCLUSION", "ROLLOUT", "AttentionGraph", "AttentionRunner", "Overlay", "TokenLayout",
    "attention_model_path", "blend_overlay", "check_attention", "colorize", "colorize_rgba",
    "default_window", "find_attention_softmax", "heatmap_to_region", "input_window", "occlusion_map",
    "open_attention_runner", "rollout_from_outputs", "score_function", "token_layout",
]
