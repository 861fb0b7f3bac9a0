// Browser tests of a video that plays while it is still transcoded, run by
// t/093-web-playable.t against its own nginx, which serves the page, the
// API and /play/ from the local object store.  Headless Chromium through
// playwright-core.  The suite laid three PROCESSING videos: one playable
// (playableAt set, its media playlist an EVENT playlist), one with
// playableAt null, one with playableAt but no playlist; this script moves
// them on as the transcoder would (the playlist grown, then ended; the
// row's progress, status and playableAt changed with psql, the video's
// cached copy dropped from Redis as the workers replace it).
//
// What it covers, in order:
//   - the library: the playable card says PROCESSING 40% and PLAYABLE,
//     the others only their progress;
//   - watching the playable video: the player starts from the start while
//     the status shown is PROCESSING, the shown progress follows the
//     API's, playback goes on past the playlist's first end once it
//     grows, and READY shows without the video element being replaced
//     or its player restarted (one master playlist request), the time
//     going on and the whole length known once the playlist ends;
//   - the video with playableAt null: no request under /play/, the
//     progress over the player as before; once playableAt is set, the
//     player starts without a reload, still PROCESSING;
//   - the video with playableAt but no playlist: does not try to play;
//   - no console error and no uncaught exception anywhere.
//
// Settings come from the environment: BASE_URL, API_KEY (an admin key),
// PLAYABLE_ID, WAITING_ID, NOKEY_ID, PLAYLIST (the playable video's media
// playlist in the store), FULL_PLAYLIST (ffmpeg's whole playlist),
// PG_CONNINFO, REDIS_PORT, ARTIFACTS (screenshots).
//
// Output: one JSON line per assertion (t/web/common.mjs), which
// t/093-web-playable.t turns into Test::More results.

import { spawn } from 'node:child_process';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
    Failure, assert, check, closeBrowser, configure, current, currentTime, launchChromium, need, newPage,
    noConsoleErrors, note, open, playerState, playsOn, runScript, startPlayback, text, viewReady,
} from './common.mjs';

const BASE = (process.env.BASE_URL ?? 'http://127.0.0.1:2082').replace(/\/$/, '');
const KEY = process.env.API_KEY ?? '';
const PLAYABLE = process.env.PLAYABLE_ID ?? '';
const WAITING = process.env.WAITING_ID ?? '';
const NOKEY = process.env.NOKEY_ID ?? '';
const PLAYLIST = process.env.PLAYLIST ?? '';
const FULL_PLAYLIST = process.env.FULL_PLAYLIST ?? '';
const PG = process.env.PG_CONNINFO ?? '';
const REDIS_PORT = process.env.REDIS_PORT ?? '6379';
const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? 't/servroot-playable/artifacts');

const DEADLINE_MS = 100_000;

configure({ artifacts: ARTIFACTS, shots: 'playable-fail' });

// --------------------------------------------------------------- helpers --

function run(cmd, args) {
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
        let out = '';
        let err = '';
        child.stdout.on('data', (d) => { out += d; });
        child.stderr.on('data', (d) => { err += d; });
        child.on('error', reject);
        child.on('exit', (code) => (code === 0 ? resolve(out.trim())
            : reject(new Error(`${cmd} exited ${code}: ${err}`))));
    });
}

const psql = (sql) => run('psql', [PG, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql]);
const redis = (...args) => run('redis-cli', ['-p', REDIS_PORT, ...args]);

// a change to a video's row as a worker makes it: updated_at moves on,
// the cached copy and the cached lists go
async function changeVideo(id, set) {
    await psql(`UPDATE videos SET ${set}, updated_at = video_touch(updated_at) WHERE id = '${id}'`);
    await redis('DEL', `video:${id}`);
    await redis('INCR', 'video:list:version');
}

// ffmpeg's playlist as header lines and [#EXTINF, URI] segments
function parsePlaylist(text) {
    const lines = text.split('\n').filter((l) => l !== '' && l !== '#EXT-X-ENDLIST');
    const first = lines.findIndex((l) => l.startsWith('#EXTINF:'));
    const head = lines.slice(0, first);
    const segments = [];
    for (let i = first; i < lines.length; i += 2) {
        segments.push([lines[i], lines[i + 1]]);
    }
    return { head, segments };
}

