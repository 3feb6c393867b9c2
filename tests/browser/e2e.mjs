#!/usr/bin/env node
// tests/browser/e2e.mjs — two real browsers in one call through the real SFU.
//
// Debian's chromium, driven by playwright-core (ctrl/web/node_modules), with
// fake camera and microphone; Alice's microphone plays a WAV of a known
// sentence.  Everything goes through the page's DOM as a person would (fill
// the name, click Join, Mute, Live captions, Chat, Leave); what reached the
// other side is read from RTCPeerConnection.getStats() of the mediasoup
// transports the page exposes as window.sfu.call.{send,recv}Transport.
//
// Checks: each side decodes the other's video and audio (inbound-rtp
// packetsReceived, framesDecoded, totalSamplesReceived grow between two
// samples), candidate pairs succeeded and DTLS connected on both transports;
// chat both ways; captions of Alice's speech shown to Bob with >= 60% of the
// words, partial text replaced by final text; active-speaker highlight;
// muting stops Bob's incoming audio packets and unmuting resumes them; camera
// off/on; leaving removes the tile on the other side, and coming back works;
// with E2E_ROOM_LIMIT=2, a third person is told the room is full.  Prints (does not
// assert) join-to-first-frame and speech-to-caption latency.
//
// Output: "ok   browser/..." / "FAIL browser/..." (+ an indented detail),
// "info ..." lines, and last "browser: N passed, N failed"; exit 1 on failure.
//
// Environment: E2E_URL (default http://127.0.0.1:8080/), E2E_ROOM, E2E_WAV
// (the speech WAV: 16-bit PCM), E2E_SENTENCE (its words), E2E_ARTIFACTS
// (screenshots, console logs; default $T_ARTIFACTS/browser), CHROMIUM
// (default /usr/bin/chromium), E2E_TIMEOUT_S (default 120), E2E_ROOM_LIMIT
// (the server's ctrl.max_peers_per_room if the runner set it to 2).

import { mkdtemp, mkdir, rm, appendFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT, Reporter, sleep, stats, grew, requireWeb, chromiumArgs } from './lib.mjs';

const env = process.env;
const cfg = {
	url: env.E2E_URL ?? 'http://127.0.0.1:8080/',
	room: env.E2E_ROOM ?? `e2e-${process.pid}`,
	wav: env.E2E_WAV ?? '',
	sentence: (env.E2E_SENTENCE ?? 'i would like to order a cup of coffee').toLowerCase(),
	out: env.E2E_ARTIFACTS ?? join(env.T_ARTIFACTS ?? join(ROOT, 'test-artifacts'), 'browser'),
	chromium: env.CHROMIUM ?? '/usr/bin/chromium',
	timeoutS: Number(env.E2E_TIMEOUT_S ?? 120),
	roomLimit: Number(env.E2E_ROOM_LIMIT ?? 0), // ctrl.max_peers_per_room, when the test set it
};

const browsers = [];

// The reporter (tests/browser/lib.mjs): a failure leaves screenshots of both
// pages (fail-N-NAME.png); the end closes the browsers.
const R = new Reporter('browser', {
	onFail: (n) => Promise.allSettled(browsers.map((b) =>
		b.page.screenshot({ path: join(cfg.out, `fail-${n}-${b.name}.png`), timeout: 5000 }))),
	onFinish: () => Promise.allSettled(browsers.map(async (b) => {
		await b.ctx.close();
		await rm(b.dir, { recursive: true, force: true });
	})),
});
const result = (name, ok, detail) => R.result(name, ok, detail);
const info = (text) => R.info(text);
const check = (name, fn) => R.check(name, fn);
const finish = (code) => R.finish(code);
const cancelWatchdog = R.watchdog(cfg.timeoutS);

