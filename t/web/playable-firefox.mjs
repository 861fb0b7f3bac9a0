// A video that plays while it is still transcoded, in Firefox (Debian's
// firefox-esr) over WebDriver BiDi with puppeteer-core, against the
// stack t/093-web-playable.t starts: its own PROCESSING video with
// playableAt set and a media playlist that this script grows and ends as
// t/web/playable.mjs does.  The player starts from the start while the
// status shown is PROCESSING, plays on past the playlist's first end,
// and READY shows without the video element being replaced or the
// player restarted.  Output as in playable.mjs: one JSON line per
// assertion.
//
// Settings come from the environment: BASE_URL, API_KEY, FIREFOX_ID (the
// video), FIREFOX_PLAYLIST (its media playlist in the store),
// FULL_PLAYLIST, PG_CONNINFO, REDIS_PORT, ARTIFACTS.

import { execFileSync } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
    check, closeBrowser, configure, launchFirefox, need, noConsoleErrors, track,
} from './common.mjs';

const BASE = (process.env.BASE_URL ?? 'http://127.0.0.1:2082').replace(/\/$/, '');
const KEY = process.env.API_KEY ?? '';
const ID = process.env.FIREFOX_ID ?? '';
const PLAYLIST = process.env.FIREFOX_PLAYLIST ?? '';
const FULL_PLAYLIST = process.env.FULL_PLAYLIST ?? '';
const PG = process.env.PG_CONNINFO ?? '';
const REDIS_PORT = process.env.REDIS_PORT ?? '6379';
const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? 't/servroot-playable/artifacts');

configure({ label: 'firefox: ' });

// a change to the video's row as a worker makes it
function changeVideo(set) {
    execFileSync('psql', [PG, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c',
        `UPDATE videos SET ${set}, updated_at = video_touch(updated_at) WHERE id = '${ID}'`]);
    execFileSync('redis-cli', ['-p', REDIS_PORT, 'DEL', `video:${ID}`]);
    execFileSync('redis-cli', ['-p', REDIS_PORT, 'INCR', 'video:list:version']);
}

const lines = readFileSync(FULL_PLAYLIST, 'utf8').split('\n')
    .filter(l => l !== '' && l !== '#EXT-X-ENDLIST');
const first = lines.findIndex(l => l.startsWith('#EXTINF:'));
const head = lines.slice(0, first);
const segments = [];
for (let i = first; i < lines.length; i += 2) {
    segments.push([lines[i], lines[i + 1]]);
}
const seconds = list => list.reduce((s, [inf]) => s + parseFloat(inf.slice(8)), 0);
const FIRST = 5;

function writePlaylist(n, ended) {
    const text = [...head, ...segments.slice(0, n).flat(),
                  ...(ended ? ['#EXT-X-ENDLIST'] : [])].join('\n') + '\n';
    writeFileSync(`${PLAYLIST}.tmp`, text);
    renameSync(`${PLAYLIST}.tmp`, PLAYLIST);
}

writePlaylist(FIRST, false);

// the store's playlists carry max-age=300 and this one grows (see
// playable.mjs): no HTTP cache
const browser = await launchFirefox({
    'browser.cache.disk.enable': false,
    'browser.cache.memory.enable': false,
});

const page = track(await browser.newPage(), 'firefox');
await page.setViewport({width: 1280, height: 800});

const state = () => page.evaluate(() => {
    const v = document.querySelector('#player');
    return JSON.stringify({source: v?.dataset.source, currentTime: v?.currentTime,
                           paused: v?.paused, duration: v?.duration,
                           status: document.querySelector('#watch-status')?.textContent,
                           error: document.querySelector('#watch-error')?.textContent});
});

// the requests for the master playlist this document made
const masters = () => page.evaluate(id => performance.getEntriesByType('resource')
    .filter(e => e.name.includes(`/play/${id}/`) && e.name.endsWith('/master.m3u8')).length, ID);

const signedIn = await check('the link with the key in its fragment signs in', async () => {
    await page.goto(`${BASE}/#key=${KEY}`);
    await page.waitForSelector('#session-who', {visible: true});
});

const attached = await check('the playable video gets a player while PROCESSING', async () => {
    need(signedIn, 'signing in');
    await page.goto('about:blank');
    await page.goto(`${BASE}/#/watch/${ID}`);
    await page.waitForSelector('#player[data-source="vod"]', {timeout: 10_000});
    await page.evaluate(() => performance.setResourceTimingBufferSize(1000));
    const status = await page.$eval('#watch-status-badge', el => el.textContent);
    if (!status.startsWith('PROCESSING') || !await page.$('#watch-playable')) {
        throw new Error(await state());
    }
    return true;
});

const playing = await check('it plays from the start while the status shown is PROCESSING', async () => {
    need(attached, 'the player');
    await page.evaluate(() => document.querySelector('#player').play());
    await page.waitForFunction(() => document.querySelector('#player').currentTime > 0,
                               {timeout: 20_000}).catch(async () => { throw new Error(await state()); });
    const from = await page.evaluate(() => document.querySelector('#player').currentTime);
    if (from > 2) {
        throw new Error(`it started at ${from} s, not at the start`);
    }
    await page.waitForFunction(t => document.querySelector('#player').currentTime > t + 1.5,
                               {timeout: 20_000}, from)
        .catch(async () => { throw new Error(await state()); });
    const status = await page.$eval('#watch-status-badge', el => el.textContent);
    if (!status.startsWith('PROCESSING')) {
        throw new Error(await state());
    }
    await page.evaluate(() => { window.firstPlayer = document.querySelector('#player'); });
    return true;
});

await check('the playlist grows and playback goes on past its first end', async () => {
    need(playing, 'playing');
    writePlaylist(segments.length, false);
    await page.waitForFunction(end => document.querySelector('#player').currentTime > end + 1,
                               {timeout: 20_000}, seconds(segments.slice(0, FIRST)))
        .catch(async () => { throw new Error(await state()); });
});

const ready = await check('READY shows in place of PROCESSING', async () => {
    need(playing, 'playing');
    writePlaylist(segments.length, true);
    changeVideo("status = 'READY', transcoding_progress = 100");
    await page.waitForFunction(() => document.querySelector('#watch-status-badge')?.textContent === 'READY',
                               {timeout: 10_000}).catch(async () => { throw new Error(await state()); });
    if (await page.$('#watch-playable')) {
        throw new Error('PLAYABLE still shows');
    }
    return true;
});

await check('the same video element and player play on through READY', async () => {
    need(ready, 'READY');
    if (!await page.evaluate(() => window.firstPlayer === document.querySelector('#player'))) {
        throw new Error('the video element was replaced');
    }
    const t0 = await page.evaluate(() => document.querySelector('#player').currentTime);
    await page.waitForFunction(t => document.querySelector('#player').currentTime > t + 1,
                               {timeout: 8_000}, t0).catch(async () => { throw new Error(await state()); });
    const n = await masters();
    if (n !== 1) {
        throw new Error(`the master playlist was asked for ${n} times: restarted`);
    }
    await page.screenshot({path: path.join(ARTIFACTS, 'firefox-playable-ready.png')});
});

noConsoleErrors('no console error or uncaught exception');

await closeBrowser();
