// call.js — one participant in one room: the mediasoup-client Device, a send
// and a receive transport, my producers (microphone, camera, screen) and a
// consumer per remote producer, following the sequence of ctrl/PROTOCOL.md.
//
// The Call owns every mediasoup object and the remote peers' state; the UI
// only listens.  Local tracks belong to the Call too (producers are created
// with stopTracks: false) so a reconnection publishes the same tracks again.
//
// Events:
//   'state' (state)              idle | joining | joined | reconnecting | left
//   'peer-joined' (peer)         also for the peers already there at join
//   'peer-left' (peerId)
//   'peer-updated' (peer)        captions on/off
//   'media' (peerId, m)          a remote track: m = {producerId, kind, source, track, paused}
//   'media-removed' (peerId, m)
//   'media-paused' (peerId, m)   m.paused changed (mute, camera off)
//   'local' ()                   my producers / mute / captions changed
//   'transport' (direction, connectionState)
//   'problem' ({kind, message} | null)   what is wrong now (null: all good)
//   'chat' (msg), 'caption' (c), 'active-speaker' (peerId)

import { Device } from 'mediasoup-client';
import { Emitter } from './emitter.js';
import { SignalingError } from './signaling.js';
import { stopTrack } from './media.js';

// Why a join can fail, in words for the lobby.
export function describeJoinError(err, roomId) {
	switch (err?.code) {
	case 'ROOM_FULL':
		return `The room "${roomId}" is full. Try again later or pick another room.`;
	case 'DRAINING':
		return 'The server is restarting. Try again in a few seconds.';
	case 'INVALID_PARAMS':
		return `The server refused the room or name: ${err.message}`;
	case 'UNREACHABLE':
		return `Cannot reach the server (${err.message}). Check your network connection; the server may be down.`;
	case 'TIMEOUT':
	case 'DISCONNECTED':
		return 'The connection to the server dropped while joining. Try again.';
	case 'UNSUPPORTED':
		return `Your browser cannot exchange media with this server: ${err.message}`;
	default:
		if (err?.name === 'UnsupportedError')
			return 'This browser is not supported for calls: use a recent Chrome, Chromium, Edge, Firefox or Safari.';
		return `Joining failed: ${err?.message ?? err}`;
	}
}

// mediasoup-client describes a producer with the browser's own payload types
// (Chrome's Opus is 111, VP8 96), as mediasoup's server expects; sfu-ctrl
// only accepts the router's (Opus 100, VP8 101, H264 102: see PROTOCOL.md
// "produce").  The data plane rewrites every packet's payload type to the
// consumer's and does not match the producer's, so naming the router's
// payload type for the same codec here is enough; the browser keeps sending
// its own.  Header extension ids are passed through unchanged.
export function withRouterPayloadTypes(rtpParameters, routerCaps) {
	const codecs = rtpParameters.codecs.map((c) => {
		const r = routerCaps?.codecs?.find((rc) =>
			rc.mimeType.toLowerCase() === c.mimeType.toLowerCase() && rc.clockRate === c.clockRate);
		return r ? { ...c, payloadType: r.preferredPayloadType } : c;
	});
	return { ...rtpParameters, codecs };
}

export class Call extends Emitter {
	constructor(signaling, { roomId, displayName }) {
		super();
		this.signaling = signaling;
		this.roomId = roomId;
		this.displayName = displayName;
		this.state = 'idle';
		this.peerId = null;
		this.device = null;
		this.sendTransport = null;
		this.recvTransport = null;
		this.peers = new Map(); // peerId -> {id, displayName, captions, media: Map producerId -> m}
		this.tracks = { audio: null, video: null, screen: null };
		this.producers = { audio: null, video: null, screen: null };
		this.micMuted = false;
		this.camOff = false;
		this.captionsOn = false;
		this.problem = null;
		this._iceTimers = new Map();
		this._iceRestarts = 0;
		this._recoveries = [];
		this._nextMid = 0;
		this._offs = [
			signaling.on('notification', (name, data) => this._onNotification(name, data)),
			signaling.on('disconnected', () => this._onDisconnected()),
			signaling.on('reconnected', () => this._onReconnected()),
		];
	}

	// Join with the given local tracks (either may be null: receive only).
	async join({ audioTrack = null, videoTrack = null, micMuted = false, camOff = false } = {}) {
		performance.mark('sfu-join-start');
		this.tracks.audio = audioTrack;
		this.tracks.video = videoTrack;
		this.micMuted = micMuted && !!audioTrack;
		this.camOff = camOff || !videoTrack;
		this._setState('joining');
		try {
			await this._joinRoom();
		} catch (err) {
			this._teardown();
			this.tracks = { audio: null, video: null, screen: null }; // the caller's again
			this._setState('idle');
			throw err;
		}
		this._setState('joined');
		performance.mark('sfu-joined');
	}

