// The flame graph's behaviour (jitprof/export/flame.py writes the SVG it drives): click a
// frame to zoom, Reset zoom (or Escape), Search (a regular expression, case-insensitive
// unless it has an upper-case letter; Ctrl-F or / in a lone SVG; ?s=TERM in the address)
// highlighting the matches with their combined share, and a status line for the frame
// under the pointer. Frame positions come from data-x / data-w (weight offset and weight)
// and data-d (depth), so a zoom is exact whatever was rounded for drawing.
// The search share counts each stack once: the union of the matches' weight intervals
// (a match nested in another adds nothing), and "self" sums the matches' own weight
// (data-s: samples that end in that frame), which never overlap.
"use strict";
function jitprofFlame(svg, hooks) {
  hooks = hooks || {};
  var NS = "http://www.w3.org/2000/svg";
  var MATCH = "#e040fb";
  var total = +svg.getAttribute("data-total");
  var W = +svg.getAttribute("data-width");
  var pad = +svg.getAttribute("data-pad");
  var charW = +svg.getAttribute("data-char");
  var note = svg.getAttribute("data-note") || "";
  var id = svg.getAttribute("id");
  var status = svg.getElementById ? svg.getElementById(id + "-status") : null;
  function byId(s) { return svg.querySelector("#" + id + "-" + s); }
  status = byId("status");
  var matchedText = byId("matched");
  var resetBtn = byId("reset");
  var searchBtn = byId("search");
  var clearBtn = byId("clear");
  var frames = [];
  var nodes = svg.querySelectorAll("g.f");
  for (var i = 0; i < nodes.length; i++) {
    var g = nodes[i];
    var title = g.querySelector("title");
    var lines = title ? title.textContent.split("\n") : [""];
    var rect = g.querySelector("rect");
    frames.push({
      g: g, rect: rect, text: g.querySelector("text"), index: i,
      x: +g.getAttribute("data-x"), w: +g.getAttribute("data-w"),
      d: +g.getAttribute("data-d"), s: +g.getAttribute("data-s"),
      fid: g.hasAttribute("data-f") ? +g.getAttribute("data-f") : -1,
      merged: g.hasAttribute("data-m"), name: lines[0], lines: lines,
      fill: rect.getAttribute("fill")
    });
    g.setAttribute("data-i", String(i));
  }
  // the real advance of the font drawn, when it can be measured
  try {
    var probe = document.createElementNS(NS, "text");
    probe.textContent = "MMMMMMMMMMMMMMMMMMMM";
    svg.querySelector("g.frames").appendChild(probe);
    var len = probe.getComputedTextLength();
    probe.parentNode.removeChild(probe);
    if (len > 0) charW = len / 20;
  } catch (e) { /* keep the writer's estimate */ }

  function clip(name, px) {
    var n = Math.floor((px - 6) / charW);
    if (n < 2) return "";
    return name.length <= n ? name : name.slice(0, n - 1) + "\u2026";
  }
  function inkFor(fill) {
    var r = parseInt(fill.slice(1, 3), 16), g = parseInt(fill.slice(3, 5), 16),
      b = parseInt(fill.slice(5, 7), 16);
    return 0.299 * r + 0.587 * g + 0.114 * b >= 140 ? "#000000" : "#ffffff";
  }
  function label(f, px) {
    var t = clip(f.merged ? "\u2026" : f.name, px);
    if (!t) { if (f.text) f.text.textContent = ""; return; }
    if (!f.text) {
      f.text = document.createElementNS(NS, "text");
      f.text.setAttribute("y", String(+f.rect.getAttribute("y") + (+f.rect.getAttribute("height")) - 3));
      f.text.setAttribute("fill", inkFor(f.fill));
      f.g.appendChild(f.text);
    }
    f.text.setAttribute("x", (+f.rect.getAttribute("x") + 3).toFixed(2));
    f.text.textContent = t;
  }

  var zoomed = frames.length ? frames[0] : null;
  function zoom(f) {
    if (typeof f === "number") f = frames[f];
    if (!f) return;
    var x0 = f.x, w0 = f.w, d0 = f.d, k = w0 > 0 ? W / w0 : 0;
    for (var i = 0; i < frames.length; i++) {
      var e = frames[i], cls = e.merged ? "f m" : "f";
      if (e.d < d0) {
        if (e.x <= x0 && e.x + e.w >= x0 + w0) {
          e.rect.setAttribute("x", String(pad));
          e.rect.setAttribute("width", W.toFixed(2));
          if (f !== frames[0]) cls += " anc";
          label(e, W);
        } else cls += " hide";
      } else if (e.x >= x0 && e.x + e.w <= x0 + w0) {
        var px = e.w * k;
        e.rect.setAttribute("x", (pad + (e.x - x0) * k).toFixed(2));
        e.rect.setAttribute("width", px.toFixed(2));
        label(e, px);
      } else cls += " hide";
      if (e === selected) cls += " sel";
      e.g.setAttribute("class", cls);
    }
    zoomed = f;
    if (resetBtn) resetBtn.setAttribute("visibility", f === frames[0] ? "hidden" : "visible");
    if (hooks.onZoom) hooks.onZoom(f);
  }
  function reset() { zoom(frames[0]); }

  function pct(w) { return total > 0 ? (100 * w / total).toFixed(2) + "%" : "0.00%"; }
  function matcher(term) {
    var flags = /[A-Z]/.test(term) ? "" : "i";
    try { var rx = new RegExp(term, flags); return function (s) { return rx.test(s); }; }
    catch (e) {
      var needle = flags ? term.toLowerCase() : term;
      return function (s) { return (flags ? s.toLowerCase() : s).indexOf(needle) >= 0; };
    }
  }
  var lastSearch = null;
  function search(term) {
    if (!term) { clear(); return null; }
    var m = matcher(term);
    return searchWith(function (e) { return m(e.name); }, term);
  }
  // highlight the frames of one function (a page's table row): its total share
  function highlight(fid) {
    return searchWith(function (e) { return e.fid === fid; }, "");
  }
  function searchWith(pred, term) {
    var spans = [], self = 0, count = 0;
    for (var i = 0; i < frames.length; i++) {
      var e = frames[i];
      var hit = !e.merged && i > 0 && pred(e);
      e.rect.setAttribute("fill", hit ? MATCH : e.fill);
      if (hit) { spans.push([e.x, e.x + e.w]); self += e.s; count++; }
    }
    spans.sort(function (a, b) { return a[0] - b[0]; });
    var covered = 0, end = -Infinity;
    for (var j = 0; j < spans.length; j++) {
      var a = spans[j][0], b = spans[j][1];
      if (a >= end) { covered += b - a; end = b; }
      else if (b > end) { covered += b - end; end = b; }
    }
    lastSearch = { term: term, total: covered, self: self, frames: count,
                   totalPct: total ? 100 * covered / total : 0,
                   selfPct: total ? 100 * self / total : 0 };
    if (matchedText) {
      matchedText.textContent = "Matched " + pct(covered) + " (self " + pct(self) + ", " +
        count + " frames)" + (note ? " " + note : "");
    }
    if (clearBtn) clearBtn.setAttribute("visibility", "visible");
    if (hooks.onSearch) hooks.onSearch(lastSearch);
    return lastSearch;
  }
  function clear() {
    for (var i = 0; i < frames.length; i++) frames[i].rect.setAttribute("fill", frames[i].fill);
    if (matchedText) matchedText.textContent = " ";
    if (clearBtn) clearBtn.setAttribute("visibility", "hidden");
    lastSearch = null;
    if (hooks.onSearch) hooks.onSearch(null);
  }
  function askSearch() {
    var term = window.prompt("Search frames (a regular expression; case-insensitive " +
                             "unless it has an upper-case letter)", lastSearch ? lastSearch.term : "");
    if (term !== null) search(term);
  }

  var selected = null;
  function select(f) {
    if (selected) selected.g.setAttribute("class", selected.g.getAttribute("class").replace(" sel", ""));
    selected = f;
    if (f) f.g.setAttribute("class", f.g.getAttribute("class") + " sel");
  }
  function show(f) {
    if (!status) return;
    status.textContent = f ? clip(f.lines.join(" \u00b7 "), W + 6) || " " : " ";
  }
  function frameOf(ev) {
    var g = ev.target;
    while (g && g !== svg && !(g.getAttribute && g.hasAttribute("data-i"))) g = g.parentNode;
    return g && g !== svg ? frames[+g.getAttribute("data-i")] : null;
  }
  var area = svg.querySelector("g.frames");
  area.addEventListener("click", function (ev) {
    var f = frameOf(ev);
    if (!f) return;
    if (f.merged) { show(f); return; }
    select(f);
    zoom(f);
    if (hooks.onClick) hooks.onClick(f);
  });
  area.addEventListener("mouseover", function (ev) { show(frameOf(ev)); });
  area.addEventListener("mouseout", function () { show(null); });
  if (resetBtn) resetBtn.addEventListener("click", reset);
  if (searchBtn) searchBtn.addEventListener("click", askSearch);
  if (clearBtn) clearBtn.addEventListener("click", clear);
  if (hooks.standalone) {
    document.addEventListener("keydown", function (ev) {
      if ((ev.ctrlKey && ev.key === "f") || ev.key === "/") { ev.preventDefault(); askSearch(); }
      else if (ev.key === "Escape") reset();
    });
    var q = /[?&]s=([^&]*)/.exec(window.location.search || "");
    if (q) search(decodeURIComponent(q[1].replace(/\+/g, " ")));
  }
  var api = { frames: frames, zoom: zoom, reset: reset, search: search, clear: clear,
              highlight: highlight,
              select: select, total: total, width: W,
              zoomed: function () { return zoomed; },
              lastSearch: function () { return lastSearch; } };
  svg.jitprof = api;
  return api;
}
