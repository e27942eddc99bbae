/*
 * map.js: the board's map (Leaflet, as Debian's libjs-leaflet ships it).
 *
 * Zones are drawn in SVG from their GeoJSON, coloured by kind: polygons
 * with their holes, circles at radius_m, corridors as their centre line
 * stroked at width_m (recomputed on zoom, round ends, as the engine's
 * buffer). Tankers are drawn on one canvas in a pane of their own: a
 * heading arrow when moving, a dot otherwise, coloured by state; 10,000
 * of them redraw in one pass per batch of moves. A vehicle with an open
 * critical alert also gets a pulsing ring (a CSS-animated DOM marker, so
 * the pulse costs no canvas redraw). A track is a polyline with a replay
 * marker moved by the panel's slider.
 *
 * Nothing from the server is ever given to Leaflet as HTML: tooltips get
 * DOM elements whose text is set with textContent.
 */
'use strict';

window.HZMAP = (function () {
	const ZONE_COLOURS = {
		prohibited: '#d7191c',
		restricted: '#f28e2b',
		event_venue: '#7b3294',
		corridor: '#1a9850',
		depot: '#2c7bb6'
	};
	const STATE_COLOURS = {
		moving: '#1a9641',
		stopped: '#2b83ba',
		silent: '#8c8c8c',
		critical: '#e31a1c'
	};

	let map = null;
	let tankerRenderer = null;
	let zoneLayer = null, tankerLayer = null, pulseLayer = null, trackLayer = null;
	const zones = new Map();		/* id -> {feature, layer, inForce} */
	const corridors = [];			/* {layer, width_m, lat} */
	const tankers = new Map();		/* plate -> TankerMarker */
	const pulses = new Map();		/* plate -> L.Marker */
	let inForceOnly = true;
	let onVehicleClick = null;
	let track = null;			/* {line, marker, times, coords} */

	/* A canvas circle marker drawn as an arrow along its heading. */
	const TankerMarker = L.CircleMarker.extend({
		options: { heading: null, arrow: false },
		_updateBounds: function () {
			const r = this._radius * 1.7 + this._clickTolerance();
			this._pxBounds = new L.Bounds(this._point.subtract([r, r]), this._point.add([r, r]));
		},
		_updatePath: function () {
			this._renderer._updateTanker(this);
		}
	});

	L.Canvas.include({
		_updateTanker: function (layer) {
			if (!this._drawing || layer._empty())
				return;
			const p = layer._point, ctx = this._ctx;
			const r = Math.max(Math.round(layer._radius), 1);
			const h = layer.options.heading;
			ctx.beginPath();
			if (layer.options.arrow && typeof h === 'number' && isFinite(h)) {
				const a = h * Math.PI / 180;
				const tip = r * 1.7, back = r * 1.1;
				ctx.moveTo(p.x + Math.sin(a) * tip, p.y - Math.cos(a) * tip);
				ctx.lineTo(p.x + Math.sin(a + 2.5) * back, p.y - Math.cos(a + 2.5) * back);
				ctx.lineTo(p.x + Math.sin(a) * -0.3 * r, p.y - Math.cos(a) * -0.3 * r);
				ctx.lineTo(p.x + Math.sin(a - 2.5) * back, p.y - Math.cos(a - 2.5) * back);
				ctx.closePath();
			} else {
				ctx.arc(p.x, p.y, r, 0, Math.PI * 2, false);
			}
			this._fillStroke(ctx, layer);
		}
	});

	function textTip(lines) {
		const div = document.createElement('div');
		lines.forEach((s, i) => {
			if (i)
				div.appendChild(document.createElement('br'));
			div.appendChild(document.createTextNode(String(s)));
		});
		return div;
	}

	function init(el, config, vehicleClick) {
		onVehicleClick = vehicleClick;
		map = L.map(el, { preferCanvas: false, zoomControl: true, worldCopyJump: false, attributionControl: !!config.tiles_url });
		map.createPane('zones').style.zIndex = 350;
		map.createPane('tracks').style.zIndex = 420;
		map.createPane('tankers').style.zIndex = 450;
		map.createPane('pulses').style.zIndex = 460;
		tankerRenderer = L.canvas({ pane: 'tankers', padding: 0.3, tolerance: 3 });
		if (config.tiles_url)
			L.tileLayer(config.tiles_url, { maxZoom: 19 }).addTo(map);
		zoneLayer = L.layerGroup().addTo(map);
		trackLayer = L.layerGroup().addTo(map);
		tankerLayer = L.layerGroup().addTo(map);
		pulseLayer = L.layerGroup().addTo(map);
		L.control.scale({ imperial: false }).addTo(map);
		map.setView([37.8, 112.55], 10);
		map.on('zoomend', restyleCorridors);
		map.on('click', (e) => {
			const plate = tankerAt(e.containerPoint);
			if (plate && onVehicleClick)
				onVehicleClick(plate);
		});
		map.on('mousemove', onHover);
		map.on('mouseout', () => hoverTip.remove());
		return map;
	}

	/* The tankers' canvas takes no pointer events (it covers the whole map
	 * and would hide the zones from the mouse): a click or a hover is
	 * matched here to the nearest tanker within a few pixels. */
	const HIT_PX = 9;
	const hoverTip = L.tooltip({ direction: 'top', offset: [0, -8] });
	let hoverAt = 0;

	function tankerAt(containerPt) {
		const at = map.containerPointToLayerPoint(containerPt);
		let best = null, bestD = HIT_PX * HIT_PX;
		tankers.forEach((m, plate) => {
			const p = m._point;	/* the marker's layer point, as Leaflet projected it */
			if (!p)
				return;
			const d = (p.x - at.x) * (p.x - at.x) + (p.y - at.y) * (p.y - at.y);
			if (d <= bestD) {
				bestD = d;
				best = plate;
			}
		});
		return best;
	}

	function onHover(e) {
		const now = Date.now();
		if (now - hoverAt < 60)
			return;
		hoverAt = now;
		const plate = tankerAt(e.containerPoint);
		if (!plate) {
			hoverTip.remove();
			map.getContainer().classList.remove('over-tanker');
			return;
		}
		map.getContainer().classList.add('over-tanker');
		hoverTip.setLatLng(tankers.get(plate).getLatLng()).setContent(textTip([plate]));
		if (!map.hasLayer(hoverTip))
			hoverTip.addTo(map);
	}

	/* metres per screen pixel at latitude lat, at the current zoom */
	function metresPerPixel(lat) {
		return 40075016.686 * Math.cos(lat * Math.PI / 180) / Math.pow(2, map.getZoom() + 8);
	}

	function restyleCorridors() {
		corridors.forEach((c) => {
			c.layer.setStyle({ weight: Math.max(2, c.width_m / metresPerPixel(c.lat)) });
		});
	}

	function zoneStyle(kind, inForce) {
		const colour = ZONE_COLOURS[kind] || '#555555';
		return {
			pane: 'zones',
			color: colour,
			fillColor: colour,
			weight: 2,
			opacity: inForce ? 0.9 : 0.5,
			fillOpacity: inForce ? 0.18 : 0.05,
			dashArray: inForce ? null : '6 6'
		};
	}

	function zoneLayerFor(f) {
		const p = f.properties || {};
		const g = f.geometry;
		const inForce = p.in_force_now !== false;
		const style = zoneStyle(p.kind, inForce);
		/* the SVG path's classes: zone, zone-ID, kind-KIND (ids are numbers) */
		style.className = 'zone zone-' + Number(p.id) + ' kind-' + String(p.kind).replace(/[^a-z_]/g, '');
		if (!g)
			return null;
		if (g.type === 'Point' && typeof p.radius_m === 'number')
			return L.circle([g.coordinates[1], g.coordinates[0]], Object.assign({ radius: p.radius_m }, style));
		if (g.type === 'LineString' && typeof p.width_m === 'number') {
			const latlngs = g.coordinates.map((c) => [c[1], c[0]]);
			const band = L.polyline(latlngs, Object.assign({}, style, { opacity: inForce ? 0.35 : 0.15, lineCap: 'round', lineJoin: 'round' }));
			const centre = L.polyline(latlngs, Object.assign({}, style, { weight: 1, dashArray: '4 4', className: 'zone-centre' }));
			const lat = latlngs.reduce((s, c) => s + c[0], 0) / latlngs.length;
			corridors.push({ layer: band, width_m: p.width_m, lat: lat });
			return L.featureGroup([band, centre]);
		}
		return L.geoJSON(f, { style: () => style, pane: 'zones', className: style.className });
	}

	/* Draw a FeatureCollection of zones (replacing the ones drawn). */
	function setZones(fc) {
		zoneLayer.clearLayers();
		zones.clear();
		corridors.length = 0;
		(fc && Array.isArray(fc.features) ? fc.features : []).forEach((f) => {
			const p = f.properties || {};
			const layer = zoneLayerFor(f);
			if (!layer)
				return;
			layer.bindTooltip(textTip([p.name || ('#' + p.id), HZI.t('zonekind.' + p.kind)]), { sticky: true });
			zones.set(p.id, { feature: f, layer: layer, inForce: p.in_force_now !== false });
		});
		restyleCorridors();
		refreshZoneVisibility();
		const b = drawnZoneBounds();
		if (b.isValid() && tankers.size === 0)
			map.fitBounds(b, { padding: [20, 20] });
	}

	/* The bounds of the zones on the map (a circle has bounds only there). */
	function drawnZoneBounds() {
		const b = L.latLngBounds([]);
		zones.forEach((z) => {
			if (zoneLayer.hasLayer(z.layer) && z.layer.getBounds)
				b.extend(z.layer.getBounds());
		});
		return b;
	}

	function refreshZoneVisibility() {
		zones.forEach((z) => {
			const show = z.inForce || !inForceOnly || z.shown;
			if (show && !zoneLayer.hasLayer(z.layer))
				zoneLayer.addLayer(z.layer);
			else if (!show && zoneLayer.hasLayer(z.layer))
				zoneLayer.removeLayer(z.layer);
		});
	}

	function setInForceOnly(v) {
		inForceOnly = !!v;
		refreshZoneVisibility();
	}

	/* Fit the map to zone id and make it stand out for a few seconds. */
	function showZone(id) {
		const z = zones.get(id);
		if (!z)
			return;
		z.shown = true;
		refreshZoneVisibility();
		if (z.layer.getBounds)
			map.fitBounds(z.layer.getBounds(), { padding: [40, 40], maxZoom: 16 });
		const el = z.layer;
		el.setStyle && el.setStyle({ weight: 5 });
		setTimeout(() => {
			const p = z.feature.properties || {};
			el.setStyle && el.setStyle({ weight: 2 });
			if (p.kind === 'corridor')
				restyleCorridors();
		}, 3000);
	}

	function tankerStyle(state) {
		const colour = STATE_COLOURS[state] || STATE_COLOURS.stopped;
		return { color: '#ffffff', weight: 1, fillColor: colour, fillOpacity: 0.95, radius: state === 'critical' ? 8 : 6 };
	}

	/* Place or move a tanker. pos: {lat, lon, heading}; state: a STATE_COLOURS key. */
	function upsertTanker(plate, pos, state) {
		let m = tankers.get(plate);
		const ll = [pos.lat, pos.lon];
		const arrow = state !== 'stopped' && state !== 'silent';
		if (!m) {
			m = new TankerMarker(ll, Object.assign({ renderer: tankerRenderer, heading: pos.heading, arrow: arrow, pane: 'tankers',
				interactive: false }, tankerStyle(state)));
			m.hzPlate = plate;
			m.hzState = state;
			tankers.set(plate, m);
			tankerLayer.addLayer(m);
		} else {
			m.options.heading = pos.heading;
			m.options.arrow = arrow;
			if (m.hzState !== state) {
				m.hzState = state;
				m.setStyle(tankerStyle(state));
				m.setRadius(tankerStyle(state).radius);
			}
			m.setLatLng(ll);
		}
		const pulse = pulses.get(plate);
		if (pulse)
			pulse.setLatLng(ll);
	}

	function setTankerState(plate, state) {
		const m = tankers.get(plate);
		if (!m || m.hzState === state)
			return;
		m.hzState = state;
		m.options.arrow = state !== 'stopped' && state !== 'silent';
		m.setStyle(tankerStyle(state));
		m.setRadius(tankerStyle(state).radius);
	}

	/* The plates with a flashing critical alert get a pulsing ring. */
	function setPulsing(plates) {
		pulses.forEach((mk, plate) => {
			if (!plates.has(plate)) {
				pulseLayer.removeLayer(mk);
				pulses.delete(plate);
			}
		});
		plates.forEach((plate) => {
			const m = tankers.get(plate);
			if (!m || pulses.has(plate))
				return;
			const mk = L.marker(m.getLatLng(), {
				pane: 'pulses',
				interactive: false,
				keyboard: false,
				icon: L.divIcon({ className: 'pulse', iconSize: [36, 36], html: document.createElement('span') })
			});
			pulses.set(plate, mk);
			pulseLayer.addLayer(mk);
		});
	}

	function focusVehicle(plate) {
		const m = tankers.get(plate);
		if (m)
			map.setView(m.getLatLng(), Math.max(map.getZoom(), 14), { animate: false });
	}

	function fitTankers() {
		if (tankers.size === 0)
			return;
		const b = drawnZoneBounds();
		tankers.forEach((m) => b.extend(m.getLatLng()));
		map.fitBounds(b, { padding: [20, 20] });
	}

	/* Draw a track (a GeoJSON Feature as the track endpoint writes it);
	 * returns its times, or null when it has no fix. */
	function showTrack(feature) {
		clearTrack();
		const g = feature && feature.geometry;
		const props = (feature && feature.properties) || {};
		if (!g)
			return null;
		const coords = g.type === 'LineString' ? g.coordinates : [g.coordinates];
		const latlngs = coords.map((c) => [c[1], c[0]]);
		const line = L.polyline(latlngs, { pane: 'tracks', color: '#3a3a9a', weight: 3, opacity: 0.8 });
		const marker = L.circleMarker(latlngs[latlngs.length - 1], { pane: 'tracks', radius: 7, color: '#000', weight: 2, fillColor: '#ffd700', fillOpacity: 1 });
		trackLayer.addLayer(line);
		trackLayer.addLayer(marker);
		track = { line: line, marker: marker, latlngs: latlngs, times: props.coordTimes || [], speeds: props.speed_kmh || [] };
		map.fitBounds(line.getBounds(), { padding: [30, 30], maxZoom: 16 });
		return { times: track.times, speeds: track.speeds, n: latlngs.length };
	}

	/* Move the replay marker to fix i; the line shows the way up to it. */
	function replayTo(i) {
		if (!track)
			return;
		const k = Math.max(0, Math.min(i, track.latlngs.length - 1));
		track.marker.setLatLng(track.latlngs[k]);
		track.line.setLatLngs(track.latlngs.slice(0, k + 1));
	}

	function clearTrack() {
		trackLayer.clearLayers();
		track = null;
	}

	/* For tests and the status line: what is drawn. */
	function stats() {
		let drawnZones = 0;
		zones.forEach((z) => {
			if (zoneLayer.hasLayer(z.layer))
				drawnZones++;
		});
		return { tankers: tankers.size, zones: zones.size, drawnZones: drawnZones, pulses: pulses.size, track: track ? track.latlngs.length : 0, zoom: map ? map.getZoom() : null };
	}

	/* The screen point of a tanker, in the map container's pixels. */
	function tankerPoint(plate) {
		const m = tankers.get(plate);
		if (!m)
			return null;
		const p = map.latLngToContainerPoint(m.getLatLng());
		const ll = m.getLatLng();
		return { x: p.x, y: p.y, lat: ll.lat, lon: ll.lng, state: m.hzState, colour: STATE_COLOURS[m.hzState] };
	}

	function relabelZones() {
		zones.forEach((z) => {
			const p = z.feature.properties || {};
			z.layer.setTooltipContent(textTip([p.name || ('#' + p.id), HZI.t('zonekind.' + p.kind)]));
		});
	}

	return {
		ZONE_COLOURS: ZONE_COLOURS,
		STATE_COLOURS: STATE_COLOURS,
		init: init,
		setZones: setZones,
		setInForceOnly: setInForceOnly,
		showZone: showZone,
		upsertTanker: upsertTanker,
		setTankerState: setTankerState,
		setPulsing: setPulsing,
		focusVehicle: focusVehicle,
		fitTankers: fitTankers,
		showTrack: showTrack,
		replayTo: replayTo,
		clearTrack: clearTrack,
		relabelZones: relabelZones,
		stats: stats,
		tankerPoint: tankerPoint,
		invalidate: () => map && map.invalidateSize()
	};
})();
