// Browser tests of the web page (www/), run by t/090-web.t against its own
// nginx, object store, RTMP ingest and workers.  Headless Chromium through
// playwright-core; nothing else is needed beyond ffmpeg.
//
// What it covers, in order:
//   - signing in through the link make run prints (the key in the URL
//     fragment, taken out of the address bar at once), the page's
//     Content-Security-Policy (no inline script runs);
//   - upload of a 5 s 480p clip through the page (a one-part multipart
//     upload): upload progress to 100%, the transcoding bar moving,
//     Ready, a link to watch it; its part URL spoiled once on the way, so
//     the store refuses it (403) and the page asks for a new one;
//   - the library: the card (status, badge, title, duration, thumbnail,
//     views), search, the status filter, cursor paging with "Load more"
//     (22 live streams created through the API make a second page), and a
//     screenshot at 1280x800; the layout at phone width (390x844);
//   - watching: the quality menu (Auto, 480p, 360p), playback, one view
//     per play start and none per page load, switching to 360p, keyboard
//     access and accessible names of the controls, renaming in place;
//   - an invalid file: the API's own message, and nothing uploaded;
//   - an upload cancelled mid-way on a throttled link: the page aborts
//     the multipart upload (DELETE), storage keeps nothing of it, and
//     the page forgets it;
//   - resume: a 3-part upload on a throttled link (every request goes
//     through t/web/proxy.mjs, which slows the part PUTs), the tab
//     reloaded once storage has a part; the same file picked again is recognised and
//     only the missing parts are sent (counted in the store's access
//     log), then READY and playable;
//   - the page served from another origin, calling the API through CORS;
//   - a live stream: created on the page, published with ffmpeg, listed,
//     played live, and replaced by its VOD once the recording is
//     transcoded;
//   - anonymous visitors: the public library only, no upload, no edit or
//     delete, a PRIVATE video as "not found"; signing in with a pasted
//     key (a malformed one refused before any request, a wrong one by
//     the API), a viewer's reach, and signing out;
//   - no console error and no uncaught exception anywhere.
//
// Settings come from the environment: API_KEY (an admin key of the
// default account), VIEWER_KEY (a viewer of it), BASE_URL (the page and the API),
// OTHER_ORIGIN_URL (the same page on another origin), RTMP_URL (the ingest
// URL the API hands out), ARTIFACTS (screenshots, the clip, ffmpeg's log),
// STORE_LOG (the store's access log: time, method, URI, partNumber,
// uploadId, status).
//
// Output: one JSON line per assertion (t/web/common.mjs), which
// t/090-web.t turns into Test::More results.

import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
    Failure, assert, check, closeBrowser, configure, consoleErrors, current, expectedErrors,
    launchChromium, need, newPage, noConsoleErrors, note, open, playerState, playsOn, runScript,
    shorten, startPlayback, text, viewReady,
} from './common.mjs';
import { startProxy } from './proxy.mjs';

const BASE = (process.env.BASE_URL ?? 'http://127.0.0.1:2074').replace(/\/$/, '');
const OTHER = (process.env.OTHER_ORIGIN_URL ?? 'http://127.0.0.1:2077').replace(/\/$/, '');
const RTMP = process.env.RTMP_URL ?? 'rtmp://127.0.0.1:2075/live';
const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? 't/servroot-web/artifacts');
const KEY = process.env.API_KEY ?? '';
const VIEWER_KEY = process.env.VIEWER_KEY ?? '';
const STORE_LOG = process.env.STORE_LOG ?? '';
const STORE = new URL(process.env.STORE_URL ?? 'http://127.0.0.1:2076');
const PROXY_PORT = Number(process.env.PROXY_PORT ?? 2078);

// the whole run; t/090-web.t has a later deadline of its own for a hang
const DEADLINE_MS = 300_000;
// transcoding a clip or a recording, with the workers sharing the machine
const TRANSCODE_MS = 90_000;

const SEEDED_STREAMS = 22;
const PAGE_SIZE = 20;

configure({ artifacts: ARTIFACTS, timeout: 15_000 });

// --------------------------------------------------------------- helpers --

