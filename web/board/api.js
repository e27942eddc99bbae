/*
 * api.js: the board's calls to hazgate-web's /api/v1 (DESIGN.md, section
 * "hazgate-web"). Same origin, the session cookie goes by itself; every
 * state-changing request carries the X-CSRF-Token that the login returned.
 *
 * HZAPI.get(path, query) and HZAPI.send(method, path, body) resolve to the
 * decoded JSON (null for an empty body) or reject with an ApiError whose
 * status is the HTTP status (0: the server could not be reached). A 401 on
 * anything but the login itself also calls the onUnauthorized handler, so
 * the page can ask to log in again.
 */
'use strict';

window.HZAPI = (function () {
	let csrf = null;
	let onUnauthorized = null;

	class ApiError extends Error {
		constructor(status, message) {
			super(message || ('HTTP ' + status));
			this.status = status;
		}
	}

	function url(path, query) {
		const u = new URL(path, window.location.origin);
		if (query) {
			Object.keys(query).forEach((k) => {
				const v = query[k];
				if (v !== undefined && v !== null && v !== '')
					u.searchParams.set(k, String(v));
			});
		}
		return u.pathname + u.search;
	}

	async function request(method, path, query, body, quiet) {
		const headers = { 'Accept': 'application/json' };
		const init = { method: method, headers: headers, credentials: 'same-origin', cache: 'no-store' };
		if (method !== 'GET' && method !== 'HEAD') {
			if (csrf)
				headers['X-CSRF-Token'] = csrf;
			if (body !== undefined) {
				headers['Content-Type'] = 'application/json';
				init.body = JSON.stringify(body);
			}
		}
		let res;
		try {
			res = await fetch(url(path, query), init);
		} catch (e) {
			throw new ApiError(0, 'network');
		}
		const text = await res.text();
		let data = null;
		if (text) {
			try {
				data = JSON.parse(text);
			} catch (e) {
				data = null;
			}
		}
		if (!res.ok) {
			const msg = data && typeof data.error === 'string' ? data.error : ('HTTP ' + res.status);
			if (res.status === 401 && !quiet && onUnauthorized)
				onUnauthorized();
			throw new ApiError(res.status, msg);
		}
		return data;
	}

	return {
		ApiError: ApiError,
		setCsrf: (token) => {
			csrf = token || null;
		},
		onUnauthorized: (f) => {
			onUnauthorized = f;
		},
		get: (path, query) => request('GET', path, query),
		send: (method, path, body) => request(method, path, null, body),
		/* a GET whose 401 is the answer, not an expired session */
		probe: (path) => request('GET', path, null, undefined, true),
		login: (user, password) => request('POST', '/api/v1/session', null, { user: user, password: password }, true),
		logout: () => request('DELETE', '/api/v1/session', null, undefined, true),
		enc: (s) => encodeURIComponent(String(s))
	};
})();
