// What the browser scripts under t/web/ share: their output, the way an
// assertion runs, the deadline of a run, the browsers' launch, and the
// helpers on the page of www/ that more than one of them needs.
//
// Output: one JSON line per assertion, {"ok", "name", "diag", "todo"?},
// which the suite (through browser_suite in t/inc/VideoApi.pm) turns into
// Test::More results; other lines are notes.  Failed assertions do not
// change the exit status; only a crash of the script does.
//
// A script is one process: the state here (the count of assertions, the
// browser, the page a failure is shown of, the phase) is the script's.

import path from 'node:path';
import { mkdir } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';

let asserted = 0;
let failShots = 0;
let browser;

const settings = {
    label: '',          // before each assertion's name ("firefox: ")
    artifacts: null,    // where screenshots go
    shots: 'fail',      // a failure's screenshot: <shots>-<n>.png
    timeout: 10_000,    // a page's default timeout, and a view's
};

// what the script sets as it goes: the phase it is in (said by a
// deadline and by console errors) and the page a failed check's
// screenshot is of
export const current = { phase: 'start', page: undefined };

export function configure(options) {
    Object.assign(settings, options);
}

// ---------------------------------------------------------------- output --

export function report(ok, name, diag = '', todo) {
    asserted++;
    const line = { ok: Boolean(ok), name: settings.label + name, diag: String(diag ?? '') };
    if (todo) {
        line.todo = todo;
    }
    process.stdout.write(JSON.stringify(line) + '\n');
}

export function note(text) {
    process.stdout.write(`${text}\n`);
}

export class Failure extends Error {}

export function assert(condition, diag) {
    if (!condition) {
        throw new Failure(typeof diag === 'function' ? diag() : diag);
    }
}

// a step needs what an earlier one produced
export function need(value, what) {
    if (value === undefined || value === null || value === false) {
        throw new Failure(`not checked: ${what} failed earlier`);
    }
    return value;
}

// Playwright's errors end with a long call log: keep its head
export function shorten(error) {
    const text = error instanceof Failure ? error.message : String(error?.message ?? error);
    const lines = text.split('\n');
    return lines.length > 12 ? [...lines.slice(0, 12), '...'].join('\n') : text;
}

// one assertion: passes unless fn throws; its value is returned (true
// when it has none, undefined when it failed), with a screenshot of the
// page on failure.  todo: the reason it is not expected to pass yet.
export async function check(name, fn, { page = current.page, todo } = {}) {
    try {
        const value = await fn();
        report(true, name, '', todo);
        return value ?? true;
    } catch (error) {
        let diag = shorten(error);
        if (page && settings.artifacts && !page.isClosed()
            && !(error instanceof Failure && error.message.startsWith('not checked'))) {
            const file = path.join(settings.artifacts, `${settings.shots}-${++failShots}.png`);
            try {
                await page.screenshot({ path: file, timeout: 5_000 });
                diag += `\n(page at ${page.url()}, screenshot ${file})`;
            } catch {
                // the page is gone: the diagnostic says enough
            }
        }
        report(false, name, diag, todo);
        return undefined;
    }
}

// polls fn(arg) in the page every 100 ms until it is true, for both
// browsers' page objects (Playwright's and Puppeteer's); past timeout ms
// it throws, saying what was waited for and, with detail, what that
// function of the page returns then
export async function until(page, fn, arg, timeout, what, detail) {
    const end = Date.now() + timeout;

    for (;;) {
        if (await page.evaluate(fn, arg)) {
            return;
        }

        if (Date.now() > end) {
            throw new Error(`${what} not within ${timeout / 1000} s`
                            + (detail ? `: ${await page.evaluate(detail)}` : ''));
        }

        await sleep(100);
    }
}

// --------------------------------------------------------------- the run --

/*
 * Runs main() within deadlineMs: past it, a failed assertion says so (and
 * in which phase), the browser is closed and the script exits 2.  A crash
 * of main() is written to stderr and makes the exit status 1.  stop() is
 * called on either (before the browser is closed); after() in any case,
 * once main() is over.  Ends with a note of the count of assertions.
 */
export async function runScript({ what = '', deadlineMs, phase = true, closeWait = 3_000,
    stop = () => {}, after = () => {} }, main) {
    const started = Date.now();
    const deadline = setTimeout(async () => {
        report(false, `the ${what ? `${what} ` : ''}browser suite finished within ${deadlineMs / 1000} s`,
            phase ? `still running in phase "${current.phase}"` : '');
        stop();
        await Promise.race([browser?.close(), sleep(closeWait)]);
        process.exit(2);
    }, deadlineMs);
    deadline.unref();

    try {
        if (settings.artifacts) {
            await mkdir(settings.artifacts, { recursive: true });
        }
        await main();
    } catch (error) {
        // a crash of the script, not a failed assertion
        process.stderr.write(`${path.basename(process.argv[1])}: ${error?.stack ?? error}\n`);
        stop();
        await Promise.race([browser?.close(), sleep(closeWait)]);
        process.exitCode = 1;
    }
    await after();
    note(`${asserted} assertions in ${((Date.now() - started) / 1000).toFixed(1)} s`);
    clearTimeout(deadline);
}

