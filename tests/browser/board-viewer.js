/*
 * board-viewer.js: a viewer sees the open alert but has no ack button
 * (not in the list, the banner or the vehicle panel), and the same POST
 * the page would send, with the viewer's own CSRF token, gets 403. The
 * browser asks for Chinese, so the board speaks Chinese.
 *
 * Env: HG_WEB_URL, HG_ARTEFACTS, HG_VIEWER, HG_VIEWER_PW, HG_OPEN_ALERT_ID,
 * HG_OPEN_ALERT_PLATE.
 */
'use strict';

const { env, log, login, shot, postAck, run, assert } = require('./lib.js');

run('board-viewer', async (page) => {
	const id = env('HG_OPEN_ALERT_ID'), plate = env('HG_OPEN_ALERT_PLATE');
	await login(page, env('HG_VIEWER'), env('HG_VIEWER_PW'));
	const row = '#alert-list li[data-id="' + id + '"]';
	await page.waitForSelector(row + '.open', { timeout: 10000 });
	assert.equal(await page.$eval('[data-tab="alerts"]', (e) => e.textContent), '告警', 'a Chinese browser gets Chinese');
	assert.equal(await page.$eval(row + ' .kind', (e) => e.textContent), '闯入禁区');
	const buttons = await page.evaluate(() => ({
		anyAck: Array.from(document.querySelectorAll('button.ack')).filter((b) => b.offsetParent !== null).length,
		role: window.hazgateBoard.stats().role
	}));
	log('viewer page:', JSON.stringify(buttons));
	assert.equal(buttons.role, 'viewer');
	assert.equal(buttons.anyAck, 0, 'no visible ack button anywhere');
	assert.equal(await page.$(row + ' button.ack'), null);

	await page.click(row + ' button.plate');
	await page.waitForFunction((p) => document.getElementById('v-plate').textContent === p, { timeout: 5000 }, plate);
	await page.waitForSelector('#v-alerts li[data-id="' + id + '"]', { timeout: 5000 });
	assert.equal(await page.$('#v-alerts button.ack'), null, 'no ack button in the vehicle panel');
	await shot(page, 'board-viewer');

	const status = await postAck(page, id, 'forged');
	log('forged POST answered', status);
	assert.equal(status, 403);
});
