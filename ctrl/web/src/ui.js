// ui.js — the call screen: it listens to a Call and renders tiles, remote
// audio, the controls, connection state, problems, chat and captions.  Every
// action goes through the Call; the view keeps no call state of its own
// beyond what is on screen.
//
// Events: 'leave' ().

import { Emitter } from './emitter.js';
import { TileGrid, Tile } from './tiles.js';
import { Chat } from './chat.js';
import { CaptionsOverlay } from './captions.js';
import { AudioLevels } from './levels.js';
import { icon, setIcon } from './icons.js';
import { getScreenTrack, getTrack, listDevices, describeMediaError } from './media.js';
import { saveDevice, savedDevices } from './lobby.js';

// The active speaker: the server's activeSpeaker notification wins (it hears
// everyone's audio, including peers this page cannot analyse), and holds for
// SERVER_SPEAKER_HOLD_MS after the last one; without a recent one (an older
// server, or one that names a speaker only when it changes) the highlight
// falls back to this page's estimate from audio levels (levels.js).
const SERVER_SPEAKER_HOLD_MS = 3000;

export class CallView extends Emitter {
	constructor(root, call) {
		super();
		const $ = (sel) => root.querySelector(sel);
		this.$ = $;
		this.root = root;
		this.call = call;
		this.grid = new TileGrid($('#grid'));
		this.audioBox = $('#remote-audio');
		this.audioEls = new Map(); // producerId -> <audio>
		this.captions = new CaptionsOverlay($('#captions'));
		this.levels = new AudioLevels();
		this.transportStates = { send: 'new', recv: 'new' };
		this._serverSpeakerTimer = 0; // running while the server's choice holds
		this._offs = [];
		// one CallView per call on the same DOM: its listeners go with it
		this._abort = new AbortController();
		this.chat = new Chat({
			panel: $('#chat'), list: $('#chat-list'), form: $('#chat-form'), input: $('#chat-input'),
			badge: $('#chat-badge'), closeButton: $('#chat-close'), signal: this._abort.signal,
		});
		this.chat.on('send', (text) => call.sendChat(text).catch((err) => this.toast(`Message not sent: ${err.message}`)));
		this.chat.on('toggle', (open) => {
			$('#btn-chat').setAttribute('aria-pressed', String(open));
			this.root.classList.toggle('chat-open', open);
			requestAnimationFrame(() => this.grid.layout());
		});

		this.me = this.grid.add(new Tile({ id: 'me', peerId: 'me', name: call.displayName, self: true }));
		this.me.setMirror(true);
		this._wireControls();
		this._wireCall();
		this.levels.on('levels', (m) => this._onLevels(m));
		this.levels.on('active', (id) => {
			if (!this._serverSpeakerTimer) this._setActive(id);
		});
		$('#room-title').textContent = call.roomId;
		this._renderLocal();
		this._renderConn();
		this._count();
	}

	show() {
		this.root.hidden = false;
		this.levels.resume();
		this.grid.layout();
	}

	destroy() {
		clearTimeout(this._serverSpeakerTimer);
		this._serverSpeakerTimer = 0;
		for (const off of this._offs) off();
		this._abort.abort();
		this.levels.close();
		this.grid.destroy();
		this.captions.clear();
		for (const a of this.audioEls.values()) a.remove();
		this.audioEls.clear();
		this.chat.setOpen(false);
		this.$('#chat-list').replaceChildren();
		this.$('#settings').hidden = true;
		this.$('#banner').hidden = true;
		this.$('#alone').hidden = true;
		this.$('#toasts').replaceChildren();
		this.root.classList.remove('chat-open', 'offline');
		this.$('.stage').classList.remove('cc-band');
		this.root.hidden = true;
	}

	// --- Call events

