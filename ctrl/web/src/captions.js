// captions.js — the live captions overlay.  One line per utterance with the
// speaker's name; partial text is replaced as it grows, then by the final
// text, which stays a few seconds and fades.  At most MAX_LINES are shown.

const MAX_LINES = 2;
const FINAL_TTL_MS = 7000;

export class CaptionsOverlay {
	constructor(container) {
		this.container = container;
		this.lines = []; // {peerId, el, textEl, final, timer}
	}

	show({ peerId, displayName, text, final, mine }) {
		let line = this.lines.find((l) => l.peerId === peerId && !l.final);
		const clean = String(text ?? '').trim();
		if (!line) {
			if (!clean) return;
			line = this._newLine(peerId, mine ? 'You' : displayName);
		}
		line.textEl.textContent = clean;
		line.el.dataset.final = final ? 'true' : 'false';
		line.el.classList.toggle('partial', !final);
		if (final) {
			line.final = true;
			if (!clean) this._drop(line);
			else line.timer = setTimeout(() => this._fade(line), FINAL_TTL_MS);
		}
		this.container.hidden = this.lines.length === 0;
	}

	_newLine(peerId, name) {
		const el = document.createElement('div');
		el.className = 'caption partial';
		el.dataset.peerId = peerId;
		const who = document.createElement('span');
		who.className = 'caption-name';
		who.textContent = name;
		const textEl = document.createElement('span');
		textEl.className = 'caption-text';
		el.append(who, textEl);
		this.container.append(el);
		const line = { peerId, el, textEl, final: false, timer: null };
		this.lines.push(line);
		while (this.lines.length > MAX_LINES) this._drop(this.lines[0]);
		return line;
	}

	_fade(line) {
		line.el.classList.add('fading');
		line.timer = setTimeout(() => this._drop(line), 600);
	}

	_drop(line) {
		clearTimeout(line.timer);
		line.el.remove();
		this.lines = this.lines.filter((l) => l !== line);
		this.container.hidden = this.lines.length === 0;
	}

	clear() {
		for (const l of [...this.lines]) this._drop(l);
	}
}
