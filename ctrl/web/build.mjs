// build.mjs — `npm run build`: bundles src/main.js (with mediasoup-client)
// into dist/app.js with esbuild and copies index.html and style.css next to
// it.  dist/ is what sfu-ctrl serves (ctrl.web_root).  `--watch` rebuilds on
// change while developing.
import * as esbuild from 'esbuild';
import { copyFile, mkdir, rm } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const dist = join(here, 'dist');
const watch = process.argv.includes('--watch');

const options = {
	entryPoints: [join(here, 'src/main.js')],
	outfile: join(dist, 'app.js'),
	bundle: true,
	format: 'esm',
	platform: 'browser',
	target: ['chrome100', 'firefox100', 'safari15'],
	minify: !watch,
	sourcemap: true,
	legalComments: 'linked',
	logLevel: 'info',
	// mediasoup-client logs through `debug`; nothing from Node is needed
	define: { 'process.env.NODE_ENV': '"production"' },
};

async function copyStatic() {
	for (const f of ['index.html', 'style.css']) await copyFile(join(here, f), join(dist, f));
}

await rm(dist, { recursive: true, force: true });
await mkdir(dist, { recursive: true });
await copyStatic();
if (watch) {
	const ctx = await esbuild.context({
		...options,
		plugins: [{ name: 'static', setup: (b) => b.onEnd(() => copyStatic().catch(console.error)) }],
	});
	await ctx.watch();
} else {
	await esbuild.build(options);
}
