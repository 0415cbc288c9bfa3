/* Planner overlay: filters redraw the proposals, the choropleth of development areas, the heat
   map and the table together, from /planner/api/proposals. Data is written with textContent only. */
(function () {
  "use strict";
  var config = JSON.parse(document.getElementById("planner-config").textContent);
  var map = window[config.mapName];
  var form = document.getElementById("filters");
  var tbody = document.querySelector("#proposal-table tbody");
  var countEl = document.getElementById("result-count");
  var panel = document.getElementById("area-panel");
  var legend = document.getElementById("legend");
  var heatToggle = document.getElementById("heat-toggle");
  var labels = config.labels;
  var areaLayer = null, areaNames = {}, areaCounts = {}, features = [];
  var pointLayer = L.layerGroup().addTo(map);
  var heatLayer = null;
  var COLORS = ["#f7fbff", "#c6dbef", "#6baed6", "#2171b5", "#08306b"];

  function colour(count, max) {
    if (!count) { return COLORS[0]; }
    var step = Math.min(COLORS.length - 1, 1 + Math.floor((count - 1) * (COLORS.length - 1) / Math.max(max, 1)));
    return COLORS[step];
  }
  function el(tag, text, attrs) {
    var node = document.createElement(tag);
    if (text !== undefined && text !== null) { node.textContent = text; }
    Object.keys(attrs || {}).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    return node;
  }
  function query() {
    var params = new URLSearchParams();
    new FormData(form).forEach(function (value, key) { if (value) { params.append(key, value); } });
    return params.toString();
  }
  function styleAreas() {
    if (!areaLayer) { return; }
    var max = 0;
    Object.keys(areaCounts).forEach(function (k) { max = Math.max(max, areaCounts[k]); });
    areaLayer.eachLayer(function (layer) {
      var id = layer.feature.properties.id, n = areaCounts[id] || 0;
      layer.setStyle({color: "#08306b", weight: 2, fillColor: colour(n, max), fillOpacity: 0.6});
      layer.getElement && layer.getElement() && layer.getElement().setAttribute("data-count", String(n));
      layer.setTooltipContent(el("span", areaNames[id] + ": " + n + " " + config.text.count));
    });
    legend.textContent = "";
    legend.appendChild(el("strong", config.text.count));
    [0, 1, Math.ceil(max / 2), max].filter(function (v, i, a) { return a.indexOf(v) === i; }).forEach(function (v) {
      var item = el("span", " " + v + " ");
      var swatch = el("i", null, {"class": "swatch"});
      swatch.style.background = colour(v, max);
      item.prepend(swatch);
      legend.appendChild(item);
    });
  }
  function showArea(id) {
    panel.textContent = "";
    panel.appendChild(el("h2", config.text.proposalsIn.replace("{area}", areaNames[id] || id)));
    var list = el("ul", null, {"id": "area-proposals"});
    features.filter(function (f) { return f.properties.area_ids.indexOf(id) >= 0; }).forEach(function (f) {
      var li = el("li");
      li.appendChild(el("a", f.properties.title, {href: f.properties.url}));
      li.appendChild(document.createTextNode(" – " + (labels.statuses[f.properties.status] || f.properties.status)));
      list.appendChild(li);
    });
    if (!list.children.length) { panel.appendChild(el("p", config.text.noProposals)); }
    panel.appendChild(list);
  }
  function drawPoints() {
    pointLayer.clearLayers();
    features.forEach(function (f) {
      var c = f.geometry.coordinates;
      var marker = L.circleMarker([c[1], c[0]], {radius: 7, color: f.properties.hidden ? "#888" : "#b30000",
        weight: 2, fillColor: "#ff6f59", fillOpacity: 0.9});
      marker.bindTooltip(el("span", f.properties.title));  // a node: Leaflet puts a string in as HTML
      marker.on("click", function () { window.location.href = f.properties.url; });
      marker.addTo(pointLayer);
    });
    if (heatLayer) { map.removeLayer(heatLayer); heatLayer = null; }
    if (heatToggle.checked && L.heatLayer) {
      heatLayer = L.heatLayer(features.map(function (f) {
        return [f.geometry.coordinates[1], f.geometry.coordinates[0], 1];
      }), {radius: 25, blur: 20, minOpacity: 0.3}).addTo(map);
    }
  }
  function drawTable() {
    tbody.textContent = "";
    features.forEach(function (f) {
      var p = f.properties, tr = el("tr", null, {"data-public-id": p.public_id});
      var title = el("td");
      title.appendChild(el("a", p.title, {href: p.url}));
      tr.appendChild(title);
      tr.appendChild(el("td", labels.categories[p.category] || p.category));
      tr.appendChild(el("td", labels.statuses[p.status] || p.status));
      tr.appendChild(el("td", labels.channels[p.channel] || p.channel));
      tr.appendChild(el("td", labels.departments[p.department] || p.department || ""));
      tr.appendChild(el("td", p.area_ids.map(function (a) { return areaNames[a] || a; }).join(", ")));
      tr.appendChild(el("td", p.created_at.slice(0, 10)));
      tbody.appendChild(tr);
    });
  }
  function refresh() {
    return fetch(config.proposalsUrl + "?" + query(), {headers: {"Accept": "application/json"}, credentials: "same-origin"})
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (data.error) { countEl.textContent = data.error.message; return; }
        features = data.features;
        areaCounts = data.area_counts;
        countEl.textContent = config.text.matching.replace("{n}", String(data.total));
        countEl.setAttribute("data-total", String(data.total));
        drawPoints();
        drawTable();
        styleAreas();
        document.body.setAttribute("data-overlay-ready", "1");
      });
  }
  fetch(config.areasUrl, {credentials: "same-origin"}).then(function (r) { return r.json(); }).then(function (areas) {
    areas.features.forEach(function (f) { areaNames[f.properties.id] = f.properties.name; });
    areaLayer = L.geoJSON(areas, {
      onEachFeature: function (feature, layer) {
        layer.bindTooltip(el("span", feature.properties.name));
        layer.on("click", function () { showArea(feature.properties.id); });
      }
    }).addTo(map);
    areaLayer.bringToBack();
    map.fitBounds(areaLayer.getBounds(), {padding: [20, 20], animate: false});
    return refresh();
  });
  form.addEventListener("change", refresh);
  form.addEventListener("reset", function () { setTimeout(refresh, 0); });
  heatToggle.addEventListener("change", drawPoints);
  window.plannerOverlay = {refresh: refresh, showArea: showArea};
}());
