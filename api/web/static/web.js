/* Small behaviours every page shares (no inline scripts: the pages' policy forbids them). */
(function () {
  'use strict';
  // A form with data-confirm asks before it is sent (cancelling an instance, for one).
  document.addEventListener('submit', function (event) {
    var question = event.target.getAttribute && event.target.getAttribute('data-confirm');
    if (question && !window.confirm(question)) { event.preventDefault(); }
  });
}());
