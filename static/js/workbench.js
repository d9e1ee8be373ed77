/* casemgr's workbench: small helps on the staff pages, our own script, no library.
 *
 * Everything here only adds to pages that work without it:
 * - the queue's filters apply as they are chosen (the Filter button still works);
 * - "select all on this page", and the bulk bar shows the chosen action's fields only;
 * - a copy button beside each shortened URL;
 * - keyboard shortcuts on the queue and the case page (docs/staff-guide.md),
 *   listed in the page's help panel (press "?"). They never fire while typing.
 */
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  function all(selector, root) {
    return Array.prototype.slice.call((root || document).querySelectorAll(selector));
  }

  // --- filters that apply as they are chosen
  all("form[data-autosubmit]").forEach(function (form) {
    all("select", form).forEach(function (select) {
      select.addEventListener("change", function () {
        if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
      });
    });
  });

  // --- copy buttons
  all("button.copy[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) { return; }
    button.hidden = false;
    button.addEventListener("click", function () {
      var done = button.textContent;
      navigator.clipboard.writeText(button.getAttribute("data-copy")).then(function () {
        button.classList.add("copied");
        button.setAttribute("aria-live", "polite");
        window.setTimeout(function () { button.classList.remove("copied"); }, 1500);
      }, function () {
        button.textContent = done;
      });
    });
  });

  // --- selection: all on this page
  all("input.pick-page").forEach(function (master) {
    var table = master.closest("table");
    var boxes = all("tbody td.pick input[type=checkbox]", table);
    if (!boxes.length) { return; }
    master.hidden = false;
    function sync() {
      var ticked = boxes.filter(function (box) { return box.checked; }).length;
      master.checked = ticked === boxes.length;
      master.indeterminate = ticked > 0 && ticked < boxes.length;
    }
    master.addEventListener("change", function () {
      boxes.forEach(function (box) { box.checked = master.checked; });
    });
    boxes.forEach(function (box) { box.addEventListener("change", sync); });
    sync();
  });

  // --- the bulk bar: the chosen action's fields only
  all("[data-bulk]").forEach(function (bar) {
    var choice = bar.querySelector("select[data-bulk-action]");
    var details = bar.querySelector("details.bulk-fields");
    if (!choice || !details) { return; }
    function show() {
      var any = false;
      all("fieldset[data-for-action]", details).forEach(function (fieldset) {
        var mine = fieldset.getAttribute("data-for-action") === choice.value;
        fieldset.hidden = !mine;
        any = any || mine;
      });
      details.hidden = !any;
      if (any) { details.open = true; }
    }
    choice.addEventListener("change", show);
    show();
  });

  // --- keyboard
  var help = document.getElementById("shortcuts");

  function toggleHelp(force) {
    if (!help) { return; }
    help.hidden = force === undefined ? !help.hidden : !force;
    if (!help.hidden) { help.focus(); }
  }
  if (help) {
    help.setAttribute("tabindex", "-1");
    all("[data-close-shortcuts]", help).forEach(function (button) {
      button.addEventListener("click", function () { toggleHelp(false); });
    });
    all("[data-shortcuts-hint]").forEach(function (hint) { hint.hidden = false; });
  }

  // Fields that take keys themselves: text of any kind, choices in a list.
  var KEYLESS_INPUTS = ["checkbox", "radio", "button", "submit", "reset", "image"];

  function typing(target) {
    if (!target || !target.tagName) { return false; }
    var tag = target.tagName.toLowerCase();
    if (tag === "input") { return KEYLESS_INPUTS.indexOf(target.type) < 0; }
    return tag === "textarea" || tag === "select" || target.isContentEditable;
  }

  function follow(link) {
    if (link && link.href) { window.location.assign(link.href); }
  }

  var rows = all("table[data-rows] tbody tr").filter(function (row) {
    return row.querySelector("[data-open], td.pick input");
  });
  var current = -1;

  function focusRow(index) {
    if (!rows.length) { return; }
    index = Math.max(0, Math.min(rows.length - 1, index));
    if (current >= 0 && rows[current]) { rows[current].classList.remove("focused"); }
    current = index;
    var row = rows[current];
    row.classList.add("focused");
    row.setAttribute("tabindex", "-1");
    row.focus({ preventScroll: true });
    row.scrollIntoView({ block: "nearest" });
  }

  rows.forEach(function (row, index) {
    row.addEventListener("focusin", function () {
      if (current !== index) {
        if (current >= 0 && rows[current]) { rows[current].classList.remove("focused"); }
        current = index;
        row.classList.add("focused");
      }
    });
  });

  // Back from a case (#case-42): the row it was is the focused one.
  if (window.location.hash && rows.length) {
    var target = document.getElementById(window.location.hash.slice(1));
    var found = rows.indexOf(target);
    if (found >= 0) { focusRow(found); }
  }

  function onRows(key) {
    var row = rows[current];
    switch (key) {
      case "j": focusRow(current + 1); return true;
      case "k": focusRow(current < 0 ? 0 : current - 1); return true;
      case "x":
        if (!row) { return false; }
        var box = row.querySelector("td.pick input[type=checkbox]");
        if (box) { box.click(); }
        return true;
      case "Enter":
        // On a link or a button inside the row, Enter does what it always does.
        if (!row || document.activeElement !== row) { return false; }
        follow(row.querySelector("[data-open]"));
        return true;
      case "o":
        if (!row) { return false; }
        follow(row.querySelector("[data-open]"));
        return true;
      case "t":
        if (!row) { return false; }
        var take = row.querySelector("button[data-take]");
        if (take) { take.click(); }
        return true;
    }
    return false;
  }

  function onCase(key) {
    switch (key) {
      case "j": follow(document.querySelector("a[data-shortcut=next]")); return true;
      case "k": follow(document.querySelector("a[data-shortcut=previous]")); return true;
      case "u": follow(document.querySelector("a[data-shortcut=queue]")); return true;
      case "t": return submitAction("assign", "form#take button[type=submit], [data-shortcut=take]");
      case "a": return openAction("assess");
    }
    return false;
  }

  function actionForm(action) {
    var ending = "/actions/" + action;
    return all("form[action]").filter(function (form) {
      var path = form.getAttribute("action").split("?")[0];
      return path.slice(-ending.length) === ending;
    })[0];
  }

  function submitAction(action, preferred) {
    var button = document.querySelector(preferred);
    if (button) { button.click(); return true; }
    var form = actionForm(action);
    if (!form) { return false; }
    if (form.requestSubmit) { form.requestSubmit(); } else { form.submit(); }
    return true;
  }

  function openAction(action) {
    var form = actionForm(action);
    if (!form) { return false; }
    var details = form.closest("details");
    if (details) { details.open = true; }
    form.scrollIntoView({ block: "nearest" });
    var first = form.querySelector("select, input:not([type=hidden]), textarea");
    if (first) { first.focus(); }
    return true;
  }

  var onCasePage = !!document.querySelector(".case-nav");

  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey) { return; }
    if (typing(event.target)) { return; }
    var key = event.key;
    if (key === "?") { toggleHelp(); event.preventDefault(); return; }
    if (key === "Escape") { toggleHelp(false); return; }
    if (key.length > 1 && key !== "Enter") { return; }
    var handled = onCasePage ? onCase(key) : rows.length && onRows(key);
    if (handled) { event.preventDefault(); }
  });
})();