function words(text) {
	return String(text).toLowerCase().replace(/[^a-z' ]+/g, ' ').split(/\s+/).filter(Boolean);
}

// Percentage of the sentence's words found in the given text.
function coverage(text) {
	const want = words(cfg.sentence);
	const got = new Set(words(text));
	return Math.round((100 * want.filter((w) => got.has(w)).length) / want.length);
}

async function launch(name, wav) {
	const dir = await mkdtemp(join(tmpdir(), `sfu-e2e-${name}-`));
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath: cfg.chromium,
		headless: true,
		args: chromiumArgs(wav),
		viewport: { width: 1280, height: 720 },
	});
	const page = ctx.pages()[0] ?? (await ctx.newPage());
	const logFile = join(cfg.out, `console-${name}.log`);
	page.on('console', (m) => appendFile(logFile, `[${m.type()}] ${m.text()}\n`).catch(() => {}));
	page.on('pageerror', (e) => appendFile(logFile, `[pageerror] ${e.message}\n`).catch(() => {}));
	const b = { name, ctx, page, dir };
	browsers.push(b);
	return b;
}

// Tiles glide for 0.25 s when the layout changes: let them settle first.
async function shot(b, file) {
	await sleep(400);
	await b.page.screenshot({ path: join(cfg.out, file) });
}

const tileOf = (name) => `.tile[data-name="${name}"]:not(.screen)`;

// ---------------------------------------------------------------------------

await mkdir(cfg.out, { recursive: true });
let chromium;
try {
	({ chromium } = requireWeb('playwright-core'));
} catch (err) {
	result('playwright-core is installed (cd ctrl/web && npm ci)', false, err.message);
	await finish(1);
}
if (!existsSync(cfg.chromium)) {
	result(`chromium is installed at ${cfg.chromium} (apt-get install chromium)`, false, 'not found');
	await finish(1);
}
if (!cfg.wav || !existsSync(cfg.wav)) {
	result('the speech WAV exists (E2E_WAV)', false, cfg.wav || 'E2E_WAV not set');
	await finish(1);
}
info(`room ${cfg.room} at ${cfg.url}; artifacts in ${cfg.out}`);

// Anything thrown outside a check still ends with the summary line.
process.on('unhandledRejection', (err) => {
	result('the run had no unexpected error', false, err?.message ?? err);
	finish(1);
});

let alice;
let bob;
const started = await check('two Chromium instances start (fake camera; Alice\'s microphone plays the WAV)', async () => {
	[alice, bob] = await Promise.all([launch('alice', cfg.wav), launch('bob', null)]);
	return true;
});
if (!started) await finish(1);
const pageUrl = new URL(cfg.url);
pageUrl.searchParams.set('room', cfg.room);

// --- lobby
const lobbyOk = await check('both lobbies load with a camera preview', async () => {
	await Promise.all([alice, bob].map((b) => b.page.goto(pageUrl.toString())));
	await Promise.all([alice, bob].map((b) => b.page.waitForSelector('#preview.has-video', { timeout: 10000 })));
	const room = await alice.page.inputValue('#room');
	return [room === cfg.room, `room field '${room}'`];
});
await alice.page.fill('#name', 'Alice');
await bob.page.fill('#name', 'Bob');
await shot(alice, 'lobby-alice.png');
if (!lobbyOk) await finish(1);

// --- join: Alice first, then Bob (whose click starts the join-to-first-frame clock)
const joined = await check('both join the room (call screen, connected)', async () => {
	await alice.page.click('#join');
	await alice.page.waitForSelector('#call:not([hidden])', { timeout: 15000 });
	await bob.page.evaluate(() => { window.__clickAt = performance.now(); });
	await bob.page.click('#join');
	await bob.page.waitForSelector('#call:not([hidden])', { timeout: 15000 });
	await Promise.all([alice, bob].map((b) => b.page.waitForSelector('#conn[data-state="connected"]', { timeout: 15000 })));
	return true;
});
if (!joined) await finish(1);

const tilesOk = await check('each sees the other\'s tile with live video', async () => {
	await alice.page.waitForSelector(`${tileOf('Bob')}[data-video="on"][data-first-frame]`, { timeout: 20000 });
	await bob.page.waitForSelector(`${tileOf('Alice')}[data-video="on"][data-first-frame]`, { timeout: 20000 });
	return true;
});
const firstFrame = await bob.page.evaluate(() => {
	const f = performance.getEntriesByName('sfu-first-remote-frame')[0];
	const j = performance.getEntriesByName('sfu-join-start')[0];
	return f ? { fromClick: f.startTime - window.__clickAt, fromJoin: j ? f.startTime - j.startTime : null } : null;
});
if (firstFrame) info(`join-to-first-frame (Bob joins, Alice already in): ${Math.round(firstFrame.fromClick)} ms from the Join click (${Math.round(firstFrame.fromJoin)} ms from signaling open)`);
if (!tilesOk) await finish(1);