	_wireCall() {
		const c = this.call;
		const on = (name, fn) => this._offs.push(c.on(name, fn));
		on('state', () => {
			this._renderConn();
			this._count();
		});
		on('local', () => this._renderLocal());
		on('transport', (dir, state) => {
			this.transportStates[dir] = state;
			this._renderConn();
		});
		on('problem', (p) => this._renderProblem(p));
		on('peer-joined', (peer) => {
			const t = this.grid.add(new Tile({ id: peer.id, peerId: peer.id, name: peer.displayName }));
			t.setCaptions(peer.captions);
			t.setAudioMuted(true); // until their microphone arrives
			if (c.state === 'joined') {
				this.toast(`${peer.displayName} joined`);
				this.chat.note(`${peer.displayName} joined`);
			}
			this._count();
			this._captionBand();
		});
		on('peer-left', (peerId) => {
			const t = this.grid.get(peerId);
			if (t && c.state === 'joined') {
				this.toast(`${t.name} left`);
				this.chat.note(`${t.name} left`);
			}
			this.grid.remove(peerId);
			this.grid.remove(`${peerId}:screen`);
			this.levels.detach(peerId);
			this._count();
			this._captionBand();
		});
		on('peer-updated', (peer) => {
			this.grid.get(peer.id)?.setCaptions(peer.captions);
			this._captionBand();
		});
		on('media', (peerId, m) => this._onMedia(peerId, m));
		on('media-removed', (peerId, m) => this._onMediaRemoved(peerId, m));
		on('media-paused', (peerId, m) => this._onMediaPaused(peerId, m));
		on('chat', (msg) => this.chat.add(msg));
		on('caption', (cap) => this.captions.show(cap));
		on('active-speaker', (id) => this._onServerSpeaker(id));
		this._offs.push(c.signaling.on('reconnecting', ({ attempt, delayMs }) => {
			if (c.state !== 'reconnecting') return;
			this._banner(`Connection to the server lost. Reconnecting${attempt > 1 ? ` (attempt ${attempt}, next in ${Math.ceil(delayMs / 1000)} s)` : ''}…`, 'warn');
		}));
	}

	_tileFor(peerId, source) {
		if (source !== 'screen') return this.grid.get(peerId);
		const id = `${peerId}:screen`;
		const peer = this.call.peers.get(peerId);
		return this.grid.get(id) ?? this.grid.add(new Tile({ id, peerId, name: peer?.displayName ?? '', screen: true }));
	}

	_onMedia(peerId, m) {
		if (m.kind === 'audio') {
			const a = document.createElement('audio');
			a.autoplay = true;
			a.dataset.peerId = peerId;
			a.srcObject = new MediaStream([m.track]);
			this.audioBox.append(a);
			a.play().catch(() => this._banner('Your browser blocked the sound. Click anywhere to hear the others.', 'warn', true));
			this.audioEls.set(m.producerId, a);
			this.levels.attach(peerId, m.track);
			this.grid.get(peerId)?.setAudioMuted(m.paused);
			return;
		}
		const t = this._tileFor(peerId, m.source);
		t?.setVideo(m.track);
		t?.setVideoPaused(m.paused);
	}

	_onMediaRemoved(peerId, m) {
		if (m.kind === 'audio') {
			this.audioEls.get(m.producerId)?.remove();
			this.audioEls.delete(m.producerId);
			this.levels.detach(peerId);
			this.grid.get(peerId)?.setAudioMuted(true);
			return;
		}
		if (m.source === 'screen') this.grid.remove(`${peerId}:screen`);
		else this.grid.get(peerId)?.setVideo(null);
	}

	_onMediaPaused(peerId, m) {
		if (m.kind === 'audio') this.grid.get(peerId)?.setAudioMuted(m.paused);
		else this._tileFor(peerId, m.source)?.setVideoPaused(m.paused);
	}

	_onLevels(levels) {
		for (const [id, level] of levels) this.grid.get(id)?.setLevel(level);
	}

	// id: a peer id, 'me', or null (nobody speaks).  When the hold ends, the
	// local estimate takes over with what it thinks now.
	_onServerSpeaker(id) {
		clearTimeout(this._serverSpeakerTimer);
		this._serverSpeakerTimer = setTimeout(() => {
			this._serverSpeakerTimer = 0;
			this._setActive(this.levels.active);
		}, SERVER_SPEAKER_HOLD_MS);
		this._setActive(id);
	}

	_setActive(id) {
		for (const t of this.grid.tiles.values()) t.setSpeaking(!t.screen && t.peerId === id);
	}

	// --- controls

