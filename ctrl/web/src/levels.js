// levels.js — audio levels of every participant and the active speaker,
// computed in the browser: a WebAudio AnalyserNode per audio track (mine and
// each remote one), sampled every 100 ms.  The call screen prefers the
// server's activeSpeaker notification and falls back to this estimate when
// the server has not named a speaker recently (ui.js).  AnalyserNode works
// the same on local and remote (WebRTC) tracks in Chromium and Firefox.
//
// Events: 'levels' (Map id -> 0..1), 'active' (id | null).

import { Emitter } from './emitter.js';

const TICK_MS = 100;
const SPEECH_LEVEL = 0.3; // about -42 dBFS on the 0..1 scale below
const SWITCH_TICKS = 3; // loudest for 300 ms before the highlight moves
const SILENCE_TICKS = 15; // highlight cleared after 1.5 s of silence

// One AudioContext for the page, shared by the lobby's meter and the call:
// autoplay policies may keep an AudioContext suspended unless a user gesture
// resumes it, and the call's levels start after the asynchronous join, out
// of any gesture.  The lobby resumes this one on its Join click (the call
// screen on any click), so the call's levels run from the start.
let sharedCtx = null;

function audioContext() {
	if (!sharedCtx) {
		const Ctx = window.AudioContext ?? window.webkitAudioContext;
		if (!Ctx) return null;
		sharedCtx = new Ctx();
	}
	return sharedCtx;
}

// Call from a user gesture (click, key press, form submit).
export function unlockAudio() {
	const ctx = audioContext();
	if (ctx && ctx.state !== 'running') ctx.resume().catch(() => {});
}

// RMS of a frame in dBFS mapped to 0..1 over -60..0 dB.
function levelOf(buf) {
	let sum = 0;
	for (let i = 0; i < buf.length; i++) sum += buf[i] * buf[i];
	const rms = Math.sqrt(sum / buf.length);
	const db = 20 * Math.log10(rms + 1e-9);
	return Math.min(1, Math.max(0, (db + 60) / 60));
}

export class AudioLevels extends Emitter {
	constructor() {
		super();
		this.sources = new Map(); // id -> {track, node, analyser, buf, level}
		this.active = null;
		this._candidate = null;
		this._candidateTicks = 0;
		this._quietTicks = 0;
		this._timer = null;
	}

	get ctx() {
		return sharedCtx;
	}

	// Call from a user gesture: browsers start an AudioContext suspended.
	resume() {
		unlockAudio();
	}

	attach(id, track) {
		if (this.sources.get(id)?.track === track) return;
		this.detach(id);
		const ctx = audioContext();
		if (!ctx || !track) return;
		const node = ctx.createMediaStreamSource(new MediaStream([track]));
		const analyser = ctx.createAnalyser();
		analyser.fftSize = 1024;
		node.connect(analyser);
		this.sources.set(id, { track, node, analyser, buf: new Float32Array(analyser.fftSize), level: 0 });
		if (!this._timer) this._timer = setInterval(() => this._tick(), TICK_MS);
	}

	detach(id) {
		const s = this.sources.get(id);
		if (!s) return;
		s.node.disconnect();
		this.sources.delete(id);
		if (this.active === id) this._setActive(null);
	}

	close() {
		for (const id of [...this.sources.keys()]) this.detach(id);
		clearInterval(this._timer);
		this._timer = null; // the shared AudioContext stays for the next call
	}

	_tick() {
		const levels = new Map();
		let loudest = null;
		let max = SPEECH_LEVEL;
		for (const [id, s] of this.sources) {
			s.analyser.getFloatTimeDomainData(s.buf);
			const now = s.track.enabled && s.track.readyState === 'live' ? levelOf(s.buf) : 0;
			// fast attack, slow release: a steady meter that still follows speech
			s.level = now > s.level ? now : s.level * 0.7 + now * 0.3;
			levels.set(id, s.level);
			if (s.level > max) {
				max = s.level;
				loudest = id;
			}
		}
		this.emit('levels', levels);
		if (loudest === null) {
			if (++this._quietTicks >= SILENCE_TICKS) this._setActive(null);
			this._candidate = null;
			return;
		}
		this._quietTicks = 0;
		if (loudest === this.active) {
			this._candidate = null;
			return;
		}
		if (loudest === this._candidate) this._candidateTicks++;
		else {
			this._candidate = loudest;
			this._candidateTicks = 1;
		}
		if (this._candidateTicks >= SWITCH_TICKS) this._setActive(loudest);
	}

	_setActive(id) {
		if (this.active === id) return;
		this.active = id;
		this.emit('active', id);
	}
}