// --- media flows both ways (two samples 2 s apart)
{
	const [a1, b1] = await Promise.all([stats(alice.page), stats(bob.page)]);
	await sleep(2000);
	const [a2, b2] = await Promise.all([stats(alice.page), stats(bob.page)]);
	for (const [who, s1, s2, other] of [['alice', a1, a2, 'Bob'], ['bob', b1, b2, 'Alice']]) {
		await check(`${who} receives ${other}'s video (packetsReceived grows)`, () => grew(s1, s2, 'video', 'packetsReceived'));
		await check(`${who} decodes ${other}'s video (framesDecoded grows)`, () => grew(s1, s2, 'video', 'framesDecoded'));
		await check(`${who} receives ${other}'s audio (packetsReceived grows)`, () => grew(s1, s2, 'audio', 'packetsReceived'));
		await check(`${who} plays ${other}'s audio (totalSamplesReceived grows)`, () => grew(s1, s2, 'audio', 'totalSamplesReceived'));
		await check(`${who}: candidate pair succeeded on both transports`, () =>
			[s2.pairs.send === 'succeeded' && s2.pairs.recv === 'succeeded', JSON.stringify(s2.pairs)]);
		await check(`${who}: DTLS connected on both transports`, () =>
			[s2.dtls.send === 'connected' && s2.dtls.recv === 'connected', JSON.stringify(s2.dtls)]);
	}
}
await Promise.all([shot(alice, 'call-alice.png'), shot(bob, 'call-bob.png')]);

// --- a third person when the server allows two per room (E2E_ROOM_LIMIT=2)
if (cfg.roomLimit === 2) {
	await check('room full: a third person gets a clear "room is full" message', async () => {
		const page = await bob.ctx.newPage();
		try {
			await page.goto(pageUrl.toString());
			await page.fill('#name', 'Carol');
			await page.click('#join');
			await page.waitForSelector('#lobby-error:not([hidden])', { timeout: 15000 });
			await page.screenshot({ path: join(cfg.out, 'room-full-carol.png') });
			const text = await page.textContent('#lobby-error');
			return [/is full/.test(text) && (await page.isHidden('#call')), `lobby says '${text}'`];
		} finally {
			await page.close();
		}
	});
}

// --- chat both ways
async function say(from, text) {
	if (await from.page.isHidden('#chat')) await from.page.click('#btn-chat');
	await from.page.fill('#chat-input', text);
	await from.page.press('#chat-input', 'Enter');
}
async function sees(to, text) {
	await to.page.waitForFunction((t) => [...document.querySelectorAll('#chat-list .msg .text')].some((e) => e.textContent === t), text, { timeout: 5000 });
	return true;
}
await check('chat: Bob gets Alice\'s message', async () => {
	await say(alice, 'hello from alice');
	return sees(bob, 'hello from alice');
});
await check('chat: Bob sees an unread badge while his chat is closed', async () =>
	bob.page.evaluate(() => { const b = document.getElementById('chat-badge'); return [!b.hidden && b.textContent === '1', `badge '${b.textContent}' hidden=${b.hidden}`]; }));
await check('chat: Alice gets Bob\'s answer', async () => {
	await say(bob, 'hi alice, bob here');
	return sees(alice, 'hi alice, bob here');
});
await shot(bob, 'chat-bob.png');
await bob.page.click('#chat-close');
await alice.page.click('#chat-close');

