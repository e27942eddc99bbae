/*
 * board-xss.js: a zone named <img src=x onerror=alert(1)> (and an alert in
 * it) renders as those characters: in the zones panel, the zone filter,
 * the alert list and the map's tooltip; no dialog opens (lib.js fails the
 * test on any) and no img element exists. Then log out: the login form
 * comes back and the API answers 401.
 *
 * Env: HG_WEB_URL, HG_ARTEFACTS, HG_DISPATCHER, HG_DISPATCHER_PW,
 * HG_XSS_NAME, HG_XSS_ZONE_ID, HG_XSS_PLATE.
 */
'use strict';

const { env, log, login, shot, run, sleep, assert } = require('./lib.js');

run('board-xss', async (page) => {
	const name = env('HG_XSS_NAME'), zid = env('HG_XSS_ZONE_ID'), plate = env('HG_XSS_PLATE');
	await login(page, env('HG_DISPATCHER'), env('HG_DISPATCHER_PW'));

	await page.click('[data-tab="zones"]');
	const item = '#zone-list li[data-id="' + zid + '"]';
	await page.waitForSelector(item, { timeout: 10000 });
	const shown = await page.$eval(item + ' .zone-name', (b) => ({ text: b.textContent, children: b.children.length }));
	assert.equal(shown.text, name);
	assert.equal(shown.children, 0, 'the name is text, no element');
	const option = await page.$eval('#f-zone option[value="' + zid + '"]', (o) => o.textContent);
	assert.equal(option, name);

	/* the alert in that zone names it as text too */
	const row = '#alert-list li[data-vehicle="' + plate + '"][data-kind="zone_enter"]';
	await page.click('[data-tab="alerts"]');
	await page.waitForSelector(row, { timeout: 10000 });
	assert.equal(await page.$eval(row + ' .zone', (e) => e.textContent), name);

	/* the list's filters: by kind, by zone, by severity */
	const kinds = () => page.$$eval('#alert-list li', (l) => l.map((li) => li.dataset.kind));
	await page.select('#f-kind', 'zone_enter');
	await page.waitForFunction(() => Array.from(document.querySelectorAll('#alert-list li')).every((li) => li.dataset.kind === 'zone_enter'), { timeout: 5000 });
	assert.ok((await kinds()).length >= 1);
	await page.select('#f-kind', '');
	await page.select('#f-zone', zid);
	await page.waitForFunction((z) => {
		const l = Array.from(document.querySelectorAll('#alert-list li'));
		return l.length >= 1 && l.every((li) => li.dataset.vehicle === z);
	}, { timeout: 5000 }, plate);
	await page.select('#f-zone', '');
	await page.select('#f-severity', 'critical');
	await page.waitForFunction(() => {
		const l = Array.from(document.querySelectorAll('#alert-list li'));
		return l.length >= 1 && l.every((li) => li.classList.contains('sev-critical'));
	}, { timeout: 5000 });
	log('filtered, critical only:', JSON.stringify(await kinds()));
	await page.select('#f-severity', '');

	/* on the map: show the zone, hover it, read the tooltip */
	await page.click('[data-tab="zones"]');
	await page.click(item + ' .zone-name');
	await sleep(600);
	const c = await page.$eval('.leaflet-zones-pane path.zone-' + zid, (p) => {
		const r = p.getBoundingClientRect();
		return { x: r.left + r.width / 2, y: r.top + r.height / 2 };
	});
	await page.mouse.move(c.x, c.y);
	await page.mouse.move(c.x + 2, c.y + 1);
	await page.waitForSelector('.leaflet-tooltip', { timeout: 3000 });
	const tip = await page.$eval('.leaflet-tooltip', (t) => t.textContent);
	log('tooltip:', tip);
	assert.ok(tip.includes(name));

	await sleep(1000);	/* an onerror would have fired by now */
	const imgs = await page.evaluate(() => document.querySelectorAll('img').length);
	assert.equal(imgs, 0, 'no img element in the page');
	await shot(page, 'board-xss');

	/* log out: the form again, and the session is over for the API too */
	await page.click('#logout');
	await page.waitForSelector('#login-user', { visible: true, timeout: 10000 });
	const after = await page.evaluate(async () => (await fetch('/api/v1/alerts?limit=1')).status);
	assert.equal(after, 401, 'logged out');
});
