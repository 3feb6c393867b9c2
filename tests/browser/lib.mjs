// tests/browser/lib.mjs — what the browser drivers (e2e.mjs: Chromium;
// firefox.mjs: Firefox, and Chromium next to it) share: the check reporter,
// cross-browser WebRTC statistics of the page's mediasoup transports, and a
// small page adapter so one test body drives a playwright page (Chromium) and
// a puppeteer page (Firefox over WebDriver BiDi) alike.
//
// Output protocol (read by tests/lib/browser.sh): "ok   TAG/..." or
// "FAIL TAG/..." (+ one indented detail line), "info ..." lines, and last
// "TAG: N passed, N failed".

import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// A module from the web client's node_modules (playwright-core, puppeteer-core).
export function requireWeb(name) {
	return createRequire(join(ROOT, 'ctrl/web/package.json'))(name);
}

// The checks of one driver.  onFail(n) runs after a failed check (screenshots);
// onFinish() before the summary line (close the browsers).
export class Reporter {
	constructor(tag, { onFail = async () => {}, onFinish = async () => {} } = {}) {
		this.tag = tag;
		this.passed = 0;
		this.failed = 0;
		this.onFail = onFail;
		this.onFinish = onFinish;
		this._finishing = false;
	}

	result(name, ok, detail) {
		if (ok) this.passed++;
		else this.failed++;
		console.log(`${ok ? 'ok  ' : 'FAIL'} ${this.tag}/${name}`);
		if (!ok && detail) console.log(`    ${String(detail).split('\n')[0]}`);
	}

	info(text) {
		console.log(`info ${text}`);
	}

	// Run one check: fn returns true/false or [ok, detail], or throws (fail).
	async check(name, fn) {
		let ok = false;
		try {
			const r = await fn();
			let detail;
			[ok, detail] = Array.isArray(r) ? r : [r !== false, ''];
			this.result(name, ok, detail);
		} catch (err) {
			this.result(name, false, err?.message ?? err);
		}
		if (!ok) await this.onFail(this.failed).catch(() => {});
		return ok;
	}

	// The summary line and the exit (once, even if a watchdog races the end).
	async finish(code) {
		if (this._finishing) return;
		this._finishing = true;
		await Promise.race([this.onFinish().catch(() => {}), sleep(10000)]);
		console.log(`${this.tag}: ${this.passed} passed, ${this.failed} failed`);
		process.exit(code ?? (this.failed ? 1 : 0));
	}

	// Fail and finish if the run takes longer than s seconds; returns a cancel.
	watchdog(s) {
		const t = setTimeout(() => {
			this.result(`the run finished within ${s} s`, false, 'watchdog fired: something hung');
			this.finish(1);
		}, s * 1000);
		return () => clearTimeout(t);
	}
}

// getStats of the page's send and recv transports (window.sfu.call), summed
// per kind: {in: {audio, video}, out: {audio, video} (packetsSent),
// pairs: {send, recv}, dtls: {send, recv}}.
// Runs in the page, so it copes with both browsers' reports:
// - Chromium has "transport" stats (dtlsState, selectedCandidatePairId);
//   Firefox has none: its selected pair is the candidate-pair with
//   selected: true, and DTLS is taken from the transport's connectionState
//   (mediasoup-client's "connected" needs ICE and DTLS both up).
// - A selected pair that has had STUN responses counts as succeeded: a loaded
//   Chromium has been seen reporting its selected pair "in-progress" again
//   (a check outstanding) while media flows over it.
// - totalSamplesReceived (audio played out) is absent from older Firefox
//   reports: then -1, and audioOut() falls back to packets decoded.
export async function stats(page) {
	return page.evaluate(async () => {
		const c = window.sfu?.call;
		const out = { in: {}, out: {}, pairs: {}, dtls: {} };
		for (const [dir, t] of [['send', c?.sendTransport], ['recv', c?.recvTransport]]) {
			if (!t) continue;
			const report = await t.getStats();
			let haveTransport = false;
			const pairState = (p) => (p && p.state !== 'succeeded' && (p.responsesReceived ?? 0) > 0 ? 'succeeded' : p?.state);
			report.forEach((s) => {
				if (s.type === 'inbound-rtp') {
					const kind = s.kind ?? s.mediaType;
					const k = (out.in[kind] ??= { packetsReceived: 0, framesDecoded: 0, totalSamplesReceived: 0, bytesReceived: 0 });
					k.packetsReceived += s.packetsReceived ?? 0;
					k.bytesReceived += s.bytesReceived ?? 0;
					k.framesDecoded += s.framesDecoded ?? 0;
					if (s.totalSamplesReceived === undefined) k.totalSamplesReceived = -1;
					else if (k.totalSamplesReceived >= 0) k.totalSamplesReceived += s.totalSamplesReceived;
				}
				if (s.type === 'outbound-rtp') {
					const kind = s.kind ?? s.mediaType;
					const k = (out.out[kind] ??= { packetsSent: 0 });
					k.packetsSent += s.packetsSent ?? 0;
				}
				if (s.type === 'transport') {
					haveTransport = true;
					out.dtls[dir] = s.dtlsState;
					if (s.selectedCandidatePairId) out.pairs[dir] = pairState(report.get(s.selectedCandidatePairId));
				}
			});
			if (!haveTransport) {
				report.forEach((s) => {
					if (s.type === 'candidate-pair' && (s.selected || s.nominated) && !out.pairs[dir]) out.pairs[dir] = pairState(s);
				});
				out.dtls[dir] = t.connectionState;
			}
		}
		return out;
	});
}

