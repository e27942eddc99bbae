/*
 * board-alert-ack.js: a dispatcher's board is open; a tanker enters a
 * prohibited zone (one native telemetry message through mosquitto); within
 * 2 s of the publish the alert is in the list, flashing, with the banner
 * and a ring on the map, and the board beeps. The dispatcher acknowledges
 * it in the page with a note: it stops flashing, shows who acknowledged
 * it, the trail has the ack, and a second ack is refused (409). Prints
 * ALERT_ID=N for the bats test, which checks acked_by in PostgreSQL.
 *
 * Env: HG_WEB_URL, HG_ARTEFACTS, HG_DISPATCHER, HG_DISPATCHER_PW,
 * HG_MQTT_HOST, HG_MQTT_PORT, HG_ALERT_PLATE, HG_ALERT_LAT, HG_ALERT_LON,
 * HG_ACK_NOTE.
 */
'use strict';

const { env, log, login, stats, shot, publish, postAck, run, sleep, assert } = require('./lib.js');

run('board-alert-ack', async (page) => {
	const user = env('HG_DISPATCHER'), plate = env('HG_ALERT_PLATE'), note = env('HG_ACK_NOTE');
	await login(page, user, env('HG_DISPATCHER_PW'));
	const before = await stats(page);
	assert.equal(before.flashing, 0, 'nothing flashes before');

	const row = '#alert-list li[data-kind="prohibited_entry"][data-vehicle="' + plate + '"]';
	const t0 = Date.now();
	publish({ vehicle: plate, ts: new Date().toISOString(), lat: Number(env('HG_ALERT_LAT')), lon: Number(env('HG_ALERT_LON')),
		speed_kmh: 23.5, heading: 90, un: '1203', hazard_class: '3', seq: 1 });
	await page.waitForSelector(row + '.flash', { timeout: 2000 });
	const took = Date.now() - t0;
	log('the alert appeared and flashes', took, 'ms after the publish');
	assert.ok(took <= 2000);

	const id = Number(await page.$eval(row, (li) => li.dataset.id));
	const seen = await page.evaluate((row) => {
		const li = document.querySelector(row);
		const banner = document.getElementById('banner');
		return {
			animation: getComputedStyle(li).animationName,
			banner: banner.hidden ? null : document.getElementById('banner-text').textContent,
			alarm: document.body.classList.contains('alarm'),
			zone: li.querySelector('.zone').textContent
		};
	}, row);
	log('flash:', JSON.stringify(seen));
	assert.equal(seen.animation, 'flash-row', 'the row flashes');
	assert.ok(seen.alarm && seen.banner && seen.banner.includes(plate), 'the banner names the tanker');
	assert.equal(seen.zone, 'Wusu airport');
	await page.waitForFunction((p) => {
		const s = window.hazgateBoard.stats(), t = window.hazgateBoard.tankerPoint(p);
		return s.pulses >= 1 && s.beeps >= 1 && t && t.state === 'critical';
	}, { timeout: 5000 }, plate);
	await shot(page, 'board-alert');

	/* acknowledge it from the list, with a note */
	await page.click(row + ' button.ack');
	await page.waitForSelector('#ack-dialog[open]', { timeout: 3000 });
	await page.type('#ack-note', note);
	await page.click('#ack-submit');
	await page.waitForSelector('#alert-list li[data-id="' + id + '"].acked', { timeout: 5000 });
	const after = await page.evaluate((id) => {
		const li = document.querySelector('#alert-list li[data-id="' + id + '"]');
		return {
			flash: li.classList.contains('flash'),
			ackButton: !!li.querySelector('button.ack'),
			status: li.querySelector('.status').textContent,
			note: li.querySelector('.note') && li.querySelector('.note').textContent,
			banner: !document.getElementById('banner').hidden,
			dialog: document.getElementById('ack-dialog').open
		};
	}, id);
	log('after the ack:', JSON.stringify(after));
	assert.equal(after.flash, false);
	assert.equal(after.ackButton, false);
	assert.ok(after.status.includes(user), 'the row names who acknowledged');
	assert.equal(after.note, note);
	assert.equal(after.banner, false, 'the banner is gone');
	assert.equal(after.dialog, false);
	const s = await stats(page);
	assert.equal(s.flashing, 0);
	await page.waitForFunction(() => window.hazgateBoard.stats().pulses === 0, { timeout: 3000 });
	const beeps = s.beeps;
	await sleep(2000);
	assert.equal((await stats(page)).beeps, beeps, 'the beeping stopped');

	/* the trail has the ack, by that user */
	await page.click('#alert-list li[data-id="' + id + '"] button.trail-btn');
	await page.waitForSelector('#alert-list li[data-id="' + id + '"] .trail li[data-kind="ack"]', { timeout: 5000 });
	const trail = await page.$eval('#alert-list li[data-id="' + id + '"] .trail li[data-kind="ack"]',
		(li) => ({ who: li.querySelector('.who').textContent, note: li.querySelector('.note') && li.querySelector('.note').textContent }));
	log('trail:', JSON.stringify(trail));
	assert.equal(trail.who, user);
	assert.equal(trail.note, note);

	/* a second ack, as the page would send it: 409 */
	const again = await postAck(page, id, 'again');
	assert.equal(again, 409);
	await shot(page, 'board-acked');
	console.log('ALERT_ID=' + id);
});