	_wireControls() {
		const $ = this.$;
		for (const [id, name] of [['#btn-screen', 'screen'], ['#btn-captions', 'cc'], ['#btn-chat', 'chat'], ['#btn-settings', 'settings'], ['#btn-leave', 'leave']])
			setIcon($(id), name);
		$('.count-icon').replaceChildren(icon('people'));
		const signal = this._abort.signal;
		const guard = (button, fn) => button.addEventListener('click', async () => {
			button.disabled = true;
			try {
				await fn();
			} catch (err) {
				this.toast(err.message ?? String(err));
			} finally {
				button.disabled = false;
			}
		}, { signal });
		guard($('#btn-mic'), async () => {
			if (!this.call.tracks.audio) {
				const track = await getTrack('audio', savedDevices().audio).catch((err) => {
					throw new Error(describeMediaError(err, 'microphone'));
				});
				this.call.micMuted = false;
				await this.call.replaceTrack('audio', track);
				return;
			}
			await this.call.setMicMuted(!this.call.micMuted);
		});
		guard($('#btn-cam'), async () => {
			if (!this.call.camOff) return this.call.setCameraOff(true);
			const track = await getTrack('video', savedDevices().video).catch((err) => {
				throw new Error(describeMediaError(err, 'camera'));
			});
			await this.call.setCameraOff(false, track);
		});
		guard($('#btn-screen'), async () => {
			if (this.call.tracks.screen) return this.call.stopScreenShare();
			let track;
			try {
				track = await getScreenTrack();
			} catch (err) {
				if (err?.name === 'NotAllowedError') return; // the person cancelled the picker
				throw new Error(describeMediaError(err, 'screen'));
			}
			await this.call.startScreenShare(track);
		});
		guard($('#btn-captions'), async () => {
			const on = !this.call.captionsOn;
			await this.call.setCaptions(on);
			this.toast(on ? 'Live captions on: what you say is transcribed for everyone.' : 'Live captions off.');
		});
		$('#btn-chat').addEventListener('click', () => this.chat.setOpen(!this.chat.isOpen), { signal });
		$('#btn-settings').addEventListener('click', () => this._toggleSettings(), { signal });
		$('#settings-close').addEventListener('click', () => this._toggleSettings(false), { signal });
		$('#btn-leave').addEventListener('click', () => this.emit('leave'), { signal });
		$('#banner-action').addEventListener('click', () => this.call.signaling.reconnectNow(), { signal });
		$('#copy-link').addEventListener('click', () => this._copyLink(), { signal });
		$('#alone-invite').addEventListener('click', () => this._copyLink(), { signal });
		$('#set-mic').addEventListener('change', (ev) => this._switchDevice('audio', ev.target.value), { signal });
		$('#set-cam').addEventListener('change', (ev) => this._switchDevice('video', ev.target.value), { signal });
		this.root.addEventListener('click', () => {
			this.levels.resume();
			for (const a of this.audioEls.values()) if (a.paused) a.play().catch(() => {});
		}, { signal });
	}

	async _toggleSettings(open = this.$('#settings').hidden) {
		const box = this.$('#settings');
		box.hidden = !open;
		this.$('#btn-settings').setAttribute('aria-pressed', String(open));
		if (!open) return;
		const devices = await listDevices();
		const fill = (select, list, track, saved) => {
			const current = track?.getSettings?.().deviceId ?? saved;
			select.replaceChildren(...list.map((d) => new Option(d.label, d.deviceId, false, d.deviceId === current)));
			select.disabled = list.length === 0;
		};
		fill(this.$('#set-mic'), devices.audioinput, this.call.tracks.audio, savedDevices().audio);
		fill(this.$('#set-cam'), devices.videoinput, this.call.tracks.video, savedDevices().video);
	}

	async _switchDevice(kind, deviceId) {
		saveDevice(kind, deviceId);
		if (kind === 'video' && this.call.camOff) return;
		try {
			const track = await getTrack(kind, deviceId);
			await this.call.replaceTrack(kind, track);
		} catch (err) {
			this.toast(describeMediaError(err, kind === 'audio' ? 'microphone' : 'camera'));
		}
	}

	async _copyLink() {
		const url = new URL(location.href);
		url.search = '';
		url.searchParams.set('room', this.call.roomId);
		try {
			await navigator.clipboard.writeText(url.toString());
			this.toast('Link copied: send it to the people you want to invite.');
		} catch {
			this.toast(`Invite link: ${url}`);
		}
	}