// [grew?, "kind field x -> y"] between two stats() samples.
export function grew(a, b, kind, field) {
	const x = a.in[kind]?.[field] ?? 0;
	const y = b.in[kind]?.[field] ?? 0;
	return [y > x, `${kind} ${field} ${x} -> ${y}`];
}

// A page as the test bodies use it, over playwright (Chromium) or puppeteer
// (Firefox): the same few actions with the same meaning.
export class Driven {
	constructor({ name, page, kind, close }) {
		this.name = name; // e.g. 'carol'
		this.page = page;
		this.kind = kind; // 'playwright' | 'puppeteer'
		this._close = close;
	}

	goto(url) {
		return this.page.goto(url);
	}

	click(sel) {
		return this.page.click(sel);
	}

	fill(sel, text) {
		return this.kind === 'playwright' ? this.page.fill(sel, text) : this.page.locator(sel).fill(text);
	}

	press(sel, key) {
		return this.kind === 'playwright' ? this.page.press(sel, key) : this.page.locator(sel).click().then(() => this.page.keyboard.press(key));
	}

	waitFor(sel, timeout) {
		return this.page.waitForSelector(sel, { timeout });
	}

	// Wait until fn(arg), evaluated in the page, is truthy.
	waitForFn(fn, arg, timeout) {
		return this.kind === 'playwright'
			? this.page.waitForFunction(fn, arg, { timeout })
			: this.page.waitForFunction(fn, { timeout, polling: 100 }, arg);
	}

	eval(fn, arg) {
		return this.page.evaluate(fn, arg);
	}

	screenshot(path) {
		return this.kind === 'playwright' ? this.page.screenshot({ path, timeout: 5000 }) : this.page.screenshot({ path });
	}

	close() {
		return this._close();
	}
}

// Chromium's switches for a test call (design.md): fake devices and no
// prompts, the WAV as microphone, host candidates not hidden behind mDNS.
export function chromiumArgs(wav) {
	return [
		'--no-sandbox',
		'--use-fake-ui-for-media-stream',
		'--use-fake-device-for-media-stream',
		...(wav ? [`--use-file-for-fake-audio-capture=${wav}`] : []),
		'--disable-background-networking',
		'--disable-component-update',
		'--disable-sync',
		'--no-first-run',
		'--disable-features=WebRtcHideLocalIpsWithMdns',
		'--autoplay-policy=no-user-gesture-required',
	];
}

// Firefox's preferences for a test call.  Stock Firefox is driven over
// WebDriver BiDi (puppeteer-core starts it with --remote-debugging-port and
// a fresh profile holding these):
// - streams.fake: a generated camera (colour frames) and microphone (a
//   1 kHz tone); permission.disabled: no getUserMedia / getDisplayMedia prompt;
// - autoplay allowed, so remote <audio> plays without a gesture;
// - ICE: host candidates as plain addresses (no mDNS .local names), the
//   test network's 198.18.0.0/15 addresses and loopback allowed, no proxy.
export const FIREFOX_PREFS = {
	'media.navigator.streams.fake': true,
	'media.navigator.permission.disabled': true,
	'media.autoplay.default': 0,
	'media.autoplay.blocking_policy': 0,
	'media.peerconnection.ice.obfuscate_host_addresses': false,
	'media.peerconnection.ice.loopback': true,
	'media.peerconnection.ice.link_local': true,
	'media.peerconnection.ice.default_address_only': false,
	'media.peerconnection.ice.proxy_only': false,
	'media.peerconnection.ice.relay_only': false,
	'browser.shell.checkDefaultBrowser': false,
	'datareporting.policy.dataSubmissionEnabled': false,
	'toolkit.telemetry.enabled': false,
	'app.update.enabled': false,
};

// Open a page's console and errors into out/console-NAME.log.
function logConsole(page, file, appendFile) {
	page.on('console', (m) => appendFile(file, `[${m.type()}] ${m.text()}\n`).catch(() => {}));
	page.on('pageerror', (e) => appendFile(file, `[pageerror] ${e.message ?? e}\n`).catch(() => {}));
}

// A Chromium page (playwright-core, persistent context in a scratch dir).
export async function launchChromium(name, { executablePath, wav, out }) {
	const { mkdtemp, rm, appendFile } = await import('node:fs/promises');
	const { tmpdir } = await import('node:os');
	const { chromium } = requireWeb('playwright-core');
	const dir = await mkdtemp(join(tmpdir(), `sfu-br-${name}-`));
	const ctx = await chromium.launchPersistentContext(dir, {
		executablePath, headless: true, args: chromiumArgs(wav), viewport: { width: 1280, height: 720 },
	});
	const page = ctx.pages()[0] ?? (await ctx.newPage());
	logConsole(page, join(out, `console-${name}.log`), appendFile);
	return new Driven({
		name, page, kind: 'playwright',
		close: async () => {
			await ctx.close();
			await rm(dir, { recursive: true, force: true });
		},
	});
}

// A Firefox page (puppeteer-core over WebDriver BiDi; puppeteer makes and
// removes the profile).
export async function launchFirefox(name, { executablePath, out }) {
	const { appendFile } = await import('node:fs/promises');
	const puppeteer = requireWeb('puppeteer-core');
	const browser = await puppeteer.launch({
		browser: 'firefox', executablePath, headless: true,
		extraPrefsFirefox: FIREFOX_PREFS,
		defaultViewport: { width: 1280, height: 720 },
		protocolTimeout: 30000,
	});
	const page = (await browser.pages())[0] ?? (await browser.newPage());
	logConsole(page, join(out, `console-${name}.log`), appendFile);
	return new Driven({ name, page, kind: 'puppeteer', close: () => browser.close() });
}