	// The protocol's join sequence; also run again after a reconnection.
	async _joinRoom() {
		const sig = this.signaling;
		if (!this.device) {
			const { rtpCapabilities } = await sig.request('getRouterRtpCapabilities');
			const device = await Device.factory();
			await device.load({ routerRtpCapabilities: rtpCapabilities });
			this.device = device;
			this.routerCaps = rtpCapabilities;
		}
		const joined = await sig.request('join', {
			roomId: this.roomId,
			displayName: this.displayName,
			rtpCapabilities: this.device.rtpCapabilities,
		});
		this.peerId = joined.peerId;
		this._reconcilePeers(joined.peers ?? []);
		for (const p of joined.producers ?? []) this._addRemoteProducer(p);
		await this._createTransports();
		// receive first (the others' media starts flowing), then publish
		for (const peer of this.peers.values())
			for (const m of peer.media.values()) if (!m.consumer && !m.consuming) this._startConsume(peer, m);
		await this._publishAll();
		if (this.captionsOn) await sig.request('setCaptions', { enabled: true });
	}

	async _createTransports() {
		const sig = this.signaling;
		const where = (o) => {
			const c = o.iceCandidates?.[0];
			return { candidate: c ? `${c.ip ?? c.address}:${c.port}/${c.protocol}` : null };
		};
		const sendOpts = await sig.request('createWebRtcTransport', { direction: 'send' });
		this.sendTransport = this.device.createSendTransport({ ...sendOpts, appData: where(sendOpts) });
		this._wireTransport(this.sendTransport, 'send');
		this.sendTransport.on('produce', ({ kind, rtpParameters, appData }, ok, fail) => {
			const params = withRouterPayloadTypes(rtpParameters, this.routerCaps);
			sig.request('produce', { transportId: this.sendTransport.id, kind, rtpParameters: params, appData })
				.then(({ id }) => ok({ id }), fail);
		});
		const recvOpts = await sig.request('createWebRtcTransport', { direction: 'recv' });
		this.recvTransport = this.device.createRecvTransport({ ...recvOpts, appData: where(recvOpts) });
		this._nextMid = 0;
		this._wireTransport(this.recvTransport, 'recv');
	}

	_wireTransport(transport, direction) {
		transport.on('connect', ({ dtlsParameters }, ok, fail) => {
			this.signaling.request('connectWebRtcTransport', { transportId: transport.id, dtlsParameters })
				.then(() => ok(), fail);
		});
		transport.on('connectionstatechange', (state) => {
			console.info(`${direction} transport ${transport.id}: ${state}`);
			if (transport.closed) return;
			this.emit('transport', direction, state);
			this._onTransportState(transport, direction, state);
		});
	}

	// ICE and DTLS trouble: 'disconnected' for 4 s or 'failed' restart ICE
	// (new credentials from the server); twice failed means report it and
	// rejoin.  Which layer failed comes from getStats.
	_onTransportState(transport, direction, state) {
		clearTimeout(this._iceTimers.get(direction));
		if (state === 'connected') {
			this._iceRestarts = 0;
			if (this.problem?.kind === 'ice' || this.problem?.kind === 'media') this._setProblem(null);
			return;
		}
		if (state === 'disconnected') {
			this._setProblem({ kind: 'media', message: 'Media connection interrupted — trying to recover…' });
			this._iceTimers.set(direction, setTimeout(() => this._restartIce(transport), 4000));
			return;
		}
		if (state === 'failed') {
			this._diagnose(transport).then((layer) => {
				if (transport.closed) return;
				this._setProblem({ kind: layer, message: this._failureMessage(layer) });
				if (layer === 'dtls' || this._iceRestarts >= 2) this._recover(layer);
				else this._restartIce(transport);
			});
		}
	}

	_failureMessage(layer) {
		const c = this.sendTransport?.appData?.candidate;
		if (layer === 'dtls')
			return 'The secure media handshake (DTLS) with the server failed. Reconnecting…';
		return `Media cannot reach the server (ICE failed${c ? ` to ${c}` : ''}). A firewall or VPN may block UDP. Retrying…`;
	}

