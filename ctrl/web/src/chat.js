// chat.js — the chat panel: the message list, the composer and the unread
// counter shown on the Chat button while the panel is closed.
//
// Events: 'send' (text), 'toggle' (open).

import { Emitter } from './emitter.js';

const MAX_CHARS = 2000;

function timeOf(ts) {
	return new Date(ts || Date.now()).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
}

export class Chat extends Emitter {
	constructor({ panel, list, form, input, badge, closeButton, signal }) {
		super();
		this.panel = panel;
		this.list = list;
		this.form = form;
		this.input = input;
		this.badge = badge;
		this.unread = 0;
		this._badge();
		this.input.maxLength = MAX_CHARS;
		form.addEventListener('submit', (ev) => {
			ev.preventDefault();
			const text = this.input.value.trim();
			if (!text) return;
			this.input.value = '';
			this.emit('send', text.slice(0, MAX_CHARS));
		}, { signal });
		closeButton.addEventListener('click', () => this.setOpen(false), { signal });
	}

	get isOpen() {
		return !this.panel.hidden;
	}

	setOpen(open) {
		this.panel.hidden = !open;
		if (open) {
			this.unread = 0;
			this._badge();
			this.list.scrollTop = this.list.scrollHeight;
			this.input.focus({ preventScroll: true });
		}
		this.emit('toggle', open);
	}

	// {displayName, text, ts, mine}; consecutive messages of one person are
	// grouped under one name.
	add(msg) {
		const last = this.list.lastElementChild;
		const sameAuthor = last && last.dataset.peerId === msg.peerId && msg.ts - Number(last.dataset.ts) < 120000;
		const li = document.createElement('li');
		li.className = msg.mine ? 'msg mine' : 'msg';
		li.dataset.peerId = msg.peerId ?? '';
		li.dataset.ts = String(msg.ts ?? Date.now());
		if (!sameAuthor) {
			const head = document.createElement('div');
			head.className = 'msg-head';
			const who = document.createElement('span');
			who.className = 'who';
			who.textContent = msg.mine ? 'You' : msg.displayName;
			const when = document.createElement('time');
			when.textContent = timeOf(msg.ts);
			head.append(who, when);
			li.append(head);
		} else li.classList.add('cont');
		const text = document.createElement('div');
		text.className = 'text';
		text.textContent = msg.text;
		li.append(text);
		const atBottom = this.list.scrollHeight - this.list.scrollTop - this.list.clientHeight < 40;
		this.list.append(li);
		if (atBottom || msg.mine) this.list.scrollTop = this.list.scrollHeight;
		if (!this.isOpen && !msg.mine) {
			this.unread++;
			this._badge();
		}
	}

	// A line from the app itself (someone joined, left).
	note(text) {
		const li = document.createElement('li');
		li.className = 'note';
		li.textContent = text;
		this.list.append(li);
	}

	_badge() {
		this.badge.hidden = this.unread === 0;
		this.badge.textContent = this.unread > 9 ? '9+' : String(this.unread);
	}
}
