"""The viewer's forensic layer: which map answers what is chosen now, asking for it, its legend.

A map is asked for once its frame is on screen (after a short pause, so stepping a parameter
several times asks once) and computed on the reader thread; an answer to an earlier question
is dropped. `map_shown` tells the window whether a map is on screen, which is what "keep this
map" (K) needs.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from gui.viewer.jobs import MapBundle
from gui.viewer.layers import Params, layer_name

if TYPE_CHECKING:
    from gui.viewer.viewer_panel import ViewerPanel

    Base = ViewerPanel
else:
    Base = object


class ForensicLayer(Base):
    """Mixed into ViewerPanel, whose widgets, signals and timer it uses."""

    def _wanted_map(self) -> tuple[int, int, str, Params] | None:
        """(evidence, frame, kind, parameters) of the map the view should show now, or None."""
        kind = self.layers.forensic_kind
        if kind is None or self.item is None or self.bundle is None or self.bundle.image is None \
                or self.bundle.frame_index != self.frame_index:
            return None
        return self.item.evidence.id, self.bundle.frame_index, kind, self.layers.forensic_params()

    def current_map(self) -> MapBundle | None:
        """The map that answers what is chosen now, on the frame on screen (None while it is computed)."""
        wanted = self._wanted_map()
        if wanted is None or self.map_bundle is None or not self.map_bundle.answers(*wanted):
            return None
        return self.map_bundle

    def shows_map(self) -> bool:
        """Whether a forensic map (not its error, not a wait) answers what is chosen now."""
        shown = self.current_map()
        return shown is not None and shown.map is not None

    def _announce_map(self) -> None:
        on_screen = self.shows_map()
        if on_screen != self._map_on_screen:
            self._map_on_screen = on_screen
            self.map_shown.emit(on_screen)

    def _forensic_changed(self) -> None:
        self._map_timer.start()  # restarted by each change: one request once they stop
        wanted = self._wanted_map()
        if wanted is None:
            self.legend.show_nothing()
        elif self.current_map() is None:
            self.legend.show_waiting(wanted[2], self.where(wanted[1]))
        self._layers_changed()  # a map of other parameters does not stay up as if it were this one

    def _request_map(self) -> None:
        self._map_timer.stop()
        wanted = self._wanted_map()
        if wanted is None:
            if self.layers.forensic_kind is None or self.item is None:
                self.legend.show_nothing()
            return
        shown = self.current_map()
        if shown is not None:
            self._show_legend(shown)
            return
        self.legend.show_waiting(wanted[2], self.where(wanted[1]))
        self.map_wanted.emit(*wanted)

    def show_map(self, bundle: MapBundle) -> None:
        wanted = self._wanted_map()
        if wanted is None or not bundle.answers(*wanted):
            return  # an answer to an earlier question
        self.map_bundle = bundle
        self._show_legend(bundle)
        self._layers_changed()

    def _show_legend(self, bundle: MapBundle) -> None:
        if bundle.map is None:
            self.legend.show_problem(bundle.kind, bundle.error or "the map could not be made")
        else:
            self.legend.show_map(bundle.map, self.where(bundle.frame_index))

    def next_forensic_layer(self) -> None:
        self.layers.cycle_forensic(1)

    def previous_forensic_layer(self) -> None:
        self.layers.cycle_forensic(-1)

    def forensic_description(self) -> str | None:
        """"Error level (ELA), quality 70": the layer on screen, for a bookmark's comment; None without one."""
        shown = self.current_map()
        if shown is None:
            return None
        main = ", ".join(f"{name} {value}" for name, value in shown.params)
        return layer_name(shown.kind) + (f", {main}" if main else "")
