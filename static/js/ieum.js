/* Ieum's page behaviour without a framework: the collapsible main menu at narrow widths and
   list tables that scroll inside their own (keyboard-focusable) box instead of the page. */
(function () {
  "use strict";

  function setUpMenu() {
    var button = document.getElementById("ieum-menu-btn");
    var menu = document.getElementById("ieum-menu");
    if (!button || !menu) return;
    function setOpen(open) {
      menu.classList.toggle("is-open", open);
      button.setAttribute("aria-expanded", open ? "true" : "false");
    }
    button.addEventListener("click", function () {
      setOpen(button.getAttribute("aria-expanded") !== "true");
    });
    document.addEventListener("keydown", function (event) {
      if (event.key === "Escape" && button.getAttribute("aria-expanded") === "true") {
        setOpen(false);
        button.focus();
      }
    });
  }

  function tableName(table) {
    var caption = table.querySelector("caption");
    if (caption && caption.textContent.trim()) return caption.textContent.trim();
    var node = table;
    while (node && node !== document.body) {
      var prev = node.previousElementSibling;
      while (prev) {
        if (/^H[1-6]$/.test(prev.tagName)) return prev.textContent.trim();
        prev = prev.previousElementSibling;
      }
      node = node.parentElement;
    }
    return document.body.getAttribute("data-table-label") || "";
  }

  var boxes = [];

  /* Only a box that scrolls is a stop for the keyboard, named after its table ("의뢰 표"). */
  function markScrolling(box) {
    if (box.scrollWidth > box.clientWidth + 1) {
      var label = document.body.getAttribute("data-table-label") || "";
      var name = box.getAttribute("data-table-name");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", name && name !== label ? name + " " + label : label);
    } else {
      box.removeAttribute("tabindex");
      box.removeAttribute("role");
      box.removeAttribute("aria-label");
    }
  }

  function wrapTables(root) {
    var tables = root.querySelectorAll("table.tbl");
    Array.prototype.forEach.call(tables, function (table) {
      var parent = table.parentElement;
      if (!parent || parent.classList.contains("ieum-table-scroll")) return;
      var box;
      if (parent.classList.contains("krds-table-wrap") && parent.children.length === 1) {
        box = parent;
      } else {
        box = document.createElement("div");
        parent.insertBefore(box, table);
        box.appendChild(table);
      }
      box.classList.add("ieum-table-scroll");
      box.setAttribute("data-table-name", tableName(table));
      boxes.push(box);
      markScrolling(box);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    setUpMenu();
    wrapTables(document);
    // A swap replaces the element that had the keyboard focus (a sort link in a list's
    // header): the focus goes back to its new twin, found by id, instead of the page's start.
    var focused = null;
    document.body.addEventListener("htmx:beforeSwap", function () {
      var active = document.activeElement;
      focused = active && active.id ? active.id : null;
    });
    document.body.addEventListener("htmx:afterSettle", function () {
      boxes = boxes.filter(function (box) { return box.isConnected; });
      wrapTables(document);
      if (focused && (!document.activeElement || document.activeElement === document.body)) {
        var again = document.getElementById(focused);
        if (again) again.focus();
      }
      focused = null;
    });
    window.addEventListener("resize", function () {
      boxes.forEach(markScrolling);
    });
  });
})();
