// media.js — local capture: camera and microphone (with device choice),
// screen capture, the device list, and a plain-language reason for every
// getUserMedia failure.

const VIDEO_CONSTRAINTS = { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 30, max: 30 } };

// One sentence a person can act on, for a getUserMedia / getDisplayMedia error.
export function describeMediaError(err, what = 'camera and microphone') {
	switch (err?.name) {
	case 'NotAllowedError':
	case 'PermissionDeniedError':
		return `Access to the ${what} was denied. Allow it in the browser's site settings (the icon left of the address), then reload — or join without it.`;
	case 'NotFoundError':
	case 'DevicesNotFoundError':
		// Firefox says this when it has no screen to capture (no display)
		if (what === 'screen') return 'This browser found no screen or window it can share here.';
		return `No ${what} found. Plug one in, or join without it.`;
	case 'NotReadableError':
	case 'TrackStartError':
		return `The ${what} is in use by another application or could not be started.`;
	case 'OverconstrainedError':
		return `The selected ${what} is not available any more; pick another one.`;
	case 'SecurityError':
	case 'TypeError':
		return `The browser does not allow the ${what} here: open the page over https:// or http://localhost.`;
	case 'AbortError':
		return `Starting the ${what} was interrupted; try again.`;
	default:
		return `Could not start the ${what}: ${err?.message ?? err}.`;
	}
}

function audioConstraints(deviceId) {
	return {
		deviceId: deviceId ? { exact: deviceId } : undefined,
		echoCancellation: true,
		noiseSuppression: true,
		autoGainControl: true,
	};
}

function videoConstraints(deviceId) {
	return { ...VIDEO_CONSTRAINTS, deviceId: deviceId ? { exact: deviceId } : undefined };
}

async function capture(constraints) {
	if (!navigator.mediaDevices?.getUserMedia) {
		const err = new Error('getUserMedia unavailable');
		err.name = 'SecurityError';
		throw err;
	}
	return navigator.mediaDevices.getUserMedia(constraints);
}

// Ask for what is wanted.  One prompt for both when possible; if that fails
// for a reason other than a refusal, try each alone so a missing camera does
// not cost the microphone.  Returns {audioTrack, videoTrack, errors[]}, where
// errors are {kind: 'audio'|'video', error, message}.
export async function getLocalMedia({ audio = true, video = true, audioId, videoId } = {}) {
	const out = { audioTrack: null, videoTrack: null, errors: [] };
	if (!audio && !video) return out;
	try {
		const s = await capture({
			audio: audio ? audioConstraints(audioId) : false,
			video: video ? videoConstraints(videoId) : false,
		});
		out.audioTrack = s.getAudioTracks()[0] ?? null;
		out.videoTrack = s.getVideoTracks()[0] ?? null;
		return out;
	} catch (err) {
		if (err?.name === 'NotAllowedError' || !(audio && video)) {
			const what = audio && video ? 'camera and microphone' : audio ? 'microphone' : 'camera';
			out.errors.push({ kind: audio && video ? 'both' : audio ? 'audio' : 'video', error: err, message: describeMediaError(err, what) });
			return out;
		}
	}
	for (const kind of ['audio', 'video']) {
		try {
			const s = await capture(kind === 'audio' ? { audio: audioConstraints(audioId) } : { video: videoConstraints(videoId) });
			out[`${kind}Track`] = s.getTracks()[0];
		} catch (err) {
			out.errors.push({ kind, error: err, message: describeMediaError(err, kind === 'audio' ? 'microphone' : 'camera') });
		}
	}
	return out;
}

// A single new track of one kind (device switch, camera back on).
export async function getTrack(kind, deviceId) {
	const s = await capture(kind === 'audio' ? { audio: audioConstraints(deviceId) } : { video: videoConstraints(deviceId) });
	return s.getTracks()[0];
}

export async function getScreenTrack() {
	if (!navigator.mediaDevices?.getDisplayMedia) {
		const err = new Error('screen capture unavailable');
		err.name = 'NotFoundError';
		throw err;
	}
	const s = await navigator.mediaDevices.getDisplayMedia({ video: { frameRate: { ideal: 15, max: 30 } }, audio: false });
	return s.getVideoTracks()[0];
}

// {audioinput: [{deviceId, label}], videoinput: [...]}; labels are empty
// until the page has been granted access once.
export async function listDevices() {
	const out = { audioinput: [], videoinput: [] };
	if (!navigator.mediaDevices?.enumerateDevices) return out;
	const devices = await navigator.mediaDevices.enumerateDevices();
	for (const d of devices) {
		if (!(d.kind in out) || !d.deviceId) continue;
		const n = out[d.kind].length + 1;
		out[d.kind].push({
			deviceId: d.deviceId,
			label: d.label || (d.kind === 'audioinput' ? `Microphone ${n}` : `Camera ${n}`),
		});
	}
	return out;
}

export function stopTrack(track) {
	if (track && track.readyState !== 'ended') track.stop();
}
