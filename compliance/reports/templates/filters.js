(function () {
  "use strict";
  var bar = document.getElementById("toolbar");
  if (!bar) { return; }
  var noun = bar.getAttribute("data-noun") || "items";
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-filter-item]"));
  var counted = items.filter(function (el) { return el.hasAttribute("data-counted"); });
  var buttons = Array.prototype.slice.call(bar.querySelectorAll("button[data-show]"));
  var search = bar.querySelector("input[type=search]");
  var count = bar.querySelector(".count");
  var texts = items.map(function (el) { return el.textContent.toLowerCase(); });
  var state = { status: "all", text: "" };

  function apply() {
    var shown = 0;
    items.forEach(function (el, i) {
      var ok = (state.status === "all" || el.getAttribute("data-status") === state.status) &&
        (state.text === "" || texts[i].indexOf(state.text) !== -1);
      el.hidden = !ok;
      if (ok && el.hasAttribute("data-counted")) { shown += 1; }
    });
    buttons.forEach(function (b) {
      b.setAttribute("aria-pressed", String(b.getAttribute("data-show") === state.status));
    });
    count.textContent = shown + " of " + counted.length + " " + noun + " shown";
  }

  function details(open) {
    Array.prototype.forEach.call(document.querySelectorAll("main details"), function (d) {
      d.open = open;
    });
  }

  buttons.forEach(function (b) {
    b.addEventListener("click", function () {
      state.status = b.getAttribute("data-show");
      apply();
    });
  });
  search.addEventListener("input", function () {
    state.text = search.value.trim().toLowerCase();
    apply();
  });
  bar.querySelector("[data-details=open]").addEventListener("click", function () {
    details(true);
  });
  bar.querySelector("[data-details=close]").addEventListener("click", function () {
    details(false);
  });

  // A link to a hidden item clears the filter so the target is on screen.
  function reveal() {
    var id = decodeURIComponent(window.location.hash.slice(1));
    var target = id && document.getElementById(id);
    if (target && target.closest("[hidden]")) {
      state = { status: "all", text: "" };
      search.value = "";
      apply();
      target.scrollIntoView();
    }
  }
  window.addEventListener("hashchange", reveal);

  // Print everything, as an auditor files it; restore the screen state afterwards.
  var closed = [];
  window.addEventListener("beforeprint", function () {
    closed = Array.prototype.filter.call(document.querySelectorAll("details"), function (d) {
      return !d.open;
    });
    closed.forEach(function (d) { d.open = true; });
  });
  window.addEventListener("afterprint", function () {
    closed.forEach(function (d) { d.open = false; });
    closed = [];
  });

  bar.hidden = false;
  apply();
  reveal();
})();
