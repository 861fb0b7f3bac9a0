// A video transcoded in chunks by two workers, played through every
// chunk boundary in Firefox (Debian's firefox-esr) over WebDriver BiDi
// with puppeteer-core, while it is still transcoded, then to its end: the
// same run as t/web/chunks.mjs (t/web/chunks-common.mjs), on a video of
// its own that t/094-web-chunks.t has just uploaded.
//
// Settings come from the environment: BASE_URL, API_KEY, VIDEO_ID,
// SOURCE_DURATION, PG_CONNINFO, ARTIFACTS, FIREFOX.  Output as in
// chunks.mjs: one JSON line per assertion.

import puppeteer from 'puppeteer-core';
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { ARTIFACTS, watchChunks } from './chunks-common.mjs';

const ID = process.env.VIDEO_ID ?? '';
const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const DEADLINE_MS = 90_000;
const started = Date.now();

let asserted = 0;

function report(ok, name, diag = '') {
    asserted++;
    process.stdout.write(JSON.stringify({ok: Boolean(ok), name: `firefox: ${name}`,
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
    browser = await puppeteer.launch({
        browser: 'firefox',
        executablePath: FIREFOX,
        headless: true,
        extraPrefsFirefox: {
            // media plays without a click, as a user's click would allow
            'media.autoplay.default': 0,
        },
    });
    note(`# ${await browser.version()}`);
    const page = await browser.newPage();
    await page.setViewport({width: 1280, height: 800});
    const problems = [];
    page.on('console', (m) => {
        if (m.type() === 'error') {
            problems.push(`console: ${m.text()}`);
        }
    });
    page.on('pageerror', (e) => problems.push(`uncaught: ${e.message}`));

    await watchChunks(page, ID, {
        check, report, note,
        problems: () => problems.splice(0),
        audio: (v) => ({ok: v.mozHasAudio === true, what: `mozHasAudio ${v.mozHasAudio}`}),
    }, 'firefox');

    await browser.close();
    browser = undefined;
} catch (error) {
    process.stderr.write(`chunks-firefox.mjs: ${error?.stack ?? error}\n`);
    await Promise.race([browser?.close(), sleep(3_000)]);
    process.exitCode = 1;
}
note(`# ${asserted} assertions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
clearTimeout(deadline);
