/* Draw an instance's BPMN diagrams with bpmn-js (NavigatedViewer: pan and zoom) and mark
 * elements: sf-current (this task), sf-active, sf-completed, sf-failed, sf-timer.
 *
 * A whole SOP fitted into the card is too small to read, so the viewer fits the diagram
 * but never below MIN_ZOOM; what does not fit is reached by dragging (or the mouse
 * wheel), and the view is centred on the current step (or the active ones) so the place
 * that matters is on screen. A diagram inside a hidden tab is drawn when its tab opens:
 * bpmn-js needs the container's size to fit. */
(function () {
  'use strict';

  var MIN_ZOOM = 0.8;
  var MAX_ZOOM = 1.2;
  var holder = document.getElementById('diagram-data');
  if (!holder || typeof BpmnJS === 'undefined') { return; }
  var diagrams = JSON.parse(holder.textContent);
  var failure = document.getElementById('diagram-error');
  window.sertiflowDiagrams = [];

  function focusOf(diagram, registry) {
    // The current task first, then anything active or failed, then the whole diagram.
    var order = ['sf-current', 'sf-failed', 'sf-active', 'sf-timer'];
    for (var i = 0; i < order.length; i += 1) {
      var ids = Object.keys(diagram.markers).filter(function (id) {
        return diagram.markers[id].indexOf(order[i]) >= 0 && registry.get(id);
      });
      if (ids.length) { return ids.map(function (id) { return registry.get(id); }); }
    }
    return [];
  }

  function place(canvas, elements) {
    canvas.resized();
    canvas.zoom('fit-viewport', 'auto');
    var scale = Math.min(Math.max(canvas.zoom(), MIN_ZOOM), MAX_ZOOM);
    canvas.zoom(scale);
    if (!elements.length) {
      if (scale > MIN_ZOOM) { return; }
      elements = [canvas.getRootElement()];
    }
    // Centre the view on the middle of the focused elements.
    var left = Infinity; var top = Infinity; var right = -Infinity; var bottom = -Infinity;
    elements.forEach(function (el) {
      if (el.waypoints || typeof el.x !== 'number') { return; }
      left = Math.min(left, el.x); top = Math.min(top, el.y);
      right = Math.max(right, el.x + el.width); bottom = Math.max(bottom, el.y + el.height);
    });
    if (!isFinite(left)) { return; }
    var box = canvas.viewbox();
    canvas.viewbox({ x: (left + right) / 2 - box.width / 2, y: (top + bottom) / 2 - box.height / 2,
                     width: box.width, height: box.height });
  }

  function draw(diagram, index) {
    var container = document.getElementById('diagram-' + index);
    if (!container || container.dataset.drawn) { return; }
    container.dataset.drawn = 'true';
    var viewer = new BpmnJS({ container: container });
    window.sertiflowDiagrams[index] = viewer;
    viewer.importXML(diagram.xml).then(function () {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      Object.keys(diagram.markers).forEach(function (id) {
        if (!registry.get(id)) { return; }
        diagram.markers[id].forEach(function (marker) { canvas.addMarker(id, marker); });
      });
      place(canvas, focusOf(diagram, registry));
      container.dataset.zoom = String(canvas.zoom());
      container.dataset.ready = 'true';
    }).catch(function (err) {
      failure.textContent = (diagram.name || diagram.key || '') + ': ' + (err && err.message || err);
      failure.hidden = false;
    });
  }

  function visible(element) {
    return !!(element && element.getClientRects().length);
  }

  function drawVisible() {
    diagrams.forEach(function (diagram, index) {
      if (visible(document.getElementById('diagram-' + index))) { draw(diagram, index); }
    });
  }

  document.addEventListener('sertiflow:shown', drawVisible);
  drawVisible();
}());
