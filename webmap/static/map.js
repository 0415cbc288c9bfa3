/* Dialogkarta resident map: proposals from the API, the pin, the place list and the form.
 *
 * folium builds the map and its layers (webmap/map.py); its script calls Dialogkarta.onArea and
 * Dialogkarta.onService for each feature and then Dialogkarta.init(map, layers). Everything a
 * resident wrote is put into the page with textContent, never innerHTML: popups, tooltips and
 * lists are built as DOM nodes. Texts and labels come, translated, from the #dk-config JSON.
 */
(function () {
  "use strict";

  var config = null;
  var map = null;
  var layers = {};
  var pin = null;
  var markers = {};
  var tilesFailed = false;

  function cfg() {
    if (!config) {
      config = JSON.parse(document.getElementById("dk-config").textContent);
    }
    return config;
  }

  function t(key, vars) {
    var text = cfg().text[key] || key;
    Object.keys(vars || {}).forEach(function (name) {
      text = text.split("%(" + name + ")s").join(String(vars[name]));
    });
    return text;
  }

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) { node.className = className; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function $(id) { return document.getElementById(id); }

  function url(name, id) { return cfg().urls[name].replace("__id__", encodeURIComponent(id)); }

  function truncate(text, length) {
    text = text || "";
    return text.length > length ? text.slice(0, length - 1) + "…" : text;
  }

  // ------------------------------------------------------------ geometry
  function inRing(lon, lat, ring) {
    var inside = false;
    for (var i = 0, j = ring.length - 1; i < ring.length; j = i++) {
      var xi = ring[i][0], yi = ring[i][1], xj = ring[j][0], yj = ring[j][1];
      if ((yi > lat) !== (yj > lat) && lon < (xj - xi) * (lat - yi) / (yj - yi) + xi) { inside = !inside; }
    }
    return inside;
  }

  function inBoundary(lon, lat) {
    var geometry = cfg().boundary;
    var polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
    return polygons.some(function (rings) {
      return inRing(lon, lat, rings[0]) && !rings.slice(1).some(function (hole) { return inRing(lon, lat, hole); });
    });
  }

  // ------------------------------------------------------------ layers built by folium
  function areaNode(props) {
    var node = el("div", "dk-tooltip");
    node.appendChild(el("strong", null, props.name));
    var status = cfg().areaStatus[props.status];
    node.appendChild(el("div", null, status ? status.label : props.status));
    if (props.data_status !== "verified") { node.appendChild(el("div", "dk-note", t("illustrative"))); }
    return node;
  }

  function serviceNode(props) {
    var node = el("div", "dk-popup");
    node.appendChild(el("h3", null, props.name));
    var kind = cfg().serviceKinds[props.kind];
    node.appendChild(el("p", null, kind ? kind.label : props.kind));
    if (props.data_status !== "verified") { node.appendChild(el("p", "dk-note", t("illustrativePoint"))); }
    return node;
  }

  function onArea(feature, layer) {
    layer.bindTooltip(function () { return areaNode(feature.properties); }, {sticky: true});
  }

  function onService(feature, layer) {
    var props = feature.properties;
    var kind = cfg().serviceKinds[props.kind] || {symbol: "•", label: props.kind};
    var symbol = el("span", "dk-service-symbol", kind.symbol);
    symbol.setAttribute("aria-hidden", "true");
    if (layer.setIcon) {
      layer.options.title = props.name + " (" + kind.label + ")";
      layer.options.alt = props.name;
      layer.setIcon(L.divIcon({html: symbol, className: "dk-service", iconSize: [30, 30], iconAnchor: [15, 15],
                               popupAnchor: [0, -12]}));
    }
    layer.bindPopup(function () { return serviceNode(props); });
  }

  // ------------------------------------------------------------ proposals
  function proposalPopup(feature) {
    var props = feature.properties;
    var c = cfg();
    var node = el("div", "dk-popup dk-proposal-popup");
    node.appendChild(el("h3", null, props.title));
    node.appendChild(el("p", "dk-meta", (c.categories[props.category] || props.category) + " · " +
                                          (c.statuses[props.status] || props.status)));
    node.appendChild(el("p", "dk-description", truncate(props.description, 280)));
    var count = el("p", "dk-support-count", t("supportCount", {count: props.support_count}));
    node.appendChild(count);
    var actions = el("p", "dk-actions");
    var link = el("a", null, t("open"));
    link.href = url("proposal", props.public_id);
    actions.appendChild(link);
    var button = el("button", "button small", t("support"));
    button.type = "button";
    button.addEventListener("click", function () {
      support(props.public_id, button, function (total) {
        props.support_count = total;
        count.textContent = t("supportCount", {count: total});
      });
    });
    actions.appendChild(button);
    node.appendChild(actions);
    return node;
  }

  function proposalMarker(feature) {
    var coords = feature.geometry.coordinates;
    var marker = L.marker([coords[1], coords[0]], {title: feature.properties.title, alt: feature.properties.title});
    marker.feature = feature;
    marker.bindPopup(function () { return proposalPopup(feature); });
    markers[feature.properties.public_id] = marker;
    return marker;
  }

  function markReady(count) {
    Dialogkarta.ready = true;
    Dialogkarta.readyAt = window.performance ? performance.now() : null;
    document.documentElement.setAttribute("data-proposals", "loaded");
    document.documentElement.setAttribute("data-proposal-count", String(count));
    var focus = cfg().focus;
    if (focus && markers[focus]) {
      // Deferred: inside chunkProgress addLayers has not finished and the cluster has no bounds yet,
      // so zoomToShowLayer threw and the whole list was reported as failed to load.
      setTimeout(function () {
        layers.proposals.zoomToShowLayer(markers[focus], function () { markers[focus].openPopup(); });
      }, 0);
    }
  }

  function loadProposals() {
    fetch(cfg().urls.proposals, {headers: {Accept: "application/geo+json"}})
      .then(function (response) {
        if (!response.ok) { throw new Error(response.status); }
        return response.json();
      })
      .then(function (collection) {
        var list = collection.features.map(proposalMarker);
        var cluster = layers.proposals;
        if (list.length === 0) { markReady(0); return; }
        cluster.options.chunkProgress = function (processed, total) {
          if (processed >= total) { markReady(total); }
        };
        cluster.addLayers(list);
        if (!cluster.options.chunkedLoading) { markReady(list.length); }
      })
      .catch(function () {
        notice(t("proposalsFailed"));
        document.documentElement.setAttribute("data-proposals", "failed");
      });
  }

  function support(publicId, button, done) {
    button.disabled = true;
    fetch(url("support", publicId), {method: "POST", headers: {"Content-Type": "application/json", Accept: "application/json"},
                                      body: "{}", credentials: "same-origin"})
      .then(function (response) { return response.json().then(function (body) { return {ok: response.ok, body: body}; }); })
      .then(function (result) {
        if (!result.ok) {
          button.disabled = false;
          status($("pin-status"), result.body.error ? result.body.error.message : t("sendFailed"));
          return;
        }
        button.textContent = t("supported");
        button.setAttribute("aria-pressed", "true");
        status($("pin-status"), result.body.message);
        if (markers[publicId]) { markers[publicId].feature.properties.support_count = result.body.support_count; }
        if (done) { done(result.body.support_count); }
      })
      .catch(function () { button.disabled = false; status($("pin-status"), t("sendFailed")); });
  }

  // ------------------------------------------------------------ messages
  function status(node, text) { node.textContent = text; node.hidden = !text; }

  function notice(text) { status($("map-notice"), text); }

  function highlightBoundary() {
    var boundary = layers.boundary;
    boundary.setStyle({color: "#c00000", weight: 5, dashArray: null});
    map.fitBounds(boundary.getBounds(), {padding: [10, 10]});
    window.setTimeout(function () { boundary.setStyle({color: "#222222", weight: 3, dashArray: "10 6"}); }, 4000);
  }

  // ------------------------------------------------------------ the pin
  function pinIcon() {
    return L.divIcon({className: "dk-pin", html: '<span class="dk-pin-head"></span>', iconSize: [44, 44],
                      iconAnchor: [22, 44], popupAnchor: [0, -40]});
  }

  function placePin(latlng, label) {
    if (!pin) {
      pin = L.marker(latlng, {draggable: true, icon: pinIcon(), title: t("yourPin"), alt: t("yourPin"),
                              zIndexOffset: 1000, autoPan: true});
      pin.on("dragend", function () { pinMoved(pin.getLatLng(), null); });
      pin.addTo(map);
    } else {
      pin.setLatLng(latlng);
      if (!map.hasLayer(pin)) { pin.addTo(map); }
    }
    pinMoved(latlng, label);
  }

  function pinMoved(latlng, label) {
    var lon = Math.round(latlng.lng * 1e7) / 1e7, lat = Math.round(latlng.lat * 1e7) / 1e7;
    $("lon").value = lon;
    $("lat").value = lat;
    $("form-error").hidden = true;
    if (!inBoundary(lon, lat)) {
      status($("pin-status"), t("outside", {locality: cfg().locality}));
      highlightBoundary();
    } else {
      status($("pin-status"), label ? t("placedAt", {place: label}) + " " + t("moveHint") : t("placed"));
    }
    if (!map.getBounds().pad(-0.1).contains(latlng)) { map.panTo(latlng); }
    $("to-form").hidden = false;
    loadNearby();
  }

  // ------------------------------------------------------------ nearby first
  function loadNearby() {
    var lon = $("lon").value, lat = $("lat").value;
    if (!lon || !lat) { return; }
    var query = "?lon=" + encodeURIComponent(lon) + "&lat=" + encodeURIComponent(lat);
    var category = $("category").value;
    if (category) { query += "&category=" + encodeURIComponent(category); }
    fetch(cfg().urls.nearby + query, {headers: {Accept: "application/geo+json"}})
      .then(function (response) { return response.ok ? response.json() : {features: []}; })
      .then(renderNearby)
      .catch(function () { renderNearby({features: []}); });
  }

  function renderNearby(collection) {
    var section = $("nearby"), list = $("nearby-list"), c = cfg();
    list.textContent = "";
    section.hidden = false;
    if (!collection.features.length) {
      $("nearby-intro").textContent = t("nearbyNone");
      return;
    }
    $("nearby-intro").textContent = t("nearbyIntro");
    collection.features.forEach(function (feature) {
      var props = feature.properties;
      var item = el("li", "nearby-item");
      var title = el("a", "nearby-title", props.title);
      title.href = url("proposal", props.public_id);
      item.appendChild(title);
      item.appendChild(el("span", "nearby-meta", (c.categories[props.category] || props.category) + " · " +
        t("distance", {distance: Math.round(props.distance_m)}) + " · " + t("supportCount", {count: props.support_count})));
      item.appendChild(el("p", "nearby-description", truncate(props.description, 160)));
      var button = el("button", "button secondary", t("supportInstead"));
      button.type = "button";
      button.addEventListener("click", function () {
        support(props.public_id, button, function (total) {
          item.querySelector(".nearby-meta").textContent = (c.categories[props.category] || props.category) + " · " +
            t("distance", {distance: Math.round(props.distance_m)}) + " · " + t("supportCount", {count: total});
        });
      });
      item.appendChild(button);
      list.appendChild(item);
    });
  }

  // ------------------------------------------------------------ place list and location
  function fold(text) {
    return text.normalize("NFD").replace(/[\u0300-\u036f]/g, "").toLowerCase();
  }

  function setupPlaces() {
    var input = $("place-filter"), items = Array.prototype.slice.call(document.querySelectorAll("#place-list li"));
    var skip = document.querySelector('a[href="#place-filter"]');
    if (skip) {
      skip.addEventListener("click", function (event) { event.preventDefault(); input.focus(); });
    }
    input.addEventListener("input", function () {
      var query = fold(input.value.trim()), shown = 0;
      items.forEach(function (item) {
        var match = !query || fold(item.textContent).indexOf(query) !== -1;
        item.hidden = !match;
        if (match) { shown += 1; }
      });
      $("place-count").textContent = shown === 1 ? t("placesCountOne") : t("placesCount", {count: shown});
    });
    // Arrow keys move between the search field and the visible places, as in a listbox.
    function visibleButtons() {
      return items.filter(function (item) { return !item.hidden; }).map(function (item) { return item.querySelector("button"); });
    }
    input.addEventListener("keydown", function (event) {
      if (event.key === "ArrowDown" && visibleButtons().length) { event.preventDefault(); visibleButtons()[0].focus(); }
    });
    $("place-list").addEventListener("keydown", function (event) {
      if (event.key !== "ArrowDown" && event.key !== "ArrowUp") { return; }
      var buttons = visibleButtons(), at = buttons.indexOf(document.activeElement);
      if (at === -1) { return; }
      event.preventDefault();
      if (event.key === "ArrowUp" && at === 0) { input.focus(); return; }
      buttons[Math.min(buttons.length - 1, Math.max(0, at + (event.key === "ArrowDown" ? 1 : -1)))].focus();
    });
    items.forEach(function (item) {
      var button = item.querySelector("button");
      button.addEventListener("click", function () {
        var latlng = L.latLng(parseFloat(button.dataset.lat), parseFloat(button.dataset.lon));
        map.setView(latlng, Math.max(map.getZoom(), 16));
        placePin(latlng, button.dataset.name);
        $("step-describe-heading").focus();
      });
    });
  }

  function setupLocate() {
    var button = $("locate");
    var out = el("p", "locate-status");
    out.id = "locate-status";
    out.setAttribute("role", "status");
    button.insertAdjacentElement("afterend", out);
    button.addEventListener("click", function () {
      if (!navigator.geolocation) { status(out, t("locationUnsupported")); return; }
      status(out, t("locating"));
      navigator.geolocation.getCurrentPosition(function (position) {
        var lon = position.coords.longitude, lat = position.coords.latitude;
        if (!inBoundary(lon, lat)) {
          status(out, t("locationOutside", {locality: cfg().locality}));
          highlightBoundary();
          return;
        }
        status(out, "");
        var latlng = L.latLng(lat, lon);
        map.setView(latlng, Math.max(map.getZoom(), 17));
        placePin(latlng, t("myPosition"));
        $("step-describe-heading").focus();
      }, function () {
        status(out, t("locationFailed"));
      }, {enableHighAccuracy: true, timeout: 15000, maximumAge: 60000});
    });
  }

  // ------------------------------------------------------------ the form
  function formError(message, field) {
    var box = $("form-error");
    box.textContent = message;
    box.hidden = false;
    Array.prototype.forEach.call(document.querySelectorAll("#proposal-form [aria-invalid]"), function (node) {
      node.removeAttribute("aria-invalid");
    });
    var input = field && $(field);
    if (input && input.type !== "hidden") {
      input.setAttribute("aria-invalid", "true");
      input.setAttribute("aria-errormessage", "form-error");
      input.focus();
    } else {
      box.setAttribute("tabindex", "-1");
      box.focus();
    }
  }

  function payload() {
    var data = {
      lon: parseFloat($("lon").value), lat: parseFloat($("lat").value), category: $("category").value,
      title: $("title").value, description: $("description").value, consent: $("consent").checked,
    };
    ["name", "email", "website"].forEach(function (field) {
      var value = $(field).value.trim();
      if (value) { data[field] = value; }
    });
    return data;
  }

  function confirmed(feature) {
    var props = feature.properties;
    $("proposal-form").hidden = true;
    $("nearby").hidden = true;
    $("confirmation-heading").textContent = props.public ? t("thanks") : t("held");
    $("confirmation-summary").textContent = props.summary;
    var link = $("confirmation-link");
    link.href = props.url;
    link.textContent = props.url;
    link.parentNode.hidden = !props.public;  // a proposal held for review has no public page yet
    status($("pin-status"), "");
    $("to-form").hidden = true;
    if (pin) { map.removeLayer(pin); }
    if (props.public) {
      var marker = proposalMarker(feature);
      layers.proposals.addLayer(marker);
      layers.proposals.zoomToShowLayer(marker, function () {});
    }
    var box = $("confirmation");
    box.hidden = false;
    box.focus();
  }

  function setupForm() {
    var form = $("proposal-form"), button = $("submit");
    $("category").addEventListener("change", loadNearby);
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (!$("lon").value) { formError(t("noPin")); return; }
      button.disabled = true;
      var label = button.textContent;
      button.textContent = t("sending");
      fetch(cfg().urls.proposals, {method: "POST", credentials: "same-origin",
                                   headers: {"Content-Type": "application/json", Accept: "application/geo+json"},
                                   body: JSON.stringify(payload())})
        .then(function (response) { return response.json().then(function (body) { return {status: response.status, body: body}; }); })
        .then(function (result) {
          if (result.status === 201) { confirmed(result.body); return; }
          var error = result.body.error || {};
          formError(error.message || t("sendFailed"), error.field);
          if (error.code === "outside_locality" || error.code === "coordinates_swapped") { highlightBoundary(); }
        })
        .catch(function () { formError(t("sendFailed")); })
        .then(function () { button.disabled = false; button.textContent = label; });
    });
    $("another").addEventListener("click", function () {
      form.reset();
      $("lon").value = "";
      $("lat").value = "";
      $("confirmation").hidden = true;
      form.hidden = false;
      status($("pin-status"), "");
      $("step-place-heading").setAttribute("tabindex", "-1");
      $("step-place-heading").focus();
    });
  }

  // The attribution lines can wrap across the whole map: lift the scale bar above them.
  function keepScaleVisible() {
    var container = map.getContainer();
    var attribution = container.querySelector(".leaflet-control-attribution");
    var bottomLeft = container.querySelector(".leaflet-bottom.leaflet-left");
    if (!attribution || !bottomLeft) { return; }
    var wide = attribution.offsetWidth > container.clientWidth / 2;
    bottomLeft.style.bottom = wide ? attribution.offsetHeight + "px" : "";
  }

  // ------------------------------------------------------------ start
  function init(leafletMap, mapLayers) {
    map = leafletMap;
    layers = mapLayers;
    Dialogkarta.map = map;
    Dialogkarta.layers = layers;
    map.getContainer().setAttribute("aria-label", document.querySelector(".map-pane").getAttribute("aria-label"));
    map.invalidateSize();  // the container got its final size from our CSS after Leaflet measured it
    if (!cfg().focus) { map.fitBounds(layers.boundary.getBounds(), {padding: [8, 8], animate: false}); }
    keepScaleVisible();
    map.on("resize", keepScaleVisible);
    map.on("click", function (event) { placePin(event.latlng, null); });
    map.eachLayer(function (layer) {
      if (layer instanceof L.TileLayer) {
        layer.on("tileerror", function () {
          if (!tilesFailed) {
            tilesFailed = true;
            notice(t("tilesFailed"));
            window.setTimeout(function () { notice(""); }, 8000);
          }
        });
      }
    });
    $("to-form").addEventListener("click", function (event) {
      event.preventDefault();
      $("step-describe-heading").scrollIntoView();
      $("step-describe-heading").focus();
    });
    setupPlaces();
    setupLocate();
    setupForm();
    loadProposals();
  }

  var Dialogkarta = window.Dialogkarta = {
    onArea: onArea, onService: onService, init: init, ready: false, readyAt: null,
    placePin: function (lat, lon) { placePin(L.latLng(lat, lon), null); },
  };
})();
