// tiles.js — the video tiles and their layout.
//
// A Tile is one participant's camera (or one screen share): the video, or an
// avatar with initials when there is none, a name tag with mute and captions
// badges, a level meter and the active-speaker ring.  The TileGrid places the
// tiles itself (absolute positions): the largest 16:9 grid that fits, or,
// while someone shares a screen, the screen big and the others in a strip.

import { icon } from './icons.js';

const GAP = 10;
const ASPECT = 16 / 9;

function initials(name) {
	const parts = String(name ?? '?').trim().split(/\s+/).filter(Boolean);
	const chars = parts.length > 1 ? parts[0][0] + parts[parts.length - 1][0] : (parts[0] ?? '?').slice(0, 2);
	return chars.toUpperCase();
}

// A stable, pleasant hue per name.
function hueOf(name) {
	let h = 0;
	for (const ch of String(name)) h = (h * 31 + ch.codePointAt(0)) % 360;
	return h;
}

function el(tag, className, text) {
	const e = document.createElement(tag);
	if (className) e.className = className;
	if (text !== undefined) e.textContent = text;
	return e;
}

export class Tile {
	constructor({ id, peerId, name, self = false, screen = false }) {
		this.id = id;
		this.peerId = peerId;
		this.self = self;
		this.screen = screen;
		this.track = null;
		this.firstFrameAt = 0;

		this.el = el('div', 'tile');
		this.el.dataset.tileId = id;
		this.el.dataset.peerId = peerId;
		this.el.classList.toggle('self', self);
		this.el.classList.toggle('screen', screen);

		this.video = el('video');
		this.video.autoplay = true;
		this.video.playsInline = true;
		this.video.muted = true; // sound plays through separate <audio> elements
		this.avatar = el('div', 'avatar');
		this.avatarInner = el('span');
		this.avatar.append(this.avatarInner);

		this.tag = el('div', 'tag');
		this.micBadge = el('span', 'badge mic-off');
		this.micBadge.append(icon('micOff'));
		this.micBadge.title = 'Muted';
		this.meter = el('span', 'meter');
		for (let i = 0; i < 3; i++) this.meter.append(el('i'));
		this.nameEl = el('span', 'name');
		this.ccBadge = el('span', 'badge cc', 'CC');
		this.ccBadge.title = 'Live captions on';
		this.tag.append(this.micBadge, this.meter, this.nameEl, this.ccBadge);
		this.status = el('div', 'tile-status');
		this.el.append(this.avatar, this.video, this.tag, this.status);

		this.setName(name);
		this.setAudioMuted(false);
		this.setCaptions(false);
		this.setVideo(null);
		this.video.addEventListener('loadeddata', () => this._frame());
	}

	setName(name) {
		this.name = name;
		let label = this.self ? `${name} (you)` : name;
		if (this.screen) label = this.self ? 'Your screen' : `${name} (screen)`;
		this.nameEl.textContent = label;
		this.el.dataset.name = name;
		this.el.setAttribute('aria-label', label);
		this.avatarInner.textContent = initials(name);
		this.avatar.style.setProperty('--hue', hueOf(name));
	}

	// The video track, or null for the avatar (no camera, camera off).
	setVideo(track) {
		if (track !== this.track) {
			this.track = track;
			this.video.srcObject = track ? new MediaStream([track]) : null;
			if (track) {
				this.video.play().catch(() => {});
				this._watchFrames();
			}
		}
		this._refresh();
	}

	setVideoPaused(paused) {
		this.videoPaused = paused;
		this._refresh();
	}

	_refresh() {
		const show = !!this.track && !this.videoPaused;
		this.el.classList.toggle('has-video', show);
		this.el.dataset.video = show ? 'on' : 'off';
	}

	// The first decoded frame: marks the tile (and the page, for the
	// join-to-first-frame figure) once.
	_frame() {
		if (this.firstFrameAt || !this.track) return;
		this.firstFrameAt = Date.now();
		this.el.dataset.firstFrame = String(this.firstFrameAt);
		if (!this.self) {
			if (performance.getEntriesByName('sfu-first-remote-frame').length === 0)
				performance.mark('sfu-first-remote-frame');
		}
	}

	_watchFrames() {
		if (typeof this.video.requestVideoFrameCallback === 'function')
			this.video.requestVideoFrameCallback(() => this._frame());
	}

	setAudioMuted(muted) {
		this.el.classList.toggle('muted', muted);
		this.el.dataset.muted = muted ? 'true' : 'false';
	}

	setCaptions(on) {
		this.el.classList.toggle('cc-on', on);
		this.el.dataset.captions = on ? 'on' : 'off';
	}

	setLevel(level) {
		this.el.style.setProperty('--level', level.toFixed(2));
		this.el.classList.toggle('talking', level > 0.3);
	}

	setSpeaking(on) {
		this.el.classList.toggle('speaking', on);
		this.el.dataset.speaking = on ? 'true' : 'false';
	}

