// emitter.js — the smallest event emitter the client needs (on/off/emit),
// shared by Signaling, Call and the UI pieces.  Listener exceptions are
// reported on the console and never break the emitter's caller.

export class Emitter {
	constructor() {
		this._handlers = new Map();
	}

	on(name, fn) {
		if (!this._handlers.has(name)) this._handlers.set(name, new Set());
		this._handlers.get(name).add(fn);
		return () => this.off(name, fn);
	}

	off(name, fn) {
		this._handlers.get(name)?.delete(fn);
	}

	emit(name, ...args) {
		for (const fn of [...(this._handlers.get(name) ?? [])]) {
			try {
				fn(...args);
			} catch (err) {
				console.error(`listener of '${name}' failed`, err);
			}
		}
	}
}
