/* Small behaviours every page shares (no inline scripts: the pages' policy forbids them). */
(function () {
  'use strict';
  // A form with data-confirm asks before it is sent (cancelling an instance, for one).
  document.addEventListener('submit', function (event) {
    var question = event.target.getAttribute && event.target.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });

  /* Tabs: <div data-tabs> holding a [role=tablist] of [role=tab] buttons, each with
   * aria-controls naming its [role=tabpanel]. Without the script every panel shows, one
   * after the other; with it one panel shows at a time. The open tab is kept in the
   * address's hash (the tab's id), so a reload or a shared link opens it again, and a
   * hash naming something inside a panel (#documents, #incidents) opens that panel.
   * Keyboard: the arrow keys, Home and End move between tabs (WAI-ARIA tabs pattern). */
  function tabsOf(set) {
    return Array.prototype.slice.call(set.querySelectorAll('[role=tab]'));
  }

  function select(set, tab, remember) {
    tabsOf(set).forEach(function (other) {
      var on = other === tab;
      other.setAttribute('aria-selected', on ? 'true' : 'false');
      other.tabIndex = on ? 0 : -1;
      var panel = document.getElementById(other.getAttribute('aria-controls'));
      if (panel) { panel.hidden = !on; }
    });
    var shown = document.getElementById(tab.getAttribute('aria-controls'));
    if (remember && window.history && window.history.replaceState) {
      window.history.replaceState(null, '', '#' + tab.id);
    }
    // The diagram draws itself once its panel is visible (it needs a size to fit).
    if (shown) {
      shown.dispatchEvent(new CustomEvent('sertiflow:shown', { bubbles: true }));
    }
  }

  function fromHash(set) {
    // The hash names a tab (#tab-history), a panel, or something inside a panel.
    var target = null;
    try {
      target = document.getElementById(decodeURIComponent(window.location.hash.slice(1)));
    } catch (ignored) { return null; }  // a malformed hash names nothing
    if (!target) { return null; }
    var found = null;
    tabsOf(set).forEach(function (tab) {
      var panel = document.getElementById(tab.getAttribute('aria-controls'));
      if (tab === target || (panel && (panel === target || panel.contains(target)))) {
        found = tab;
      }
    });
    return found;
  }

  function setUp(set) {
    var tabs = tabsOf(set);
    if (!tabs.length) { return; }
    set.classList.add('tabs-ready');
    var first = fromHash(set) || tabs.filter(function (tab) {
      return tab.getAttribute('aria-selected') === 'true';
    })[0] || tabs[0];
    select(set, first, false);
    tabs.forEach(function (tab, index) {
      tab.addEventListener('click', function () { select(set, tab, true); });
      tab.addEventListener('keydown', function (event) {
        var next = null;
        if (event.key === 'ArrowRight') { next = tabs[(index + 1) % tabs.length]; }
        if (event.key === 'ArrowLeft') { next = tabs[(index - 1 + tabs.length) % tabs.length]; }
        if (event.key === 'Home') { next = tabs[0]; }
        if (event.key === 'End') { next = tabs[tabs.length - 1]; }
        if (next) {
          event.preventDefault();
          select(set, next, true);
          next.focus();
        }
      });
    });
    window.addEventListener('hashchange', function () {
      var tab = fromHash(set);
      if (tab) { select(set, tab, false); }
    });
  }

  Array.prototype.forEach.call(document.querySelectorAll('[data-tabs]'), setUp);
}());