	async _diagnose(transport) {
		try {
			const stats = await transport.getStats();
			let dtls = null;
			let pairOk = false;
			stats.forEach((s) => {
				if (s.type === 'transport') dtls = s.dtlsState;
				if (s.type === 'candidate-pair' && s.state === 'succeeded') pairOk = true;
			});
			return dtls === 'failed' || (pairOk && dtls !== 'connected') ? 'dtls' : 'ice';
		} catch {
			return 'ice';
		}
	}

	async _restartIce(transport) {
		if (transport.closed || this.state !== 'joined') return;
		this._iceRestarts++;
		try {
			const { iceParameters } = await this.signaling.request('restartIce', { transportId: transport.id });
			await transport.restartIce({ iceParameters });
		} catch (err) {
			console.warn('restartIce failed', err);
			this._recover('ice');
		}
	}

	// Start over on a fresh connection (rejoin), at most 3 times a minute:
	// after that the problem stays on screen and the person decides.
	_recover(why) {
		const now = Date.now();
		this._recoveries = this._recoveries.filter((t) => now - t < 60000);
		if (this._recoveries.length >= 3) {
			this._setProblem({ kind: why, fatal: true, message: `${this._failureMessage(why).replace(/ (Reconnecting|Retrying)….*$/, '')} Giving up for now: check your network, then press Rejoin.` });
			return;
		}
		this._recoveries.push(now);
		this.signaling.reconnectNow(500);
	}

	// Publish what we have: microphone, camera (unless off), screen.
	async _publishAll() {
		if (this.tracks.audio) {
			this.producers.audio = await this._produce('audio', this.tracks.audio);
			if (this.micMuted) await this._pauseProducer(this.producers.audio, true);
		}
		if (this.tracks.video && !this.camOff) this.producers.video = await this._produce('video', this.tracks.video);
		if (this.tracks.screen) this.producers.screen = await this._produce('screen', this.tracks.screen);
		this.emit('local');
	}

	async _produce(source, track) {
		const opts = { track, stopTracks: false, appData: { source } };
		if (source === 'audio') opts.codecOptions = { opusFec: true, opusDtx: false };
		if (source === 'video') opts.encodings = [{ maxBitrate: 1200000 }];
		if (source === 'screen') opts.encodings = [{ maxBitrate: 1500000 }];
		const producer = await this.sendTransport.produce(opts);
		producer.on('trackended', () => {
			if (source === 'screen') this.stopScreenShare();
			else this._setProblem({ kind: 'device', message: `Your ${source === 'audio' ? 'microphone' : 'camera'} stopped (unplugged?). Pick another one in Settings.` });
		});
		return producer;
	}

	// Pausing stops here first; resuming starts at the server first, so the
	// first packets (a video keyframe) are not dropped by a paused producer.
	async _pauseProducer(producer, pause) {
		if (pause) {
			producer.pause();
			await this.signaling.request('pauseProducer', { producerId: producer.id });
		} else {
			await this.signaling.request('resumeProducer', { producerId: producer.id });
			producer.resume();
		}
	}

	async setMicMuted(muted) {
		this.micMuted = muted;
		if (this.producers.audio && this.state === 'joined') await this._pauseProducer(this.producers.audio, muted);
		this.emit('local');
	}

	// Camera off stops the track (the camera light goes off) and pauses the
	// producer; on again takes a new track into the same producer.
	async setCameraOff(off, newTrack) {
		if (off) {
			this.camOff = true;
			stopTrack(this.tracks.video);
			this.tracks.video = null;
			if (this.producers.video && this.state === 'joined') await this._pauseProducer(this.producers.video, true);
		} else {
			this.camOff = false;
			this.tracks.video = newTrack;
			if (this.state === 'joined') {
				const producer = this.producers.video;
				if (producer) {
					await this.signaling.request('resumeProducer', { producerId: producer.id });
					await producer.replaceTrack({ track: newTrack });
					producer.resume();
				} else {
					this.producers.video = await this._produce('video', newTrack);
				}
			}
		}
		this.emit('local');
	}

	// A different microphone or camera, chosen in the settings.
	async replaceTrack(kind, track) {
		const old = this.tracks[kind];
		this.tracks[kind] = track;
		const producer = this.producers[kind];
		if (producer && this.state === 'joined') await producer.replaceTrack({ track });
		else if (!producer && this.state === 'joined' && !(kind === 'video' && this.camOff)) this.producers[kind] = await this._produce(kind, track);
		if (kind === 'audio' && this.micMuted) track.enabled = false;
		if (old !== track) stopTrack(old);
		this.emit('local');
	}

