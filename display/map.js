/* The Nanguan renewal map in the browser: decodes the compact layers the server sends,
 * draws them on one canvas as Leaflet paths (hover tooltip, click select), and builds the
 * layer control, legend, labels and messages. Every text taken from the data is set with
 * textContent, never as HTML. Written for this project; needs Leaflet only. */
(function () {
  "use strict";
  var SELECTED = "#d32f2f", HIGHLIGHT = "#00e5ff";

  /* Integers written by layers/encode.py: 5 bits a character (URL-safe base64 alphabet),
   * a continuation bit, zigzag sign. */
  var ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_", INDEX = [];
  (function () { for (var k = 0; k < 64; k++) INDEX[ALPHABET.charCodeAt(k)] = k; })();

  function decodeInts(s) {
    var out = [], value = 0, factor = 1, i, b;
    for (i = 0; i < s.length; i++) {
      b = INDEX[s.charCodeAt(i)];
      value += (b & 31) * factor;
      factor *= 32;
      if (b < 32) {
        out.push(value % 2 ? -(value + 1) / 2 : value / 2);
        value = 0;
        factor = 1;
      }
    }
    return out;
  }

  /* Features as nested arrays of L.LatLng: feature -> parts -> (rings ->) vertices. */
  function decodeGeometry(g, family) {
    if (!g || g.coords === undefined) return []; /* a layer with no feature to draw */
    var d = decodeInts(g.coords), parts = decodeInts(g.parts);
    var sizes = family === "point" ? null : decodeInts(g.sizes);
    var rings = family === "polygon" ? decodeInts(g.rings) : null;
    var x = 0, y = 0, v = 0, s = 0, r = 0, out = [], f, p, k, n, ring, line, part, feature;
    function vertex() {
      x += d[2 * v];
      y += d[2 * v + 1];
      v++;
      return new L.LatLng(y / 1e6, x / 1e6);
    }
    for (f = 0; f < parts.length; f++) {
      feature = [];
      for (p = 0; p < parts[f]; p++) {
        if (family === "point") {
          feature.push(vertex());
        } else if (family === "line") {
          line = [];
          for (n = sizes[s++]; n > 0; n--) line.push(vertex());
          feature.push(line);
        } else {
          part = [];
          for (k = rings[r++]; k > 0; k--) {
            ring = [];
            for (n = sizes[s++]; n > 0; n--) ring.push(vertex());
            part.push(ring);
          }
          feature.push(part);
        }
      }
      out.push(feature);
    }
    return out;
  }

  function el(tag, cls, text, parent) {
    var e = document.createElement(tag);
    if (cls) e.className = cls;
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (parent) parent.appendChild(e);
    return e;
  }

  /* A text from the data, cut to LONG characters for display (a 10,000-character name
   * would stretch a tooltip across the screen); the whole value stays in the title. */
  var LONG = 120;
  function clipped(tag, cls, value, parent) {
    var chars = Array.from(String(value)), e;
    if (chars.length <= LONG) return el(tag, cls, value, parent);
    e = el(tag, cls, chars.slice(0, LONG - 1).join("") + "\u2026", parent);
    e.title = String(value);
    return e;
  }

  var FORMATS = {};
  function fmt(x, digits) {
    if (!FORMATS[digits]) {
      FORMATS[digits] = new Intl.NumberFormat("en-US", {minimumFractionDigits: digits, maximumFractionDigits: digits});
    }
    return FORMATS[digits].format(Number(x));
  }

  function state(map) {
    if (!map._ng) {
      map._ng = {layers: {}, cache: {}, canvas: L.canvas({padding: 0.3, tolerance: 3}), token: Math.random(), seq: 0};
      map.on("overlayadd overlayremove", function (e) { onToggle(map, e); });
      map.on("zoomend", function () { onZoom(map); });
    }
    return map._ng;
  }

  /* The value shown for field j of feature i, as text. */
  function valueText(fd, col, i) {
    var v = col[i];
    if (v === null || v === undefined) return null;
    if (fd.kind === "code") return v < 0 ? null : fd.names[v];
    if (fd.kind === "num") return fmt(v, fd.digits) + (fd.unit ? " " + fd.unit : "");
    return String(v);
  }

  function tooltip(fg, map) {
    return function (path) {
      var layerData = fg.data, words = state(map).words || {};
      var i = path._ngIndex, d = layerData.dict, box = el("div", "ng-tip"), table;
      clipped("b", null, layerData.cols.name ? (layerData.cols.name[i] || layerData.ids[i]) : layerData.ids[i], box);
      table = el("table", null, null, box);
      d.fields.forEach(function (fd) {
        if (fd.name === "name") return;
        var t = valueText(fd, layerData.cols[fd.name], i), tr;
        if (t === null) return;
        tr = el("tr", null, null, table);
        el("th", null, fd.label, tr);
        clipped("td", null, t, tr);
      });
      var m = layerData.measure ? layerData.measure[i] : null, tr2;
      if (m !== null && m !== undefined) {
        tr2 = el("tr", null, null, table);
        if (d.measure === "length") {
          el("th", null, words.length, tr2);
          el("td", null, fmt(m / 1000, 3) + " km", tr2);
        } else if (d.measure === "area") {
          el("th", null, words.area, tr2);
          el("td", null, fmt(m, 0) + " m² (" + fmt(m / 10000, 2) + " ha)", tr2);
        }
      }
      return box;
    };
  }

  function styleOf(ld, i, map) {
    var d = ld.dict, s = d.style, by = ld.cols[d.by] ? ld.cols[d.by][i] : -1, color = by >= 0 ? d.byColors[by] : d.noValue;
    var status = ld.cols.status ? ld.cols.status[i] : -1;
    var code = status >= 0 && d.statusCodes ? d.statusCodes[status] : null;
    var o = {color: color, weight: s.weight, opacity: 0.9, fillColor: color, fillOpacity: s.fillOpacity};
    if (code && s.statusOpacity[code] !== undefined) o.fillOpacity = s.statusOpacity[code];
    if (s.lineDash) {
      o.dashArray = s.lineDash;
      if (code && s.dash.indexOf(code) >= 0) o.opacity = 0.45;
    } else if (code && s.dash.indexOf(code) >= 0 && d.family !== "point") {
      o.dashArray = "8 6";
    }
    if (ld.selectedSet) {
      if (ld.selectedSet[i]) {
        o.color = SELECTED; o.weight = 3.5; o.fillOpacity = 0.12; o.opacity = 1;
      } else {
        o.opacity = 0.35; o.fillOpacity = 0.02;
      }
    }
    if (ld.highlightSet && ld.highlightSet[i]) {
      o.color = HIGHLIGHT; o.weight = s.weight + 3; o.opacity = 1;
    }
    if (d.family === "point") o.radius = pointRadius(s.radius, map.getZoom());
    return o;
  }

  /* Points are small when the map shows the whole city and grow as one zooms in. */
  function pointRadius(base, zoom) {
    return base * Math.max(0.5, Math.min(2, Math.pow(2, (zoom - 14) / 2)));
  }

  function makePaths(ld, map) {
    var st = state(map), fg = L.featureGroup();
    // a layer switched on with none of its features within the budget sends no geometry
    var feats = ld.shown ? decodeGeometry(ld.geometry, ld.dict.family) : [];
    var opts = {renderer: st.canvas, bubblingMouseEvents: true};
    feats.forEach(function (parts, i) {
      var path, o = L.extend(styleOf(ld, i, map), opts, {ngLayer: ld.name});
      if (ld.dict.family === "point") {
        path = L.circleMarker(parts[0], o);
      } else if (ld.dict.family === "line") {
        path = L.polyline(parts.length === 1 ? parts[0] : parts, o);
      } else {
        path = L.polygon(parts.length === 1 ? parts[0] : parts, o);
      }
      path._ngIndex = i;
      path.feature = {type: "Feature", properties: {id: ld.ids[i], layer: ld.name}};
      fg.addLayer(path);
    });
    return fg;
  }

  function applyStyles(ld, fg, map) {
    fg.eachLayer(function (p) {
      p.setStyle(styleOf(ld, p._ngIndex, map));
      if (p.setRadius && p.options.radius) p.setRadius(p.options.radius);
    });
  }

  function indexSet(list) {
    if (!list || !list.length) return null;
    var s = {};
    list.forEach(function (i) { s[i] = true; });
    return s;
  }

  /* One catalogue layer: `group` is the (folium) feature group it lives in. */
  function layer(map, group, ld) {
    var st = state(map), cached = st.cache[ld.name], fg;
    ld.selectedSet = indexSet(ld.selected);
    ld.highlightSet = indexSet(ld.highlight);
    group._ngName = ld.name;
    st.layers[ld.name] = {group: group, data: ld};
    if (!ld.on) return;
    if (cached && cached.key === ld.key) {
      fg = cached.fg;
      fg.data = ld;
    } else {
      fg = makePaths(ld, map);
      fg.styled = ld;
      st.cache[ld.name] = {key: ld.key, fg: fg};
      fg.bindTooltip(tooltip(fg, map), {sticky: true, className: "ng-tooltip"});
      fg.on("mouseover", function (e) {
        e.layer.setStyle({weight: styleOf(fg.data, e.layer._ngIndex, map).weight + 3, fillOpacity: 0.6});
      });
      fg.on("mouseout", function (e) { e.layer.setStyle(styleOf(fg.data, e.layer._ngIndex, map)); });
      if (ld.dict.units) {
        fg.on("click", function (e) { map.fitBounds(e.layer.getBounds(), {maxZoom: 16}); });
      }
      if (ld.dict.popup) {
        // A popup of the map, not bound to the layer: it stays open while a rerun re-adds the layer.
        var details = tooltip(fg, map);
        fg.on("click", function (e) {
          if (L.DomUtil.hasClass(map.getContainer(), "ng-drawing")) return;  // a click placing a vertex
          L.popup({maxWidth: 380, className: "ng-popup"}).setLatLng(e.latlng).setContent(details(e.layer)).openOn(map);
        });
      }
      fg.data = ld;
    }
    if (fg.styled !== ld) applyStyles(ld, fg, map);
    fg.styled = ld;
    group.addLayer(fg);
    if (ld.labels) labels(map, group, ld);
  }

  /* Names at a point inside each feature (the middle of a line): district names where the
   * district is wide enough on screen ("fit"), others (key areas, rivers) wherever they
   * overlap no name already shown ("always"). */
  function labels(map, group, ld) {
    var at = decodeGeometry(ld.labels, "point"), lg = L.layerGroup();
    var cls = ld.dict.labels === "always" ? "ng-label ng-context" : "ng-label";
    at.forEach(function (parts, i) {
      var span = clipped("span", null, ld.cols.name[i]);
      var m = L.marker(parts[0], {icon: L.divIcon({className: cls, html: span, iconSize: null}),
        interactive: false, keyboard: false});
      m._ngIndex = i;
      lg.addLayer(m);
    });
    group.addLayer(lg);
    group._ngLabels = lg;
  }

  /* Largest districts first; a label is shown where its district is wider and taller on
   * screen than the label and it overlaps no label already shown. */
  function showLabels(map, group) {
    var lg = group._ngLabels, st = state(map), ld = group._ngName && st.layers[group._ngName];
    if (!lg || !ld || !st.cache[group._ngName]) return;
    var boxes = {}, shown = [], markers = lg.getLayers();
    st.cache[group._ngName].fg.eachLayer(function (p) {
      var b = p.getBounds(), a = map.latLngToLayerPoint(b.getSouthWest()), c = map.latLngToLayerPoint(b.getNorthEast());
      boxes[p._ngIndex] = {w: Math.abs(c.x - a.x), h: Math.abs(c.y - a.y)};
    });
    markers.sort(function (m1, m2) {
      var b1 = boxes[m1._ngIndex] || {w: 0, h: 0}, b2 = boxes[m2._ngIndex] || {w: 0, h: 0};
      return b2.w * b2.h - b1.w * b1.h;
    });
    markers.forEach(function (m) {
      var w = 13 * String(ld.data.cols.name[m._ngIndex] || "").length + 6, h = 16, e = m.getElement();
      var box = boxes[m._ngIndex] || {w: 0, h: 0}, at = map.latLngToLayerPoint(m.getLatLng());
      var r = {x0: at.x - w / 2, x1: at.x + w / 2, y0: at.y - h / 2, y1: at.y + h / 2};
      var big = ld.data.dict.labels === "always" || (box.w >= w && box.h >= 2 * h);
      var fits = big && !shown.some(function (o) {
        return r.x0 < o.x1 && o.x0 < r.x1 && r.y0 < o.y1 && o.y0 < r.y1;
      });
      if (fits) shown.push(r);
      if (e) e.style.display = fits ? "" : "none";
    });
  }

  function onZoom(map) {
    var st = state(map);
    Object.keys(st.layers).forEach(function (name) {
      var entry = st.layers[name], c = st.cache[name];
      if (!entry.data.on || !c) return;
      if (entry.data.dict.family === "point") applyStyles(c.fg.data, c.fg, map);
      if (entry.group._ngLabels) showLabels(map, entry.group);
    });
  }

  function report(map) {
    var st = state(map), g = window.__GLOBAL_DATA__, on = {};
    Object.keys(st.layers).forEach(function (n) { on[n] = map.hasLayer(st.layers[n].group); });
    if (g) g.selected_layers = {nanguan: {token: st.token, seq: st.seq, on: on}};
  }

  function onToggle(map, e) {
    var st = state(map), name = e.layer && e.layer._ngName;
    // Only a planner's click in the control counts, not the page replacing its layers.
    if (!name || !st.control || !st.control._handlingClick) return;
    st.seq++;
    report(map);
    var entry = st.layers[name];
    if (e.type === "overlayadd" && entry && !entry.data.on) message(map, st.words.loading);
    legend(map);
  }

  function message(map, text) {
    var st = state(map);
    if (!st.msg) {
      st.msg = L.control({position: "topright"});
      st.msg.onAdd = function () { return el("div", "ng-message"); };
      st.msg.addTo(map);
    }
    var box = st.msg.getContainer();
    box.textContent = text || "";
    box.style.display = text ? "" : "none";
  }

  function swatch(parent, o, family) {
    var ns = "http://www.w3.org/2000/svg", svg = document.createElementNS(ns, "svg"), shape;
    svg.setAttribute("width", "22");
    svg.setAttribute("height", "12");
    if (family === "line") {
      shape = document.createElementNS(ns, "line");
      shape.setAttribute("x1", "1"); shape.setAttribute("y1", "6");
      shape.setAttribute("x2", "21"); shape.setAttribute("y2", "6");
    } else if (family === "point") {
      shape = document.createElementNS(ns, "circle");
      shape.setAttribute("cx", "11"); shape.setAttribute("cy", "6"); shape.setAttribute("r", "4");
    } else {
      shape = document.createElementNS(ns, "rect");
      shape.setAttribute("x", "2"); shape.setAttribute("y", "1");
      shape.setAttribute("width", "18"); shape.setAttribute("height", "10");
    }
    shape.setAttribute("stroke", o.color);
    shape.setAttribute("stroke-width", String(Math.min(o.weight, 4)));
    shape.setAttribute("stroke-opacity", String(o.opacity));
    shape.setAttribute("fill", family === "line" ? "none" : o.fillColor);
    shape.setAttribute("fill-opacity", String(o.fillOpacity));
    if (o.dashArray) shape.setAttribute("stroke-dasharray", family === "line" ? o.dashArray : "3 2");
    svg.appendChild(shape);
    parent.appendChild(svg);
  }

  /* The legend: only layers switched on and holding features; one entry per value drawn. */
  function legend(map) {
    var st = state(map);
    if (!st.legend) {
      st.legend = L.control({position: "bottomleft"});
      st.legend.onAdd = function () {
        var div = el("details", "ng-legend");
        div.open = true;
        L.DomEvent.disableClickPropagation(div);
        L.DomEvent.disableScrollPropagation(div);
        return div;
      };
      st.legend.addTo(map);
    }
    var box = st.legend.getContainer();
    box.textContent = "";
    el("summary", null, st.words.legend, box);
    st.order.forEach(function (name) {
      var entry = st.layers[name], ld = entry.data, d = ld.dict, s = d.style, sec;
      if (!map.hasLayer(entry.group) || !ld.on || !ld.shown) return;
      sec = el("div", "ng-legend-layer", null, box);
      sec.setAttribute("data-layer", name);
      el("h4", null, d.label, sec);
      d.byNames.forEach(function (label, k) {
        if (ld.present.indexOf(k) < 0) return;
        var item = el("div", "ng-item", null, sec), o = {color: d.byColors[k], fillColor: d.byColors[k],
          weight: s.weight, opacity: 0.9, fillOpacity: s.fillOpacity, dashArray: s.lineDash || null};
        if (d.by === "status" && s.dash.indexOf(d.statusCodes[k]) >= 0 && !s.lineDash) o.dashArray = "8 6";
        swatch(item, o, d.family);
        el("span", null, label, item);
      });
      if (ld.missing) {
        var none = el("div", "ng-item", null, sec);
        swatch(none, {color: d.noValue, fillColor: d.noValue, weight: s.weight, opacity: 0.9,
          fillOpacity: s.fillOpacity, dashArray: s.lineDash || null}, d.family);
        el("span", null, st.words.noValue, none);
      }
      if (d.by !== "status" && d.statusCodes && d.family !== "point") {
        d.statusCodes.forEach(function (code, k) {
          var depth = s.statusOpacity[code], dashed = s.dash.indexOf(code) >= 0;
          if (ld.statusPresent.indexOf(k) < 0 || (depth === undefined && !dashed)) return;
          var item = el("div", "ng-item", null, sec), o = {color: "#555555", fillColor: "#5a5a5a", weight: 2,
            opacity: dashed && s.lineDash ? 0.45 : 0.9, fillOpacity: depth === undefined ? 0 : depth,
            dashArray: s.lineDash || (dashed ? "8 6" : null)};
          swatch(item, o, d.family);
          el("span", null, d.statusNames[k], item);
        });
      }
    });
  }

  /* Called once per (re)draw after every layer: control, legend, budget note, fit. */
  function finish(map, meta) {
    var st = state(map);
    st.words = meta.words;
    st.order = meta.order;
    setTimeout(function () {
      var overlays = {};
      st.order.forEach(function (name) {
        var entry = st.layers[name];
        if (!entry) return;
        overlays[entry.data.dict.label + " (" + fmt(entry.data.total, 0) + ")"] = entry.group;
        if (entry.data.on && !map.hasLayer(entry.group)) map.addLayer(entry.group);
        if (!entry.data.on && map.hasLayer(entry.group)) map.removeLayer(entry.group);
      });
      if (st.control) map.removeControl(st.control);
      st.control = L.control.layers(null, overlays, {collapsed: false, sortLayers: false}).addTo(map);
      message(map, meta.message);
      legend(map);
      onZoom(map);
      report(map);
      if (meta.fit && meta.fit.id !== st.fitted) {
        st.fitted = meta.fit.id;
        map.fitBounds(meta.fit.bounds, {maxZoom: 16, animate: false});  /* the first view, not a move */
      }
      st.ready = true;
    }, 0);
  }

  /* A basemap that cannot load says so on the map, once. */
  function watchTiles(map, words) {
    map.eachLayer(function (t) { watchTile(map, words, t); });
    map.on("layeradd", function (e) { watchTile(map, words, e.layer); });
  }

  function watchTile(map, words, t) {
    if (!(t instanceof L.TileLayer) || t._ngWatched) return;
    t._ngWatched = true;
    (function () {
      var errors = 0, loaded = 0;
      t.on("tileload", function () { loaded++; });
      t.on("tileerror", function () {
        errors++;
        if (errors >= 3 && loaded === 0 && !map._ngTileNote) {
          map._ngTileNote = L.control({position: "topright"});
          map._ngTileNote.onAdd = function () { return el("div", "ng-message ng-tile-error", words.tiles); };
          map._ngTileNote.addTo(map);
        }
      });
    })();
  }

  /* Counts for tests and benchmarks: features of each layer held by the canvas renderer. */
  function drawn(map) {
    var out = {}, r = state(map).canvas;
    Object.keys(r._layers || {}).forEach(function (k) {
      var n = r._layers[k].options.ngLayer;
      if (n) out[n] = (out[n] || 0) + 1;
    });
    return out;
  }

  window.nanguan = {decodeInts: decodeInts, decodeGeometry: decodeGeometry, layer: layer, finish: finish,
    watchTiles: watchTiles, drawn: drawn, state: state};
})();
