// The page's main flows in Firefox (Debian's firefox-esr), driven over
// WebDriver BiDi by puppeteer-core, against the stack t/090-web.t starts:
// signing in through make run's link (API_KEY, in the URL fragment) under
// the page's Content-Security-Policy, an anonymous visitor's public
// library without upload, upload with progress to READY, the library card, playback with the
// quality menu, one view per play start, a live stream playing, phone
// width, and no console error.  Resume after a lost connection: every
// request goes through t/web/proxy.mjs (Firefox's HTTP proxy), which
// throttles a 3-part upload and cuts the link to storage once it has a
// part; the page gives up after its retries and says the upload can
// resume; the same file picked again sends only the missing parts
// (counted at the proxy and in the store's access log), then READY and
// playable.  Output as in browser.mjs: one JSON line per assertion.

import puppeteer from 'puppeteer-core';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { startProxy } from './proxy.mjs';

const BASE = (process.env.BASE_URL ?? 'http://127.0.0.1:2074').replace(/\/$/, '');
const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? 't/servroot-web/artifacts');
const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const TRANSCODE_MS = 90_000;
const KEY = process.env.API_KEY ?? '';
const STORE = new URL(process.env.STORE_URL ?? 'http://127.0.0.1:2076');
const STORE_LOG = process.env.STORE_LOG ?? '';
const PROXY_PORT = Number(process.env.PROXY_PORT ?? 2078);

function report(ok, name, diag = '') {
    process.stdout.write(JSON.stringify({ok: Boolean(ok), name: `firefox: ${name}`,
                                         diag: String(diag)}) + '\n');
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

async function api(method, urlPath) {
    const res = await fetch(BASE + urlPath, {method, headers: {Authorization: `Bearer ${KEY}`}});
    const body = await res.json();
    if (!body.success) {
        throw new Error(`${method} ${urlPath}: ${res.status} ${JSON.stringify(body)}`);
    }
    return body.data;
}

const clip = path.join(ARTIFACTS, 'firefox-clip.mp4');
execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
                        '-f', 'lavfi', '-i', 'testsrc=size=854x480:rate=30',
                        '-f', 'lavfi', '-i', 'sine=frequency=660',
                        '-t', '5', '-c:v', 'libx264', '-pix_fmt', 'yuv420p',
                        '-c:a', 'aac', '-movflags', '+faststart', clip]);

// 18 MiB of a real video: three parts of the API's 8 MiB, the last
// under 2 MiB
const bigClip = path.join(ARTIFACTS, 'firefox-resume.mp4');
execFileSync('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-y',
                        '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=10',
                        '-f', 'lavfi', '-i', 'sine=frequency=550', '-t', '4.8',
                        '-vf', 'noise=alls=40:allf=t', '-c:v', 'libx264',
                        '-preset', 'ultrafast', '-qp', '0', '-pix_fmt', 'yuv420p',
                        '-c:a', 'aac', '-movflags', '+faststart', bigClip]);

// the part PUTs to the store are the ones it may slow down or cut
const proxy = await startProxy(PROXY_PORT,
    (method, url) => method === 'PUT' && url.port === STORE.port);

const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: {
        // media plays without a click, as a user's click would allow
        'media.autoplay.default': 0,
        // every request through the proxy, 127.0.0.1's too
        'network.proxy.type': 1,
        'network.proxy.http': '127.0.0.1',
        'network.proxy.http_port': PROXY_PORT,
        'network.proxy.no_proxies_on': '',
        'network.proxy.allow_hijacking_localhost': true,
    },
});

const problems = [];
const page = await browser.newPage();
await page.setViewport({width: 1280, height: 800});
page.on('console', m => {
    if (m.type() === 'error') {
        problems.push(`console: ${m.text()}`);
    }
});
page.on('pageerror', e => problems.push(`exception: ${e.message}`));

const version = await browser.version();
process.stdout.write(`# ${version}\n`);

const title = `Firefox clip ${Date.now()}`;