	async startScreenShare(track) {
		if (this.producers.screen) await this.stopScreenShare();
		this.tracks.screen = track;
		if ('contentHint' in track) track.contentHint = 'detail';
		try {
			this.producers.screen = await this._produce('screen', track);
		} catch (err) {
			stopTrack(track);
			this.tracks.screen = null;
			throw err;
		}
		this.emit('local');
	}

	async stopScreenShare() {
		const producer = this.producers.screen;
		this.producers.screen = null;
		stopTrack(this.tracks.screen);
		this.tracks.screen = null;
		if (producer && !producer.closed) {
			producer.close();
			await this.signaling.request('closeProducer', { producerId: producer.id }).catch(() => {});
		}
		this.emit('local');
	}

	async setCaptions(on) {
		await this.signaling.request('setCaptions', { enabled: on });
		this.captionsOn = on;
		this.emit('local');
	}

	async sendChat(text) {
		await this.signaling.request('chat', { text });
	}

	async leave() {
		if (this.state === 'joined') await this.signaling.request('leave').catch(() => {});
		this._teardown();
		for (const k of Object.keys(this.tracks)) {
			stopTrack(this.tracks[k]);
			this.tracks[k] = null;
		}
		for (const off of this._offs) off();
		this._setState('left');
	}

	// --- remote side

	_reconcilePeers(list) {
		const present = new Set(list.map((p) => p.peerId));
		for (const id of [...this.peers.keys()]) {
			if (!present.has(id)) this._removePeer(id);
		}
		for (const p of list) this._addPeer(p);
	}

	_addPeer({ peerId, displayName, captions = false }) {
		if (peerId === this.peerId) return;
		let peer = this.peers.get(peerId);
		if (peer) {
			peer.displayName = displayName ?? peer.displayName;
			peer.captions = !!captions;
			this.emit('peer-updated', peer);
			return;
		}
		peer = { id: peerId, displayName, captions: !!captions, media: new Map() };
		this.peers.set(peerId, peer);
		this.emit('peer-joined', peer);
	}

	_removePeer(peerId) {
		const peer = this.peers.get(peerId);
		if (!peer) return;
		for (const m of [...peer.media.values()]) this._removeMedia(peer, m);
		this.peers.delete(peerId);
		this.emit('peer-left', peerId);
	}

	// Which of a peer's producers is the screen: the server does not relay
	// appData (see ctrl/web/README.md), so a second live video producer is.
	_sourceOf(peer, p) {
		if (p.appData?.source) return p.appData.source;
		if (p.kind === 'audio') return 'audio';
		for (const m of peer.media.values()) if (m.kind === 'video' && m.source === 'video') return 'screen';
		return 'video';
	}

	_addRemoteProducer(p) {
		const peer = this.peers.get(p.peerId);
		if (!peer || peer.media.has(p.producerId)) return;
		const m = { producerId: p.producerId, kind: p.kind, source: this._sourceOf(peer, p), paused: !!p.paused, track: null, consumer: null };
		peer.media.set(p.producerId, m);
		// before the transports exist (joining), _joinRoom consumes it
		if (this.recvTransport) this._startConsume(peer, m);
	}

	_startConsume(peer, m) {
		m.consuming = true;
		this._consume(peer, m).catch((err) => {
			console.warn('consume failed', m.producerId, err);
			if (peer.media.get(m.producerId) === m && !(err instanceof SignalingError && err.code === 'NOT_FOUND'))
				this._setProblem({ kind: 'consume', message: `Could not receive ${peer.displayName}'s ${m.kind}: ${err.message}` });
		});
	}

	async _consume(peer, m) {
		const transport = this.recvTransport;
		const data = await this.signaling.request('consume', { transportId: transport.id, producerId: m.producerId });
		// sfu-ctrl gives no MID (receivers demultiplex by SSRC); the SDP still
		// needs a unique one per m-line, and mediasoup-client's fallback
		// repeats itself when several consumers are set up at once.
		const rtpParameters = { ...data.rtpParameters };
		if (rtpParameters.mid === undefined) rtpParameters.mid = String(this._nextMid++);
		const consumer = await transport.consume({
			id: data.id,
			producerId: data.producerId,
			kind: data.kind,
			rtpParameters,
			appData: { peerId: peer.id, source: m.source },
		});
		if (peer.media.get(m.producerId) !== m || transport.closed) {
			consumer.close(); // closed while we were setting it up
			return;
		}
		m.consumer = consumer;
		m.track = consumer.track;
		m.paused = !!data.paused;
		this.emit('media', peer.id, m);
		await this.signaling.request('resumeConsumer', { consumerId: consumer.id });
	}

