// A video transcoded in chunks by two workers, played through every
// chunk boundary in headless Chromium (playwright-core) while it is
// still transcoded, then to its end: the watch page of www/ with its
// hls.js, against the stack t/094-web-chunks.t starts.  What is checked
// is in t/web/chunks-common.mjs.
//
// Settings come from the environment: BASE_URL, API_KEY, VIDEO_ID (the video the
// suite has just uploaded), SOURCE_DURATION, PG_CONNINFO, ARTIFACTS.
//
// Output: one JSON line per assertion, {"ok", "name", "diag"}, which the
// suite turns into Test::More results; other lines are notes.  Failed
// assertions do not change the exit status; only a crash of this script
// does.

import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ARTIFACTS, watchChunks } from './chunks-common.mjs';

const ID = process.env.VIDEO_ID ?? '';
const DEADLINE_MS = 90_000;
const started = Date.now();

let asserted = 0;

function report(ok, name, diag = '') {
    asserted++;
    process.stdout.write(JSON.stringify({ok: Boolean(ok), name: `chromium: ${name}`,
                                         diag: String(diag ?? '')}) + '\n');
}

function note(text) {
    process.stdout.write(`${text}\n`);
}

async function check(name, fn) {
    try {
        const value = await fn();
        report(true, name);
        return value ?? true;
    } catch (error) {
        report(false, name, String(error?.message ?? error).split('\n').slice(0, 8).join('\n'));
        return undefined;
    }
}

let browser;

const deadline = setTimeout(async () => {
    report(false, `the chunks browser suite finished within ${DEADLINE_MS / 1000} s`);
    await Promise.race([browser?.close(), sleep(3_000)]);
    process.exit(2);
}, DEADLINE_MS);
deadline.unref();

try {
    await mkdir(ARTIFACTS, {recursive: true});
    browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-gpu', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            '--autoplay-policy=no-user-gesture-required'],
    });
    note(`# chromium ${browser.version()}`);
    const context = await browser.newContext({viewport: {width: 1280, height: 800}});
    const page = await context.newPage();
    const problems = [];
    page.on('console', (msg) => {
        if (msg.type() === 'error') {
            problems.push(`console: ${msg.text()} (${msg.location()?.url ?? ''})`);
        }
    });
    page.on('pageerror', (error) => problems.push(`uncaught ${error.name}: ${error.message}`));

    await watchChunks(page, ID, {
        check, report, note,
        problems: () => problems.splice(0),
        audio: (v) => ({ok: v.audioBytes > 0, what: `webkitAudioDecodedByteCount ${v.audioBytes}`}),
    }, 'chromium');

    await browser.close();
    browser = undefined;
} catch (error) {
    process.stderr.write(`chunks.mjs: ${error?.stack ?? error}\n`);
    await Promise.race([browser?.close(), sleep(3_000)]);
    process.exitCode = 1;
}
note(`# ${asserted} assertions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
clearTimeout(deadline);
