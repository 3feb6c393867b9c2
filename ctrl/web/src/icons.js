// icons.js — the client's line icons (24x24, stroke = currentColor), drawn
// for this client.  icon(name) returns an <svg> element.

const PATHS = {
	mic: '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7"/>',
	micOff: '<rect x="9" y="3" width="6" height="11" rx="3"/><path d="M5.5 11a6.5 6.5 0 0 0 13 0M12 17.5V21M8.5 21h7M4 4l16 16"/>',
	cam: '<rect x="2.5" y="6" width="13" height="12" rx="2.5"/><path d="M15.5 10.5 21 7.5v9l-5.5-3z"/>',
	camOff: '<rect x="2.5" y="6" width="13" height="12" rx="2.5"/><path d="M15.5 10.5 21 7.5v9l-5.5-3zM3 3.5l17 17"/>',
	screen: '<rect x="2.5" y="4" width="19" height="13" rx="2"/><path d="M8 21h8M12 17v4M12 14V8M9 11l3-3 3 3"/>',
	cc: '<rect x="2.5" y="5" width="19" height="14" rx="3"/><path d="M10.3 10.2a2.3 2.3 0 1 0 0 3.6M17.3 10.2a2.3 2.3 0 1 0 0 3.6"/>',
	chat: '<path d="M4 5.5h16v11H9.5L4 20.5z"/><path d="M8 9.5h8M8 12.5h5"/>',
	settings: '<path d="M3 7h11M18 7h3M3 17h4M11 17h10"/><circle cx="16" cy="7" r="2"/><circle cx="9" cy="17" r="2"/>',
	leave: '<path d="M2.8 14.2c5-4.9 13.4-4.9 18.4 0l-2.3 2.6-3.6-1.3-.3-2.6a9.6 9.6 0 0 0-6 0l-.3 2.6-3.6 1.3z"/>',
	send: '<path d="M4 11.5 20.5 4 14 20.5l-2.5-6.5z"/><path d="m11.5 14 9-10"/>',
	people: '<circle cx="9" cy="8" r="3.2"/><path d="M3 19.5a6 6 0 0 1 12 0"/><path d="M15.5 4.9a3.2 3.2 0 0 1 0 6.2M21 19.5a6 6 0 0 0-3.6-5.5"/>',
	copy: '<rect x="8.5" y="8.5" width="12" height="12" rx="2"/><path d="M15.5 8.5V5.5a2 2 0 0 0-2-2h-8a2 2 0 0 0-2 2v8a2 2 0 0 0 2 2h3"/>',
	close: '<path d="M6 6l12 12M18 6 6 18"/>',
	alert: '<path d="M12 3.5 22 20.5H2z"/><path d="M12 10v4.5M12 17.3v.2"/>',
};

export function icon(name, className = 'icon') {
	const svg = document.createElementNS('http://www.w3.org/2000/svg', 'svg');
	svg.setAttribute('viewBox', '0 0 24 24');
	svg.setAttribute('aria-hidden', 'true');
	svg.setAttribute('class', className);
	svg.innerHTML = PATHS[name] ?? '';
	return svg;
}

// Put icon NAME into the element's [data-icon] slot (buttons that toggle).
export function setIcon(el, name) {
	const slot = el.querySelector('[data-icon]') ?? el;
	slot.replaceChildren(icon(name));
}
