// OpsLake web UI: line items (add/remove rows), live line totals, quick hints from the
// browser's own constraint checks. Everything works without it; the server validates.
(function () {
  "use strict";
  function renumber(table) {
    var counter = parseInt(table.getAttribute("data-next") || "0", 10);
    table.setAttribute("data-next", String(counter + 1));
    return counter;
  }
  document.addEventListener("click", function (event) {
    var add = event.target.closest("[data-add-row]");
    if (add) {
      var table = document.getElementById(add.getAttribute("data-add-row"));
      var template = document.getElementById(add.getAttribute("data-add-row") + "-template");
      var index = renumber(table);
      var html = template.innerHTML.replace(/__i__/g, String(index));
      var body = table.querySelector("tbody");
      body.insertAdjacentHTML("beforeend", html);
      var first = body.lastElementChild.querySelector("input, select, textarea");
      if (first) { first.focus(); }
      return;
    }
    var remove = event.target.closest("[data-remove-row]");
    if (remove) {
      var row = remove.closest("tr");
      var tbody = row.parentElement;
      if (tbody.children.length > 1) { row.remove(); } else {
        row.querySelectorAll("input, select, textarea").forEach(function (el) { el.value = ""; });
      }
      var focus = tbody.querySelector("input, select, textarea");
      if (focus) { focus.focus(); }
    }
  });
  // line totals: quantity × unit_price shown as you type (the server computes the stored value)
  document.addEventListener("input", function (event) {
    var row = event.target.closest("tr[data-row]");
    if (!row) { return; }
    var q = row.querySelector("[name$='.quantity']");
    var p = row.querySelector("[name$='.unit_price']");
    var out = row.querySelector("output[data-formula]");
    if (q && p && out && q.value !== "" && p.value !== "") {
      var total = parseFloat(q.value) * parseFloat(p.value);
      out.textContent = isFinite(total) ? total.toFixed(2) : "";
    }
  });
  // browser hints: after leaving a field, show its constraint message next to it
  document.addEventListener("focusout", function (event) {
    var el = event.target;
    if (!el.form || !el.form.hasAttribute("data-hints") || !el.willValidate) { return; }
    var hint = document.getElementById(el.id + "-hint");
    if (!hint) { return; }
    if (el.value !== "" && !el.checkValidity()) {
      hint.textContent = el.validationMessage;
      el.setAttribute("aria-invalid", "true");
    } else {
      hint.textContent = "";
      if (!document.getElementById(el.id + "-error")) { el.removeAttribute("aria-invalid"); }
    }
  });
})();
