/*
 * board-map.js: log in as a dispatcher; the zones are drawn (colour by
 * kind, a hole as a second ring, the corridor at its width in metres, the
 * circle), and $HG_TANKERS_N tanker markers; every grid tanker moves (a
 * fix each through mosquitto) and the page draws each move from the
 * stream; each state's colour on the canvas (moving, stopped, silent); a
 * click on a tanker opens its panel; its track replays with the slider;
 * the language switches; a reload keeps the session.
 *
 * Env: HG_WEB_URL, HG_ARTEFACTS, HG_DISPATCHER, HG_DISPATCHER_PW,
 * HG_TANKERS_N, HG_ZONES_N, HG_MOVING, HG_STOPPED, HG_SILENT (plates),
 * HG_TRACK_PLATE, HG_TRACK_N (its stored fixes).
 */
'use strict';

const { env, log, login, stats, shot, publish, tankerPixel, hexRgb, near, run, sleep, assert } = require('./lib.js');

run('board-map', async (page) => {
	const N = Number(env('HG_TANKERS_N')), Z = Number(env('HG_ZONES_N'));
	await login(page, env('HG_DISPATCHER'), env('HG_DISPATCHER_PW'));
	await page.waitForFunction((n, z) => {
		const s = window.hazgateBoard.stats();
		return s.tankers === n && s.zones === z;
	}, { timeout: 30000 }, N, Z);
	const s = await stats(page);
	log('drawn:', JSON.stringify(s));
	assert.equal(s.tankers, N);
	assert.equal(s.vehicles, N);

	/* the zones in force now are drawn; the others too once the zones
	 * panel asks for all */
	const inForce = await page.evaluate(async () => {
		const fc = await (await fetch('/api/v1/zones')).json();
		return fc.features.filter((f) => f.properties.in_force_now).length;
	});
	assert.equal((await stats(page)).drawnZones, inForce, 'the zones in force now are drawn');
	await page.click('[data-tab="zones"]');
	assert.equal(await page.$$eval('#zone-list li', (l) => l.length), inForce);
	await page.click('#zones-in-force');
	await page.waitForFunction((z) => window.hazgateBoard.stats().drawnZones === z, { timeout: 3000 }, Z);
	assert.equal(await page.$$eval('#zone-list li', (l) => l.length), Z);
	log('zones in force now:', inForce, 'of', Z);

	/* zones: one SVG path per zone (the corridor adds its centre line) */
	const z = await page.evaluate(() => {
		const one = (id) => document.querySelector('.leaflet-zones-pane path.zone-' + id);
		const corridor = one(8);
		const map = document.getElementById('map');
		return {
			paths: document.querySelectorAll('.leaflet-zones-pane path.zone').length,
			prohibited: one(5) && one(5).getAttribute('stroke'),
			venue: one(1) && one(1).getAttribute('stroke'),
			holeRings: one(3) ? (one(3).getAttribute('d').match(/M/g) || []).length : 0,
			corridorWidth: corridor ? Number(corridor.getAttribute('stroke-width')) : 0,
			corridorCap: corridor && corridor.getAttribute('stroke-linecap'),
			mapWidth: map.clientWidth
		};
	});
	log('zones:', JSON.stringify(z));
	assert.equal(z.paths, Z, 'every zone is drawn');
	assert.equal(z.prohibited, '#d7191c', 'prohibited zones are red');
	assert.equal(z.venue, '#7b3294', 'event venues are purple');
	assert.equal(z.holeRings, 2, 'the athletes\' village is drawn with its hole');
	assert.equal(z.corridorCap, 'round');
	/* the corridor is width_m wide on the screen: metres over metres per pixel at its latitude */
	const corridor = await page.evaluate(async () => {
		const fc = await (await fetch('/api/v1/zones')).json();
		const f = fc.features.find((x) => x.properties.kind === 'corridor');
		const lats = f.geometry.coordinates.map((c) => c[1]);
		return { width_m: f.properties.width_m, lat: lats.reduce((a, b) => a + b, 0) / lats.length, zoom: window.hazgateBoard.stats().zoom };
	});
	const wantPx = corridor.width_m / (40075016.686 * Math.cos(corridor.lat * Math.PI / 180) / Math.pow(2, corridor.zoom + 8));
	log('corridor', corridor.width_m, 'm at zoom', corridor.zoom, ':', z.corridorWidth, 'px, want', wantPx.toFixed(2));
	assert.ok(Math.abs(z.corridorWidth - Math.max(2, wantPx)) < 0.05 * Math.max(2, wantPx), 'the corridor is drawn at its width');

	/* every grid tanker moves 0.0003 degree north: the moves come as
	 * position events (no reload) and all of them are drawn; how long
	 * the page's frames took meanwhile is printed */
	const grid = N - 1;	/* G0000.. on the grid, and the silent one */
	const ts = new Date().toISOString(), moves = [];
	for (let i = 0; i < grid; i++)
		moves.push({ vehicle: 'G' + String(i).padStart(4, '0'), ts: ts, lat: 37.90 + (i % 100) * 0.0009 + 0.0003,
			lon: 112.30 + Math.floor(i / 100) * 0.0018, speed_kmh: i % 2 ? 0 : 40, heading: (i * 37) % 360, un: '1203', hazard_class: '3' });
	await page.evaluate(() => {
		window.hzFrames = [];
		let prev = performance.now();
		const f = (t) => {
			window.hzFrames.push(t - prev);
			prev = t;
			if (!window.hzFramesStop)
				requestAnimationFrame(f);
		};
		requestAnimationFrame(f);
	});
	const t0 = Date.now();
	publish(moves);
	await page.waitForFunction((plates) => plates.every((p) => {
		const t = window.hazgateBoard.tankerPoint(p);
		return t && Math.abs(t.lat - window.hzWant[p]) < 1e-7;
	}), { timeout: 60000, polling: 200 }, await page.evaluate((m) => {
		window.hzWant = {};
		m.forEach((x) => { window.hzWant[x.vehicle] = x.lat; });
		return m.map((x) => x.vehicle);
	}, moves));
	const frames = await page.evaluate(() => {
		window.hzFramesStop = true;
		const f = window.hzFrames.slice().sort((a, b) => a - b);
		return { n: f.length, p50: Math.round(f[f.length >> 1]), p99: Math.round(f[Math.floor(f.length * 0.99)]), max: Math.round(f[f.length - 1]) };
	});
	log('moved', grid, 'tankers by position events in', Date.now() - t0, 'ms; frame gaps ms', JSON.stringify(frames));
	assert.equal((await stats(page)).tankers, N, 'moves add no marker');

	/* the tankers' colours, one per state, checked on the canvas at the
	 * marker's centre after zooming to it */
	for (const [plate, state] of [[env('HG_MOVING'), 'moving'], [env('HG_STOPPED'), 'stopped'], [env('HG_SILENT'), 'silent']]) {
		await page.evaluate((p) => window.hazgateBoard.focus(p), plate);
		await sleep(400);
		const pix = await tankerPixel(page, plate);
		log(plate, JSON.stringify(pix));
		assert.ok(pix, plate + ' is on the map');
		assert.equal(pix.state, state, plate + ' is ' + state);
		assert.ok(near(pix.rgb, hexRgb(pix.colour)), plate + ' is drawn in ' + pix.colour + ', got ' + pix.rgb);
	}

	/* a click on a tanker opens its panel */
	const plate = env('HG_TRACK_PLATE');
	await page.evaluate((p) => window.hazgateBoard.focus(p), plate);
	await sleep(400);
	const pt = await page.evaluate((p) => window.hazgateBoard.tankerPoint(p), plate);
	const box = await page.$eval('#map', (m) => { const r = m.getBoundingClientRect(); return { x: r.left, y: r.top }; });
	await page.mouse.click(box.x + pt.x, box.y + pt.y);
	await page.waitForFunction((p) => document.getElementById('v-plate').textContent === p &&
		!document.getElementById('panel-vehicle').hidden, { timeout: 5000 }, plate);
	await page.waitForFunction(() => document.getElementById('v-cargo').textContent.includes('1203'), { timeout: 5000 });

	/* its track, replayed with the slider */
	await page.click('#track-load');
	const n = Number(env('HG_TRACK_N'));
	await page.waitForFunction((n) => window.hazgateBoard.stats().track === n, { timeout: 5000 }, n);
	assert.equal(await page.$eval('#track-slider', (s) => Number(s.max)), n - 1);
	const before = await page.$eval('#track-time', (e) => e.textContent);
	await page.$eval('#track-slider', (s) => {
		s.value = '0';
		s.dispatchEvent(new Event('input'));
	});
	const after = await page.$eval('#track-time', (e) => e.textContent);
	log('replay from', after, 'to', before);
	assert.ok(after < before, 'the slider goes back in time');
	await shot(page, 'board-vehicle');

	/* Chinese, and back */
	await page.click('header .lang-switch');
	assert.equal(await page.$eval('[data-tab="alerts"]', (e) => e.textContent), '告警');
	await page.click('header .lang-switch');
	assert.equal(await page.$eval('[data-tab="alerts"]', (e) => e.textContent), 'Alerts');

	await page.evaluate(() => window.hazgateBoard.fit());
	await sleep(500);
	await shot(page, 'board-map');

	/* a reload keeps the session: no login form, the same user, live again */
	await page.reload({ waitUntil: 'domcontentloaded' });
	await page.waitForFunction((u) => {
		const s = window.hazgateBoard && window.hazgateBoard.stats();
		return s && s.user === u && s.stream === 'live';
	}, { timeout: 20000 }, env('HG_DISPATCHER'));
	assert.equal(await page.$eval('#login', (e) => e.hidden), true);
});
