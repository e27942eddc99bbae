/*
 * board-resume.js: the page keeps its stream across a hazgate-web crash.
 * With a dispatcher's board open, $HG_WEB_RESTART kills hazgate-web
 * (SIGKILL), publishes a prohibited entry that the gateway commits while
 * no hazgate-web runs, and starts hazgate-web again. The page's
 * EventSource reconnects by itself (Last-Event-ID, or the page's own
 * last_event_id), the alert committed meanwhile arrives and flashes, the
 * stream is live again, and the session still holds (sessions are in
 * PostgreSQL): the alert is acknowledged from the vehicle panel. An
 * alert acknowledged with hazgate-ctl while hazgate-web was down (no ack
 * event reaches the page for it) stops flashing once the page is back.
 *
 * Env: HG_WEB_URL, HG_ARTEFACTS, HG_DISPATCHER, HG_DISPATCHER_PW,
 * HG_WEB_RESTART (a script: kill, publish, ack, restart), HG_RESUME_PLATE,
 * HG_AWAY_ACK_ID.
 */
'use strict';

const { spawnSync } = require('node:child_process');
const { env, log, login, stats, shot, run, assert } = require('./lib.js');

run('board-resume', async (page) => {
	const plate = env('HG_RESUME_PLATE');
	await login(page, env('HG_DISPATCHER'), env('HG_DISPATCHER_PW'));
	const before = await stats(page);
	const away = env('HG_AWAY_ACK_ID');
	const awayRow = '#alert-list li[data-id="' + away + '"]';
	await page.waitForSelector(awayRow + '.flash', { timeout: 5000 });	/* open and young: it flashes */

	const r = spawnSync('bash', [env('HG_WEB_RESTART')], { encoding: 'utf8' });
	log('restart:', r.stdout.trim(), r.stderr.trim());
	assert.equal(r.status, 0, 'hazgate-web was killed and started again');

	const row = '#alert-list li[data-kind="prohibited_entry"][data-vehicle="' + plate + '"]';
	await page.waitForSelector(row + '.flash', { timeout: 20000 });
	await page.waitForFunction(() => window.hazgateBoard.stats().stream === 'live', { timeout: 10000 });
	const after = await stats(page);
	log('before:', JSON.stringify(before), 'after:', JSON.stringify(after));
	assert.equal(after.user, before.user);
	assert.equal(await page.$$eval(row, (l) => l.length), 1, 'the alert is shown once');
	/* the one acknowledged while the stream was down (no event for it) */
	await page.waitForSelector(awayRow + '.acked:not(.flash)', { timeout: 10000 });
	log('acknowledged while away:', await page.$eval(awayRow + ' .status', (e) => e.textContent));
	await shot(page, 'board-resumed');

	/* the session outlived the crash: acknowledge it from the vehicle panel */
	const id = Number(await page.$eval(row, (li) => li.dataset.id));
	await page.click(row + ' button.plate');
	const panelRow = '#v-alerts li[data-id="' + id + '"]';
	await page.waitForSelector(panelRow + ' button.ack', { timeout: 5000 });
	await page.click(panelRow + ' button.ack');
	await page.waitForSelector('#ack-dialog[open]', { timeout: 3000 });
	await page.type('#ack-note', 'after the restart');
	await page.click('#ack-submit');
	await page.waitForFunction((sel) => !document.querySelector(sel), { timeout: 5000 }, panelRow);
	await page.waitForSelector('#alert-list li[data-id="' + id + '"].acked', { timeout: 5000 });
	log('acknowledged from the vehicle panel');
});
