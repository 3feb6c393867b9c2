// main.js — entry point: the lobby, then a call, then back to the lobby.
//
// URL parameters: ?room=NAME (the room to join; kept in the address bar so
// the link can be shared) and ?name=DISPLAY (prefills the name).
// window.sfu exposes the current call for debugging and the browser tests:
// {call, signaling, view} (call.sendTransport / recvTransport.getStats()).

import { Signaling, signalingUrlFor } from './signaling.js';
import { Call, describeJoinError } from './call.js';
import { CallView } from './ui.js';
import { Lobby } from './lobby.js';

const lobby = new Lobby(document.getElementById('lobby'));
const callRoot = document.getElementById('call');
window.sfu = { call: null, signaling: null, view: null };

function setRoomInUrl(roomId) {
	const url = new URL(location.href);
	url.searchParams.set('room', roomId);
	url.searchParams.delete('name');
	history.replaceState(null, '', url);
}

async function join({ roomId, displayName }) {
	lobby.setBusy(true, 'Starting camera…');
	await lobby.ready();
	lobby.setBusy(true, 'Connecting…');
	const signaling = new Signaling(signalingUrlFor());
	try {
		await signaling.open();
	} catch (err) {
		lobby.setBusy(false);
		lobby.setError(describeJoinError(err, roomId));
		return;
	}
	lobby.setBusy(true, 'Joining…');
	const call = new Call(signaling, { roomId, displayName });
	const view = new CallView(callRoot, call);
	window.sfu = { call, signaling, view };
	const media = lobby.take();
	try {
		await call.join(media);
	} catch (err) {
		console.error('join failed', err);
		view.destroy();
		signaling.close();
		window.sfu = { call: null, signaling: null, view: null };
		// the lobby gets its tracks back (it re-opens the devices if needed)
		for (const t of [media.audioTrack, media.videoTrack]) t?.stop();
		lobby.open({ room: roomId, name: displayName }); // clears the error: set it after
		lobby.setError(describeJoinError(err, roomId));
		return;
	}
	setRoomInUrl(roomId);
	document.title = `${roomId} — Rooms`;
	lobby.close();
	view.show();
	view.on('leave', () => leave(call, view, signaling));
}

async function leave(call, view, signaling) {
	await call.leave();
	signaling.close();
	view.destroy();
	window.sfu = { call: null, signaling: null, view: null };
	document.title = 'Rooms';
	lobby.open({ room: call.roomId, name: call.displayName, notice: `You left "${call.roomId}".` });
}

lobby.on('join', (params) => join(params));

const params = new URLSearchParams(location.search);
lobby.open({ room: params.get('room') ?? '', name: params.get('name') ?? '' });