await check('anonymous: the library without an Upload link, a Sign in link instead', async () => {
    await page.goto(`${BASE}/#/`);
    await page.waitForSelector('#view[data-ready="1"]');
    await page.waitForSelector('#session-signin', {visible: true});
    if (!await page.$eval('nav a[data-nav="upload"]', el => el.hidden)) {
        throw new Error('an Upload link shows');
    }
});

await check('the link with the key in its fragment signs in, and leaves the address bar', async () => {
    await page.goto('about:blank');
    await page.goto(`${BASE}/#key=${KEY}`);
    await page.waitForSelector('#session-who', {visible: true});
    const who = await page.$eval('#session-who', el => el.textContent);
    if (who !== 'admin · default') {
        throw new Error(`the header says "${who}"`);
    }
    const url = page.url();
    if (url.includes('vapi_') || !url.endsWith('/#/')) {
        throw new Error(`at ${url}`);
    }
});

await check('no inline script runs under the page\'s policy', async () => {
    await page.evaluate(() => {
        const s = document.createElement('script');
        s.textContent = 'window.inlineRan = true;';
        document.head.append(s);
    });
    if (await page.evaluate(() => window.inlineRan) !== undefined) {
        throw new Error('an inline script ran');
    }
    // Firefox reports the refusal itself as a console error
    for (let i = problems.length - 1; i >= 0; i--) {
        if (/Content[- ]Security[- ]Policy|Content-Security-Policy/i.test(problems[i])) {
            problems.splice(i, 1);
        }
    }
});

const id = await check('upload through the page reaches Ready with 100% uploaded', async () => {
    await page.goto(`${BASE}/#/upload`);
    await page.waitForSelector('#view[data-ready="1"]');
    const input = await page.$('#file');
    await input.uploadFile(clip);
    await page.$eval('#upload-title', el => { el.value = ''; });
    await page.type('#upload-title', title);
    await page.click('#upload-start');
    await page.waitForFunction(() => ['Ready', 'Failed'].includes(
        document.querySelector('#upload-state')?.textContent), {timeout: TRANSCODE_MS});
    const state = await page.$eval('#upload-state', el => el.textContent);
    const text = await page.$eval('#upload-progress-text', el => el.textContent);
    const error = await page.$eval('#upload-error', el => el.textContent);
    if (state !== 'Ready' || !text.includes('100%')) {
        throw new Error(`state ${state}, upload "${text}", error "${error}"`);
    }
    return page.$eval('#upload-form', el => el.dataset.videoId);
});

if (id) {
    await check('the library shows the video READY with its thumbnail', async () => {
        await page.goto(`${BASE}/#/`);
        await page.waitForSelector(`li.video-card[data-id="${id}"][data-status="READY"] img.thumb`,
                                   {timeout: 10_000});
        const shown = await page.$eval(`li.video-card[data-id="${id}"] .video-title`,
                                       el => el.textContent);
        if (shown !== title) {
            throw new Error(`title "${shown}"`);
        }
    });

    const before = (await api('GET', `/api/analytics/stats/${id}`)).viewsTotal;

    await check('the quality menu lists Auto, 480p and 360p', async () => {
        await page.goto(`${BASE}/#/watch/${id}`);
        await page.waitForFunction(() => document.querySelector('#quality')?.options.length >= 3,
                                   {timeout: 20_000});
        const names = await page.$$eval('#quality option', os => os.map(o => o.textContent));
        if (!names[0].startsWith('Auto') || !names.includes('480p') || !names.includes('360p')) {
            throw new Error(`options ${JSON.stringify(names)}`);
        }
    });

    await check('the video plays past 1 s', async () => {
        await page.evaluate(() => document.querySelector('#player').play());
        await page.waitForFunction(() => document.querySelector('#player').currentTime > 1,
                                   {timeout: 20_000});
        const frames = await page.evaluate(
            () => document.querySelector('#player').getVideoPlaybackQuality().totalVideoFrames);
        if (!(frames > 0)) {
            throw new Error(`${frames} video frames decoded`);
        }
    });

    await check('one play start counts one view', async () => {
        const deadline = Date.now() + 5000;
        let now = (await api('GET', `/api/analytics/stats/${id}`)).viewsTotal;
        while (now !== before + 1 && Date.now() < deadline) {
            await new Promise(resolve => setTimeout(resolve, 200));
            now = (await api('GET', `/api/analytics/stats/${id}`)).viewsTotal;
        }
        if (now !== before + 1) {
            throw new Error(`views ${before} before, ${now} after`);
        }
    });

    await page.screenshot({path: path.join(ARTIFACTS, 'firefox-watch.png')});
}