// the playable video's media playlist with its first n segments, ended
// or not; written whole at once, as storage would swap it
function writePlaylist(parsed, n, ended) {
    const text = [...parsed.head, ...parsed.segments.slice(0, n).flat(),
        ...(ended ? ['#EXT-X-ENDLIST'] : [])].join('\n') + '\n';
    writeFileSync(`${PLAYLIST}.tmp`, text);
    renameSync(`${PLAYLIST}.tmp`, PLAYLIST);
}

// --------------------------------------------------------------- the run --

async function main() {
    const parsed = parsePlaylist(readFileSync(FULL_PLAYLIST, 'utf8'));
    const total = parsed.segments.length;
    const length = parsed.segments.reduce((s, [inf]) => s + parseFloat(inf.slice(8)), 0);
    // what the transcoder has done when the video becomes playable: its
    // first five segments, 10 s, so that a player starting at the live
    // edge (three target durations back) would start 4 s in
    const FIRST = 5;
    const firstEnd = parsed.segments.slice(0, FIRST).reduce((s, [inf]) => s + parseFloat(inf.slice(8)), 0);
    writePlaylist(parsed, FIRST, false);
    note(`the clip: ${total} segments, ${length.toFixed(1)} s; playable with ${FIRST} (${firstEnd.toFixed(1)} s)`);

    const browser = await launchChromium();
    const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
    const page = await newPage(context, 'main');
    current.page = page;

    // Playlists in storage are answered with max-age=300, so a browser
    // would keep the first copy of a growing one for minutes; the one a
    // video being transcoded grows comes from elsewhere in production.
    // Here the store's file grows, so the tab keeps no HTTP cache.
    const cdp = await context.newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Network.setCacheDisabled', { cacheDisabled: true });

    const requests = [];
    page.on('request', (r) => requests.push({ at: Date.now(), method: r.method(), url: r.url() }));
    const played = (id) => requests.filter((r) => r.url.includes(`/play/${id}/`));

    // -- the library ------------------------------------------------------------

    current.phase = 'library';
    const signedIn = await check('sign-in: the link with the key signs the tab in', async () => {
        await page.goto('about:blank');
        await page.goto(`${BASE}/#key=${KEY}`);
        await viewReady(page, 'library');
    });

    await check('library: the playable card says PROCESSING 40% and PLAYABLE', async () => {
        need(signedIn, 'signing in');
        const card = `li.video-card[data-id="${PLAYABLE}"]`;
        await page.locator(card).waitFor();
        const state = await page.locator(card).evaluate((li) => ({
            status: li.dataset.status,
            playable: li.dataset.playable,
            badges: [...li.querySelectorAll('.badge')].map((b) => b.textContent.trim()),
            thumb: li.querySelector('.thumb')?.textContent.trim(),
            progress: li.querySelector('progress.card-progress')?.value,
        }));
        assert(state.status === 'PROCESSING' && state.playable === '1'
            && state.badges.join('|') === 'PROCESSING 40%|PLAYABLE'
            && /Playable/.test(state.thumb) && state.progress === 40,
        JSON.stringify(state));
    });

    await check('library: the cards of videos that do not play yet say only their progress', async () => {
        need(signedIn, 'signing in');
        for (const [id, pct] of [[WAITING, 10], [NOKEY, 20]]) {
            const card = `li.video-card[data-id="${id}"]`;
            await page.locator(card).waitFor();
            const state = await page.locator(card).evaluate((li) => ({
                playable: li.dataset.playable ?? null,
                badges: [...li.querySelectorAll('.badge')].map((b) => b.textContent.trim()),
                thumb: li.querySelector('.thumb')?.textContent.trim(),
            }));
            assert(state.playable === null && state.badges.join('|') === `PROCESSING ${pct}%`
                && /Transcoding/.test(state.thumb), `${id}: ${JSON.stringify(state)}`);
        }
        await page.screenshot({ path: path.join(ARTIFACTS, 'playable-library.png') });
    });

    // -- watching the playable video ----------------------------------------------

    current.phase = 'watch';
    const attached = await check('watch: the playable video gets a player while PROCESSING', async () => {
        need(signedIn, 'signing in');
        await open(page, BASE, `#/watch/${PLAYABLE}`, 'watch');
        await page.waitForSelector('video#player[data-source="vod"]', { state: 'attached' });
        const status = await text(page, '#watch-status-badge');
        assert(status === 'PROCESSING 40%', `the status says ${status}`);
        assert(await text(page, '#watch-playable') === 'PLAYABLE', 'no PLAYABLE badge');
        assert(await page.locator('#watch-notice').isHidden(), 'a notice covers the player');
        await page.waitForFunction(() => document.querySelector('video#player').readyState >= 1,
            null, { timeout: 10_000 });
        const masters = played(PLAYABLE).filter((r) => r.url.endsWith('/master.m3u8'));
        assert(masters.length === 1, `master playlist requests: ${masters.length}`);
        return true;
    });

    const playing = await check('watch: it plays from the start while the status shown is PROCESSING', async () => {
        need(attached, 'the player');
        const how = await startPlayback(page);
        assert(how === 'playing', how);
        const from = await playsOn(page, 1.5, 15_000).catch(async (e) => {
            throw new Failure(`${e.message.split('\n')[0]}: ${await playerState(page)}`);
        });
        assert(from < 2, `it started at ${from} s, not at the start`);
        const status = await text(page, '#watch-status-badge');
        assert(status.startsWith('PROCESSING'), `the status says ${status}`);
        await page.evaluate(() => { window.firstPlayer = document.querySelector('video#player'); });
        return true;
    });

    await check('watch: the progress shown follows the API while it plays', async () => {
        need(playing, 'playing');
        await changeVideo(PLAYABLE, 'transcoding_progress = 70');
        await page.waitForFunction(() => document.querySelector('#watch-status-badge')?.textContent.trim()
            === 'PROCESSING 70%', null, { timeout: 8_000 }).catch(async () => {
            throw new Failure(`not 70%: ${await playerState(page)}`);
        });
        const progress = requests.filter((r) => r.url.endsWith(`/api/videos/${PLAYABLE}/progress`));
        assert(progress.length >= 1, 'no progress request');
    });

    current.phase = 'grow';
    await check('watch: the playlist grows and playback goes on past its first end', async () => {
        need(playing, 'playing');
        writePlaylist(parsed, total, false);
        await page.waitForFunction((end) => document.querySelector('video#player').currentTime > end + 1,
            firstEnd, { timeout: 20_000, polling: 200 }).catch(async () => {
            throw new Failure(`not past ${firstEnd} s: ${await playerState(page)}`);
        });
        const status = await text(page, '#watch-status-badge');
        assert(status.startsWith('PROCESSING'), `the status says ${status}`);
        await page.screenshot({ path: path.join(ARTIFACTS, 'playable-processing.png') });
    });

    current.phase = 'ready';
    const ready = await check('watch: READY shows in place of PROCESSING, PLAYABLE goes', async () => {
        need(playing, 'playing');
        writePlaylist(parsed, total, true);
        await changeVideo(PLAYABLE, "status = 'READY', transcoding_progress = 100");
        await page.waitForFunction(() => document.querySelector('#watch-status-badge')?.textContent.trim()
            === 'READY', null, { timeout: 10_000 }).catch(async () => {
            throw new Failure(`not READY: ${await playerState(page)}`);
        });
        assert(await page.locator('#watch-playable').count() === 0, 'PLAYABLE still shows');
        return true;
    });

    await check('watch: the same video element and player play on through READY', async () => {
        need(ready, 'READY');
        const same = await page.evaluate(() => window.firstPlayer === document.querySelector('video#player')
            && window.firstPlayer.isConnected);
        assert(same, 'the video element was replaced');
        const before = await currentTime(page);
        await page.waitForFunction((t0) => {
            const v = document.querySelector('video#player');
            return !v.paused && v.currentTime > t0 + 1;
        }, before, { timeout: 8_000, polling: 100 }).catch(async () => {
            throw new Failure(`not on from ${before} s: ${await playerState(page)}`);
        });
        const masters = played(PLAYABLE).filter((r) => r.url.endsWith('/master.m3u8'));
        assert(masters.length === 1, `the master playlist was asked for ${masters.length} times: restarted`);
        assert(await text(page, '#watch-error') === '', `an error shows: ${await text(page, '#watch-error')}`);
    });

    await check('watch: once the playlist ends, the player knows the whole length', async () => {
        need(ready, 'READY');
        await page.waitForFunction((len) => {
            const d = document.querySelector('video#player').duration;
            return Number.isFinite(d) && Math.abs(d - len) < 1;
        }, length, { timeout: 10_000, polling: 200 }).catch(async () => {
            throw new Failure(`duration not ${length}: ${await playerState(page)}`);
        });
        await page.screenshot({ path: path.join(ARTIFACTS, 'playable-ready.png') });
    });
    noConsoleErrors('playable video: no console errors');

    // -- not playable: playableAt null, then set -----------------------------------

    current.phase = 'waiting';
    const waited = await check('playableAt null: no player, no request under /play/, the progress shows', async () => {
        need(signedIn, 'signing in');
        await open(page, BASE, `#/watch/${WAITING}`, 'watch');
        const polled = () => requests.filter((r) => r.url.endsWith(`/api/videos/${WAITING}/progress`)).length;
        await page.waitForFunction(() => /Transcoding: 10%/.test(
            document.querySelector('#watch-notice')?.textContent ?? ''), null, { timeout: 8_000 });
        const t0 = polled();
        const until = Date.now() + 8_000;
        while (polled() < t0 + 2 && Date.now() < until) {
            await sleep(200);
        }
        assert(polled() >= t0 + 2, `progress polled ${polled()} times`);
        assert(played(WAITING).length === 0,
            `requests: ${played(WAITING).map((r) => r.url).join(' ')}`);
        const state = JSON.parse(await playerState(page));
        assert(state.src === '' && state.source === undefined && state.readyState === 0,
            JSON.stringify(state));
        assert(state.status === 'PROCESSING 10%', JSON.stringify(state));
        assert(await page.locator('#watch-playable').count() === 0, 'PLAYABLE shows');
        return true;
    });

    await check('playableAt set while watching: the player starts, still PROCESSING', async () => {
        need(waited, 'the waiting video');
        await page.evaluate(() => { window.firstPlayer = document.querySelector('video#player'); });
        await changeVideo(WAITING, 'playable_at = now(), transcoding_progress = 15');
        await page.waitForSelector('video#player[data-source="vod"]', { state: 'attached', timeout: 8_000 });
        const how = await startPlayback(page);
        assert(how === 'playing', how);
        await playsOn(page, 1, 15_000).catch(async (e) => {
            throw new Failure(`${e.message.split('\n')[0]}: ${await playerState(page)}`);
        });
        const state = JSON.parse(await playerState(page));
        assert(/^PROCESSING 15%/.test(state.status) && /PLAYABLE/.test(state.status)
            && !state.notice, JSON.stringify(state));
        assert(await page.evaluate(() => window.firstPlayer === document.querySelector('video#player')),
            'the page was reloaded or the element replaced');
    });

    current.phase = 'nokey';
    await check('playableAt without a playlist: no player, no request under /play/', async () => {
        need(signedIn, 'signing in');
        await open(page, BASE, `#/watch/${NOKEY}`, 'watch');
        await page.waitForFunction(() => /Transcoding: 20%/.test(
            document.querySelector('#watch-notice')?.textContent ?? ''), null, { timeout: 8_000 });
        await sleep(4_500);
        assert(played(NOKEY).length === 0, `requests: ${played(NOKEY).map((r) => r.url).join(' ')}`);
        const state = JSON.parse(await playerState(page));
        assert(state.src === '' && state.source === undefined, JSON.stringify(state));
        assert(await page.locator('#watch-playable').count() === 0, 'PLAYABLE shows');
    });
    noConsoleErrors('videos that do not play yet: no console errors');

    // -- the library again -------------------------------------------------------

    current.phase = 'library-after';
    await check('library: READY and now-playable cards', async () => {
        need(signedIn, 'signing in');
        await open(page, BASE, '#/', 'library');
        const state = await page.evaluate((ids) => ids.map((id) => {
            const li = document.querySelector(`li.video-card[data-id="${id}"]`);
            return li && [...li.querySelectorAll('.badge')].map((b) => b.textContent.trim()).join('|');
        }), [PLAYABLE, WAITING, NOKEY]);
        assert(state[0] === 'READY' && state[1] === 'PROCESSING 15%|PLAYABLE'
            && state[2] === 'PROCESSING 20%', JSON.stringify(state));
    });
    noConsoleErrors('library: no console errors');

    await closeBrowser();
}

await runScript({ what: 'playable', deadlineMs: DEADLINE_MS }, main);