// ---------------------------------------------------------- the browsers --

// headless Chromium through playwright-core; args: more switches
export async function launchChromium({ args = [], autoplay = true } = {}) {
    const { chromium } = await import('playwright-core');
    browser = await chromium.launch({
        executablePath: '/usr/bin/chromium',
        headless: true,
        args: [...args, '--no-sandbox', '--disable-gpu', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            ...(autoplay ? ['--autoplay-policy=no-user-gesture-required'] : [])],
    });
    note(`chromium ${browser.version()}`);
    return browser;
}

// Firefox ESR through puppeteer-core over WebDriver BiDi; prefs: more
// preferences
export async function launchFirefox(prefs = {}) {
    const { default: puppeteer } = await import('puppeteer-core');
    browser = await puppeteer.launch({
        browser: 'firefox',
        executablePath: process.env.FIREFOX ?? '/usr/bin/firefox-esr',
        headless: true,
        extraPrefsFirefox: {
            // media plays without a click, as a user's click would allow
            'media.autoplay.default': 0,
            ...prefs,
        },
    });
    note(await browser.version());
    return browser;
}

export async function closeBrowser() {
    const b = browser;
    browser = undefined;
    await b?.close();
}

// -------------------------------------------------------- console errors --

// console errors and uncaught exceptions of every page, by phase: {phase,
// label, text, url}; a script may take out those it caused on purpose
export const consoleErrors = [];

export function track(page, label) {
    page.on('console', (msg) => {
        if (msg.type() === 'error') {
            consoleErrors.push({ phase: current.phase, label, text: msg.text(),
                url: msg.location()?.url ?? '' });
        }
    });
    page.on('pageerror', (error) => {
        consoleErrors.push({ phase: current.phase, label,
            text: `uncaught ${error.name}: ${error.message}`, url: '' });
    });
    return page;
}

// asserts no console error since the last call
export function noConsoleErrors(name) {
    const errors = consoleErrors.splice(0);
    report(errors.length === 0, name,
        errors.map((e) => `[${e.phase}, ${e.label}] ${e.text}${e.url ? ` (${e.url})` : ''}`).join('\n'));
}

// takes out the console errors a check caused on purpose (the browser's
// own line for an API answer refused)
export function expectedErrors(re) {
    const kept = consoleErrors.filter((e) => !re.test(e.text));
    consoleErrors.splice(0, consoleErrors.length, ...kept);
}

// -------------------------------------------------------------- the page --

// a tab whose console errors are tracked
export async function newPage(context, label) {
    const page = track(await context.newPage(), label);
    page.setDefaultTimeout(settings.timeout);
    return page;
}

export async function viewReady(page, view, timeout = settings.timeout) {
    await page.waitForSelector(`main#view[data-view="${view}"][data-ready="1"]`,
        { state: 'attached', timeout });
}

// a fresh document at this route, so no state of the previous view lingers
export async function open(page, base, route, view) {
    await page.goto('about:blank');
    await page.goto(`${base}/${route}`);
    await viewReady(page, view);
}

export async function text(page, selector) {
    return ((await page.locator(selector).first().textContent({ timeout: 5_000 })) ?? '').trim();
}

// the watch page's player, for a diagnostic
export async function playerState(page) {
    return page.evaluate(() => {
        const v = document.querySelector('video#player');
        if (!v) {
            return 'no video#player';
        }
        return JSON.stringify({
            source: v.dataset.source, src: v.currentSrc, paused: v.paused, ended: v.ended,
            currentTime: v.currentTime, duration: v.duration, readyState: v.readyState,
            networkState: v.networkState, error: v.error && `${v.error.code} ${v.error.message}`,
            status: document.querySelector('#watch-status')?.textContent.trim(),
            notice: document.querySelector('#watch-notice')?.textContent.trim(),
            watchError: document.querySelector('#watch-error')?.textContent.trim(),
        });
    });
}

export async function currentTime(page) {
    return page.evaluate(() => document.querySelector('video#player').currentTime);
}

// resolves once the player has played `seconds` more than when asked (or,
// orEnded, has played on to its end); returns where it was
export async function playsOn(page, seconds, timeout, { orEnded = false } = {}) {
    await page.waitForFunction(() => {
        const v = document.querySelector('video#player');
        return v && !v.paused && v.readyState >= 3;
    }, null, { timeout, polling: 100 });
    const from = await currentTime(page);
    await page.waitForFunction(([t0, s, e]) => {
        const v = document.querySelector('video#player');
        return v.currentTime >= t0 + s || (e && v.ended && v.currentTime > t0);
    }, [from, seconds, orEnded], { timeout, polling: 100 });
    return from;
}

// play() on the player: 'playing', or why not
export async function startPlayback(page) {
    return page.evaluate(async () => {
        // a play() the player's own (re)load of its source interrupts
        // (AbortError) is asked again once that load is under way
        for (let attempt = 1; ; attempt++) {
            try {
                await document.querySelector('video#player').play();
                return 'playing';
            } catch (error) {
                if (error.name !== 'AbortError' || attempt === 3) {
                    return `play() failed: ${error.name}: ${error.message}`;
                }
                await new Promise((resolve) => setTimeout(resolve, 500));
            }
        }
    });
}
