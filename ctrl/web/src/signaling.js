// signaling.js — the sfu-v1 WebSocket protocol of ctrl/PROTOCOL.md:
// requests answered by id, notifications, and reconnection with backoff.
//
// Closing the socket is leaving the room on the server, so a reconnection is
// announced ('reconnected') and the Call joins again from scratch.
//
// Events: 'notification' (name, data), 'disconnected' ({code, reason}),
// 'reconnecting' ({attempt, delayMs}), 'reconnected' (), 'closed' ().

import { Emitter } from './emitter.js';

export const SUBPROTOCOL = 'sfu-v1';

// An error answer from the server ({code, message}) or a local failure
// ('UNREACHABLE', 'TIMEOUT', 'DISCONNECTED', 'CLOSED').
export class SignalingError extends Error {
	constructor(code, message) {
		super(message || code);
		this.name = 'SignalingError';
		this.code = code;
	}
}

// ws: for http:, wss: for https:; same host and port as the page.
export function signalingUrlFor(loc = window.location) {
	const scheme = loc.protocol === 'https:' ? 'wss:' : 'ws:';
	return `${scheme}//${loc.host}/ws`;
}

export class Signaling extends Emitter {
	constructor(url, { openTimeoutMs = 6000, requestTimeoutMs = 10000, maxBackoffMs = 10000 } = {}) {
		super();
		this.url = url;
		this.openTimeoutMs = openTimeoutMs;
		this.requestTimeoutMs = requestTimeoutMs;
		this.maxBackoffMs = maxBackoffMs;
		this.state = 'idle'; // idle | connecting | open | reconnecting | closed
		this._ws = null;
		this._nextId = 1;
		this._pending = new Map(); // id -> {resolve, reject, timer, method}
		this._attempt = 0;
		this._retryTimer = null;
	}

	// The first connection: resolves when open, rejects with UNREACHABLE.
	async open() {
		this.state = 'connecting';
		try {
			await this._connectOnce();
		} catch (err) {
			this.state = 'idle';
			throw err;
		}
		this.state = 'open';
	}

	// Send a request; resolves with the response's data or rejects with a
	// SignalingError carrying the server's error code.
	request(method, data = {}) {
		if (this.state !== 'open' || this._ws?.readyState !== WebSocket.OPEN)
			return Promise.reject(new SignalingError('DISCONNECTED', `not connected (${method})`));
		const id = this._nextId++;
		return new Promise((resolve, reject) => {
			const timer = setTimeout(() => {
				this._pending.delete(id);
				reject(new SignalingError('TIMEOUT', `no answer to ${method} in ${this.requestTimeoutMs} ms`));
			}, this.requestTimeoutMs);
			this._pending.set(id, { resolve, reject, timer, method });
			this._ws.send(JSON.stringify({ id, method, data }));
		});
	}

	// Drop the current socket and connect again at once (after the server
	// closed our transports, or when it asked us to come back later).
	reconnectNow(delayMs = 0) {
		if (this.state === 'closed') return;
		const ws = this._ws;
		this._ws = null;
		if (ws) {
			ws.onclose = null;
			ws.close(1000, 'reconnect');
		}
		this._lost({ code: 1000, reason: 'reconnect' }, delayMs);
	}

	close() {
		this.state = 'closed';
		clearTimeout(this._retryTimer);
		this._failPending('CLOSED', 'signaling closed');
		if (this._ws) {
			this._ws.onclose = null;
			this._ws.close(1000, 'bye');
			this._ws = null;
		}
		this.emit('closed');
	}

	_connectOnce() {
		return new Promise((resolve, reject) => {
			let settled = false;
			let ws;
			try {
				ws = new WebSocket(this.url, SUBPROTOCOL);
			} catch (err) {
				reject(new SignalingError('UNREACHABLE', `bad signaling URL ${this.url}: ${err.message}`));
				return;
			}
			const timer = setTimeout(() => {
				if (settled) return;
				settled = true;
				ws.onclose = null;
				ws.close();
				reject(new SignalingError('UNREACHABLE', `no answer from ${this.url} in ${this.openTimeoutMs / 1000} s`));
			}, this.openTimeoutMs);
			ws.onopen = () => {
				settled = true;
				clearTimeout(timer);
				if (this.state === 'closed') { // close() while this attempt was under way
					ws.onclose = null;
					ws.close(1000, 'bye');
					reject(new SignalingError('CLOSED', 'signaling closed'));
					return;
				}
				this._ws = ws;
				ws.onmessage = (ev) => this._onMessage(ev);
				ws.onclose = (ev) => {
					if (this._ws !== ws) return;
					this._ws = null;
					this._lost({ code: ev.code, reason: ev.reason });
				};
				resolve();
			};
			// A failed handshake fires error then close; the close carries no detail
			// (browsers hide it on purpose), so the message names the URL.
			ws.onclose = () => {
				if (settled) return;
				settled = true;
				clearTimeout(timer);
				reject(new SignalingError('UNREACHABLE', `cannot connect to ${this.url}`));
			};
		});
	}

	_onMessage(ev) {
		let msg;
		try {
			msg = JSON.parse(ev.data);
		} catch {
			console.warn('signaling: not JSON', ev.data);
			return;
		}
		if (typeof msg.notification === 'string') {
			this.emit('notification', msg.notification, msg.data ?? {});
			return;
		}
		const p = this._pending.get(msg.id);
		if (!p) return; // answer to a request that timed out
		this._pending.delete(msg.id);
		clearTimeout(p.timer);
		if (msg.ok) p.resolve(msg.data ?? {});
		else p.reject(new SignalingError(msg.error?.code ?? 'INTERNAL', msg.error?.message ?? `${p.method} failed`));
	}

	_failPending(code, message) {
		for (const p of this._pending.values()) {
			clearTimeout(p.timer);
			p.reject(new SignalingError(code, `${p.method}: ${message}`));
		}
		this._pending.clear();
	}

	// The socket went away while open: tell the Call, then retry with
	// exponential backoff (0.5 s doubling up to maxBackoffMs, +-25% jitter).
	_lost(info, firstDelayMs) {
		if (this.state === 'closed') return;
		this._failPending('DISCONNECTED', 'connection lost');
		const wasOpen = this.state === 'open';
		this.state = 'reconnecting';
		this._attempt = 0;
		if (wasOpen) this.emit('disconnected', info);
		this._scheduleRetry(firstDelayMs);
	}

	_scheduleRetry(delayMs) {
		if (this.state !== 'reconnecting') return;
		const base = Math.min(this.maxBackoffMs, 500 * 2 ** this._attempt);
		const delay = delayMs ?? Math.round(base * (0.75 + Math.random() * 0.5));
		this._attempt++;
		this.emit('reconnecting', { attempt: this._attempt, delayMs: delay });
		clearTimeout(this._retryTimer);
		this._retryTimer = setTimeout(async () => {
			if (this.state !== 'reconnecting') return;
			try {
				await this._connectOnce();
			} catch {
				this._scheduleRetry();
				return;
			}
			if (this.state !== 'reconnecting') return;
			this.state = 'open';
			this._attempt = 0;
			this.emit('reconnected');
		}, delay);
	}
}
