/*
 * i18n.js: the board's words in English and Chinese, the chosen language
 * (the browser's, or the one switched to, kept in localStorage), and time
 * formatting in the configured time zone.
 *
 * HZI.t(key, vars) gives the text for key in the current language ({name}
 * in it replaced from vars); HZI.apply(root) sets every [data-i18n]
 * element's textContent (and [data-i18n-placeholder]'s placeholder).
 */
'use strict';

window.HZI = (function () {
	const words = {
		en: {
			'login.title': 'Dispatchers\' board',
			'login.user': 'User',
			'login.password': 'Password',
			'login.submit': 'Log in',
			'login.failed': 'Wrong user or password.',
			'login.slow': 'Too many attempts; wait a little and try again.',
			'login.expired': 'Your session has ended; please log in again.',
			'login.error': 'The server did not answer ({status}).',
			'logout': 'Log out',
			'lang.switch': '中文',
			'sound.mute': 'Mute',
			'sound.unmute': 'Sound on',
			'sound.blocked': 'Click to allow sound',
			'stream.live': 'live',
			'stream.connecting': 'connecting…',
			'stream.down': 'reconnecting…',
			'counts': '{vehicles} tankers · {open} open alerts',
			'tab.alerts': 'Alerts',
			'tab.vehicle': 'Vehicle',
			'tab.zones': 'Zones',
			'filter.all_kinds': 'all kinds',
			'filter.all_severities': 'all severities',
			'filter.all_zones': 'all zones',
			'filter.vehicle': 'plate',
			'filter.open': 'open only',
			'alerts.none': 'No alerts.',
			'alert.open': 'open',
			'alert.acked': 'acknowledged by {user} at {time}',
			'alert.trail': 'Trail',
			'alert.trail_empty': 'No events yet.',
			'alert.no_zone': '—',
			'trail.ack': 'acknowledged',
			'trail.note': 'note',
			'ack.button': 'Acknowledge',
			'ack.title': 'Acknowledge alert',
			'ack.note': 'Note',
			'ack.conflict': 'Someone else acknowledged it already.',
			'ack.forbidden': 'Your role may not acknowledge alerts.',
			'ack.failed': 'Acknowledging failed ({status}).',
			'cancel': 'Cancel',
			'banner.show': 'Show',
			'banner.text': 'CRITICAL: {kind} · {vehicle} · {zone} · {time}',
			'banner.more': '(+{n} more)',
			'vehicle.none': 'Click a tanker on the map or a plate in the alert list.',
			'vehicle.cargo': 'Cargo',
			'vehicle.cargo_value': 'UN {un}, class {cls}',
			'vehicle.carrier': 'Carrier',
			'vehicle.last_fix': 'Last fix',
			'vehicle.age': 'Age',
			'vehicle.speed': 'Speed, heading',
			'vehicle.speed_value': '{speed} km/h, {heading}°',
			'vehicle.zones': 'In zones',
			'vehicle.open_alerts': 'Open alerts',
			'vehicle.unknown': 'unknown',
			'vehicle.not_found': 'No such vehicle.',
			'vehicle.track': 'Track',
			'track.hours': 'last hours',
			'track.show': 'Show track',
			'track.clear': 'Hide',
			'track.play': 'Play',
			'track.pause': 'Pause',
			'track.points': '{n} fixes from {from} to {to}',
			'track.empty': 'No stored fixes in that time.',
			'zones.in_force_only': 'in force now only',
			'zones.in_force': 'in force',
			'zones.not_in_force': 'not in force',
			'age.s': '{n} s ago',
			'age.min': '{n} min ago',
			'age.h': '{n} h ago',
			'age.d': '{n} d ago',
			'state.moving': 'moving',
			'state.stopped': 'stopped',
			'state.silent': 'silent',
			'state.critical': 'critical alert',
			'kind.zone_enter': 'zone entry',
			'kind.zone_exit': 'zone exit',
			'kind.prohibited_entry': 'prohibited entry',
			'kind.zone_speeding': 'speeding in zone',
			'kind.overspeed': 'overspeed',
			'kind.dwell_exceeded': 'dwell exceeded',
			'kind.route_deviation': 'route deviation',
			'kind.tracker_silent': 'tracker silent',
			'kind.tracker_resumed': 'tracker resumed',
			'severity.critical': 'critical',
			'severity.warning': 'warning',
			'severity.info': 'info',
			'zonekind.event_venue': 'event venue',
			'zonekind.prohibited': 'prohibited',
			'zonekind.restricted': 'restricted',
			'zonekind.corridor': 'approved route',
			'zonekind.depot': 'depot',
			'error.network': 'The server cannot be reached.'
		},
		zh: {
			'login.title': '调度看板',
			'login.user': '用户名',
			'login.password': '密码',
			'login.submit': '登录',
			'login.failed': '用户名或密码错误。',
			'login.slow': '尝试次数过多，请稍后再试。',
			'login.expired': '会话已结束，请重新登录。',
			'login.error': '服务器未响应（{status}）。',
			'logout': '退出',
			'lang.switch': 'English',
			'sound.mute': '静音',
			'sound.unmute': '开启声音',
			'sound.blocked': '点击以允许声音',
			'stream.live': '实时',
			'stream.connecting': '连接中…',
			'stream.down': '重新连接中…',
			'counts': '{vehicles} 辆罐车 · {open} 条未处理告警',
			'tab.alerts': '告警',
			'tab.vehicle': '车辆',
			'tab.zones': '区域',
			'filter.all_kinds': '全部类型',
			'filter.all_severities': '全部级别',
			'filter.all_zones': '全部区域',
			'filter.vehicle': '车牌',
			'filter.open': '仅未处理',
			'alerts.none': '没有告警。',
			'alert.open': '未处理',
			'alert.acked': '{user} 于 {time} 确认',
			'alert.trail': '记录',
			'alert.trail_empty': '暂无记录。',
			'alert.no_zone': '—',
			'trail.ack': '确认',
			'trail.note': '备注',
			'ack.button': '确认',
			'ack.title': '确认告警',
			'ack.note': '备注',
			'ack.conflict': '该告警已被他人确认。',
			'ack.forbidden': '您的角色无权确认告警。',
			'ack.failed': '确认失败（{status}）。',
			'cancel': '取消',
			'banner.show': '查看',
			'banner.text': '严重告警：{kind} · {vehicle} · {zone} · {time}',
			'banner.more': '（另有 {n} 条）',
			'vehicle.none': '点击地图上的罐车或告警列表中的车牌。',
			'vehicle.cargo': '货物',
			'vehicle.cargo_value': 'UN {un}，{cls} 类',
			'vehicle.carrier': '承运单位',
			'vehicle.last_fix': '最后定位',
			'vehicle.age': '距今',
			'vehicle.speed': '速度、航向',
			'vehicle.speed_value': '{speed} 公里/小时，{heading}°',
			'vehicle.zones': '所在区域',
			'vehicle.open_alerts': '未处理告警',
			'vehicle.unknown': '未知',
			'vehicle.not_found': '没有该车辆。',
			'vehicle.track': '轨迹',
			'track.hours': '最近小时数',
			'track.show': '显示轨迹',
			'track.clear': '隐藏',
			'track.play': '回放',
			'track.pause': '暂停',
			'track.points': '{n} 个定位点，{from} 至 {to}',
			'track.empty': '该时段没有存储的定位。',
			'zones.in_force_only': '仅当前生效',
			'zones.in_force': '生效中',
			'zones.not_in_force': '未生效',
			'age.s': '{n} 秒前',
			'age.min': '{n} 分钟前',
			'age.h': '{n} 小时前',
			'age.d': '{n} 天前',
			'state.moving': '行驶',
			'state.stopped': '停车',
			'state.silent': '失联',
			'state.critical': '严重告警',
			'kind.zone_enter': '驶入区域',
			'kind.zone_exit': '驶离区域',
			'kind.prohibited_entry': '闯入禁区',
			'kind.zone_speeding': '区域内超速',
			'kind.overspeed': '超速',
			'kind.dwell_exceeded': '停留超时',
			'kind.route_deviation': '偏离路线',
			'kind.tracker_silent': '终端失联',
			'kind.tracker_resumed': '终端恢复',
			'severity.critical': '严重',
			'severity.warning': '警告',
			'severity.info': '提示',
			'zonekind.event_venue': '赛事场馆',
			'zonekind.prohibited': '禁行区',
			'zonekind.restricted': '限行区',
			'zonekind.corridor': '核准路线',
			'zonekind.depot': '场站',
			'error.network': '无法连接服务器。'
		}
	};

	function initial() {
		let saved = null;
		try {
			saved = localStorage.getItem('hazgate.lang');
		} catch (e) {
			saved = null;
		}
		if (saved === 'en' || saved === 'zh')
			return saved;
		const langs = navigator.languages && navigator.languages.length ? navigator.languages : [navigator.language || 'en'];
		return String(langs[0]).toLowerCase().startsWith('zh') ? 'zh' : 'en';
	}

	let lang = initial();
	let timeZone = 'Asia/Shanghai';
	let fmtFull = null;
	const listeners = [];

	/* Times as YYYY-MM-DD HH:MM:SS in the configured zone, in either
	 * language (unambiguous on a shared wall screen). */
	function makeFormats() {
		try {
			fmtFull = new Intl.DateTimeFormat('en-US', { timeZone: timeZone, hourCycle: 'h23', year: 'numeric',
				month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
		} catch (e) {
			/* an unknown time zone: UTC, which the clock then names */
			timeZone = 'UTC';
			return makeFormats();
		}
	}

	function parts(d) {
		const o = {};
		fmtFull.formatToParts(d).forEach((p) => {
			o[p.type] = p.value;
		});
		return o;
	}

	makeFormats();

	function t(key, vars) {
		let s = words[lang][key];
		if (s === undefined)
			s = words.en[key] !== undefined ? words.en[key] : key;
		if (vars)
			s = s.replace(/\{(\w+)\}/g, (m, k) => (vars[k] !== undefined && vars[k] !== null ? String(vars[k]) : ''));
		return s;
	}

	function apply(root) {
		(root || document).querySelectorAll('[data-i18n]').forEach((el) => {
			el.textContent = t(el.getAttribute('data-i18n'));
		});
		(root || document).querySelectorAll('[data-i18n-placeholder]').forEach((el) => {
			el.placeholder = t(el.getAttribute('data-i18n-placeholder'));
		});
		document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
		document.querySelectorAll('.lang-switch').forEach((el) => {
			el.textContent = t('lang.switch');
		});
	}

	function setLang(l) {
		lang = l === 'zh' ? 'zh' : 'en';
		try {
			localStorage.setItem('hazgate.lang', lang);
		} catch (e) {
			/* private mode: the choice lasts for this page */
		}
		makeFormats();
		apply();
		listeners.forEach((f) => f(lang));
	}

	function toDate(v) {
		return v instanceof Date ? v : new Date(v);
	}

	return {
		t: t,
		apply: apply,
		lang: () => lang,
		setLang: setLang,
		toggle: () => setLang(lang === 'zh' ? 'en' : 'zh'),
		onChange: (f) => listeners.push(f),
		setTimeZone: (tz) => {
			if (tz)
				timeZone = tz;
			makeFormats();
		},
		timeZone: () => timeZone,
		/* a time as date and time of day in the configured zone */
		time: (v) => {
			const d = toDate(v);
			if (isNaN(d))
				return '';
			const p = parts(d);
			return p.year + '-' + p.month + '-' + p.day + ' ' + p.hour + ':' + p.minute + ':' + p.second;
		},
		/* a time of day only */
		clock: (v) => {
			const d = toDate(v);
			if (isNaN(d))
				return '';
			const p = parts(d);
			return p.hour + ':' + p.minute + ':' + p.second;
		},
		/* how long ago, in the largest whole unit */
		age: (v, now) => {
			const s = Math.max(0, Math.floor(((now || Date.now()) - toDate(v).getTime()) / 1000));
			if (s < 120)
				return t('age.s', { n: s });
			if (s < 7200)
				return t('age.min', { n: Math.floor(s / 60) });
			if (s < 172800)
				return t('age.h', { n: Math.floor(s / 3600) });
			return t('age.d', { n: Math.floor(s / 86400) });
		}
	};
})();
