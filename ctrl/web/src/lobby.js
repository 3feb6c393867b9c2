// lobby.js — the screen before a call: room and display name (prefilled from
// the URL and the last visit), a camera preview with microphone meter,
// device choice, mic/camera on-off, and the reason when something fails.
//
// The lobby owns the preview tracks until a join succeeds; then take()
// hands them to the Call.
//
// Events: 'join' ({roomId, displayName}).

import { Emitter } from './emitter.js';
import { getLocalMedia, getTrack, listDevices, describeMediaError, stopTrack } from './media.js';
import { setIcon } from './icons.js';
import { AudioLevels } from './levels.js';

export const ROOM_RE = /^[A-Za-z0-9_.-]{1,64}$/;
const NAME_KEY = 'sfu.displayName';
const DEVICE_KEY = 'sfu.devices';

export function randomRoom() {
	const words = ['amber', 'birch', 'cedar', 'delta', 'ember', 'fjord', 'grove', 'harbor', 'iris', 'juniper', 'kite', 'lumen', 'maple', 'nova', 'orbit', 'pine'];
	const pick = () => words[Math.floor(Math.random() * words.length)];
	return `${pick()}-${pick()}-${Math.floor(100 + Math.random() * 900)}`;
}

export function savedDevices() {
	try {
		return JSON.parse(localStorage.getItem(DEVICE_KEY) ?? '{}');
	} catch {
		return {};
	}
}

export function saveDevice(kind, deviceId) {
	const d = savedDevices();
	d[kind] = deviceId;
	try {
		localStorage.setItem(DEVICE_KEY, JSON.stringify(d));
	} catch { /* private mode: not remembered */ }
}