async function api(method, urlPath, body, key = KEY) {
    const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
    if (key) {
        headers.Authorization = `Bearer ${key}`;
    }
    const response = await fetch(BASE + urlPath, {
        method,
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try {
        json = JSON.parse(text);
    } catch {
        // not JSON: callers look at text
    }
    return { status: response.status, json, text };
}

async function poll(fn, { timeout = 10_000, interval = 200 } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
        const value = await fn();
        if (value || Date.now() >= deadline) {
            return value;
        }
        await sleep(interval);
    }
}

async function videoTotal() {
    const r = await api('GET', '/api/videos?limit=1');
    assert(r.status === 200, `GET /api/videos: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json.data.total;
}

async function viewsTotal(id) {
    const r = await api('GET', `/api/analytics/stats/${id}`);
    assert(r.status === 200, `GET /api/analytics/stats/${id}: ${r.status} ${r.text.slice(0, 300)}`);
    return r.json.data.viewsTotal;
}

function run(cmd, args) {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
        let err = '';
        child.stderr.on('data', (d) => { err += d; });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`${cmd} exited ${code}: ${err}`))));
    });
}

// the part PUTs storage answered for this upload, from its access log:
// [{part, status, at (ms)}]
function storePuts(uploadId) {
    const text = STORE_LOG && existsSync(STORE_LOG) ? readFileSync(STORE_LOG, 'utf8') : '';
    return text.split('\n').map((l) => l.split(' '))
        .filter((f) => f.length >= 6 && f[1] === 'PUT' && f[4] === uploadId)
        .map((f) => ({ part: Number(f[3]), status: Number(f[5]), at: Number(f[0]) * 1000 }));
}

// the uploads the page remembers for resuming (localStorage)
async function rememberedUploads(page) {
    return page.evaluate(() => Object.keys(localStorage)
        .filter((k) => k.startsWith('video-api.upload:'))
        .map((k) => ({ key: k, entry: JSON.parse(localStorage.getItem(k)) })));
}

function minutesSeconds(seconds) {
    const s = Math.max(0, seconds);
    return `${Math.floor(s / 60)}:${String(Math.floor(s % 60)).padStart(2, '0')}`;
}

// the accessible name Chromium computes, as a screen reader gets it
async function accessibleName(page, selector) {
    const cdp = await page.context().newCDPSession(page);
    try {
        const { root } = await cdp.send('DOM.getDocument', { depth: 0 });
        const { nodeId } = await cdp.send('DOM.querySelector', { nodeId: root.nodeId, selector });
        assert(nodeId, `${selector} is not in the page`);
        const { nodes } = await cdp.send('Accessibility.getPartialAXTree', { nodeId, fetchRelatives: false });
        return (nodes[0]?.name?.value ?? '').trim();
    } finally {
        await cdp.detach();
    }
}

// --------------------------------------------------------------- the run --

let proxy;
let publisher;

async function main() {
    const suffix = Math.random().toString(36).slice(2, 8);
    const title = `Web clip ${suffix}`;
    const clip = path.join(ARTIFACTS, 'clip.mp4');

    // -- a: the clip, and 22 live streams so the library has a second page --

    current.phase = 'setup';
    const clipMade = run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
        '-f', 'lavfi', '-i', 'testsrc=size=854x480:rate=30',
        '-f', 'lavfi', '-i', 'sine=frequency=440',
        '-t', '5', '-c:v', 'libx264', '-pix_fmt', 'yuv420p', '-c:a', 'aac',
        '-movflags', '+faststart', clip]);
    // 18 MiB of a real video, three parts of the API's 8 MiB (the last
    // under 2 MiB, so it is stored long before the others): 4.8 s at
    // 10 fps, x264 lossless over noise, so it is big yet quick to make
    // and to transcode
    const bigClip = path.join(ARTIFACTS, 'resume.mp4');
    const bigMade = clipMade.then(() => run('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
        '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=10',
        '-f', 'lavfi', '-i', 'sine=frequency=330',
        '-t', '4.8', '-vf', 'noise=alls=40:allf=t', '-c:v', 'libx264', '-preset', 'ultrafast',
        '-qp', '0', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-movflags', '+faststart', bigClip]));
    bigMade.catch(() => {});  // awaited in its check
    const seededIds = [];
    const seeded = await check(`setup: ${SEEDED_STREAMS} live streams created through the API`, async () => {
        for (let i = 1; i <= SEEDED_STREAMS; i++) {
            const r = await api('POST', '/api/live/create', { title: `Seeded stream ${String(i).padStart(2, '0')}` });
            assert(r.status === 201, `create ${i}: ${r.status} ${r.text.slice(0, 300)}`);
            seededIds.push(r.json.data.videoId);
        }
    });
    const clipReady = await check('setup: ffmpeg makes a 5 s 854x480 clip', () => clipMade);

    // every request through t/web/proxy.mjs, which can slow the part
    // PUTs down byte by byte: Chromium's network emulation delays an
    // upload as a whole rather than its bytes, so the parts of one
    // upload reach storage together however slow the link
    proxy = await startProxy(PROXY_PORT, (method, url) => method === 'PUT' && url.port === STORE.port);
    const browser = await launchChromium({
        args: [`--proxy-server=http://127.0.0.1:${PROXY_PORT}`, '--proxy-bypass-list=<-loopback>',
            '--disable-quic'],
    });
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await newPage(context, 'main');
    current.page = page;

    const requests = [];
    page.on('request', (r) => requests.push({ method: r.method(), url: r.url() }));

    // -- signing in through make run's link, and the page's policy -----------

    current.phase = 'signin';
    const signedIn = await check('sign-in: the link with the key in its fragment signs the tab in', async () => {
        await page.goto('about:blank');
        await page.goto(`${BASE}/#key=${KEY}`);
        await viewReady(page, 'library');
        assert(!page.url().includes('vapi_'), `the address bar still shows the key: ${page.url()}`);
        assert(page.url().endsWith('/#/'), `at ${page.url()}`);
        const who = await text(page, '#session-who');
        assert(who === 'admin · default', `the header says ${JSON.stringify(who)}`);
        const kept = await page.evaluate(() => sessionStorage.getItem('video-api.key'));
        assert(kept === KEY, 'the tab keeps the key');
        assert(await page.locator('nav a[data-nav="upload"]').isVisible(), 'no Upload link');
    });
    await check('sign-in: the key went to the API in the Authorization header only', async () => {
        need(signedIn, 'signing in');
        const leaked = requests.filter((r) => r.url.includes('vapi_'));
        assert(leaked.length === 0, `in URLs: ${leaked.map((r) => r.url).join(' ')}`);
    });
    await check('csp: the page is served with a policy that runs no inline script', async () => {
        await page.goto('about:blank');
        const response = await page.goto(`${BASE}/#/`);
        await viewReady(page, 'library');
        const csp = response.headers()['content-security-policy'] ?? '';
        assert(/script-src 'self'(;|$)/.test(csp), `Content-Security-Policy: ${csp}`);
        assert(!/unsafe-inline|unsafe-eval/.test(csp), `Content-Security-Policy: ${csp}`);
        await page.addScriptTag({ content: 'window.inlineRan = true;' }).catch(() => {});
        assert(await page.evaluate(() => window.inlineRan) === undefined, 'an inline script ran');
        // the refusal itself is the one console error expected here
        const refused = consoleErrors.splice(0);
        assert(refused.every((e) => /Content Security Policy/i.test(e.text)),
            refused.map((e) => e.text).join('\n'));
        assert(await text(page, '#session-who') === 'admin · default', 'signed out by a reload');
    });
    await noConsoleErrors('sign-in: no console errors');

    // -- b: upload ----------------------------------------------------------

    current.phase = 'upload';
    let t = Date.now();
    await check('upload: the page opens at #/upload', () => open(page, BASE, '#/upload', 'upload'));
    // every state and every data-seen the page shows, as they change
    await page.evaluate(() => {
        window.uploadLog = [];
        const snap = () => {
            const state = document.querySelector('#upload-state')?.textContent.trim() ?? '';
            const seen = document.querySelector('progress#transcode-progress')?.dataset.seen ?? '';
            const last = window.uploadLog.at(-1);
            if (!last || last.state !== state || last.seen !== seen) {
                window.uploadLog.push({ state, seen });
            }
        };
        const view = document.querySelector('main#view');
        if (view) {
            new MutationObserver(snap).observe(view,
                { subtree: true, childList: true, attributes: true, characterData: true });
        }
        snap();
    }).catch(() => {});

    // the first part PUT goes out with its signature spoiled: the store
    // refuses it (403), as it refuses an expired URL, and the page must
    // ask the API for a new URL and go on
    let spoiled = 0;
    const isPart = (u) => u.searchParams.has('partNumber') && u.searchParams.has('X-Amz-Signature');
    const spoil = async (route) => {
        if (route.request().method() === 'PUT' && spoiled === 0) {
            spoiled++;
            const u = new URL(route.request().url());
            u.searchParams.set('X-Amz-Signature', '0'.repeat(64));
            await route.continue({ url: u.toString() });
            return;
        }
        await route.continue();
    };
    await page.route(isPart, spoil);

    const uploadStarted = await check('upload: choose the file, give a title, start', async () => {
        need(clipReady, 'making the clip');
        await page.setInputFiles('#file', clip);
        await page.fill('#upload-title', title);
        await page.click('#upload-start');
    });

    await check('upload: the progress bar reaches 100%', async () => {
        need(uploadStarted, 'starting the upload');
        await page.waitForFunction(() => {
            const bar = document.querySelector('progress#upload-progress');
            const label = document.querySelector('#upload-progress-text')?.textContent ?? '';
            return bar && Number(bar.value) === 100 && label.includes('100%');
        }, null, { timeout: 30_000, polling: 100 }).catch(async (error) => {
            const now = await page.evaluate(() => ({
                value: document.querySelector('progress#upload-progress')?.value,
                text: document.querySelector('#upload-progress-text')?.textContent,
                state: document.querySelector('#upload-state')?.textContent,
                error: document.querySelector('#upload-error')?.textContent,
            }));
            throw new Failure(`${JSON.stringify(now)}\n${shorten(error)}`);
        });
    });

    const videoId = await check('upload: the form carries the video id', async () => {
        need(uploadStarted, 'starting the upload');
        const id = await poll(() => page.getAttribute('form#upload-form', 'data-video-id'), { timeout: 10_000 });
        assert(/^[A-Za-z0-9_-]{8,64}$/.test(id ?? ''), `data-video-id is ${JSON.stringify(id)}`);
        return id;
    });

    const ready = await check('upload: the state becomes Ready', async () => {
        need(videoId, 'the upload');
        await page.waitForFunction(() => ['Ready', 'Failed'].includes(
            document.querySelector('#upload-state')?.textContent.trim()), null,
        { timeout: TRANSCODE_MS, polling: 100 }).catch(async (error) => {
            throw new Failure(`state ${JSON.stringify(await text(page, '#upload-state'))}, ` +
                `API: ${(await api('GET', `/api/videos/${videoId}/progress`)).text}\n${shorten(error)}`);
        });
        const state = await text(page, '#upload-state');
        if (state !== 'Ready') {
            throw new Failure(`${state}: ${await text(page, '#upload-error')}`);
        }
    });

    const uploadLog = await page.evaluate(() => window.uploadLog ?? []).catch(() => []);
    note(`upload states: ${[...new Set(uploadLog.map((s) => s.state))].join(' > ')}; ` +
        `transcode values seen: ${uploadLog.at(-1)?.seen ?? ''}`);

    await check('upload: the transcoding bar moved before Ready', () => {
        need(ready, 'transcoding');
        const before = uploadLog.filter((s) => s.state !== 'Ready');
        const moved = before.some((s) => s.seen.split(',').map(Number).some((v) => v > 0));
        assert(moved, `snapshots (state, data-seen): ${JSON.stringify(uploadLog)}`);
    });

    await check('upload: a link to watch the video', async () => {
        need(ready, 'transcoding');
        const link = page.locator('a#upload-watch');
        await link.waitFor({ state: 'visible', timeout: 5_000 });
        const href = await link.getAttribute('href');
        assert(href?.endsWith(`#/watch/${videoId}`), `href is ${href}`);
    });

    const video = await check('upload: the API has the video, READY with its title', async () => {
        need(ready, 'transcoding');
        const r = await api('GET', `/api/videos/${videoId}`);
        assert(r.status === 200, `${r.status} ${r.text.slice(0, 300)}`);
        const v = r.json.data.video;
        assert(v.status === 'READY' && v.title === title, `status ${v.status}, title ${JSON.stringify(v.title)}`);
        return v;
    });
    await page.unroute(isPart, spoil);
    await check('upload: a part URL storage refused (403) was asked for again, and the part sent again', () => {
        need(ready, 'the upload');
        assert(spoiled === 1, `${spoiled} PUTs spoiled`);
        const asked = requests.filter((r) => r.method === 'POST' && r.url === `${BASE}/api/upload/${videoId}/parts`);
        assert(asked.length === 1, `POST /api/upload/${videoId}/parts ${asked.length} times`);
        const puts = requests.filter((r) => r.method === 'PUT' && /[?&]partNumber=1(&|$)/.test(r.url));
        assert(puts.length === 2, `part 1 PUT ${puts.length} times`);
    });
    note(`upload to Ready in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    // the browser's own line for the refused part, the one expected
    const refusedPart = consoleErrors.findIndex((e) => /status of 403/.test(e.text) && /partNumber=1/.test(e.url));
    if (refusedPart >= 0) {
        consoleErrors.splice(refusedPart, 1);
    }
    await noConsoleErrors('upload: no console errors');

    // -- c: the library -------------------------------------------------------

    current.phase = 'library';
    t = Date.now();
    const card = `#library li.video-card[data-id="${videoId}"]`;
    await check('library: the page opens at #/', () => open(page, BASE, '#/', 'library'));

    const cardShown = await check('library: the uploaded video has a card', async () => {
        need(video, 'the upload');
        await page.locator(card).waitFor({ state: 'visible', timeout: 10_000 });
    });

    await check('library: the card says READY', async () => {
        need(cardShown, 'the card');
        const status = await page.getAttribute(card, 'data-status');
        const badge = await text(page, `${card} .badge`);
        assert(status === 'READY' && badge === 'READY', `data-status ${status}, badge ${JSON.stringify(badge)}`);
    });

    await check('library: the card shows the title', async () => {
        need(cardShown, 'the card');
        const shown = await text(page, `${card} .video-title`);
        assert(shown === title, `shows ${JSON.stringify(shown)}, expected ${JSON.stringify(title)}`);
    });

    await check('library: the card shows the duration the API reports, as m:ss', async () => {
        need(cardShown, 'the card');
        const shown = await text(page, `${card} .video-duration`);
        const d = Number(video.duration);
        const accepted = new Set([minutesSeconds(d), minutesSeconds(Math.round(d))]);
        assert(accepted.has(shown), `shows ${JSON.stringify(shown)}, the API says ${video.duration} s (${[...accepted].join(' or ')})`);
        assert(['0:04', '0:05'].includes(shown), `a 5 s clip shows ${shown}`);
    });

    await check('library: the card shows its thumbnail', async () => {
        need(cardShown, 'the card');
        await page.waitForFunction((sel) => {
            const img = document.querySelector(`${sel} img.thumb`);
            return img && img.complete && img.naturalWidth > 0;
        }, card, { timeout: 10_000 }).catch(async (error) => {
            const src = await page.getAttribute(`${card} img.thumb`, 'src').catch(() => null);
            throw new Failure(`img.thumb src ${src}\n${shorten(error)}`);
        });
    });

    await check('library: the card shows its views', async () => {
        need(cardShown, 'the card');
        const views = await text(page, `${card} .video-views`);
        assert(/^\d[\d,]* views?$/.test(views), `shows ${JSON.stringify(views)}`);
    });

    await check('library: screenshot at 1280x800', async () => {
        need(cardShown, 'the card');
        await page.screenshot({ path: path.join(ARTIFACTS, 'library.png') });
    });

    const cardIds = () => page.$$eval('#library li.video-card', (els) => els.map((e) => e.dataset.id));

    await check('library: searching part of the title keeps the card, alone', async () => {
        need(cardShown, 'the card');
        await page.fill('#search', suffix);
        await page.waitForFunction((id) => {
            const ids = [...document.querySelectorAll('#library li.video-card')].map((e) => e.dataset.id);
            return ids.length === 1 && ids[0] === id;
        }, videoId, { timeout: 10_000 }).catch(async (error) => {
            throw new Failure(`cards: ${JSON.stringify(await cardIds())}\n${shorten(error)}`);
        });
    });

    await check('library: searching nonsense shows #library-empty', async () => {
        need(cardShown, 'the card');
        await page.fill('#search', 'qzxv no such title');
        await page.locator('p#library-empty').waitFor({ state: 'visible', timeout: 10_000 });
        const ids = await cardIds();
        assert(ids.length === 0, `cards still shown: ${JSON.stringify(ids)}`);
    });

    await check('library: clearing the search brings the cards back', async () => {
        await page.fill('#search', '');
        await page.locator(card).waitFor({ state: 'visible', timeout: 10_000 });
        await page.locator('p#library-empty').waitFor({ state: 'hidden', timeout: 5_000 });
    });

    await check('library: the FAILED filter hides the card', async () => {
        need(cardShown, 'the card');
        await page.selectOption('#filter-status', 'FAILED');
        await page.locator(card).waitFor({ state: 'detached', timeout: 10_000 });
        await page.locator('p#library-empty').waitFor({ state: 'visible', timeout: 5_000 });
    });

    await check('library: the READY filter shows it, and only READY cards', async () => {
        need(cardShown, 'the card');
        await page.selectOption('#filter-status', 'READY');
        await page.locator(card).waitFor({ state: 'visible', timeout: 10_000 });
        const statuses = await page.$$eval('#library li.video-card', (els) => els.map((e) => e.dataset.status));
        assert(statuses.every((s) => s === 'READY'), `statuses: ${statuses.join(', ')}`);
    });

    // paging: 23 videos, 20 a page
    const listRequests = () => requests
        .map((r) => new URL(r.url))
        .filter((u) => u.origin === BASE && u.pathname === '/api/videos');
    await check('library: with every status, the first page has 20 cards and "Load more"', async () => {
        need(seeded, 'seeding');
        await page.selectOption('#filter-status', '');
        await page.waitForFunction((n) => document.querySelectorAll('#library li.video-card').length === n,
            PAGE_SIZE, { timeout: 10_000 }).catch(async (error) => {
            throw new Failure(`${(await cardIds()).length} cards\n${shorten(error)}`);
        });
        await page.locator('button#load-more').waitFor({ state: 'visible', timeout: 5_000 });
    });

    const before = requests.length;
    await check('library: "Load more" adds the rest, without duplicates', async () => {
        need(seeded, 'seeding');
        const total = await videoTotal();
        await page.click('button#load-more');
        await page.waitForFunction((n) => document.querySelectorAll('#library li.video-card').length >= n,
            total, { timeout: 10_000 }).catch(async (error) => {
            throw new Failure(`${(await cardIds()).length} cards of ${total}\n${shorten(error)}`);
        });
        await sleep(500);
        const ids = await cardIds();
        assert(ids.length === total, `${ids.length} cards, the API has ${total} videos`);
        assert(new Set(ids).size === ids.length, `duplicates: ${ids.filter((id, i) => ids.indexOf(id) !== i).join(', ')}`);
        await page.locator('button#load-more').waitFor({ state: 'hidden', timeout: 5_000 });
    });

    await check('library: the next page is asked with cursor=, never offset=', () => {
        const after = requests.slice(before).map((r) => new URL(r.url))
            .filter((u) => u.origin === BASE && u.pathname === '/api/videos');
        assert(after.some((u) => u.searchParams.has('cursor')),
            `list requests after "Load more": ${after.map((u) => u.search).join(' ') || 'none'}`);
        const offsets = listRequests().filter((u) => u.searchParams.has('offset'));
        assert(offsets.length === 0, `with offset: ${offsets.map((u) => u.search).join(' ')}`);
    });
    note(`library in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    await noConsoleErrors('library: no console errors');

    // -- h: phone width ---------------------------------------------------------

    current.phase = 'phone';
    const phone = await browser.newContext({ viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true });
    const phonePage = await newPage(phone, 'phone');
    current.page = phonePage;
    // signed in as make run's link does, so the header holds the most
    const phoneOpen = await check('phone: the library opens at 390x844, signed in', () => open(phonePage, BASE, `#key=${KEY}`, 'library'));
    await check('phone: no horizontal scroll', async () => {
        need(phoneOpen, 'opening the page');
        const width = await phonePage.evaluate(() => document.documentElement.scrollWidth);
        assert(width <= 390, `scrollWidth ${width}`);
    });
    await check('phone: the nav links and the session are visible, inside the screen', async () => {
        need(phoneOpen, 'opening the page');
        for (const sel of ['nav a[href="#/"]', 'nav a[href="#/upload"]', 'nav a[href="#/live"]',
                           '#session-who', '#session-signout']) {
            const link = phonePage.locator(sel);
            assert(await link.isVisible(), `${sel} is not visible`);
            const box = await link.boundingBox();
            assert(box && box.x >= 0 && box.x + box.width <= 390 && box.y >= 0,
                `${sel} at ${JSON.stringify(box)}`);
        }
        await phonePage.screenshot({ path: path.join(ARTIFACTS, 'library-phone.png') });
    });
    for (const [route, view] of [['#/upload', 'upload'], ['#/live', 'live'],
                                 [`#/watch/${videoId}`, 'watch']]) {
        await check(`phone: ${view} fits the screen`, async () => {
            need(phoneOpen, 'opening the page');
            if (view === 'watch') {
                need(videoId, 'the upload');
            }
            await open(phonePage, BASE, route, view);
            const width = await phonePage.evaluate(() => document.documentElement.scrollWidth);
            assert(width <= 390, `scrollWidth ${width}`);
        });
    }
    await phone.close();
    await noConsoleErrors('phone: no console errors');
    current.page = page;

    // -- d: watch ---------------------------------------------------------------

    current.phase = 'watch';
    t = Date.now();
    const watching = await check('watch: the card\'s link opens the watch page', async () => {
        need(cardShown, 'the card');
        await page.click(`${card} a.video-link`);
        await viewReady(page, 'watch');
        assert(page.url().endsWith(`#/watch/${videoId}`), `at ${page.url()}`);
        await page.locator('video#player').waitFor({ state: 'attached' });
    });

    await check('watch: the quality menu has Auto, 480p and 360p', async () => {
        need(watching, 'the watch page');
        const options = () => page.$$eval('select#quality option',
            (els) => els.map((o) => ({ value: o.value, text: o.textContent.trim() })));
        await poll(async () => (await options()).length >= 3, { timeout: 15_000 });
        const list = await options();
        const texts = list.map((o) => o.text);
        // "Auto" may name the rung it plays, as in "Auto (480p)"
        assert(texts[0]?.startsWith('Auto') && list[0].value === '-1'
            && texts.some((s) => s.includes('480p')) && texts.some((s) => s.includes('360p')),
        `options: ${JSON.stringify(list)}`);
    });

    const viewsBefore = await check('watch: the API answers the views before playing', () => {
        need(watching, 'the watch page');
        return viewsTotal(videoId);
    });
    const autoplayed = await page.evaluate(() => document.querySelector('video#player')?.played.length > 0).catch(() => false);
    note(`views before playing: ${viewsBefore}; playback started by itself: ${autoplayed}`);

    const played = await check('watch: playback passes 1 s within 20 s', async () => {
        need(watching, 'the watch page');
        const result = await startPlayback(page);
        assert(result === 'playing', result);
        await page.waitForFunction(() => document.querySelector('video#player').currentTime > 1.0, null,
            { timeout: 20_000, polling: 100 }).catch(async (error) => {
            throw new Failure(`${await playerState(page)}\n${shorten(error)}`);
        });
    });

    await check('watch: one play counts one view', async () => {
        need(played, 'playback');
        const n = need(viewsBefore, 'reading the views');
        let now;
        await poll(async () => (now = await viewsTotal(videoId)) >= n + 1, { timeout: 5_000 });
        assert(now === n + 1, `viewsTotal ${now}, was ${n}`);
    });

    await check('watch: screenshot', () => page.screenshot({ path: path.join(ARTIFACTS, 'watch.png') }));

    await check('watch: choosing 360p, playback goes on', async () => {
        need(played, 'playback');
        const value = await page.$$eval('select#quality option',
            (els) => els.find((o) => o.textContent.includes('360p'))?.value);
        assert(value !== undefined, 'no 360p option');
        await page.selectOption('select#quality', value);
        await startPlayback(page);
        await playsOn(page, 0.5, 15_000, { orEnded: true }).catch(async (error) => {
            throw new Failure(`${await playerState(page)}\n${shorten(error)}`);
        });
        const selected = await page.$eval('select#quality', (s) => s.value);
        assert(selected === value, `the menu shows ${selected}`);
    });

    await check('watch: after choosing 360p the picture is 360 lines high', async () => {
        need(played, 'playback');
        await page.waitForFunction(() => document.querySelector('video#player').videoHeight === 360, null,
            { timeout: 10_000, polling: 100 }).catch(async (error) => {
            const height = await page.evaluate(() => document.querySelector('video#player').videoHeight);
            throw new Failure(`videoHeight ${height}; ${await playerState(page)}\n${shorten(error)}`);
        });
    });

    await check('watch: switching quality counts no view', async () => {
        need(played, 'playback');
        const n = need(viewsBefore, 'reading the views');
        await sleep(1_000);
        const now = await viewsTotal(videoId);
        assert(now === n + 1, `viewsTotal ${now}, was ${n} before playing`);
    });

    await check('watch: a reload without playing counts no view', async () => {
        need(played, 'playback');
        const n = need(viewsBefore, 'reading the views');
        await page.reload();
        await viewReady(page, 'watch');
        await sleep(3_000);
        const selfStarted = await page.evaluate(() => document.querySelector('video#player')?.played.length > 0);
        const now = await viewsTotal(videoId);
        assert(now === n + 1, `viewsTotal ${now}, was ${n + 1} before the reload` +
            (selfStarted ? ' (the page started playback by itself on load)' : ''));
    });

    // -- i: keyboard --------------------------------------------------------------

    current.phase = 'keyboard';
    await check('keyboard: Tab reaches #quality, #edit-details and #visibility', async () => {
        need(watching, 'the watch page');
        await page.evaluate(() => document.activeElement?.blur());
        const reached = new Set();
        for (let i = 0; i < 60 && reached.size < 3; i++) {
            await page.keyboard.press('Tab');
            const id = await page.evaluate(() => document.activeElement?.id ?? '');
            if (['quality', 'edit-details', 'visibility'].includes(id)) {
                reached.add(id);
            }
        }
        assert(reached.size === 3, `reached only: ${[...reached].join(', ') || 'none'}`);
    });

    for (const [selector, expected] of [['#quality', /quality/i], ['#edit-details', /\w/], ['#visibility', /\w/]]) {
        await check(`keyboard: ${selector} has an accessible name`, async () => {
            need(watching, 'the watch page');
            const name = await accessibleName(page, selector);
            const optionText = await page.$eval(selector, (el) => el.selectedOptions?.[0]?.textContent.trim() ?? null);
            assert(expected.test(name) && name !== optionText,
                `accessible name ${JSON.stringify(name)}${optionText === null ? '' : `, selected option ${JSON.stringify(optionText)}`}`);
        });
    }

    // -- e: rename in place -----------------------------------------------------

    current.phase = 'rename';
    const renamed = `${title} renamed`;
    const saved = await check('rename: edit, save, and the heading shows the new title', async () => {
        need(watching, 'the watch page');
        await page.click('#edit-details');
        await page.locator('form#details-form').waitFor({ state: 'visible' });
        await page.fill('#title-input', renamed);
        await page.click('#details-save');
        await page.waitForFunction((want) => document.querySelector('h1#watch-title')?.textContent.trim() === want,
            renamed, { timeout: 10_000 });
    });

    await check('rename: the new title survives a reload', async () => {
        need(saved, 'saving');
        await page.reload();
        await viewReady(page, 'watch');
        const shown = await text(page, 'h1#watch-title');
        assert(shown === renamed, `shows ${JSON.stringify(shown)}`);
        const r = await api('GET', `/api/videos/${videoId}`);
        assert(r.json?.data?.video?.title === renamed, `the API has ${JSON.stringify(r.json?.data?.video?.title)}`);
    });
    note(`watch, keyboard, rename in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    await noConsoleErrors('watch: no console errors');

    // -- f: an invalid file -------------------------------------------------------

    current.phase = 'invalid';
    const notes = Buffer.from('These are notes, not a video.\n'.repeat(40));
    const apiSays = await check('invalid file: the API refuses text/plain', async () => {
        const r = await api('POST', '/api/upload/multipart',
            { fileName: 'notes.txt', fileSize: notes.length, contentType: 'text/plain' });
        assert(r.status === 400, `${r.status} ${r.text.slice(0, 300)}`);
        const e = r.json.error;
        return e.details?.[0]?.message ?? e.message;
    });
    note(`the API says: ${apiSays}`);
    const totalBefore = await videoTotal().catch(() => undefined);
    const storeWrites = [];
    const onStoreWrite = (r) => {
        if (r.method() === 'PUT') {
            storeWrites.push(r.url());
        }
    };
    page.on('request', onStoreWrite);

    const invalidShown = await check('invalid file: the page shows the API\'s message', async () => {
        const message = need(apiSays, 'asking the API');
        await open(page, BASE, '#/upload', 'upload');
        await page.setInputFiles('#file', { name: 'notes.txt', mimeType: 'text/plain', buffer: notes });
        const error = page.locator('#upload-error');
        await error.waitFor({ state: 'visible', timeout: 10_000 });
        await page.waitForFunction((m) => document.querySelector('#upload-error').textContent.includes(m),
            message, { timeout: 5_000 }).catch(async () => {
            throw new Failure(`#upload-error says ${JSON.stringify(await text(page, '#upload-error'))}, ` +
                `the API ${JSON.stringify(message)}`);
        });
        return text(page, '#upload-error');
    });

    await check('invalid file: no raw JSON on the page', () => {
        need(invalidShown, 'the message');
        assert(!invalidShown.startsWith('{') && !/"success"\s*:/.test(invalidShown), invalidShown);
    });

    await check('invalid file: starting anyway uploads nothing', async () => {
        need(invalidShown, 'the message');
        await page.fill('#upload-title', 'Not a video').catch(() => {});
        if (await page.locator('#upload-start').isEnabled()) {
            await page.click('#upload-start');
        }
        await sleep(2_000);
        const after = await videoTotal();
        assert(after === totalBefore, `videos: ${totalBefore} before, ${after} after`);
        assert(storeWrites.length === 0, `PUT to ${storeWrites.join(', ')}`);
        assert(await page.locator('#upload-error').isVisible(), 'the error went away');
    });
    page.off('request', onStoreWrite);

    // the page refuses the file itself: no refused request either
    await noConsoleErrors('invalid file: no console errors');

    // -- cancelling an upload ----------------------------------------------------

    // a 20 MiB file (three parts) over a link throttled to 2 MiB/s,
    // cancelled mid-way: the page aborts the multipart upload, storage
    // keeps nothing, no video is made, the page forgets it
    current.phase = 'cancel';
    const cancelRequests = [];
    const onCancelRequest = (r) => cancelRequests.push({ method: r.method(), url: r.url() });
    const cancelled = await check('cancel: the upload stops mid-way and says so', async () => {
        const before = await videoTotal();
        page.on('request', onCancelRequest);
        const cdp = await page.context().newCDPSession(page);
        await open(page, BASE, '#/upload', 'upload');
        await cdp.send('Network.enable');
        await cdp.send('Network.emulateNetworkConditions', {
            offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: 2 * 1024 * 1024,
        });
        try {
            // from disk: a 20 MiB buffer would cross the protocol as base64,
            // which takes longer than the action's timeout on a busy machine
            const big = path.join(ARTIFACTS, 'big.mp4');
            writeFileSync(big, Buffer.alloc(20 * 1024 * 1024, 7));
            await page.setInputFiles('#file', big);
            await page.click('#upload-start');
            await page.waitForFunction(() => document.querySelector('#upload-progress').value >= 10,
                null, { timeout: 20_000 });
            const at = await text(page, '#upload-progress-text');
            await page.click('#upload-cancel');
            await page.waitForFunction(() => document.querySelector('#upload-state').textContent === 'Cancelled',
                null, { timeout: 10_000 });
            assert(await page.locator('#upload-error').isVisible(), 'no message after cancelling');
            assert(await page.locator('#upload-start').isEnabled(), 'Upload is not offered again');
            note(`cancelled at ${at}`);
        } finally {
            await cdp.send('Network.emulateNetworkConditions', {
                offline: false, latency: 0, downloadThroughput: -1, uploadThroughput: -1,
            });
            await cdp.detach();
        }
        page.off('request', onCancelRequest);
        return { before, id: await page.getAttribute('#upload-form', 'data-video-id') };
    });

    await check('cancel: nothing stored, no video made', async () => {
        const { before, id } = need(cancelled, 'cancelling');
        await sleep(1_000);
        const after = await videoTotal();
        assert(after === before, `videos: ${before} before, ${after} after`);
        // the store's data directory, beside the artifacts (t/090-web.t)
        const raw = path.join(ARTIFACTS, '..', 'store', 'videos-raw', id);
        assert(!existsSync(raw), `${raw} exists`);
    });
    await check('cancel: the page aborted the upload (DELETE), storage has none of its parts', async () => {
        const { id } = need(cancelled, 'cancelling');
        const deletes = cancelRequests.filter((r) => r.method === 'DELETE' && r.url === `${BASE}/api/upload/${id}`);
        assert(deletes.length === 1, `DELETEs: ${JSON.stringify(cancelRequests.filter((r) => r.method === 'DELETE'))}`);
        const puts = cancelRequests.filter((r) => r.method === 'PUT' && /[?&]partNumber=/.test(r.url));
        assert(puts.length >= 1, 'no part was PUT before the cancel');
        const r = await api('GET', `/api/upload/${id}/parts`);
        assert(r.status === 404, `GET parts after the cancel: ${r.status} ${r.text.slice(0, 300)}`);
        const uploads = path.join(ARTIFACTS, '..', 'store', '.uploads');
        const left = existsSync(uploads) ? readdirSync(uploads) : [];
        assert(left.length === 0, `${uploads} holds ${left.join(' ')}`);
        const kept = await rememberedUploads(page);
        assert(kept.length === 0, `the page still remembers ${JSON.stringify(kept)}`);
    });
    await noConsoleErrors('cancel: no console errors');

    // -- resuming an upload after a reload ----------------------------------------

    // three parts, each sent at 2 MiB/s (the proxy); once storage has
    // one, the link all but stops and the tab is reloaded.  The same file
    // picked again resumes: the parts storage has are not sent again
    current.phase = 'resume';
    const resumeTitle = `Resumed ${suffix}`;
    const resumeRequests = [];
    const bigReady = await check('setup: ffmpeg makes a 3-part clip (18 MiB)', async () => {
        await bigMade;
        const size = readFileSync(bigClip).length;
        assert(size > 16 * 1024 * 1024 && size <= 24 * 1024 * 1024, `${size} bytes`);
        return size;
    });
    const interrupted = await check('resume: a 3-part upload on a throttled link, the tab reloaded once a part is stored', async () => {
        need(bigReady, 'making the clip');
        await open(page, BASE, '#/upload', 'upload');
        const hint = await text(page, '#upload-resume-hint');
        assert(/same name, size and modification time/.test(hint), `the page says ${JSON.stringify(hint)}`);
        proxy.throttle(2 * 1024 * 1024);
        const accept = (d) => d.accept().catch(() => {});
        let id;
        try {
            await page.setInputFiles('#file', bigClip);
            await page.fill('#upload-title', resumeTitle);
            await page.click('#upload-start');
            await page.waitForFunction(() => Number(document.querySelector('#upload-progress')?.dataset.partsDone) >= 1,
                null, { timeout: 40_000, polling: 50 });
            proxy.throttle(8 * 1024);
            id = await page.getAttribute('#upload-form', 'data-video-id');
            const total = await page.getAttribute('#upload-progress', 'data-parts-total');
            assert(total === '3', `${total} parts`);
            note(`reloaded at ${await text(page, '#upload-progress-text')}`);
            // the page asks before leaving an upload (beforeunload)
            page.on('dialog', accept);
            await page.reload();
            await viewReady(page, 'upload');
        } finally {
            page.off('dialog', accept);
            proxy.restore();
        }
        const r = await api('GET', `/api/upload/${id}/parts`);
        assert(r.status === 200, `GET parts: ${r.status} ${r.text.slice(0, 300)}`);
        const stored = r.json.data.parts.map((p) => p.partNumber);
        assert(stored.length >= 1 && stored.length < 3, `storage has parts ${stored.join(', ')}`);
        const kept = await rememberedUploads(page);
        assert(kept.length === 1 && kept[0].entry.videoId === id && kept[0].entry.partCount === 3,
            `the page remembers ${JSON.stringify(kept)}`);
        note(`storage had parts ${stored.join(', ')} of 3 after the reload`);
        return { id, stored, uploadId: r.json.data.uploadId, at: Date.now() };
    });

    const resumed = await check('resume: the same file picked again is recognised and resumes to Ready', async () => {
        need(interrupted, 'the interrupted upload');
        page.on('request', (r) => resumeRequests.push({ method: r.method(), url: r.url() }));
        await page.setInputFiles('#file', bigClip);
        await page.locator('#upload-resume').waitFor({ state: 'visible', timeout: 5_000 });
        const said = await text(page, '#upload-resume');
        assert(/same name, size and modification time/.test(said) && /not sent again/.test(said),
            `the page says ${JSON.stringify(said)}`);
        assert(await text(page, '#upload-start') === 'Resume upload', 'the button does not offer to resume');
        assert(await page.inputValue('#upload-title') === resumeTitle, 'the title is not the one given before');
        await page.click('#upload-start');
        await page.waitForFunction(() => ['Ready', 'Failed', 'Interrupted'].includes(
            document.querySelector('#upload-state')?.textContent.trim()), null,
        { timeout: TRANSCODE_MS, polling: 100 });
        const state = await text(page, '#upload-state');
        assert(state === 'Ready', `${state}: ${await text(page, '#upload-error')}`);
        const id = await page.getAttribute('#upload-form', 'data-video-id');
        assert(id === interrupted.id, `video ${id}, the interrupted one was ${interrupted.id}`);
        const skipped = await page.getAttribute('#upload-progress', 'data-parts-skipped');
        assert(Number(skipped) === interrupted.stored.length, `data-parts-skipped ${skipped}`);
        return id;
    });

    await check('resume: the parts storage had were not sent again (the store\'s access log)', () => {
        need(resumed, 'resuming');
        const { stored, uploadId, at } = interrupted;
        const puts = storePuts(uploadId);
        const after = puts.filter((p) => p.at >= at);
        for (const n of stored) {
            assert(!after.some((p) => p.part === n), `part ${n} was PUT again: ${JSON.stringify(after)}`);
        }
        for (let n = 1; n <= 3; n++) {
            const ok = puts.filter((p) => p.part === n && p.status === 200);
            assert(ok.length === 1, `part ${n} stored ${ok.length} times: ${JSON.stringify(puts)}`);
        }
        const sent = resumeRequests.filter((r) => r.method === 'PUT').map((r) => Number(new URL(r.url).searchParams.get('partNumber')));
        assert(sent.length === 3 - stored.length && !sent.some((n) => stored.includes(n)),
            `the page PUT parts ${sent.join(', ')}, storage had ${stored.join(', ')}`);
        note(`store log for the upload: ${puts.map((p) => `${p.part}:${p.status}`).join(' ')}`);
    });

    await check('resume: the video is READY with its title, and plays', async () => {
        const id = need(resumed, 'resuming');
        const r = await api('GET', `/api/videos/${id}`);
        const v = r.json?.data?.video;
        assert(v?.status === 'READY' && v.title === resumeTitle, `status ${v?.status}, title ${JSON.stringify(v?.title)}`);
        await open(page, BASE, `#/watch/${id}`, 'watch');
        const result = await startPlayback(page);
        assert(result === 'playing', result);
        await page.waitForFunction(() => document.querySelector('video#player').currentTime > 1.0, null,
            { timeout: 20_000, polling: 100 }).catch(async (error) => {
            throw new Failure(`${await playerState(page)}\n${shorten(error)}`);
        });
    });

    await check('resume: the page forgot the upload once complete, and the API has it completed', async () => {
        const id = need(resumed, 'resuming');
        const kept = await rememberedUploads(page);
        assert(kept.length === 0, `the page still remembers ${JSON.stringify(kept)}`);
        const r = await api('GET', `/api/upload/${id}/parts`);
        assert(r.status === 409, `GET parts of the completed upload: ${r.status} ${r.text.slice(0, 200)}`);
    });
    await noConsoleErrors('resume: no console errors');

    // -- j: the page on another origin -------------------------------------------

    current.phase = 'other-origin';
    const otherContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const otherPage = await newPage(otherContext, 'other-origin');
    current.page = otherPage;
    const otherRequests = [];
    otherPage.on('request', (r) => otherRequests.push(r.url()));
    const otherCard = await check('other origin: the library shows the uploaded video', async () => {
        need(video, 'the upload');
        // signed in there too: the key goes cross-origin in the
        // Authorization header, which CORS allows
        await open(otherPage, OTHER, `#key=${KEY}`, 'library');
        await otherPage.locator(card).waitFor({ state: 'visible', timeout: 10_000 });
        const shown = await text(otherPage, `${card} .video-title`);
        assert(shown === renamed || shown === title, `title ${JSON.stringify(shown)}`);
    });
    await check('other origin: its API calls go to the API\'s origin', () => {
        need(otherCard, 'the library');
        assert(otherRequests.some((u) => u.startsWith(`${BASE}/api/`)),
            `requests: ${[...new Set(otherRequests.map((u) => new URL(u).origin + new URL(u).pathname))].slice(0, 15).join(' ')}`);
        assert(!otherRequests.some((u) => u.startsWith(`${OTHER}/api/`)), 'some went to its own origin');
    });
    await check('other origin: the video plays (CORS on /play/)', async () => {
        need(otherCard, 'the library');
        await otherPage.click(`${card} a.video-link`);
        await viewReady(otherPage, 'watch');
        const result = await startPlayback(otherPage);
        assert(result === 'playing', result);
        await otherPage.waitForFunction(() => document.querySelector('video#player').currentTime > 1.0, null,
            { timeout: 20_000, polling: 100 }).catch(async (error) => {
            throw new Failure(`${await playerState(otherPage)}\n${shorten(error)}`);
        });
    });
    await otherContext.close();
    current.page = page;
    await noConsoleErrors('other origin: no console errors');

    // -- k: anonymous visitors, a pasted key, a viewer, signing out ---------------

    current.phase = 'anonymous';
    const anonContext = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const anon = await newPage(anonContext, 'anonymous');
    current.page = anon;
    const anonRequests = [];
    anon.on('request', (r) => anonRequests.push(r));
    const hidden = seededIds.at(-1);
    const madePrivate = await check('anonymous: a seeded stream made PRIVATE, the upload PUBLIC, through the API', async () => {
        need(seeded, 'seeding');
        need(video, 'the upload');
        let r = await api('PATCH', `/api/videos/${hidden}`, { visibility: 'PRIVATE' });
        assert(r.status === 200, `${r.status} ${r.text.slice(0, 300)}`);
        r = await api('PATCH', `/api/videos/${videoId}`, { visibility: 'PUBLIC' });
        assert(r.status === 200, `${r.status} ${r.text.slice(0, 300)}`);
    });
    const anonLibrary = await check('anonymous: the library shows the public videos, not the PRIVATE one', async () => {
        need(video, 'the upload');
        need(madePrivate, 'the PRIVATE video');
        await open(anon, BASE, '#/', 'library');
        await anon.locator(card).waitFor({ state: 'visible', timeout: 10_000 });
        const ids = await anon.$$eval('#library li.video-card', (els) => els.map((e) => e.dataset.id));
        const pub = await api('GET', '/api/videos?limit=100', undefined, '');
        const allowed = new Set(pub.json.data.videos.map((v) => v.id));
        assert(!allowed.has(hidden), 'the API lists the PRIVATE video to anonymous callers');
        assert(!ids.includes(hidden), 'the PRIVATE video has a card');
        const extra = ids.filter((id) => !allowed.has(id));
        assert(extra.length === 0, `cards the anonymous API does not list: ${extra.join(' ')}`);
        assert(await anon.locator('#session-signin').isVisible(), 'no Sign in link');
        assert(await anon.locator('nav a[data-nav="upload"]').isHidden(), 'an Upload link shows');
        assert(await anon.locator('#library-upload').count() === 0, 'an "Upload a video" button shows');
    });
    await check('anonymous: #/upload asks to sign in and offers no file input', async () => {
        await open(anon, BASE, '#/upload', 'upload');
        assert(await anon.locator('#signin-needed').isVisible(), 'no sign-in notice');
        assert(await anon.locator('#file').count() === 0, 'a file input');
    });
    await check('anonymous: #/live lists streams but offers no form', async () => {
        await open(anon, BASE, '#/live', 'live');
        assert(await anon.locator('#live-form').count() === 0, 'the create form shows');
        assert(await anon.locator('#signin-needed').isVisible(), 'no sign-in notice');
    });
    await check('anonymous: the PRIVATE video\'s page says it is not found', async () => {
        need(madePrivate, 'the PRIVATE video');
        await open(anon, BASE, `#/watch/${hidden}`, 'watch');
        const heading = await text(anon, '#watch-title');
        assert(heading === 'Video not found', `heading ${JSON.stringify(heading)}`);
        assert(!(await anon.content()).includes('Seeded stream 22'), 'its title is on the page');
        expectedErrors(/status of 404/);
    });
    await check('anonymous: a public video plays, without edit, visibility or delete', async () => {
        need(anonLibrary, 'the library');
        await open(anon, BASE, `#/watch/${videoId}`, 'watch');
        for (const sel of ['#edit-details', '#delete-video', '#visibility', '#end-stream']) {
            assert(await anon.locator(sel).isHidden(), `${sel} shows`);
        }
        const result = await startPlayback(anon);
        assert(result === 'playing', result);
    });
    await noConsoleErrors('anonymous: no console errors');

    current.phase = 'paste';
    await check('sign-in form: a malformed key is refused on the page, before any request', async () => {
        await open(anon, BASE, '#/signin', 'signin');
        const before = anonRequests.length;
        await anon.fill('#signin-key', 'hello');
        await anon.click('#signin-submit');
        const error = await text(anon, '#signin-error');
        assert(/not an API key/.test(error), `error ${JSON.stringify(error)}`);
        assert(anonRequests.length === before, `requests: ${anonRequests.slice(before).map((r) => r.url()).join(' ')}`);
    });
    await check('sign-in form: a well-formed key the API does not know is refused', async () => {
        const wrong = `vapi_${'A'.repeat(49)}`;
        await anon.fill('#signin-key', wrong);
        await anon.click('#signin-submit');
        await anon.waitForFunction(() => /refused/.test(document.querySelector('#signin-error')?.textContent ?? ''),
            null, { timeout: 5_000 });
        assert(await anon.evaluate(() => sessionStorage.getItem('video-api.key')) === null, 'kept anyway');
        expectedErrors(/status of 401/);
    });
    const viewer = await check('sign-in form: a viewer\'s key signs in, and sees its account\'s PRIVATE video', async () => {
        await anon.fill('#signin-key', VIEWER_KEY);
        await anon.click('#signin-submit');
        await viewReady(anon, 'library');
        const who = await text(anon, '#session-who');
        assert(who === 'viewer · default', `the header says ${JSON.stringify(who)}`);
        assert(await anon.locator('nav a[data-nav="upload"]').isHidden(), 'a viewer gets an Upload link');
        await anon.locator(`#library li.video-card[data-id="${hidden}"]`).waitFor({ state: 'attached', timeout: 10_000 });
        const sent = anonRequests.filter((r) => r.url().startsWith(`${BASE}/api/`)).at(-1);
        assert((await sent.allHeaders()).authorization === `Bearer ${VIEWER_KEY}`, 'no Bearer header');
    });
    await check('viewer: its PRIVATE video opens, with nothing to change', async () => {
        need(viewer, 'signing in');
        await open(anon, BASE, `#/watch/${hidden}`, 'watch');
        const heading = await text(anon, '#watch-title');
        assert(heading === 'Seeded stream 22', `heading ${JSON.stringify(heading)}`);
        for (const sel of ['#edit-details', '#delete-video', '#visibility']) {
            assert(await anon.locator(sel).isHidden(), `${sel} shows`);
        }
    });
    await check('sign-out: the tab forgets the key and shows the public library', async () => {
        need(viewer, 'signing in');
        await anon.click('#session-signout');
        await viewReady(anon, 'library');
        assert(await anon.locator('#session-signin').isVisible(), 'no Sign in link');
        assert(await anon.evaluate(() => sessionStorage.getItem('video-api.key')) === null, 'the key is kept');
        assert(await anon.locator(`#library li.video-card[data-id="${hidden}"]`).count() === 0,
            'the PRIVATE video still shows');
    });
    await check('anonymous: no URL the page requested carries a key', () => {
        const leaked = anonRequests.filter((r) => r.url().includes('vapi_'));
        assert(leaked.length === 0, leaked.map((r) => r.url()).join(' '));
    });
    await anonContext.close();
    current.page = page;
    await noConsoleErrors('sign-in form, viewer, sign-out: no console errors');

    // -- g: live ------------------------------------------------------------------

    current.phase = 'live';
    t = Date.now();
    const liveTitle = `Live ${suffix}`;
    const created = await check('live: create a stream on the page', async () => {
        await open(page, BASE, '#/live', 'live');
        await page.fill('#live-title', liveTitle);
        await page.click('#live-create');
        await page.locator('#live-created').waitFor({ state: 'visible', timeout: 10_000 });
        const rtmpUrl = await page.inputValue('#live-rtmp-url');
        const key = await page.inputValue('#live-stream-key');
        const href = await page.getAttribute('a#live-watch-link', 'href');
        const id = href?.match(/#\/watch\/([A-Za-z0-9_-]+)$/)?.[1];
        assert(id, `a#live-watch-link href ${href}`);
        return { rtmpUrl, key, id };
    });

    await check('live: the page shows the RTMP URL', () => {
        const { rtmpUrl } = need(created, 'creating the stream');
        assert(rtmpUrl.startsWith('rtmp://') && rtmpUrl === RTMP, `${rtmpUrl}, expected ${RTMP}`);
    });

    await check('live: the page shows the 32-character stream key, read-only', async () => {
        const { key } = need(created, 'creating the stream');
        assert(/^[A-Za-z0-9_-]{32}$/.test(key), `key ${JSON.stringify(key)}`);
        for (const sel of ['#live-rtmp-url', '#live-stream-key']) {
            assert(await page.$eval(sel, (el) => el.readOnly), `${sel} is not readonly`);
        }
    });

    await check('live: nothing live yet, #live-empty shows', async () => {
        need(created, 'creating the stream');
        await page.locator('p#live-empty').waitFor({ state: 'visible', timeout: 5_000 });
    });

    let ffmpegLog = '';
    if (created) {
        publisher = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re',
            '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30',
            '-f', 'lavfi', '-i', 'sine=frequency=440:sample_rate=44100',
            '-t', '40', '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency',
            '-g', '60', '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-b:a', '64k', '-f', 'flv',
            `${created.rtmpUrl}/${created.key}`], { stdio: ['ignore', 'ignore', 'pipe'] });
        publisher.stderr.on('data', (d) => { ffmpegLog += d; });
    }
    const publisherExit = publisher && new Promise((resolve) => publisher.on('exit', (code, signal) => resolve(code ?? signal)));
    const liveItem = created && `ul#live-list li.live-item[data-id="${created.id}"]`;

    const listed = await check('live: once published, the stream is listed within 20 s', async () => {
        need(created, 'creating the stream');
        await page.locator(liveItem).waitFor({ state: 'visible', timeout: 20_000 }).catch((error) => {
            throw new Failure(`ffmpeg: ${ffmpegLog.trim() || 'no output'}\n${shorten(error)}`);
        });
        assert(await page.locator('p#live-empty').isHidden(), '#live-empty still shows');
        await page.screenshot({ path: path.join(ARTIFACTS, 'live.png') });
    });

    const liveWatch = await check('live: its link opens the player, with the live badge', async () => {
        need(listed, 'the list');
        await page.click(`${liveItem} a[href="#/watch/${created.id}"]`);
        await viewReady(page, 'watch');
        await page.locator('#live-badge').waitFor({ state: 'visible', timeout: 10_000 });
        // the player may wait for the first fragments before it attaches
        await page.locator('video#player[data-source="live"]').waitFor({ state: 'attached', timeout: 20_000 })
            .catch(async (error) => {
                throw new Failure(`player ${await playerState(page)}\n${shorten(error)}`);
            });
    });

    await check('live: the live stream plays', async () => {
        need(liveWatch, 'the live player');
        const result = await startPlayback(page);
        assert(result === 'playing', result);
        await playsOn(page, 1, 20_000, { orEnded: true }).catch(async (error) => {
            throw new Failure(`${await playerState(page)}\n${shorten(error)}`);
        });
        await page.screenshot({ path: path.join(ARTIFACTS, 'live-watch.png') });
    });

    if (publisher) {
        publisher.kill('SIGINT');
        const code = await Promise.race([publisherExit, sleep(15_000).then(() => 'still running')]);
        note(`the publisher stopped: ${code}`);
        if (code === 'still running') {
            publisher.kill('SIGKILL');
        }
    }

    const vod = await check('live: when the stream ends, the page switches to its VOD', async () => {
        need(liveWatch, 'the live player');
        await page.locator('video#player[data-source="vod"]').waitFor({ state: 'attached', timeout: TRANSCODE_MS })
            .catch(async (error) => {
                const w = await api('GET', `/api/live/${created.id}/watch`);
                throw new Failure(`player ${await playerState(page)}\nAPI: ${w.text.slice(0, 400)}\n${shorten(error)}`);
            });
        await page.locator('#live-badge').waitFor({ state: 'hidden', timeout: 5_000 });
    });

    await check('live: the VOD plays', async () => {
        need(vod, 'the VOD');
        const result = await startPlayback(page);
        assert(result === 'playing', result);
        await page.waitForFunction(() => document.querySelector('video#player').currentTime > 1.0, null,
            { timeout: 20_000, polling: 100 }).catch(async (error) => {
            throw new Failure(`${await playerState(page)}\n${shorten(error)}`);
        });
    });
    note(`live in ${((Date.now() - t) / 1000).toFixed(1)} s`);
    await noConsoleErrors('live: no console errors');

    await closeBrowser();
}

await runScript({
    deadlineMs: DEADLINE_MS,
    closeWait: 5_000,
    stop: () => publisher?.kill('SIGKILL'),
    after: () => proxy?.close(),
}, main);