	_removeMedia(peer, m) {
		peer.media.delete(m.producerId);
		if (m.consumer && !m.consumer.closed) m.consumer.close();
		this.emit('media-removed', peer.id, m);
	}

	_findMedia(producerId) {
		for (const peer of this.peers.values()) {
			const m = peer.media.get(producerId);
			if (m) return [peer, m];
		}
		return [null, null];
	}

	_onNotification(name, d) {
		switch (name) {
		case 'peerJoined':
			this._addPeer(d);
			break;
		case 'peerLeft':
			this._removePeer(d.peerId);
			break;
		case 'newProducer':
			this._addRemoteProducer(d);
			break;
		case 'producerPaused':
		case 'producerResumed': {
			const [peer, m] = this._findMedia(d.producerId);
			if (!m) break;
			m.paused = name === 'producerPaused';
			this.emit('media-paused', peer.id, m);
			break;
		}
		case 'producerClosed': {
			const [peer, m] = this._findMedia(d.producerId);
			if (m) this._removeMedia(peer, m);
			break;
		}
		case 'consumerClosed': {
			const [peer, m] = this._findMedia(d.producerId);
			if (m && m.consumer?.id === d.consumerId) this._removeMedia(peer, m);
			break;
		}
		case 'transportClosed':
			this._onTransportClosed(d);
			break;
		case 'captionsChanged': {
			if (d.peerId === this.peerId) {
				this.captionsOn = !!d.enabled;
				this.emit('local');
				break;
			}
			const peer = this.peers.get(d.peerId);
			if (!peer) break;
			peer.captions = !!d.enabled;
			this.emit('peer-updated', peer);
			break;
		}
		case 'chat':
			this.emit('chat', { ...d, mine: d.peerId === this.peerId });
			break;
		case 'caption':
			this.emit('caption', { ...d, mine: d.peerId === this.peerId });
			break;
		case 'activeSpeaker':
			this.emit('active-speaker', d.peerId === this.peerId ? 'me' : d.peerId);
			break;
		case 'serverShutdown':
			this._setProblem({ kind: 'server', message: `The server is restarting; reconnecting in ${Math.ceil((d.retryAfterMs ?? 2000) / 1000)} s…` });
			this.signaling.reconnectNow(d.retryAfterMs ?? 2000);
			break;
		default:
			break;
		}
	}

	_onTransportClosed({ transportId, reason }) {
		const mine = [this.sendTransport, this.recvTransport].some((t) => t && t.id === transportId);
		if (!mine) return;
		const why = reason === 'dtls' ? 'dtls' : 'ice';
		const text = {
			dtls: 'The secure media handshake (DTLS) failed and the server closed the connection.',
			'ice-consent': 'The server stopped hearing from this browser (ICE consent expired).',
			dataplane: 'The media server dropped this connection.',
		}[reason] ?? `The server closed the media connection (${reason}).`;
		this._setProblem({ kind: why, message: `${text} Reconnecting…` });
		this._recover(why);
	}

	// --- reconnection

	_onDisconnected() {
		if (this.state !== 'joined') return;
		this._teardown();
		this._setState('reconnecting');
	}

	async _onReconnected() {
		if (this.state !== 'reconnecting') return;
		try {
			await this._joinRoom();
		} catch (err) {
			console.warn('rejoin failed', err);
			this._teardown();
			if (err.code === 'ROOM_FULL') this._setProblem({ kind: 'room-full', message: `The room "${this.roomId}" is full now; retrying…` });
			this.signaling.reconnectNow(3000);
			return;
		}
		this._setState('joined');
		if (this.problem?.kind !== 'device') this._setProblem(null);
	}

	// Close transports (their producers and consumers go with them); keep the
	// peers so the tiles stay while reconnecting, but drop their tracks.
	_teardown() {
		for (const t of this._iceTimers.values()) clearTimeout(t);
		this._iceTimers.clear();
		for (const peer of this.peers.values()) {
			for (const m of [...peer.media.values()]) this._removeMedia(peer, m);
		}
		for (const k of Object.keys(this.producers)) this.producers[k] = null;
		this.sendTransport?.close();
		this.recvTransport?.close();
		this.sendTransport = null;
		this.recvTransport = null;
	}

	_setState(state) {
		this.state = state;
		this.emit('state', state);
	}

	_setProblem(p) {
		this.problem = p;
		this.emit('problem', p);
	}
}
