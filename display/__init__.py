"""The map pipeline: what the app and ``python -m geo map`` draw, and the page's words.

Display code over the core (:mod:`geo`) and the catalogue (:mod:`layers`): filter,
measure, encode, budget and lay out the layers as a Leaflet map (:mod:`display.mapbuild`,
``map.js``), the drawing and overlay tools, the import sketch, and the words and safe
text of the page. Nothing in :mod:`geo` imports it.
"""

__all__: list[str] = []
