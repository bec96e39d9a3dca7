/* Draw an instance's BPMN diagrams with bpmn-js (NavigatedViewer: pan and zoom) and mark
 * elements: sf-current (this task), sf-active, sf-completed, sf-failed, sf-timer. */
(function () {
  'use strict';

  var holder = document.getElementById('diagram-data');
  if (!holder || typeof BpmnJS === 'undefined') { return; }
  var diagrams = JSON.parse(holder.textContent);
  var failure = document.getElementById('diagram-error');
  window.sertiflowDiagrams = [];

  diagrams.forEach(function (diagram, index) {
    var container = document.getElementById('diagram-' + index);
    var viewer = new BpmnJS({ container: container, height: 420 });
    window.sertiflowDiagrams.push(viewer);
    viewer.importXML(diagram.xml).then(function () {
      var canvas = viewer.get('canvas');
      var registry = viewer.get('elementRegistry');
      canvas.zoom('fit-viewport', 'auto');
      Object.keys(diagram.markers).forEach(function (id) {
        if (!registry.get(id)) { return; }
        diagram.markers[id].forEach(function (marker) { canvas.addMarker(id, marker); });
      });
      container.dataset.ready = 'true';
    }).catch(function (err) {
      failure.textContent = (diagram.key || '') + ': ' + (err && err.message || err);
      failure.hidden = false;
    });
  });
}());
