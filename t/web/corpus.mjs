// The source corpus of t/037-source-corpus.t as a viewer sees it: each
// video that ended READY is opened on the watch page of www/ and played
// through its hls.js, in headless Chromium (playwright-core) or Firefox
// ESR (puppeteer-core over WebDriver BiDi), as BROWSER says.  Every
// source's picture, as a player must show it, is black with a white
// top-left quarter; a frame the browser decoded is drawn on a canvas and
// asserted:
//   - it plays (play() is not refused, currentTime moves or the clip
//     ends, no error on the video element);
//   - the picture has the shape of the source as shown (portrait or
//     landscape, its aspect ratio within 3%): a phone's turned video is
//     not shown lying down;
//   - it is upright: the middle of its top-left quarter white, of its
//     top-right and bottom-left quarters black (not turned, not
//     mirrored);
//   - no console error and no uncaught exception.
// Settings come from the environment: BROWSER (chromium or firefox),
// BASE_URL, API_KEY, VIDEOS (a JSON array of {id, name, shown: "WxH"}),
// ARTIFACTS (screenshots of a failure).
//
// Output: one JSON line per assertion (t/web/common.mjs), which the
// suite turns into Test::More results.

import path from 'node:path';
import {
    assert, check, closeBrowser, configure, current, launchChromium, launchFirefox, need,
    note, noConsoleErrors, runScript, track, until,
} from './common.mjs';

const BROWSER = process.env.BROWSER ?? 'chromium';
const BASE = (process.env.BASE_URL ?? 'http://127.0.0.1:2093').replace(/\/$/, '');
const KEY = process.env.API_KEY ?? '';
const VIDEOS = JSON.parse(process.env.VIDEOS ?? '[]');
const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? 't/servroot-corpus/artifacts');
const DEADLINE_MS = 150_000;

configure({ label: `${BROWSER}: `, artifacts: ARTIFACTS, shots: `${BROWSER}-fail` });

// in the page: the player paused on the frame it shows, that frame drawn
// at its own size, and the mean luma of the middle half of its
// top-left, top-right and bottom-left quarters
function frame() {
    const v = document.querySelector('video#player');
    v.pause();

    const w = v.videoWidth;
    const h = v.videoHeight;
    const canvas = document.createElement('canvas');
    canvas.width = w;
    canvas.height = h;
    const g = canvas.getContext('2d', { willReadFrequently: true });
    g.drawImage(v, 0, 0, w, h);
    const px = g.getImageData(0, 0, w, h).data;

    const mean = (x0, y0) => {
        let sum = 0;
        let n = 0;
        for (let y = Math.floor(y0 + h / 8); y < y0 + (3 * h) / 8; y++) {
            for (let x = Math.floor(x0 + w / 8); x < x0 + (3 * w) / 8; x++) {
                const i = (y * w + x) * 4;
                sum += 0.299 * px[i] + 0.587 * px[i + 1] + 0.114 * px[i + 2];
                n++;
            }
        }
        return n ? Math.round(sum / n) : -1;
    };

    return {
        width: w, height: h, time: v.currentTime, ended: v.ended,
        error: v.error && `${v.error.code} ${v.error.message}`,
        topLeft: mean(0, 0), topRight: mean(w / 2, 0), bottomLeft: mean(0, h / 2),
    };
}

async function watch(page, video) {
    current.phase = video.name;
    const opened = Date.now();
    const [sw, sh] = video.shown.split('x').map(Number);
    const shape = sw < sh ? 'portrait' : 'landscape';

    const seen = await check(`${video.name}: plays on the watch page`, async () => {
        await page.goto('about:blank');
        await page.goto(`${BASE}/#/watch/${video.id}`);
        await until(page, () => document.querySelector(
            'main#view[data-view="watch"][data-ready="1"]') !== null
            && document.querySelector('video#player')?.dataset.source === 'vod',
                    null, 10_000, 'the player');
        note(`# ${video.name}: the player attached ${Date.now() - opened} ms after the page opened`);
        const t0 = Date.now();
        // play() of a clip shorter than a frame's time to paint may never
        // settle in Chromium: its promise is not waited for, the picture is
        const how = await page.evaluate(() => Promise.race([
            document.querySelector('video#player').play().then(() => 'playing',
                (e) => `play() failed: ${e.name}: ${e.message}`),
            new Promise((resolve) => setTimeout(() => resolve('playing'), 2000)),
        ]));
        assert(how === 'playing', how);
        await until(page, () => {
            const v = document.querySelector('video#player');
            return v.readyState >= 2 && v.videoWidth > 0 && (v.currentTime > 0 || v.ended);
        }, null, 15_000, 'a picture shown');
        const f = await page.evaluate(frame);
        note(`# ${video.name}: a picture ${Date.now() - t0} ms after the player attached`);
        assert(!f.error, `the video element's error: ${f.error}`);
        return f;
    });

    await check(`${video.name}: ${shape} as the source is shown (${video.shown})`, async () => {
        const f = need(seen, 'playing');
        const ratio = f.width / f.height;
        assert(f.width < f.height === sw < sh && Math.abs(ratio / (sw / sh) - 1) < 0.03,
               `the browser shows ${f.width}x${f.height}`);
    });

    await check(`${video.name}: upright, the white quarter top left`, async () => {
        const f = need(seen, 'playing');
        assert(f.topLeft > 150 && f.topRight < 60 && f.bottomLeft < 60,
               `at ${f.time.toFixed(2)} s, mean luma: top left ${f.topLeft}, top right`
               + ` ${f.topRight}, bottom left ${f.bottomLeft}`);
    });
}

await runScript({ what: `${BROWSER} corpus`, deadlineMs: DEADLINE_MS }, async () => {
    let page;

    if (BROWSER === 'firefox') {
        const browser = await launchFirefox();
        page = await browser.newPage();
        await page.setViewport({ width: 1280, height: 800 });
    } else {
        const browser = await launchChromium();
        const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        page = await context.newPage();
    }
    track(page, BROWSER);
    current.page = page;

    const signedIn = await check('the link with the key in its fragment signs in', async () => {
        await page.goto(`${BASE}/#key=${KEY}`);
        await until(page, () => document.querySelector('#session-who') !== null,
                    null, 10_000, 'signing in');
    });

    if (signedIn) {
        for (const video of VIDEOS) {
            await watch(page, video);
        }
    }

    noConsoleErrors('no console error or uncaught exception');
    await closeBrowser();
});