// -- resume after a lost connection ------------------------------------------

function storePuts(uploadId) {
    const text = STORE_LOG && existsSync(STORE_LOG) ? readFileSync(STORE_LOG, 'utf8') : '';
    return text.split('\n').map(l => l.split(' '))
        .filter(f => f.length >= 6 && f[1] === 'PUT' && f[4] === uploadId)
        .map(f => ({part: Number(f[3]), status: Number(f[5]), at: Number(f[0]) * 1000}));
}

async function apiStatus(method, urlPath) {
    const res = await fetch(BASE + urlPath, {method, headers: {Authorization: `Bearer ${KEY}`}});
    return {status: res.status, json: await res.json().catch(() => null)};
}

const resumeTitle = `Firefox resumed ${Date.now()}`;
const cut = await check('resume: a 3-part upload, the link cut once storage has a part: the page says it can resume', async () => {
    await page.goto('about:blank');
    await page.goto(`${BASE}/#/upload`);
    await page.waitForSelector('#view[data-ready="1"]');
    proxy.throttle(2 * 1024 * 1024);
    proxy.cutAfter(1);
    try {
        const input = await page.$('#file');
        await input.uploadFile(bigClip);
        await page.$eval('#upload-title', el => { el.value = ''; });
        await page.type('#upload-title', resumeTitle);
        await page.click('#upload-start');
        // the page's retries (after 1, 2 and 4 s) fail too, then it stops
        await page.waitForFunction(() => ['Interrupted', 'Failed', 'Ready'].includes(
            document.querySelector('#upload-state')?.textContent), {timeout: 60_000});
    } finally {
        proxy.restore();
    }
    const state = await page.$eval('#upload-state', el => el.textContent);
    const error = await page.$eval('#upload-error', el => el.textContent);
    if (state !== 'Interrupted' || !/resume/.test(error)) {
        throw new Error(`state ${state}, error "${error}"`);
    }
    const id = await page.$eval('#upload-form', el => el.dataset.videoId);
    const r = await apiStatus('GET', `/api/upload/${id}/parts`);
    if (r.status !== 200) {
        throw new Error(`GET parts: ${r.status} ${JSON.stringify(r.json)}`);
    }
    const stored = r.json.data.parts.map(p => p.partNumber);
    if (stored.length < 1 || stored.length > 2) {
        throw new Error(`storage has parts ${stored.join(', ')}`);
    }
    process.stdout.write(`# the link was cut with parts ${stored.join(', ')} of 3 stored\n`);
    // Firefox reports the refused connections (the lost link) itself
    for (let i = problems.length - 1; i >= 0; i--) {
        if (/NetworkError|CORS request did not succeed|Cross-Origin Request Blocked/i.test(problems[i])) {
            problems.splice(i, 1);
        }
    }
    return {id, stored, uploadId: r.json.data.uploadId, at: Date.now(), mark: proxy.state.log.length};
});