	_renderLocal() {
		const c = this.call;
		const $ = this.$;
		const micOn = !!c.tracks.audio && !c.micMuted;
		const camOn = !c.camOff && !!c.tracks.video;
		const mic = $('#btn-mic');
		setIcon(mic, micOn ? 'mic' : 'micOff');
		mic.classList.toggle('off', !micOn);
		mic.setAttribute('aria-pressed', String(!micOn));
		mic.querySelector('.label').textContent = micOn ? 'Mute' : 'Unmute';
		mic.title = micOn ? 'Mute your microphone' : 'Unmute your microphone';
		const cam = $('#btn-cam');
		setIcon(cam, camOn ? 'cam' : 'camOff');
		cam.classList.toggle('off', !camOn);
		cam.setAttribute('aria-pressed', String(!camOn));
		cam.querySelector('.label').textContent = camOn ? 'Stop video' : 'Start video';
		const scr = $('#btn-screen');
		scr.classList.toggle('on', !!c.tracks.screen);
		scr.setAttribute('aria-pressed', String(!!c.tracks.screen));
		scr.querySelector('.label').textContent = c.tracks.screen ? 'Stop sharing' : 'Share screen';
		scr.hidden = !navigator.mediaDevices?.getDisplayMedia;
		const cc = $('#btn-captions');
		cc.classList.toggle('on', c.captionsOn);
		cc.setAttribute('aria-checked', String(c.captionsOn));

		this.me.setVideo(camOn ? c.tracks.video : null);
		this.me.setAudioMuted(!micOn);
		this.me.setCaptions(c.captionsOn);
		if (c.tracks.audio) this.levels.attach('me', c.tracks.audio);
		else this.levels.detach('me');
		this._captionBand();
		if (c.tracks.screen) {
			const t = this.grid.get('me:screen') ?? this.grid.add(new Tile({ id: 'me:screen', peerId: 'me', name: c.displayName, self: true, screen: true }));
			t.setVideo(c.tracks.screen);
		} else this.grid.remove('me:screen');
	}

	// The pill in the top bar: signaling and both transports in one word.
	_renderConn() {
		const c = this.call;
		const states = Object.values(this.transportStates);
		let state = 'connected';
		let text = 'Connected';
		if (c.state === 'joining') [state, text] = ['connecting', 'Joining…'];
		else if (c.state === 'reconnecting') [state, text] = ['reconnecting', 'Reconnecting…'];
		else if (states.includes('failed')) [state, text] = ['failed', 'Media failed'];
		else if (states.includes('disconnected')) [state, text] = ['reconnecting', 'Unstable'];
		else if (states.includes('connecting')) [state, text] = ['connecting', 'Connecting media…'];
		const pill = this.$('#conn');
		pill.dataset.state = state;
		this.$('#conn-text').textContent = text;
		this.root.classList.toggle('offline', c.state === 'reconnecting');
		for (const t of this.grid.tiles.values()) if (!t.self) t.setStatus(c.state === 'reconnecting' ? 'Reconnecting…' : '');
		if (c.state === 'joined' && !c.problem) this._banner(null);
		if (c.state === 'reconnecting') this.transportStates = { send: 'new', recv: 'new' };
	}

	_renderProblem(p) {
		if (!p) {
			this._banner(null);
			return;
		}
		this._banner(p.message, p.fatal ? 'error' : 'warn', false, p.fatal);
	}

	_banner(text, level = 'warn', sticky = false, action = false) {
		const b = this.$('#banner');
		if (!text) {
			if (b.dataset.sticky !== 'true') b.hidden = true;
			return;
		}
		b.hidden = false;
		b.dataset.level = level;
		b.dataset.sticky = String(sticky);
		this.$('#banner-text').textContent = text;
		this.$('#banner-action').hidden = !action;
		if (sticky) setTimeout(() => { b.dataset.sticky = 'false'; }, 8000);
	}

	// While anyone has captions on, the tiles leave a band for them below.
	_captionBand() {
		const on = this.call.captionsOn || [...this.call.peers.values()].some((p) => p.captions);
		const stage = this.$('.stage');
		if (stage.classList.contains('cc-band') === on) return;
		stage.classList.toggle('cc-band', on);
		this.grid.layout();
	}

	_count() {
		const n = this.call.peers.size + 1;
		this.$('#alone').hidden = n > 1 || this.call.state !== 'joined';
		this.$('#count').textContent = String(n);
		this.$('#count').title = `${n} participant${n === 1 ? '' : 's'}`;
	}

	toast(text) {
		const box = this.$('#toasts');
		const t = document.createElement('div');
		t.className = 'toast';
		t.textContent = text;
		box.append(t);
		while (box.children.length > 3) box.firstElementChild.remove();
		setTimeout(() => t.classList.add('out'), 3500);
		setTimeout(() => t.remove(), 4000);
	}
}