export class Lobby extends Emitter {
	constructor(root) {
		super();
		const $ = (sel) => root.querySelector(sel);
		this.root = root;
		this.form = $('#join-form');
		this.room = $('#room');
		this.name = $('#name');
		this.joinButton = $('#join');
		this.error = $('#lobby-error');
		this.notice = $('#lobby-notice');
		this.preview = $('#preview-video');
		this.previewBox = $('#preview');
		this.previewNote = $('#preview-note');
		this.micButton = $('#preview-mic');
		this.camButton = $('#preview-cam');
		this.micSelect = $('#mic-select');
		this.camSelect = $('#cam-select');
		this.meter = $('#preview-meter');
		this.tracks = { audio: null, video: null };
		this.micOn = true;
		this.camOn = true;
		this.mediaErrors = [];
		this.levels = new AudioLevels();
		this.levels.on('levels', (m) => this.meter.style.setProperty('--level', (m.get('preview') ?? 0).toFixed(2)));

		this.form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			this.levels.resume();
			this._submit();
		});
		this.micButton.addEventListener('click', () => this._toggle('audio'));
		this.camButton.addEventListener('click', () => this._toggle('video'));
		this.micSelect.addEventListener('change', () => this._busy(this._switch('audio', this.micSelect.value)));
		this.camSelect.addEventListener('change', () => this._busy(this._switch('video', this.camSelect.value)));
		root.addEventListener('pointerdown', () => this.levels.resume(), { once: true });
		setIcon(this.micButton, 'mic');
		setIcon(this.camButton, 'cam');
	}

	// Show the lobby; params: {room, name, notice}.
	async open({ room, name, notice } = {}) {
		this.root.hidden = false;
		this.room.value = room || this.room.value || randomRoom();
		this.name.value = name || this.name.value || localStorage.getItem(NAME_KEY) || '';
		this.setNotice(notice);
		this.setError(null);
		this.setBusy(false);
		(this.name.value ? this.joinButton : this.name).focus();
		await this._startPreview();
	}

	close() {
		this.root.hidden = true;
		this.levels.detach('preview');
		this.preview.srcObject = null;
	}

	setBusy(busy, label = 'Joining…') {
		this.joinButton.disabled = busy;
		this.joinButton.textContent = busy ? label : 'Join';
		this.form.classList.toggle('busy', busy);
	}

	setError(msg) {
		this.error.hidden = !msg;
		this.error.textContent = msg ?? '';
	}

	setNotice(msg) {
		this.notice.hidden = !msg;
		this.notice.textContent = msg ?? '';
	}

	// Hand the tracks to the call: {audioTrack, videoTrack, micMuted}.
	take() {
		const out = { audioTrack: this.tracks.audio, videoTrack: this.camOn ? this.tracks.video : null, micMuted: !this.micOn };
		if (!this.camOn) stopTrack(this.tracks.video);
		this.tracks = { audio: null, video: null };
		return out;
	}

	_submit() {
		const roomId = this.room.value.trim();
		const displayName = this.name.value.trim();
		if (!ROOM_RE.test(roomId)) {
			this.setError('Room names are 1-64 letters, digits, "-", "_" or "." (no spaces).');
			this.room.focus();
			return;
		}
		if (!displayName || [...displayName].length > 64) {
			this.setError('Enter your name (up to 64 characters) so the others know who you are.');
			this.name.focus();
			return;
		}
		try {
			localStorage.setItem(NAME_KEY, displayName);
		} catch { /* not remembered */ }
		this.setError(null);
		this.emit('join', { roomId, displayName });
	}

	// The camera and microphone as they will be taken into the call: a Join
	// click while they are still starting waits for them.
	ready() {
		return this._starting ?? Promise.resolve();
	}

	_busy(promise) {
		const run = promise.finally(() => {
			if (this._starting === run) this._starting = null;
		});
		this._starting = run;
		return run;
	}

	_startPreview() {
		return this._busy(this._doStartPreview());
	}

	async _doStartPreview() {
		const want = { audio: this.micOn && !this.tracks.audio, video: this.camOn && !this.tracks.video };
		const saved = savedDevices();
		if (want.audio || want.video) {
			this.previewNote.textContent = 'Starting camera…';
			const got = await getLocalMedia({ ...want, audioId: saved.audio, videoId: saved.video });
			// a saved device that is gone: try the default one
			if (got.errors.some((e) => e.error?.name === 'OverconstrainedError')) {
				const again = await getLocalMedia(want);
				Object.assign(got, again);
			}
			this.tracks.audio = this.tracks.audio ?? got.audioTrack;
			this.tracks.video = this.tracks.video ?? got.videoTrack;
			this.mediaErrors = got.errors;
		}
		this._render();
		await this._fillDevices();
	}

	async _fillDevices() {
		const devices = await listDevices().catch(() => ({ audioinput: [], videoinput: [] }));
		const fill = (select, list, track) => {
			const current = track?.getSettings?.().deviceId;
			select.replaceChildren(...list.map((d) => new Option(d.label, d.deviceId, false, d.deviceId === current)));
			select.disabled = list.length === 0;
		};
		fill(this.micSelect, devices.audioinput, this.tracks.audio);
		fill(this.camSelect, devices.videoinput, this.tracks.video);
	}

	async _toggle(kind) {
		if (kind === 'audio') {
			this.micOn = !this.micOn;
			if (this.tracks.audio) this.tracks.audio.enabled = this.micOn;
		} else {
			this.camOn = !this.camOn;
			if (!this.camOn) {
				stopTrack(this.tracks.video);
				this.tracks.video = null;
			}
		}
		if ((kind === 'audio' && this.micOn && !this.tracks.audio) || (kind === 'video' && this.camOn && !this.tracks.video))
			await this._startPreview();
		this._render();
	}

	async _switch(kind, deviceId) {
		saveDevice(kind, deviceId);
		if (kind === 'video' && !this.camOn) return;
		try {
			const track = await getTrack(kind, deviceId);
			stopTrack(this.tracks[kind]);
			this.tracks[kind] = track;
			if (kind === 'audio') track.enabled = this.micOn;
			this.mediaErrors = this.mediaErrors.filter((e) => e.kind !== kind);
		} catch (err) {
			this.mediaErrors = [{ kind, error: err, message: describeMediaError(err, kind === 'audio' ? 'microphone' : 'camera') }];
		}
		this._render();
	}

	_render() {
		const v = this.camOn ? this.tracks.video : null;
		if (this.preview.srcObject?.getVideoTracks()[0] !== v) this.preview.srcObject = v ? new MediaStream([v]) : null;
		this.previewBox.classList.toggle('has-video', !!v);
		if (this.tracks.audio) this.levels.attach('preview', this.tracks.audio);
		else this.levels.detach('preview');

		setIcon(this.micButton, this.micOn && this.tracks.audio ? 'mic' : 'micOff');
		setIcon(this.camButton, v ? 'cam' : 'camOff');
		this.micButton.classList.toggle('off', !(this.micOn && this.tracks.audio));
		this.camButton.classList.toggle('off', !v);
		this.micButton.setAttribute('aria-pressed', String(!this.micOn));
		this.camButton.setAttribute('aria-pressed', String(!this.camOn));
		this.micButton.title = this.micOn ? 'Turn microphone off' : 'Turn microphone on';
		this.camButton.title = this.camOn ? 'Turn camera off' : 'Turn camera on';

		const problems = this.mediaErrors.map((e) => e.message);
		this.previewNote.textContent = problems.length ? problems[0] : v ? '' : this.camOn ? 'No camera' : 'Camera is off';
		this.previewBox.classList.toggle('problem', problems.length > 0);
		this.root.querySelector('#media-hint').hidden = problems.length === 0;
	}
}
