// The report page (jitprof/export/html.py): a sortable, searchable table (hot functions,
// or a diff's changes), the flame graph (flame.js), and the detail of a clicked function
// (callers and callees, or a diff's numbers). Data: the JSON in #jp-data; numbers are
// formatted by the writer, except the percentages of the hot table (weights / total).
"use strict";
(function () {
  var data = JSON.parse(document.getElementById("jp-data").textContent);
  var svg = document.getElementById("jpflame");
  var LIMIT = 500;  // rows drawn at once

  function el(tag, attrs, text) {
    var e = document.createElement(tag);
    if (attrs) for (var k in attrs) e.setAttribute(k, attrs[k]);
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function matcher(term) {
    if (!term) return null;
    var flags = /[A-Z]/.test(term) ? "" : "i";
    try { var rx = new RegExp(term, flags); return function (s) { return rx.test(s); }; }
    catch (e) {
      var needle = flags ? term.toLowerCase() : term;
      return function (s) { return (flags ? s.toLowerCase() : s).indexOf(needle) >= 0; };
    }
  }
  function base(p) { return p.charAt(0) === "/" ? p.slice(p.lastIndexOf("/") + 1) : p; }
  function pct(w, of) { return of > 0 ? (100 * w / of).toFixed(2) + "%" : "0.00%"; }
  function num(n) { return n.toLocaleString("en-US"); }

  // -- a table: columns {label, key(row) for sorting, cell(row) -> text, num, cls(row)} --
  function Table(root, columns, rows, opts) {
    var self = this;
    this.columns = columns; this.rows = rows; this.opts = opts;
    this.sort = opts.sort; this.desc = opts.desc !== false; this.match = null;
    this.table = el("table", { "class": "grid", id: opts.id });
    var head = el("tr");
    columns.forEach(function (c, i) {
      var th = el("th", { "class": c.num ? "num" : "", "data-col": String(i) }, c.label);
      th.addEventListener("click", function () {
        if (self.sort === i) self.desc = !self.desc;
        else { self.sort = i; self.desc = c.num !== false && c.num !== undefined; }
        self.draw();
      });
      head.appendChild(th);
    });
    var thead = el("thead"); thead.appendChild(head);
    this.table.appendChild(thead);
    this.body = el("tbody");
    this.table.appendChild(this.body);
    var box = el("div", { "class": "scroll" });
    box.appendChild(this.table);
    root.appendChild(box);
    this.more = el("div", { "class": "more" });
    root.appendChild(this.more);
    this.count = opts.count;
    this.draw();
  }
  Table.prototype.filter = function (term) { this.match = matcher(term); this.draw(); };
  Table.prototype.draw = function () {
    var cols = this.columns, c = cols[this.sort], desc = this.desc, match = this.match;
    var name = this.opts.name;
    var idx = [];
    for (var i = 0; i < this.rows.length; i++) {
      if (!match || match(name(this.rows[i]))) idx.push(i);
    }
    var rows = this.rows;
    idx.sort(function (a, b) {
      var ka = c.key(rows[a]), kb = c.key(rows[b]);
      var r = ka < kb ? -1 : ka > kb ? 1 : 0;
      return (desc ? -r : r) || a - b;
    });
    var ths = this.table.querySelectorAll("th");
    for (var j = 0; j < ths.length; j++) {
      ths[j].className = (cols[j].num ? "num " : "") +
        (j === this.sort ? (desc ? "sorted-desc" : "sorted-asc") : "");
    }
    var body = el("tbody");
    var n = Math.min(idx.length, LIMIT);
    for (var k = 0; k < n; k++) {
      var row = rows[idx[k]];
      var tr = el("tr", { "data-r": String(idx[k]) });
      if (row === this.chosen) tr.className = "chosen";
      cols.forEach(function (col) {
        if (col.hidden) return;
        var td = el("td", { "class": (col.num ? "num " : "") + (col.cls ? col.cls(row) : "") },
                    col.cell(row));
        if (col.color) td.style.color = col.color(row);
        tr.appendChild(td);
      });
      body.appendChild(tr);
    }
    this.table.replaceChild(body, this.body);
    this.body = body;
    var self = this;
    body.addEventListener("click", function (ev) {
      var t = ev.target;
      while (t && t.tagName !== "TR") t = t.parentNode;
      if (t && t.hasAttribute("data-r")) self.opts.onPick(self.rows[+t.getAttribute("data-r")], t);
    });
    this.more.textContent = (idx.length > n ? (idx.length - n) + " more rows match: refine the search. " : "") +
      (this.count ? this.count(idx.length) : "");
  };
  Table.prototype.choose = function (row) {
    this.chosen = row;
    var trs = this.body.querySelectorAll("tr");
    for (var i = 0; i < trs.length; i++) {
      trs[i].className = this.rows[+trs[i].getAttribute("data-r")] === row ? "chosen" : "";
    }
  };

  var flame = null;
  var detail = document.getElementById("detail-body");
  var flameNote = document.getElementById("flame-matched");
  function onSearch(r) {
    if (!flameNote) return;
    flameNote.textContent = r ? "matched " + r.totalPct.toFixed(2) + "% of all (self " +
      r.selfPct.toFixed(2) + "%, " + r.frames + " frames)" : "";
  }

  // -- a profile: hot functions, callers/callees -----------------------------------------
  function profilePage() {
    var total = data.total, F = data.functions, NB = data.neighbours;
    var table;
    function fname(fid) { var f = F[fid]; return f ? f[0] : "?"; }
    function showFunction(fid, fromFlame) {
      var f = F[fid];
      if (!f) return;
      var row = byFid[fid];
      if (row && table) table.choose(row);
      while (detail.firstChild) detail.removeChild(detail.firstChild);
      detail.appendChild(el("h3", { "class": "name", id: "detail-name" }, f[0]));
      var st = data.stats[fid];
      var line = f[1] + " \u00b7 " + f[2];
      if (st) line += " \u00b7 self " + pct(st[0], total) + " \u00b7 total " + pct(st[1], total) +
        " \u00b7 " + num(st[3]) + " samples";
      detail.appendChild(el("div", { "class": "muted" }, line));
      (data.full[fid] || []).forEach(function (n) { detail.appendChild(el("div", { "class": "muted" }, "full name: " + n)); });
      var nb = NB[fid];
      if (!nb) {
        detail.appendChild(el("p", { "class": "muted" }, "Callers and callees are kept for the " +
          data.withNeighbours + " heaviest functions only."));
      } else {
        [["Callers", nb[0], nb[2]], ["Callees", nb[1], nb[3]]].forEach(function (part) {
          detail.appendChild(el("h4", {}, part[0] + " (" + (part[1].length + part[2]) + ")"));
          var t = el("table", { "class": "grid", id: "detail-" + part[0].toLowerCase() });
          var h = el("tr");
          ["of function", "of all", "Samples", "Function"].forEach(function (x, i) {
            h.appendChild(el("th", { "class": i < 3 ? "num" : "" }, x));
          });
          var th = el("thead"); th.appendChild(h); t.appendChild(th);
          var tb = el("tbody");
          part[1].forEach(function (n) {
            var tr = el("tr");
            tr.appendChild(el("td", { "class": "num" }, st ? pct(n[1], st[1]) : ""));
            tr.appendChild(el("td", { "class": "num" }, pct(n[1], total)));
            tr.appendChild(el("td", { "class": "num" }, num(n[2])));
            var td = el("td", { "class": "name" });
            var a = el("a", { "class": "fn", "data-f": String(n[0]) }, fname(n[0]));
            td.appendChild(a);
            tr.appendChild(td);
            tb.appendChild(tr);
          });
          t.appendChild(tb);
          detail.appendChild(t);
          if (part[2]) detail.appendChild(el("div", { "class": "more" }, part[2] + " lighter ones not kept"));
        });
        if (nb[4]) detail.appendChild(el("div", { "class": "muted" }, "outermost frame (no caller) in " +
          pct(nb[4], total) + " of all"));
      }
      if (flame && !fromFlame) flame.highlight(fid);
    }
    detail.addEventListener("click", function (ev) {
      var a = ev.target;
      if (a && a.hasAttribute && a.hasAttribute("data-f")) showFunction(+a.getAttribute("data-f"));
    });
    var rows = data.rows;  // [fid, self w, total w, self samples, total samples]
    var byFid = {};
    rows.forEach(function (r) { byFid[r[0]] = r; });
    function K(r) { return F[r[0]]; }
    var cols = [
      { label: "Self", num: true, key: function (r) { return r[1]; }, cell: function (r) { return pct(r[1], total); } },
      { label: "Total", num: true, key: function (r) { return r[2]; }, cell: function (r) { return pct(r[2], total); } },
      { label: "Samples", num: true, key: function (r) { return r[3]; }, cell: function (r) { return num(r[3]); } },
      { label: "Kind", key: function (r) { return K(r)[1]; }, cell: function (r) { return K(r)[1]; },
        color: function (r) { return data.kindColours[K(r)[1]] || "#444444"; } },
      { label: "Function", key: function (r) { return K(r)[0]; }, cell: function (r) { return K(r)[0]; },
        cls: function () { return "name"; } },
      { label: "DSO", key: function (r) { return K(r)[2]; }, cell: function (r) { return base(K(r)[2]); } }
    ];
    table = new Table(document.getElementById("table-box"), cols, rows, {
      id: "hot-table", sort: 0, name: function (r) { return K(r)[0]; },
      onPick: function (r) { showFunction(r[0]); },
      count: function (n) { return n + " of " + rows.length + " functions" +
        (data.all > rows.length ? " (the page keeps the " + rows.length + " heaviest of " + data.all + ")" : ""); }
    });
    document.getElementById("table-search").addEventListener("input", function (ev) { table.filter(ev.target.value); });
    if (svg) {
      flame = jitprofFlame(svg, { onClick: function (f) { if (f.fid >= 0) showFunction(f.fid, true); },
                                  onSearch: onSearch });
    }
    window.jitprofPage = { table: table, flame: flame, show: showFunction };
  }

  // -- a diff: the changes table, a function's numbers -----------------------------------
  function diffPage() {
    var rows = data.rows;  // [name, kind, dso, status, before, after, delta, q, dir, cells, fid]
    var table;
    function showRow(r, fromFlame) {
      if (table) table.choose(r);
      while (detail.firstChild) detail.removeChild(detail.firstChild);
      detail.appendChild(el("h3", { "class": "name", id: "detail-name" }, r[0]));
      var at = rows.indexOf(r);
      var lines = data.lines[at];
      detail.appendChild(el("pre", {}, lines ? lines.join("\n") : ""));
      var nb = data.neighbours[at];
      if (!nb) {
        detail.appendChild(el("p", { "class": "muted" }, "Callers and callees are kept for " +
          "the functions with the largest changes only."));
      } else {
        [["Callers", nb[0], nb[1]], ["Callees", nb[2], nb[3]]].forEach(function (part) {
          detail.appendChild(el("h4", {}, part[0] + " (" + (part[1].length + part[2]) + ")"));
          var t = el("table", { "class": "grid", id: "detail-" + part[0].toLowerCase() });
          var h = el("tr");
          ["Before", "After", "Delta " + data.unit, "Function"].forEach(function (x, i) {
            h.appendChild(el("th", { "class": i < 3 ? "num" : "" }, x));
          });
          var th = el("thead"); th.appendChild(h); t.appendChild(th);
          var tb = el("tbody");
          part[1].forEach(function (n) {
            var tr = el("tr");
            for (var i = 1; i < 4; i++) tr.appendChild(el("td", { "class": "num" }, n[i]));
            var td = el("td", { "class": "name" });
            td.appendChild(el("a", { "class": "fn", "data-f": String(n[0]) }, data.names[n[0]]));
            tr.appendChild(td);
            tb.appendChild(tr);
          });
          t.appendChild(tb);
          detail.appendChild(t);
          if (part[2]) detail.appendChild(el("div", { "class": "more" }, part[2] + " lighter ones not kept"));
        });
      }
      if (flame && !fromFlame && r[10] >= 0) flame.highlight(r[10]);
    }
    detail.addEventListener("click", function (ev) {
      var a = ev.target;
      if (a && a.hasAttribute && a.hasAttribute("data-f")) {
        var r = byFid[+a.getAttribute("data-f")];
        if (r) showRow(r);
      }
    });
    var byFid = {};
    rows.forEach(function (r) { if (r[10] >= 0) byFid[r[10]] = r; });
    function dirCls(r) { return r[8] > 0 ? "up" : r[8] < 0 ? "down" : ""; }
    var C = function (i) { return function (r) { return r[9][i]; }; };
    var cols = [
      { label: "Before", num: true, key: function (r) { return r[4]; }, cell: C(0) },
      { label: "After", num: true, key: function (r) { return r[5]; }, cell: C(1) },
      { label: "Delta " + data.unit, num: true, key: function (r) { return r[6]; }, cell: C(2), cls: dirCls },
      { label: data.ci, num: true, key: function (r) { return r[6]; }, cell: C(3) },
      { label: "Ratio", num: true, key: function (r) { return r[11]; }, cell: C(4) },
      { label: "q", num: true, key: function (r) { return r[7]; }, cell: C(5) },
      { label: "Verdict", key: function (r) { return r[9][6]; }, cell: C(6), cls: dirCls },
      { label: "Kind", key: function (r) { return r[1]; }, cell: function (r) { return r[1]; },
        color: function (r) { return data.kindColours[r[1]] || "#444444"; } },
      { label: "Function", key: function (r) { return r[0]; },
        cell: function (r) { return (r[3] === "both" ? "" : "[" + r[3] + "] ") + r[0]; },
        cls: function () { return "name"; } }
    ];
    var absDelta = { label: "|Delta|", hidden: true, key: function (r) { return Math.abs(r[6]); } };
    table = new Table(document.getElementById("table-box"), cols, rows, {
      id: "changes-table", sort: 2, name: function (r) { return r[0]; },
      onPick: function (r) { showRow(r); },
      count: function (n) { return n + " of " + rows.length + " functions" +
        (data.all > rows.length ? " (the page keeps the " + rows.length + " largest changes of " + data.all + ")" : ""); }
    });
    // the result's order (largest |delta| first) until a header is clicked
    table.columns = cols.concat([absDelta]);
    table.sort = cols.length; table.desc = true; table.draw();
    document.getElementById("table-search").addEventListener("input", function (ev) { table.filter(ev.target.value); });
    if (svg) {
      flame = jitprofFlame(svg, { onClick: function (f) { var r = byFid[f.fid]; if (r) showRow(r, true); },
                                  onSearch: onSearch });
    }
    window.jitprofPage = { table: table, flame: flame, show: showRow };
  }

  var fs = document.getElementById("flame-search");
  if (data.mode === "diff") diffPage(); else profilePage();
  if (fs && flame) fs.addEventListener("input", function (ev) { flame.search(ev.target.value); });
  var sb = svg && svg.querySelector("#jpflame-search");
  if (sb) sb.setAttribute("visibility", "hidden");  // the page has a search box
})();