	setStatus(text) {
		this.status.textContent = text ?? '';
		this.el.classList.toggle('has-status', !!text);
	}

	setMirror(on) {
		this.el.classList.toggle('mirror', on);
	}

	destroy() {
		this.video.srcObject = null;
		this.el.remove();
	}
}

// Best grid for n tiles in a w x h box: the column count giving the largest
// tiles, each between MIN_ASPECT (4:3 on landscape stages, 3:4 on portrait
// ones, so phones get tall tiles) and 16:9; videos are cropped to fit.
function bestGrid(n, w, h) {
	const minAspect = w >= h ? 4 / 3 : 3 / 4;
	let best = { cols: 1, rows: n, tw: 0, th: 0 };
	for (let cols = 1; cols <= n; cols++) {
		const rows = Math.ceil(n / cols);
		let tw = (w - GAP * (cols - 1)) / cols;
		let th = (h - GAP * (rows - 1)) / rows;
		if (tw / th > ASPECT) tw = th * ASPECT;
		else if (tw / th < minAspect) th = tw / minAspect;
		if (tw * th > best.tw * best.th) best = { cols, rows, tw, th };
	}
	return best;
}

export class TileGrid {
	constructor(container) {
		this.container = container;
		this.tiles = new Map();
		this._observer = new ResizeObserver(() => this.layout());
		this._observer.observe(container);
	}

	add(tile) {
		this.tiles.set(tile.id, tile);
		this.container.append(tile.el);
		this.layout();
		return tile;
	}

	get(id) {
		return this.tiles.get(id);
	}

	remove(id) {
		const t = this.tiles.get(id);
		if (!t) return;
		this.tiles.delete(id);
		t.destroy();
		this.layout();
	}

	clear() {
		for (const id of [...this.tiles.keys()]) this.remove(id);
	}

	destroy() {
		this._observer.disconnect();
		this.clear();
	}

	// Self first, then others in arrival order; a screen share is featured.
	layout() {
		const w = this.container.clientWidth;
		const h = this.container.clientHeight;
		if (!w || !h) return;
		const all = [...this.tiles.values()];
		// someone else's screen; my own shows as an ordinary tile
		const featured = all.find((t) => t.screen && !t.self);
		const rest = all.filter((t) => t !== featured).sort((a, b) => (b.self ? 1 : 0) - (a.self ? 1 : 0));
		this.container.classList.toggle('spotlight', !!featured);
		for (const t of all) t.el.classList.toggle('featured', t === featured);
		if (featured) this._spotlight(featured, rest, w, h);
		else this._grid(rest, w, h);
	}

	_place(t, x, y, w, h) {
		const s = t.el.style;
		s.left = `${Math.round(x)}px`;
		s.top = `${Math.round(y)}px`;
		s.width = `${Math.round(w)}px`;
		s.height = `${Math.round(h)}px`;
		t.el.classList.toggle('small', w < 260);
	}

	_grid(tiles, w, h) {
		const n = tiles.length;
		if (!n) return;
		const { cols, rows, tw, th } = bestGrid(n, w, h);
		const top = (h - (rows * th + (rows - 1) * GAP)) / 2;
		tiles.forEach((t, i) => {
			const row = Math.floor(i / cols);
			const inRow = row === rows - 1 ? n - cols * (rows - 1) : cols; // last row centred
			const left = (w - (inRow * tw + (inRow - 1) * GAP)) / 2;
			this._place(t, left + (i % cols) * (tw + GAP), top + row * (th + GAP), tw, th);
		});
	}

	// The shared screen fills the stage; the others line up beside it (wide
	// screens) or under it (narrow ones).
	_spotlight(featured, rest, w, h) {
		const n = rest.length;
		if (!n) {
			this._place(featured, 0, 0, w, h);
			return;
		}
		if (w >= h * 1.1) {
			const sw = Math.min(280, Math.max(150, w * 0.2));
			let th = sw / ASPECT;
			th = Math.min(th, (h - GAP * (n - 1)) / n);
			const tw = th * ASPECT;
			this._place(featured, 0, 0, w - sw - GAP, h);
			const top = Math.max(0, (h - (n * th + (n - 1) * GAP)) / 2);
			rest.forEach((t, i) => this._place(t, w - sw + (sw - tw) / 2, top + i * (th + GAP), tw, th));
		} else {
			const sh = Math.min(150, Math.max(80, h * 0.2));
			let tw = sh * ASPECT;
			tw = Math.min(tw, (w - GAP * (n - 1)) / n);
			const th = tw / ASPECT;
			this._place(featured, 0, 0, w, h - sh - GAP);
			const left = Math.max(0, (w - (n * tw + (n - 1) * GAP)) / 2);
			rest.forEach((t, i) => this._place(t, left + i * (tw + GAP), h - sh + (sh - th) / 2, tw, th));
		}
	}
}
