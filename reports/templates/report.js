(function () {
  "use strict";
  // Everything here only adds to a page that is complete without it:
  // tables stay plain tables, commands stay selectable text.
  var doc = document;
  doc.documentElement.className += " js";

  function each(list, fn) { Array.prototype.forEach.call(list, fn); }

  function cellKey(row, i) {
    var c = row.cells[i];
    if (!c) { return ""; }
    var k = c.getAttribute("data-sort");
    return k !== null ? k : c.textContent.trim();
  }

  function compare(a, b) {
    var x = parseFloat(a), y = parseFloat(b);
    if (a !== "" && b !== "" && isFinite(a) && isFinite(b)) { return x - y; }
    return a.localeCompare(b, undefined, { numeric: true, sensitivity: "base" });
  }

  function sortBy(table, i, th) {
    var body = table.tBodies[0];
    var dir = th.getAttribute("aria-sort") === "ascending" ? "descending" : "ascending";
    each(table.tHead.rows[0].cells, function (h) { h.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", dir);
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (r1, r2) {
      var d = compare(cellKey(r1, i), cellKey(r2, i));
      return dir === "ascending" ? d : -d;
    });
    each(rows, function (r) { body.appendChild(r); });
  }

  each(doc.querySelectorAll("table.data"), function (table) {
    if (!table.tHead || !table.tBodies.length) { return; }
    var rows = Array.prototype.slice.call(table.tBodies[0].rows);
    var input = doc.createElement("input");
    input.type = "search";
    input.className = "filter";
    input.placeholder = "Filter these " + rows.length + " rows";
    input.setAttribute("aria-label", "Filter the rows of this table");
    var count = doc.createElement("span");
    count.className = "count";
    var wrap = table.parentNode;
    var outer = wrap.parentNode.className === "tablescroll" ? wrap.parentNode : wrap;
    outer.parentNode.insertBefore(input, outer);
    outer.parentNode.insertBefore(count, outer);
    if (outer !== wrap) { scrollHint(outer, wrap, count); }
    input.addEventListener("input", function () {
      var q = input.value.toLowerCase(), shown = 0;
      each(rows, function (r) {
        var hit = !q || r.textContent.toLowerCase().indexOf(q) >= 0;
        r.hidden = !hit;
        if (hit) { shown++; }
      });
      count.textContent = q ? shown + " of " + rows.length + " rows" : "";
    });
    each(table.tHead.rows[0].cells, function (th, i) {
      th.className += " sortable";
      th.tabIndex = 0;
      th.title = "Sort by this column";
      th.addEventListener("click", function () { sortBy(table, i, th); });
      th.addEventListener("keydown", function (e) {
        if (e.key === "Enter" || e.key === " ") { e.preventDefault(); sortBy(table, i, th); }
      });
    });
  });

  // A table wider than its box says so: a caption next to its filter,
  // and a shade at each edge it continues past.
  function scrollHint(outer, wrap, after) {
    var hint = doc.createElement("span");
    hint.className = "scroll-hint";
    hint.textContent = "Wide table: scroll sideways \u2192";
    after.parentNode.insertBefore(hint, after.nextSibling);
    function update() {
      var over = wrap.scrollWidth > wrap.clientWidth + 1;
      var left = wrap.scrollLeft > 1;
      var right = wrap.scrollLeft + wrap.clientWidth < wrap.scrollWidth - 1;
      hint.className = "scroll-hint" + (over ? " shown" : "");
      outer.className = "tablescroll" + (over && left ? " more-left" : "") + (over && right ? " more-right" : "");
    }
    wrap.addEventListener("scroll", update, { passive: true });
    window.addEventListener("resize", update);
    update();
  }

  function copied(button, ok) {
    button.textContent = ok ? "Copied" : "Select and copy";
    setTimeout(function () { button.textContent = "Copy"; }, 1500);
  }

  each(doc.querySelectorAll("pre.remedy"), function (pre) {
    var button = doc.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Copy";
    button.setAttribute("aria-label", "Copy these commands");
    pre.parentNode.insertBefore(button, pre);
    button.addEventListener("click", function () {
      var text = pre.textContent;
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(function () { copied(button, true); },
          function () { copied(button, false); });
        return;
      }
      var range = doc.createRange();
      range.selectNodeContents(pre);
      var sel = window.getSelection();
      sel.removeAllRanges();
      sel.addRange(range);
      var ok = false;
      try { ok = doc.execCommand("copy"); } catch (e) { ok = false; }
      copied(button, ok);
    });
  });
}());