const resumedId = cut && await check('resume: the same file picked again resumes to Ready, sending only the missing parts', async () => {
    const input = await page.$('#file');
    await input.uploadFile(bigClip);
    await page.waitForSelector('#upload-resume:not([hidden])', {timeout: 5_000});
    await page.click('#upload-start');
    await page.waitForFunction(() => ['Ready', 'Failed', 'Interrupted'].includes(
        document.querySelector('#upload-state')?.textContent), {timeout: TRANSCODE_MS});
    const state = await page.$eval('#upload-state', el => el.textContent);
    if (state !== 'Ready') {
        throw new Error(`state ${state}: ${await page.$eval('#upload-error', el => el.textContent)}`);
    }
    const sent = proxy.state.log.slice(cut.mark)
        .map(e => Number(new URL(e.url).searchParams.get('partNumber')));
    if (sent.length !== 3 - cut.stored.length || sent.some(n => cut.stored.includes(n))) {
        throw new Error(`the page PUT parts ${sent.join(', ')}, storage had ${cut.stored.join(', ')}`);
    }
    const puts = storePuts(cut.uploadId);
    for (const n of cut.stored) {
        if (puts.some(p => p.part === n && p.at >= cut.at)) {
            throw new Error(`storage got part ${n} again: ${JSON.stringify(puts)}`);
        }
    }
    for (let n = 1; n <= 3; n++) {
        if (puts.filter(p => p.part === n && p.status === 200).length !== 1) {
            throw new Error(`part ${n} not stored exactly once: ${JSON.stringify(puts)}`);
        }
    }
    const id = await page.$eval('#upload-form', el => el.dataset.videoId);
    if (id !== cut.id) {
        throw new Error(`video ${id}, the interrupted one was ${cut.id}`);
    }
    const v = (await api('GET', `/api/videos/${id}`)).video;
    if (v.status !== 'READY' || v.title !== resumeTitle) {
        throw new Error(`status ${v.status}, title "${v.title}"`);
    }
    return id;
});

if (resumedId) {
    await check('resume: the resumed video plays', async () => {
        await page.goto(`${BASE}/#/watch/${resumedId}`);
        await page.waitForSelector('#view[data-ready="1"]');
        await page.evaluate(() => document.querySelector('#player').play());
        await page.waitForFunction(() => document.querySelector('#player').currentTime > 1,
                                   {timeout: 20_000});
    });
}

// a live stream: created through the API, published by ffmpeg, played
// on its watch page with the LIVE badge
await check('a live stream plays with the LIVE badge', async () => {
    const res = await fetch(`${BASE}/api/live/create`, {
        method: 'POST', headers: {'Content-Type': 'application/json',
                                  Authorization: `Bearer ${KEY}`},
        body: JSON.stringify({title: 'Firefox live'}),
    });
    const {data} = await res.json();
    const ffmpeg = spawn('ffmpeg', ['-hide_banner', '-loglevel', 'error', '-re',
        '-f', 'lavfi', '-i', 'testsrc=size=640x360:rate=30',
        '-f', 'lavfi', '-i', 'sine=frequency=440', '-t', '30',
        '-c:v', 'libx264', '-preset', 'veryfast', '-tune', 'zerolatency', '-g', '60',
        '-pix_fmt', 'yuv420p', '-c:a', 'aac', '-f', 'flv',
        `${data.rtmpUrl}/${data.streamKey}`], {stdio: 'ignore'});
    try {
        await page.goto(`${BASE}/#/watch/${data.videoId}`);
        await page.waitForSelector('#live-badge:not([hidden])', {timeout: 20_000});
        // a live player starts near the edge, not at 0: it plays when
        // its clock moves on from where it started
        await page.waitForFunction(() => {
            const v = document.querySelector('#player');
            return v.dataset.source === 'live' && !v.paused && v.readyState >= 3;
        }, {timeout: 30_000});
        const from = await page.evaluate(() => document.querySelector('#player').currentTime);
        await page.waitForFunction(t0 => document.querySelector('#player').currentTime > t0 + 1,
                                   {timeout: 20_000}, from);
        // frames decoded, not only a clock running
        const frames = await page.evaluate(
            () => document.querySelector('#player').getVideoPlaybackQuality().totalVideoFrames);
        if (!(frames > 0)) {
            throw new Error(`${frames} video frames decoded`);
        }
        process.stdout.write(`# live: ${frames} frames decoded\n`);
        await page.screenshot({path: path.join(ARTIFACTS, 'firefox-live.png')});
    } finally {
        ffmpeg.kill('SIGINT');
    }
});

await check('no horizontal scroll at phone width (390 px)', async () => {
    await page.setViewport({width: 390, height: 844});
    await page.goto(`${BASE}/#/`);
    await page.waitForSelector('#view[data-ready="1"]');
    const width = await page.evaluate(() => document.documentElement.scrollWidth);
    if (width > 390) {
        throw new Error(`scrollWidth ${width}`);
    }
});

report(problems.length === 0, 'no console error or uncaught exception',
       problems.join('\n'));

await browser.close();
await proxy.close();