// --- captions: Alice turns them on; Bob's overlay is recorded as it changes
await bob.page.evaluate(() => {
	window.__caps = [];
	window.__speaking = [];
	const ids = new WeakMap();
	let next = 1;
	const box = document.getElementById('captions');
	const record = () => {
		for (const el of box.querySelectorAll('.caption')) {
			if (!ids.has(el)) ids.set(el, next++);
			const text = el.querySelector('.caption-text')?.textContent ?? '';
			const final = el.dataset.final === 'true';
			const last = window.__caps.findLast((c) => c.line === ids.get(el));
			if (!last || last.text !== text || last.final !== final)
				window.__caps.push({ line: ids.get(el), peerId: el.dataset.peerId, name: el.querySelector('.caption-name')?.textContent, text, final, t: Date.now() });
		}
	};
	new MutationObserver(record).observe(box, { subtree: true, childList: true, characterData: true, attributes: true });
	const speaking = () => {
		const t = document.querySelector('.tile[data-name="Alice"]:not(.screen)');
		if (t?.dataset.speaking === 'true') window.__speaking.push(Date.now());
	};
	speaking(); // she may be the active speaker already: her WAV plays from the start
	new MutationObserver(speaking).observe(document.getElementById('grid'), { subtree: true, attributes: true, attributeFilter: ['data-speaking'] });
});
// Alice's own microphone, analysed in her page: when speech starts and ends.
await alice.page.evaluate(() => {
	const track = window.sfu.call.tracks.audio;
	const ctx = new AudioContext();
	const an = ctx.createAnalyser();
	an.fftSize = 1024;
	ctx.createMediaStreamSource(new MediaStream([track])).connect(an);
	const buf = new Float32Array(an.fftSize);
	window.__speech = [];
	let on = false;
	let quiet = 0;
	setInterval(() => {
		an.getFloatTimeDomainData(buf);
		let sum = 0;
		for (const x of buf) sum += x * x;
		const loud = Math.sqrt(sum / buf.length) > 0.01;
		if (loud) {
			quiet = 0;
			if (!on) {
				on = true;
				window.__speech.push({ start: Date.now(), end: 0 });
			}
		} else if (on && ++quiet >= 10) { // 200 ms of silence ends a segment
			on = false;
			window.__speech.at(-1).end = Date.now() - 200;
		}
	}, 20);
	ctx.resume();
});
const alicePeer = await alice.page.evaluate(() => window.sfu.call.peerId);
let caps = [];
const capOk = await check('captions: Alice turns "Live captions" on (switch checked, CC badge at Bob)', async () => {
	await alice.page.click('#btn-captions');
	await alice.page.waitForSelector('#btn-captions[aria-checked="true"]', { timeout: 5000 });
	await bob.page.waitForSelector(`${tileOf('Alice')}[data-captions="on"]`, { timeout: 5000 });
	return true;
});
if (capOk) {
	await check('captions: Bob sees Alice\'s speech with >= 60% of the words', async () => {
		const deadline = Date.now() + 30000;
		let best = 0;
		let union = '';
		while (Date.now() < deadline) {
			caps = await bob.page.evaluate(() => window.__caps);
			const finals = caps.filter((c) => c.final && c.peerId === alicePeer);
			union = finals.map((c) => c.text).join(' ');
			best = coverage(union);
			if (best >= 60) break;
			await sleep(250);
		}
		if (best >= 60) await shot(bob, 'captions-bob.png');
		return [best >= 60, `final captions at Bob: '${union}' (${best}% of '${cfg.sentence}')`];
	});
	await check('captions: partial text shown first, then replaced by the final text', () => {
		const lines = new Map();
		for (const c of caps) {
			const l = lines.get(c.line) ?? { partial: false, final: false };
			if (!c.final && c.text) l.partial = true;
			if (c.final && l.partial) l.final = true;
			lines.set(c.line, l);
		}
		const n = [...lines.values()].filter((l) => l.final).length;
		return [n > 0, `${caps.length} caption changes, none went from partial to final in one line`];
	});
	await check('captions: the line carries the speaker\'s name', () =>
		[caps.some((c) => c.name === 'Alice'), `names seen: ${[...new Set(caps.map((c) => c.name))].join(', ')}`]);
	await check('active speaker: Bob highlights Alice while she speaks', async () => {
		const n = await bob.page.evaluate(() => window.__speaking.length);
		return [n > 0, 'Alice\'s tile never got data-speaking=true'];
	});
	// speech-to-caption latency, on the first final caption holding the
	// sentence: vs the end of Alice's speech segment before it; its first
	// partial vs that segment's start
	const speech = await alice.page.evaluate(() => window.__speech);
	const finals = caps.filter((c) => c.final && c.text && c.peerId === alicePeer);
	const firstFinal = finals.find((c) => coverage(c.text) >= 60) ?? finals[0];
	if (firstFinal) {
		const seg = speech.filter((s) => s.end && s.end <= firstFinal.t).at(-1);
		const firstPartial = caps.find((c) => c.line === firstFinal.line && !c.final && c.text);
		if (seg) {
			info(`speech-to-caption: final caption ${firstFinal.t - seg.end} ms after Alice stopped speaking` +
				(firstPartial ? `; first partial ${firstPartial.t - seg.start} ms after she started` : '') +
				` (utterance ${seg.end - seg.start} ms: '${firstFinal.text}')`);
		} else info(`speech-to-caption: no speech segment measured before the final caption (${speech.length} segments)`);
	}
}

