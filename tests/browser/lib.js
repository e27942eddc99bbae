/*
 * lib.js: what the board's browser tests share (tests/browser/board-*.js,
 * run by tests/integration/63-web-board.bats against a running hazgate-web,
 * gateway, PostgreSQL and mosquitto).
 *
 * Debian's chromium, headless, driven by puppeteer-core (no browser of its
 * own). Every page is watched: a JavaScript error, a Content-Security-Policy
 * violation or a dialog (alert(), confirm()) fails the test. Screenshots
 * and each script's log (NAME.log: what it saw and measured) go to
 * $HG_ARTEFACTS. A script is `run(async (page) => {...})`: it exits 0
 * when the function returns, 1 (with a screenshot of the failure) when it
 * throws.
 */
'use strict';

const puppeteer = require('puppeteer-core');
const assert = require('node:assert/strict');
const fs = require('node:fs');
const path = require('node:path');
const { spawnSync } = require('node:child_process');

function env(name, dflt) {
	const v = process.env[name];
	if (v === undefined || v === '') {
		if (dflt !== undefined)
			return dflt;
		throw new Error('the environment has no ' + name);
	}
	return v;
}

const BASE = env('HG_WEB_URL');
const ARTEFACTS = env('HG_ARTEFACTS');
const problems = [];

let logFile = null;	/* $HG_ARTEFACTS/NAME.log: what the script said, kept with its screenshots */

function log(...args) {
	console.log('#', ...args);
	if (logFile)
		fs.appendFileSync(logFile, args.join(' ') + '\n');
}

async function launch() {
	/* headless chromium takes navigator.languages from --accept-lang */
	const lang = env('HG_BROWSER_LANG', 'en-US');
	const args = ['--autoplay-policy=no-user-gesture-required', '--lang=' + lang, '--accept-lang=' + lang,
		'--window-size=1400,850', '--disable-dev-shm-usage'];
	if (process.getuid && process.getuid() === 0)
		args.push('--no-sandbox');
	return puppeteer.launch({
		executablePath: env('HG_CHROMIUM', '/usr/bin/chromium'),
		headless: true,
		args: args,
		defaultViewport: { width: 1400, height: 850 }
	});
}

/* A new page with its errors, CSP violations and dialogs recorded. */
async function newPage(browser) {
	const page = await browser.newPage();
	page.on('pageerror', (e) => problems.push('page error: ' + e.message));
	page.on('console', (m) => {
		const text = m.text();
		if (/Content Security Policy|Refused to (execute|load|apply)/i.test(text))
			problems.push('CSP: ' + text);
	});
	page.on('dialog', async (d) => {
		problems.push('a ' + d.type() + ' dialog opened: ' + d.message());
		await d.dismiss();
	});
	return page;
}

/* Log in through the form; resolves when the stream is live. */
async function login(page, user, password) {
	await page.goto(BASE + '/', { waitUntil: 'domcontentloaded' });
	await page.waitForSelector('#login-user', { visible: true, timeout: 15000 });
	await page.type('#login-user', user);
	await page.type('#login-password', password);
	await page.click('#login-submit');
	await page.waitForFunction((u) => {
		const s = window.hazgateBoard && window.hazgateBoard.stats();
		return s && s.user === u && s.stream === 'live';
	}, { timeout: 20000 }, user);
	log('logged in as', user);
}

const stats = (page) => page.evaluate(() => window.hazgateBoard.stats());

async function shot(page, name) {
	fs.mkdirSync(ARTEFACTS, { recursive: true });
	const file = path.join(ARTEFACTS, name + '.png');
	await page.screenshot({ path: file });
	log('screenshot', file);
	return file;
}

/* Publish native telemetry (QoS 1) with mosquitto_pub: one fix, or an
 * array of them, a message each (the vehicle member names the vehicle). */
function publish(fixes) {
	const list = Array.isArray(fixes) ? fixes : [fixes];
	const r = spawnSync('mosquitto_pub', ['-h', env('HG_MQTT_HOST'), '-p', env('HG_MQTT_PORT'), '-q', '1',
		'-t', 'tankers/' + list[0].vehicle + '/telemetry', '-l'],
		{ input: list.map((f) => JSON.stringify(f)).join('\n') + '\n', encoding: 'utf8' });
	if (r.status !== 0)
		throw new Error('mosquitto_pub failed: ' + r.stderr);
}

/* The colour of the tankers' canvas at a tanker's centre, as [r, g, b]. */
function tankerPixel(page, plate) {
	return page.evaluate((plate) => {
		const p = window.hazgateBoard.tankerPoint(plate);
		if (!p)
			return null;
		const canvas = document.querySelector('.leaflet-tankers-pane canvas');
		const map = document.getElementById('map').getBoundingClientRect();
		const c = canvas.getBoundingClientRect();
		const scale = canvas.width / c.width;
		const x = Math.round((map.left + p.x - c.left) * scale), y = Math.round((map.top + p.y - c.top) * scale);
		const d = canvas.getContext('2d').getImageData(x, y, 1, 1).data;
		return { rgb: [d[0], d[1], d[2]], alpha: d[3], state: p.state, colour: p.colour };
	}, plate);
}

/* POST /api/v1/alerts/{id}/ack from inside the page, with the session's
 * own CSRF token (as GET /api/v1/config gives it): the HTTP status. */
function postAck(page, id, note) {
	return page.evaluate(async (id, note) => {
		const s = await (await fetch('/api/v1/config')).json();
		const r = await fetch('/api/v1/alerts/' + id + '/ack', { method: 'POST',
			headers: { 'Content-Type': 'application/json', 'X-CSRF-Token': s.csrf }, body: JSON.stringify({ note: note }) });
		return r.status;
	}, id, note);
}

function hexRgb(hex) {
	const n = parseInt(hex.slice(1), 16);
	return [(n >> 16) & 255, (n >> 8) & 255, n & 255];
}

/* Whether two colours are within tol on every channel. */
function near(a, b, tol) {
	return a.every((v, i) => Math.abs(v - b[i]) <= (tol || 24));
}

function run(name, body) {
	fs.mkdirSync(ARTEFACTS, { recursive: true });
	logFile = path.join(ARTEFACTS, name + '.log');
	fs.writeFileSync(logFile, '');
	(async () => {
		const browser = await launch();
		let page = null;
		try {
			page = await newPage(browser);
			await body(page, browser);
			assert.deepEqual(problems, [], 'the page had problems');
			log(name + ': ok');
		} catch (e) {
			if (page)
				await shot(page, 'failure-' + name).catch(() => {});
			console.error('not ok:', name + ':', e && e.stack ? e.stack : e);
			if (problems.length)
				console.error('page problems:', problems.join('\n'));
			process.exitCode = 1;
		} finally {
			await browser.close();
		}
	})();
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

module.exports = { env, log, launch, newPage, login, stats, shot, publish, postAck, tankerPixel, hexRgb, near, run, sleep, assert, problems, BASE };
