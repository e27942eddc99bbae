/*
 * board.js: the dispatchers' board: login, the live feed (SSE), the alert
 * list with its filters, acknowledgement and trail, the vehicle panel with
 * its track replay, the zones panel, and the critical-alert flash and beep.
 *
 * Data flow: at login the page loads config, zones, vehicles and alerts
 * over /api/v1, then opens EventSource('/api/v1/stream'). The browser
 * reconnects by itself and sends Last-Event-ID, so the server replays the
 * alerts missed; when the stream is closed for good (a server restart
 * answering an error, a session that ended) the page opens a new one with
 * ?last_event_id= the newest alert it has, and the server replays from
 * there. An alert seen twice is shown once (by id). After any break the
 * page reloads its lists and vehicles: acknowledgements and moves made
 * meanwhile are not replayed. Position events
 * are kept per vehicle and applied once a second, so the map redraws at
 * most once a second per vehicle whatever the rate of fixes.
 *
 * Everything that comes from outside is put in the page with textContent
 * (the el() helper below), never as HTML.
 */
'use strict';

(function () {
	const KINDS = ['prohibited_entry', 'route_deviation', 'zone_speeding', 'overspeed', 'dwell_exceeded',
		'tracker_silent', 'zone_enter', 'zone_exit', 'tracker_resumed'];
	const SEVERITIES = ['critical', 'warning', 'info'];
	const MOVING_KMH = 3;			/* below this a tanker is drawn as stopped */
	const FLASH_RECENT_MS = 10 * 60 * 1000;	/* after a reload, open critical alerts this young flash again */
	const POSITION_FLUSH_MS = 1000;		/* position events applied at most once a second per vehicle */
	const LIST_MAX = 500;			/* alert rows drawn */
	const BEEP_EVERY_MS = 1500;
	const ZONES_EVERY_MS = 60 * 1000;	/* zones reloaded: which are in force changes with the clock */

	const $ = (id) => document.getElementById(id);
	const t = HZI.t;

	let me = null;				/* {user, role, csrf} */
	let config = { timezone: 'Asia/Shanghai', tiles_url: '', silent_after_s: 300 };
	let booted = false;
	const vehicles = new Map();		/* plate -> vehicle object as /api/v1/vehicles gives it */
	const zonesById = new Map();		/* id -> properties */
	const alerts = new Map();		/* id -> alert, the ones the list may show */
	const openAlerts = new Map();		/* id -> alert, every open alert known (all filters off) */
	const flashing = new Set();		/* ids of open critical alerts that flash and beep */
	const pendingPositions = new Map();	/* plate -> latest position event not yet drawn */
	let lastAlertId = 0;
	let lastIdKnown = false;		/* lastAlertId is the newest stored (0: none stored) */
	let stream = null, streamState = 'connecting', streamRetry = 1000, streamBroken = false;
	let selected = null;			/* plate in the vehicle panel */
	let ackTarget = null;			/* the alert the dialog acknowledges */
	let audio = null, muted = false, beeps = 0;
	let renderQueued = false;
	let replayTimer = null, trackTimes = [];

	function el(tag, props) {
		const e = document.createElement(tag);
		if (props) {
			Object.keys(props).forEach((k) => {
				const v = props[k];
				if (v === undefined || v === null)
					return;
				if (k === 'class')
					e.className = v;
				else if (k === 'text')
					e.textContent = String(v);
				else if (k.startsWith('data-') || k === 'type' || k === 'title')
					e.setAttribute(k, String(v));
				else if (k.startsWith('on'))
					e.addEventListener(k.slice(2), v);
				else
					e[k] = v;
			});
		}
		for (let i = 2; i < arguments.length; i++) {
			const c = arguments[i];
			if (c === null || c === undefined || c === false)
				continue;
			e.appendChild(typeof c === 'string' ? document.createTextNode(c) : c);
		}
		return e;
	}

	function clear(node) {
		while (node.firstChild)
			node.removeChild(node.firstChild);
	}

	const canAck = () => !!me && (me.role === 'dispatcher' || me.role === 'admin');
	const isOpen = (a) => !a.acked_at;
	const zoneName = (a) => a.zone || (a.zone_id != null && zonesById.has(a.zone_id) ? zonesById.get(a.zone_id).name : null) || t('alert.no_zone');

	/* ---------------------------------------------------------------- login */

	function showLogin(message) {
		$('app').hidden = !booted;
		$('login').hidden = false;
		$('login-error').textContent = message || '';
		$('login-password').value = '';
		$('login-user').focus();
	}

	async function onLoginSubmit(ev) {
		ev.preventDefault();
		unlockAudio();
		$('login-error').textContent = '';
		$('login-submit').disabled = true;
		try {
			const s = await HZAPI.login($('login-user').value, $('login-password').value);
			await loggedIn(s);
		} catch (e) {
			if (!(e instanceof HZAPI.ApiError)) {
				$('login-error').textContent = String(e);
				throw e;	/* a bug of the page: let it show */
			}
			const st = e.status;
			$('login-error').textContent = st === 401 || st === 403 ? t('login.failed') : st === 429 ? t('login.slow')
				: st === 0 ? t('error.network') : t('login.error', { status: st });
		} finally {
			$('login-submit').disabled = false;
		}
	}

	async function loggedIn(s) {
		me = { user: s.user, role: s.role, csrf: s.csrf };
		HZAPI.setCsrf(me.csrf);
		$('login').hidden = true;
		$('app').hidden = false;
		$('whoami').textContent = me.user + ' (' + me.role + ')';
		if (!booted)
			await boot();
		else {
			await loadAll();
			openStream();
		}
	}

	async function onLogout() {
		try {
			await HZAPI.logout();
		} catch (e) {
			/* the session may be gone already */
		}
		window.location.reload();
	}

	function onUnauthorized() {
		closeStream();
		me = null;
		HZAPI.setCsrf(null);
		showLogin(t('login.expired'));
	}

	/* A reloaded page: is the cookie's session still good? GET
	 * /api/v1/config answers anyone, and names the user, role and CSRF
	 * token of a valid session. */
	async function resume() {
		try {
			const c = await HZAPI.probe('/api/v1/config');
			if (c && c.user && c.role && c.csrf)
				return loggedIn({ user: c.user, role: c.role, csrf: c.csrf });
		} catch (e) {
			/* not logged in, or no server: the form says so when used */
		}
		return showLogin();
	}

	/* ------------------------------------------------------------ loading */

	async function boot() {
		try {
			const c = await HZAPI.get('/api/v1/config');
			if (c)
				config = Object.assign(config, c);
		} catch (e) {
			if (e.status === 401)
				return;
		}
		booted = true;
		HZI.setTimeZone(config.timezone);
		HZMAP.init($('map'), config, selectVehicle);
		buildFilters();
		await loadAll();
		HZMAP.fitTankers();
		openStream();
		tick();
		setInterval(tick, 1000);
		setInterval(flushPositions, POSITION_FLUSH_MS);
		setInterval(beepIfNeeded, BEEP_EVERY_MS);
		setInterval(loadZones, ZONES_EVERY_MS);
	}

	async function loadAll() {
		await loadLastId();	/* first: what is committed after it, the stream replays */
		await loadZones();
		await Promise.all([loadVehicles(), loadOpenAlerts()]);
		await loadAlertList();
		recomputeStates();
		queueRender();
	}

	/* The newest alert id, whatever the filters: where the stream resumes.
	 * Only this and the stream's own events move it, so that no alert
	 * between it and the stream's start goes unseen. */
	async function loadLastId() {
		try {
			const newest = await HZAPI.get('/api/v1/alerts', { limit: 1 });
			lastAlertId = newest && newest.length ? newest[0].id : 0;
			lastIdKnown = true;
		} catch (e) {
			/* the lists' ids will do */
		}
	}

	let zonesText = null;

	/* The zones, drawn again only when they changed (an import, a zone
	 * coming into or out of force). */
	async function loadZones() {
		try {
			const fc = await HZAPI.get('/api/v1/zones');
			const text = JSON.stringify(fc);
			if (text === zonesText)
				return;
			zonesText = text;
			zonesById.clear();
			(fc && fc.features ? fc.features : []).forEach((f) => {
				const p = f.properties || {};
				zonesById.set(p.id, p);
			});
			HZMAP.setZones(fc);
			fillZoneFilter();
			renderZones();
		} catch (e) {
			/* a 401 is handled; otherwise the map stays without zones */
		}
	}

	async function loadVehicles() {
		try {
			const list = await HZAPI.get('/api/v1/vehicles');	/* every vehicle: no limit */
			const crit = criticalPlates();
			(list || []).forEach((v) => {
				const old = vehicles.get(v.vehicle);
				if (old && old.last_fix && (!v.last_fix || old.last_fix.ts > v.last_fix.ts))
					v.last_fix = old.last_fix;	/* the stream's is newer */
				vehicles.set(v.vehicle, v);
				if (v.last_fix)
					HZMAP.upsertTanker(v.vehicle, v.last_fix, stateOf(v, crit));
			});
		} catch (e) {
			/* handled or shown by the stream state */
		}
	}

	async function loadOpenAlerts() {
		try {
			const list = await HZAPI.get('/api/v1/alerts', { open: 1, limit: 10000 });
			openAlerts.clear();
			const now = Date.now();
			(list || []).forEach((a) => {
				openAlerts.set(a.id, a);
				if (a.severity === 'critical' && now - Date.parse(a.ts) < FLASH_RECENT_MS)
					flashing.add(a.id);
			});
			/* acknowledged while this page was not listening */
			flashing.forEach((id) => {
				if (!openAlerts.has(id))
					flashing.delete(id);
			});
		} catch (e) {
			/* as above */
		}
	}

	function filters() {
		return {
			kind: $('f-kind').value,
			severity: $('f-severity').value,
			zone: $('f-zone').value,
			vehicle: $('f-vehicle').value.trim(),
			open: $('f-open').checked
		};
	}

	function matches(a, f) {
		return (!f.kind || a.kind === f.kind) && (!f.severity || a.severity === f.severity) &&
			(!f.zone || String(a.zone_id) === f.zone) && (!f.vehicle || a.vehicle === f.vehicle) &&
			(!f.open || isOpen(a));
	}

	/* The list: the open ones matching the filters (all of them, up to the
	 * limit), then the latest others. */
	let listSeq = 0;

	async function loadAlertList() {
		const f = filters();
		const q = { kind: f.kind, severity: f.severity, zone: f.zone, vehicle: f.vehicle, limit: LIST_MAX };
		const seq = ++listSeq;
		try {
			const [open, latest] = await Promise.all([
				HZAPI.get('/api/v1/alerts', Object.assign({ open: 1 }, q)),
				f.open ? Promise.resolve([]) : HZAPI.get('/api/v1/alerts', q)
			]);
			if (seq !== listSeq)
				return;	/* the filters changed meanwhile: a later answer is coming */
			alerts.clear();
			(open || []).concat(latest || []).forEach((a) => alerts.set(a.id, a));
		} catch (e) {
			/* keep what is shown */
		}
		renderAlerts();
	}

	/* ------------------------------------------------------------ stream */

	function setStreamState(s) {
		streamState = s;
		const n = $('stream-state');
		n.dataset.state = s;
		n.textContent = t(s === 'live' ? 'stream.live' : s === 'down' ? 'stream.down' : 'stream.connecting');
	}

	function closeStream() {
		if (stream) {
			stream.close();
			stream = null;
		}
	}

	function openStream() {
		closeStream();
		setStreamState('connecting');
		/* last_event_id: the server first replays every alert after the
		 * newest this page has (those committed while it loaded, or while
		 * it had no stream; 0 when none was stored, so that the first
		 * one, committed while hazgate-web restarts, is not lost); the
		 * browser's own reconnects send Last-Event-ID once it has had
		 * an event, which the server prefers */
		const resume = lastIdKnown || lastAlertId > 0;	/* 0 from a database with no alert yet */
		const es = new EventSource('/api/v1/stream' + (resume ? '?last_event_id=' + lastAlertId : ''));
		stream = es;
		es.onopen = () => {
			setStreamState('live');
			streamRetry = 1000;
			/* back after a break: the alerts come again from the last id,
			 * but acknowledgements and moves made meanwhile do not */
			if (streamBroken) {
				streamBroken = false;
				reloadAfterBreak();
			}
		};
		es.onerror = () => {
			if (es !== stream)
				return;
			streamBroken = true;
			setStreamState('down');
			if (es.readyState === EventSource.CLOSED) {
				/* the browser gave up (an HTTP error): find out why, then reopen */
				closeStream();
				setTimeout(async () => {
					try {
						await HZAPI.get('/api/v1/alerts', { limit: 1 });
					} catch (e) {
						if (e.status === 401)
							return;
					}
					if (me)
						openStream();
				}, streamRetry);
				streamRetry = Math.min(streamRetry * 2, 30000);
			}
		};
		es.addEventListener('alert', (e) => {
			const a = parse(e.data);
			if (a && typeof a.id === 'number')
				onAlert(a, true);
		});
		es.addEventListener('ack', (e) => {
			const a = parse(e.data);
			if (a)
				onAck(a);
		});
		es.addEventListener('position', (e) => {
			const p = parse(e.data);
			if (p && typeof p.vehicle === 'string')
				pendingPositions.set(p.vehicle, p);
		});
	}

	async function reloadAfterBreak() {
		await Promise.all([loadVehicles(), loadOpenAlerts()]);
		await loadAlertList();
		recomputeStates();
		queueRender();
		if (selected)
			renderVehicleAlerts();
	}

	function parse(s) {
		try {
			return JSON.parse(s);
		} catch (e) {
			return null;
		}
	}

	function onAlert(a, live) {
		const known = alerts.has(a.id) || openAlerts.has(a.id);
		lastAlertId = Math.max(lastAlertId, a.id);
		if (isOpen(a))
			openAlerts.set(a.id, a);
		if (matches(a, filters()))
			alerts.set(a.id, a);
		if (!known && live && a.severity === 'critical' && isOpen(a)) {
			flashing.add(a.id);
			beepIfNeeded();
		}
		const v = vehicles.get(a.vehicle);
		if (v && !known && isOpen(a))
			v.open_alerts = (v.open_alerts || 0) + 1;
		afterAlertChange(a.vehicle);
	}

	/* An ack event: the acknowledged alert (or its id and the ack fields). */
	function onAck(d) {
		const id = typeof d.id === 'number' ? d.id : d.alert_id;
		if (typeof id !== 'number')
			return;
		const a = alerts.get(id) || openAlerts.get(id) || { id: id };
		['acked_at', 'acked_by', 'ack_note'].forEach((k) => {
			if (d[k] !== undefined)
				a[k] = d[k];
		});
		if (!a.acked_at)
			a.acked_at = d.ts || new Date().toISOString();
		markAcked(a);
	}

	function markAcked(a) {
		const wasOpen = openAlerts.delete(a.id);
		flashing.delete(a.id);
		if (alerts.has(a.id))
			alerts.set(a.id, Object.assign(alerts.get(a.id), a));
		const v = a.vehicle && vehicles.get(a.vehicle);
		if (v && wasOpen && v.open_alerts > 0)
			v.open_alerts--;
		afterAlertChange(a.vehicle);
	}

	function afterAlertChange(plate) {
		if (plate && vehicles.has(plate))
			HZMAP.setTankerState(plate, stateOf(vehicles.get(plate)));
		if (plate && plate === selected)
			renderVehicleAlerts();
		queueRender();
	}

	function queueRender() {
		if (renderQueued)
			return;
		renderQueued = true;
		requestAnimationFrame(() => {
			renderQueued = false;
			renderAlerts();
			renderBanner();
			updateCounts();
			HZMAP.setPulsing(pulsingPlates());
		});
	}

	function flushPositions() {
		if (pendingPositions.size === 0)
			return;
		const crit = criticalPlates();
		pendingPositions.forEach((p, plate) => {
			let v = vehicles.get(plate);
			if (!v) {
				v = { vehicle: plate, zone_ids: [], open_alerts: 0 };
				vehicles.set(plate, v);
			}
			if (v.last_fix && v.last_fix.ts && p.ts && p.ts < v.last_fix.ts)
				return;	/* an older fix, late: the map keeps the latest */
			v.last_fix = { ts: p.ts, lat: p.lat, lon: p.lon, speed_kmh: p.speed_kmh, heading: p.heading };
			if (Array.isArray(p.zone_ids))
				v.zone_ids = p.zone_ids;
			HZMAP.upsertTanker(plate, v.last_fix, stateOf(v, crit));
		});
		if (selected && pendingPositions.has(selected))
			renderVehicleFacts();
		pendingPositions.clear();
		HZMAP.setPulsing(pulsingPlates());	/* a tanker first seen now may have its alert already */
		updateCounts();
	}

	/* ------------------------------------------------------------ states */

	/* The plates with an open critical alert. */
	function criticalPlates() {
		const crit = new Set();
		openAlerts.forEach((a) => {
			if (a.severity === 'critical')
				crit.add(a.vehicle);
		});
		return crit;
	}

	/* moving, stopped, silent or critical; crit: criticalPlates() */
	function stateOf(v, crit) {
		if ((crit || criticalPlates()).has(v.vehicle))
			return 'critical';
		const f = v.last_fix;
		if (!f || !f.ts || Date.now() - Date.parse(f.ts) > (config.silent_after_s || 300) * 1000)
			return 'silent';
		return (f.speed_kmh || 0) >= MOVING_KMH ? 'moving' : 'stopped';
	}

	function recomputeStates() {
		const crit = criticalPlates();
		vehicles.forEach((v, plate) => {
			if (v.last_fix)
				HZMAP.setTankerState(plate, stateOf(v, crit));
		});
		HZMAP.setPulsing(pulsingPlates());
	}

	function pulsingPlates() {
		const s = new Set();
		flashing.forEach((id) => {
			const a = openAlerts.get(id) || alerts.get(id);
			if (a)
				s.add(a.vehicle);
		});
		return s;
	}

	let ticks = 0;
	function tick() {
		$('clock').textContent = HZI.clock(new Date()) + ' ' + HZI.timeZone();
		if (selected)
			renderAge();
		if (++ticks % 10 === 0)
			recomputeStates();
	}

	function updateCounts() {
		$('counts').textContent = t('counts', { vehicles: vehicles.size, open: openAlerts.size });
	}

	/* ------------------------------------------------------------ sound */

	function unlockAudio() {
		if (!audio && (window.AudioContext || window.webkitAudioContext)) {
			try {
				audio = new (window.AudioContext || window.webkitAudioContext)();
			} catch (e) {
				audio = null;
			}
		}
		if (audio && audio.state === 'suspended')
			audio.resume();
	}

	function beepIfNeeded() {
		if (flashing.size === 0 || muted)
			return;
		if (!audio)
			unlockAudio();
		if (!audio)
			return;
		/* a reloaded page may not sound before someone clicks (the
		 * browser's autoplay rule): say so on the sound button */
		$('mute').textContent = t(audio.state === 'running' ? 'sound.mute' : 'sound.blocked');
		if (audio.state !== 'running')
			return;
		const now = audio.currentTime;
		[0, 0.25].forEach((off) => {
			const osc = audio.createOscillator(), gain = audio.createGain();
			osc.type = 'square';
			osc.frequency.value = 880;
			gain.gain.setValueAtTime(0.0001, now + off);
			gain.gain.exponentialRampToValueAtTime(0.2, now + off + 0.02);
			gain.gain.exponentialRampToValueAtTime(0.0001, now + off + 0.18);
			osc.connect(gain).connect(audio.destination);
			osc.start(now + off);
			osc.stop(now + off + 0.2);
		});
		beeps++;
	}

	function onMute() {
		muted = !muted;
		$('mute').setAttribute('aria-pressed', String(muted));
		$('mute').textContent = t(muted ? 'sound.unmute' : 'sound.mute');
		unlockAudio();
	}

	/* ------------------------------------------------------------ alert list */

	function buildFilters() {
		const kind = $('f-kind'), sev = $('f-severity');
		const keepKind = kind.value, keepSev = sev.value;
		clear(kind);
		kind.appendChild(el('option', { value: '', text: t('filter.all_kinds') }));
		KINDS.forEach((k) => kind.appendChild(el('option', { value: k, text: t('kind.' + k) })));
		clear(sev);
		sev.appendChild(el('option', { value: '', text: t('filter.all_severities') }));
		SEVERITIES.forEach((s) => sev.appendChild(el('option', { value: s, text: t('severity.' + s) })));
		kind.value = keepKind;
		sev.value = keepSev;
		fillZoneFilter();
	}

	function fillZoneFilter() {
		const sel = $('f-zone'), keep = sel.value;
		clear(sel);
		sel.appendChild(el('option', { value: '', text: t('filter.all_zones') }));
		Array.from(zonesById.values()).sort((a, b) => a.id - b.id).forEach((z) => {
			sel.appendChild(el('option', { value: String(z.id), text: z.name || ('#' + z.id) }));
		});
		sel.value = keep;
	}

	function sortedAlerts() {
		return Array.from(alerts.values()).sort((a, b) => {
			const oa = isOpen(a) ? 0 : 1, ob = isOpen(b) ? 0 : 1;
			return oa !== ob ? oa - ob : b.id - a.id;
		});
	}

	function alertItem(a) {
		const open = isOpen(a);
		const li = el('li', {
			class: 'alert sev-' + (a.severity || 'info') + (open ? ' open' : ' acked') + (flashing.has(a.id) ? ' flash' : ''),
			'data-id': a.id,
			'data-kind': a.kind,
			'data-vehicle': a.vehicle
		});
		li.appendChild(el('div', { class: 'a-head' },
			el('span', { class: 'sev', text: t('severity.' + a.severity) }),
			el('span', { class: 'kind', text: t('kind.' + a.kind) }),
			el('span', { class: 'time', text: HZI.time(a.ts), title: a.ts })));
		li.appendChild(el('div', { class: 'a-where' },
			el('button', { type: 'button', class: 'plate link', text: a.vehicle, onclick: () => selectVehicle(a.vehicle) }),
			el('span', { class: 'zone', text: zoneName(a) })));
		const status = open ? el('span', { class: 'status', text: t('alert.open') })
			: el('span', { class: 'status', text: t('alert.acked', { user: a.acked_by || '?', time: HZI.time(a.acked_at) }) });
		li.appendChild(el('div', { class: 'a-status' }, status,
			a.ack_note ? el('q', { class: 'note', text: a.ack_note }) : null));
		const actions = el('div', { class: 'a-actions' });
		if (open && canAck())
			actions.appendChild(el('button', { type: 'button', class: 'ack', text: t('ack.button'), onclick: () => openAck(a) }));
		actions.appendChild(el('button', { type: 'button', class: 'trail-btn', text: t('alert.trail'), onclick: () => toggleTrail(li, a) }));
		li.appendChild(actions);
		return li;
	}

	function renderAlerts() {
		const list = $('alert-list');
		/* a board open for days keeps what its list shows, not every alert */
		if (alerts.size > LIST_MAX * 1.5)
			sortedAlerts().slice(LIST_MAX).forEach((a) => alerts.delete(a.id));
		const openTrails = new Set(Array.from(list.querySelectorAll('li[data-trail="1"]')).map((n) => n.dataset.id));
		clear(list);
		const items = sortedAlerts().slice(0, LIST_MAX);
		items.forEach((a) => {
			const li = alertItem(a);
			list.appendChild(li);
			if (openTrails.has(String(a.id)))
				toggleTrail(li, a);
		});
		$('alerts-empty').hidden = items.length > 0;
	}

	async function toggleTrail(li, a) {
		const old = li.querySelector('.trail');
		if (old) {
			old.remove();
			delete li.dataset.trail;
			return;
		}
		li.dataset.trail = '1';
		const ul = el('ul', { class: 'trail' });
		li.appendChild(ul);
		try {
			const events = await HZAPI.get('/api/v1/alerts/' + HZAPI.enc(a.id) + '/events');
			clear(ul);
			if (!events || events.length === 0)
				ul.appendChild(el('li', { class: 'muted', text: t('alert.trail_empty') }));
			(events || []).forEach((ev) => {
				ul.appendChild(el('li', { 'data-kind': ev.kind },
					el('span', { class: 'time', text: HZI.time(ev.ts) }), ' ',
					el('span', { class: 'who', text: ev.user || '' }), ' ',
					el('span', { class: 'what', text: t('trail.' + ev.kind) }),
					ev.note ? el('q', { class: 'note', text: ev.note }) : null));
			});
		} catch (e) {
			clear(ul);
			ul.appendChild(el('li', { class: 'error', text: e.message }));
		}
	}

	/* ------------------------------------------------------------ ack */

	function openAck(a) {
		ackTarget = a;
		$('ack-summary').textContent = [t('kind.' + a.kind), a.vehicle, zoneName(a), HZI.time(a.ts)].join(' · ');
		$('ack-note').value = '';
		$('ack-error').textContent = '';
		$('ack-dialog').showModal();
		$('ack-note').focus();
	}

	async function onAckSubmit(ev) {
		ev.preventDefault();
		const a = ackTarget;
		if (!a)
			return;
		$('ack-submit').disabled = true;
		try {
			const res = await HZAPI.send('POST', '/api/v1/alerts/' + HZAPI.enc(a.id) + '/ack', { note: $('ack-note').value });
			const done = Object.assign({}, a, res && typeof res === 'object' && res.id === a.id ? res : {});
			if (!done.acked_at)
				done.acked_at = new Date().toISOString();
			if (!done.acked_by)
				done.acked_by = me.user;
			if (done.ack_note === undefined)
				done.ack_note = $('ack-note').value;
			markAcked(done);
			$('ack-dialog').close();
			ackTarget = null;
		} catch (e) {
			if (e.status === 409) {
				$('ack-error').textContent = t('ack.conflict');
				flashing.delete(a.id);
				loadAlertList();
				loadOpenAlerts().then(queueRender);
			} else if (e.status === 403) {
				$('ack-error').textContent = t('ack.forbidden');
			} else if (e.status !== 401) {
				$('ack-error').textContent = t('ack.failed', { status: e.status });
			}
		} finally {
			$('ack-submit').disabled = false;
		}
	}

	/* ------------------------------------------------------------ banner */

	function renderBanner() {
		const ids = Array.from(flashing).filter((id) => openAlerts.has(id) || alerts.has(id)).sort((a, b) => b - a);
		const banner = $('banner');
		if (ids.length === 0) {
			banner.hidden = true;
			document.body.classList.remove('alarm');
			return;
		}
		const a = openAlerts.get(ids[0]) || alerts.get(ids[0]);
		let text = t('banner.text', { kind: t('kind.' + a.kind), vehicle: a.vehicle, zone: zoneName(a), time: HZI.time(a.ts) });
		if (ids.length > 1)
			text += ' ' + t('banner.more', { n: ids.length - 1 });
		$('banner-text').textContent = text;
		banner.dataset.id = String(a.id);
		$('banner-ack').hidden = !canAck();
		banner.hidden = false;
		document.body.classList.add('alarm');
	}

	function bannerAlert() {
		const id = Number($('banner').dataset.id);
		return openAlerts.get(id) || alerts.get(id);
	}

	/* ------------------------------------------------------------ vehicle panel */

	function showTab(name) {
		document.querySelectorAll('.tabs [data-tab]').forEach((b) => b.setAttribute('aria-selected', String(b.dataset.tab === name)));
		document.querySelectorAll('.panel').forEach((p) => {
			p.hidden = p.dataset.panel !== name;
		});
	}

	async function selectVehicle(plate) {
		if (selected !== plate)
			clearTrack();
		selected = plate;
		showTab('vehicle');
		HZMAP.focusVehicle(plate);
		$('vehicle-none').hidden = true;
		$('vehicle-info').hidden = false;
		$('v-plate').textContent = plate;
		renderVehicleFacts();
		try {
			const v = await HZAPI.get('/api/v1/vehicles/' + HZAPI.enc(plate));
			if (v && selected === plate) {
				const old = vehicles.get(plate) || {};
				/* a fix the stream brought after the server's answer stays */
				if (old.last_fix && v.last_fix && old.last_fix.ts > v.last_fix.ts)
					v.last_fix = old.last_fix;
				const open = v.alerts;	/* its open alerts, newest first */
				delete v.alerts;
				vehicles.set(plate, Object.assign(old, v));
				renderVehicleFacts();
				(Array.isArray(open) ? open : []).forEach((a) => openAlerts.set(a.id, a));
			}
		} catch (e) {
			if (e.status === 404)
				$('v-cargo').textContent = t('vehicle.not_found');
		}
		if (selected === plate)
			renderVehicleAlerts();
	}

	function renderVehicleFacts() {
		const v = vehicles.get(selected) || { vehicle: selected };
		const unk = t('vehicle.unknown');
		$('v-cargo').textContent = v.un || v.hazard_class ? t('vehicle.cargo_value', { un: v.un || unk, cls: v.hazard_class || unk }) : unk;
		$('v-carrier').textContent = v.carrier || unk;
		const f = v.last_fix;
		$('v-fix').textContent = f ? HZI.time(f.ts) + ' · ' + Number(f.lat).toFixed(5) + ', ' + Number(f.lon).toFixed(5) : unk;
		$('v-speed').textContent = f ? t('vehicle.speed_value', {
			speed: f.speed_kmh == null ? '?' : Number(f.speed_kmh).toFixed(1),
			heading: f.heading == null ? '?' : Math.round(f.heading)
		}) : unk;
		const zl = $('v-zones');
		clear(zl);
		(v.zone_ids || []).forEach((id) => {
			const z = zonesById.get(id);
			zl.appendChild(el('button', { type: 'button', class: 'link zone-chip', text: z ? z.name : '#' + id, onclick: () => HZMAP.showZone(id) }));
		});
		if (!zl.firstChild)
			zl.textContent = '—';
		renderAge();
	}

	function renderAge() {
		const v = vehicles.get(selected);
		$('v-age').textContent = v && v.last_fix ? HZI.age(v.last_fix.ts) : '';
	}

	function renderVehicleAlerts() {
		const ul = $('v-alerts');
		clear(ul);
		Array.from(openAlerts.values()).filter((a) => a.vehicle === selected).sort((a, b) => b.id - a.id)
			.forEach((a) => ul.appendChild(alertItem(a)));
	}

	function clearTrack() {
		stopReplay();
		HZMAP.clearTrack();
		$('track-replay').hidden = true;
		$('track-info').textContent = '';
	}

	/* The track over the chosen hours up to the vehicle's last fix (so an
	 * old vehicle shows its last drive, not an empty map). */
	async function loadTrack() {
		const plate = selected, v = vehicles.get(plate);
		if (!plate)
			return;
		const end = v && v.last_fix ? new Date(Date.parse(v.last_fix.ts) + 1000) : new Date();
		const from = new Date(end.getTime() - Number($('track-hours').value) * 3600 * 1000);
		clearTrack();
		try {
			const f = await HZAPI.get('/api/v1/vehicles/' + HZAPI.enc(plate) + '/track',
				{ from: from.toISOString(), to: end.toISOString(), format: 'geojson' });
			if (plate !== selected)
				return;
			const tr = HZMAP.showTrack(f);
			if (!tr) {
				$('track-info').textContent = t('track.empty');
				return;
			}
			trackTimes = tr.times;
			const s = $('track-slider');
			s.max = String(tr.n - 1);
			s.value = String(tr.n - 1);
			$('track-replay').hidden = false;
			$('track-time').textContent = HZI.time(trackTimes[tr.n - 1]);
			$('track-info').textContent = t('track.points', { n: tr.n, from: HZI.time(trackTimes[0]), to: HZI.time(trackTimes[tr.n - 1]) });
		} catch (e) {
			$('track-info').textContent = e.message;
		}
	}

	function onSlider() {
		const i = Number($('track-slider').value);
		HZMAP.replayTo(i);
		$('track-time').textContent = HZI.time(trackTimes[i]);
	}

	function stopReplay() {
		if (replayTimer) {
			clearInterval(replayTimer);
			replayTimer = null;
		}
		$('track-play').textContent = t('track.play');
	}

	function onPlay() {
		if (replayTimer)
			return stopReplay();
		const s = $('track-slider'), max = Number(s.max);
		if (Number(s.value) >= max)
			s.value = '0';
		const step = Math.max(1, Math.round(max / 400));
		$('track-play').textContent = t('track.pause');
		replayTimer = setInterval(() => {
			const i = Math.min(max, Number(s.value) + step);
			s.value = String(i);
			onSlider();
			if (i >= max)
				stopReplay();
		}, 50);
	}

	/* ------------------------------------------------------------ zones panel */

	function renderZones() {
		const ul = $('zone-list'), only = $('zones-in-force').checked;
		clear(ul);
		Array.from(zonesById.values()).sort((a, b) => a.id - b.id).forEach((z) => {
			const inForce = z.in_force_now !== false;
			if (only && !inForce)
				return;
			ul.appendChild(el('li', { class: 'zone' + (inForce ? ' in-force' : ''), 'data-id': z.id, 'data-kind': z.kind },
				el('span', { class: 'swatch kind-' + (z.kind || 'unknown') }),
				el('button', { type: 'button', class: 'link zone-name', text: z.name || ('#' + z.id), onclick: () => HZMAP.showZone(z.id) }),
				el('span', { class: 'zone-kind', text: t('zonekind.' + z.kind) }),
				el('span', { class: 'zone-state', text: t(inForce ? 'zones.in_force' : 'zones.not_in_force') })));
		});
	}

	/* ------------------------------------------------------------ wiring */

	function relabel() {
		buildFilters();
		renderAlerts();
		renderBanner();
		renderZones();
		updateCounts();
		setStreamState(streamState);
		HZMAP.relabelZones && booted && HZMAP.relabelZones();
		if (selected)
			renderVehicleFacts();
		$('mute').textContent = t(muted ? 'sound.unmute' : 'sound.mute');
	}

	function wire() {
		HZI.apply();
		HZI.onChange(() => booted ? relabel() : null);
		HZAPI.onUnauthorized(onUnauthorized);
		$('login-form').addEventListener('submit', onLoginSubmit);
		document.querySelectorAll('.lang-switch').forEach((b) => b.addEventListener('click', () => HZI.toggle()));
		$('logout').addEventListener('click', onLogout);
		$('mute').addEventListener('click', onMute);
		document.addEventListener('pointerdown', unlockAudio);
		document.querySelectorAll('.tabs [data-tab]').forEach((b) => b.addEventListener('click', () => showTab(b.dataset.tab)));
		$('alert-filters').addEventListener('change', loadAlertList);
		$('alert-filters').addEventListener('submit', (e) => {
			e.preventDefault();
			loadAlertList();
		});
		$('ack-form').addEventListener('submit', onAckSubmit);
		$('ack-cancel').addEventListener('click', () => {
			$('ack-dialog').close();
			ackTarget = null;
		});
		$('banner-ack').addEventListener('click', () => {
			const a = bannerAlert();
			if (a)
				openAck(a);
		});
		$('banner-show').addEventListener('click', () => {
			const a = bannerAlert();
			if (a)
				selectVehicle(a.vehicle);
		});
		$('track-load').addEventListener('click', loadTrack);
		$('track-clear').addEventListener('click', clearTrack);
		$('track-slider').addEventListener('input', onSlider);
		$('track-play').addEventListener('click', onPlay);
		$('zones-in-force').addEventListener('change', () => {
			HZMAP.setInForceOnly($('zones-in-force').checked);
			renderZones();
		});
		showTab('alerts');
		setStreamState('connecting');
	}

	/* A look at what the page holds (and two map moves), for the browser
	 * tests and for a curious dispatcher's console. */
	window.hazgateBoard = {
		stats: () => Object.assign(HZMAP.stats(), {
			vehicles: vehicles.size,
			alerts: alerts.size,
			open: openAlerts.size,
			flashing: flashing.size,
			beeps: beeps,
			stream: streamState,
			user: me ? me.user : null,
			role: me ? me.role : null
		}),
		tankerPoint: (plate) => HZMAP.tankerPoint(plate),
		focus: (plate) => HZMAP.focusVehicle(plate),
		fit: () => HZMAP.fitTankers()
	};

	document.addEventListener('DOMContentLoaded', () => {
		wire();
		resume();
	});
})();