// --- mute: Bob's incoming audio packets stop, and resume on unmute
async function audioPackets(b) {
	return (await stats(b.page)).in.audio?.packetsReceived ?? 0;
}
await check('mute: Bob sees Alice muted and her audio packets stop', async () => {
	await alice.page.click('#btn-mic');
	await alice.page.waitForSelector('#btn-mic[aria-pressed="true"]', { timeout: 5000 });
	await bob.page.waitForSelector(`${tileOf('Alice')}[data-muted="true"]`, { timeout: 5000 });
	await sleep(1000);
	const p1 = await audioPackets(bob);
	await sleep(2000);
	const p2 = await audioPackets(bob);
	return [p2 === p1, `Bob's audio packetsReceived ${p1} -> ${p2} while Alice is muted`];
});
await check('unmute: Alice\'s audio reaches Bob again', async () => {
	await alice.page.click('#btn-mic');
	await bob.page.waitForSelector(`${tileOf('Alice')}[data-muted="false"]`, { timeout: 5000 });
	const p1 = await audioPackets(bob);
	await sleep(1500);
	const p2 = await audioPackets(bob);
	return [p2 > p1, `Bob's audio packetsReceived ${p1} -> ${p2}`];
});

// --- camera off and on
await check('camera off: Bob sees Alice\'s avatar instead of video', async () => {
	await alice.page.click('#btn-cam');
	await bob.page.waitForSelector(`${tileOf('Alice')}[data-video="off"]`, { timeout: 5000 });
	return true;
});
await shot(bob, 'camera-off-bob.png');
await check('camera on: Bob decodes Alice\'s video again', async () => {
	await alice.page.click('#btn-cam');
	await bob.page.waitForSelector(`${tileOf('Alice')}[data-video="on"]`, { timeout: 8000 });
	const s1 = await stats(bob.page);
	let r;
	for (let i = 0; i < 10; i++) { // the first keyframe of the new track may take a moment
		await sleep(500);
		r = grew(s1, await stats(bob.page), 'video', 'framesDecoded');
		if (r[0]) break;
	}
	return r;
});

// --- leave: Bob's tile disappears at Alice's
await check('leave: Bob leaves and his tile disappears at Alice\'s', async () => {
	await bob.page.click('#btn-leave');
	await bob.page.waitForSelector('#lobby:not([hidden]) #lobby-notice:not([hidden])', { timeout: 5000 });
	await alice.page.waitForFunction((sel) => !document.querySelector(sel), tileOf('Bob'), { timeout: 8000 });
	return true;
});
await shot(alice, 'after-leave-alice.png');
await check('rejoin: Bob joins again from the lobby and Alice sees his video', async () => {
	await bob.page.click('#join');
	await bob.page.waitForSelector('#call:not([hidden])', { timeout: 15000 });
	await alice.page.waitForSelector(`${tileOf('Bob')}[data-video="on"][data-first-frame]`, { timeout: 15000 });
	const tiles = await bob.page.$$eval('.tile', (ts) => ts.map((t) => t.dataset.name));
	return [tiles.length === 2, `Bob's tiles after rejoining: ${tiles.join(', ')}`];
});

cancelWatchdog();
await finish();
