// What t/web/chunks.mjs (Chromium, playwright-core) and
// t/web/chunks-firefox.mjs (Firefox ESR, puppeteer-core over WebDriver
// BiDi) both do, run by t/094-web-chunks.t: the watch page of a video the
// suite has just uploaded, which two transcode workers encode in chunks,
// is opened while the video is transcoded; once the page's player
// attaches (playableAt set), playback starts from 0 at normal speed and
// goes on through the growing EVENT playlists (/play/ answers them from
// PostgreSQL); once the playlist the player has is whole (EXT-X-ENDLIST)
// the rate goes to 2 to keep the run short, to the end.
//
// The page is the real one (www/), its hls.js the real one with
// t/web/hls-spy.mjs listening to it; in the page, a monitor samples the
// video element every 100 ms and keeps its events.  Asserted:
//   - the player attaches while PROCESSING and plays from 0, its media
//     playlist seen growing (live) and then ended;
//   - each chunk's first segment lies on the player's timeline where the
//     chunk starts in the original (video_chunks.start_s), shifted as
//     the first picture is: hls.js puts 0 at the first segment's first
//     decode time, the B-frames' delay (two frames) before the first
//     picture;
//   - currentTime crosses each chunk boundary while playing, with no
//     seek;
//   - no `error` event, no hls.js fatal error, no hole it jumped (but
//     from 0 to the first picture, before playback starts) nor stall it
//     nudged, no `seeking` after playback started;
//   - no `waiting`, no hls.js stall and currentTime never still for more
//     than 1.5 s while not paused, unless the player had played all its
//     growing playlist listed and the next chunk was not done yet, or
//     only just (the time it takes to be listed), and it went on once
//     listed: that wait is the transcoder's (two workers of one encoder
//     thread are about twice real time at best, and hls.js reloads a
//     growing playlist every target duration), most likely at the first
//     boundary when playback starts the moment the video is playable;
//     each is noted with when that chunk was done; nor a `waiting` of
//     less than 250 ms with a second or more buffered ahead (the decoder
//     late on a loaded machine, noted with the nearest boundary);
//   - the audio: one audio track (the EXT-X-MEDIA rendition), an audio
//     SourceBuffer of its own, its segments buffered to the end, and
//     sound decoded (Chromium's webkitAudioDecodedByteCount, Firefox's
//     mozHasAudio);
//   - the video ends (`ended`, currentTime at its duration, the
//     original's), one player and one master playlist request all along;
//   - no console error and no uncaught exception.
// Everything seen is also written to <ARTIFACTS>/<browser>-run.json.

import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import {
    check, closeBrowser, configure, noConsoleErrors, note, report, runScript, startPlayback, track,
    until as waitInPage,
} from './common.mjs';

const BASE = (process.env.BASE_URL ?? 'http://127.0.0.1:2115').replace(/\/$/, '');
const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? 't/servroot-chunks/artifacts');
const KEY = process.env.API_KEY ?? '';
const ID = process.env.VIDEO_ID ?? '';
const DEADLINE_MS = 90_000;
const PG = process.env.PG_CONNINFO ?? '';
const DURATION = Number(process.env.SOURCE_DURATION ?? 24);

// a frame of the 29.97 fps source
const FRAME = 1001 / 30000;

function psql(sql) {
    return execFileSync('psql', [PG, '-XAtq', '-v', 'ON_ERROR_STOP=1', '-c', sql],
                        {encoding: 'utf8'}).trim();
}

// ------------------------------------------------------------ in the page --

// installs the monitor on the watch page's video element: its events, a
// sample every 100 ms, the stalls (currentTime still for more than 1.5 s
// while not paused, after playback started); and, once the player's
// media playlist has ended, playbackRate 2.  Runs in the page.
function monitor() {
    const v = document.querySelector('video#player');

    if (!v) {
        return false;
    }

    if (window.chunkWatch) {
        return true;
    }

    const t = () => Math.round(performance.now());
    const ranges = r => Array.from({length: r.length},
                                   (_, i) => [r.start(i), r.end(i)]);
    const w = {events: [], samples: [], stalls: [], playingAt: null,
               endedAt: null, fastAt: null};

    window.chunkWatch = w;
    performance.setResourceTimingBufferSize(2000);

    for (const type of ['loadedmetadata', 'playing', 'waiting', 'seeking',
                        'seeked', 'stalled', 'pause', 'ended', 'error',
                        'ratechange']) {
        v.addEventListener(type, () => {
            const e = {type, at: t(), currentTime: v.currentTime,
                       readyState: v.readyState,
                       playbackRate: v.playbackRate};

            if (type === 'error') {
                e.error = v.error && `${v.error.code} ${v.error.message}`;
            }

            // a wait: where the media playlist the player had ended
            if (type === 'waiting') {
                const main = (window.hlsSpy?.levels ?? [])
                    .filter(l => l.type === 'main').at(-1);
                e.playlistEnd = main?.end ?? null;
                e.live = main?.live ?? null;
                e.buffered = ranges(v.buffered);
            }

            w.events.push(e);

            if (type === 'playing' && w.playingAt === null) {
                w.playingAt = e.at;
            }

            if (type === 'ended') {
                w.endedAt = e.at;
            }
        });
    }

    let last = {time: -1, at: t()};
    let stall = null;

    w.timer = setInterval(() => {
        const now = t();
        const time = v.currentTime;

        w.samples.push([now, time, v.paused ? 1 : 0, v.seeking ? 1 : 0,
                        v.readyState]);

        if (w.fastAt === null
            && (window.hlsSpy?.levels ?? []).some(l => l.type === 'main'
                                                     && !l.live))
        {
            w.fastAt = {at: now, currentTime: time};
            v.playbackRate = 2;
        }

        if (time !== last.time || v.paused || v.ended
            || w.playingAt === null)
        {
            if (stall) {
                stall.until = now;
                stall.to = time;
                stall = null;
            }

            last = {time, at: now};
            return;
        }

        if (!stall && now - last.at > 1500) {
            const levels = (window.hlsSpy?.levels ?? [])
                .filter(l => l.type === 'main');
            stall = {since: last.at, currentTime: time,
                     readyState: v.readyState,
                     buffered: ranges(v.buffered),
                     playlistEnd: levels.at(-1)?.end ?? null,
                     live: levels.at(-1)?.live ?? null};
            w.stalls.push(stall);
        }
    }, 100);

    return true;
}

// what the page has seen so far; runs in the page
function collect() {
    const v = document.querySelector('video#player');
    const w = window.chunkWatch ?? {};

    return {
        watch: {events: w.events, samples: w.samples, stalls: w.stalls,
                playingAt: w.playingAt, endedAt: w.endedAt,
                fastAt: w.fastAt},
        spy: window.hlsSpy ?? null,
        video: v && {currentTime: v.currentTime, duration: v.duration,
                     paused: v.paused, ended: v.ended,
                     readyState: v.readyState,
                     error: v.error && `${v.error.code} ${v.error.message}`,
                     audioBytes: v.webkitAudioDecodedByteCount ?? null,
                     mozHasAudio: v.mozHasAudio ?? null},
        origin: performance.timeOrigin,
        masters: performance.getEntriesByType('resource')
            .filter(e => /\/play\/.*\/master\.m3u8/.test(e.name)).length,
        status: document.querySelector('#watch-status')?.textContent.trim(),
        error: document.querySelector('#watch-error')?.textContent.trim(),
    };
}

function brief() {
    const v = document.querySelector('video#player');

    return JSON.stringify(v && {
        source: v.dataset.source, currentTime: v.currentTime,
        duration: v.duration, paused: v.paused, ended: v.ended,
        readyState: v.readyState, rate: v.playbackRate,
        status: document.querySelector('#watch-status')?.textContent.trim(),
        notice: document.querySelector('#watch-notice')?.textContent.trim(),
        error: document.querySelector('#watch-error')?.textContent.trim(),
    });
}

// --------------------------------------------------------------- in node --

// polls fn(arg) in the page until it is true, saying where the player
// was if it never is
const until = (page, fn, arg, timeout, what) => waitInPage(page, fn, arg, timeout, what, brief);

/*
 * The run in an open browser page, its console errors tracked.
 * heard(video): whether the browser decoded sound, and what it says.
 */
async function watchChunks(page, id, label, heard) {
    const shot = name => page.screenshot({path: path.join(ARTIFACTS, `${label}-${name}.png`)})
        .catch(() => {});

    const signedIn = await check('the link with the key in its fragment signs in', async () => {
        await page.goto(`${BASE}/#key=${KEY}`);
        await until(page, () => document.querySelector('#session-who') !== null,
                    null, 10_000, 'signing in');
        return true;
    });

    const opened = signedIn && await check('the watch page opens while the video is transcoded', async () => {
        await page.goto('about:blank');
        await page.goto(`${BASE}/#/watch/${id}`);
        await until(page, () => document.querySelector(
            'main#view[data-view="watch"][data-ready="1"]') !== null,
                    null, 10_000, 'the watch view');
        await until(page, monitor, null, 5_000, 'the video element');
        const status = psql(`SELECT status FROM videos WHERE id = '${id}'`);
        if (status !== 'PENDING' && status !== 'PROCESSING') {
            throw new Error(`the video is ${status}`);
        }
        return true;
    });

    const attached = opened && await check('the player attaches once it is playable, still PROCESSING', async () => {
        await until(page, () => document.querySelector('video#player')?.dataset.source === 'vod',
                    null, 40_000, 'the player');
        const row = psql(`SELECT status || ' ' || (playable_at IS NOT NULL) FROM videos WHERE id = '${id}'`);
        const shown = await page.evaluate(() => [
            document.querySelector('#watch-status-badge')?.textContent.trim(),
            document.querySelector('#watch-playable')?.textContent.trim()]);
        if (row !== 'PROCESSING true' || !/^PROCESSING/.test(shown[0]) || shown[1] !== 'PLAYABLE') {
            throw new Error(`row: ${row}; shown: ${JSON.stringify(shown)}`);
        }
        return true;
    });

    // the chunks' starts in the original, from the split (done before
    // the video is playable)
    const boundaries = psql(`SELECT start_s FROM video_chunks WHERE video_id = '${id}'`
                            + ' AND n > 0 ORDER BY n').split('\n').filter(Boolean).map(Number);
    note(`# chunk boundaries of ${id}: ${boundaries.join(' ')}`);

    let readyAt = null;
    let startedWhile = null;

    const ended = attached && await check('it plays from 0 to the end, at normal speed until the playlist ends', async () => {
        const how = await startPlayback(page);
        if (how !== 'playing') {
            throw new Error(how);
        }
        startedWhile = psql(`SELECT status FROM videos WHERE id = '${id}'`);

        const end = Date.now() + 60_000;
        let shotProcessing = false;
        for (;;) {
            const [time, done] = await page.evaluate(() => {
                const v = document.querySelector('video#player');
                return [v.currentTime, v.ended];
            });
            if (readyAt === null
                && psql(`SELECT status FROM videos WHERE id = '${id}'`) === 'READY') {
                readyAt = time;
                note(`# READY with the player at ${time.toFixed(2)} s`);
            }
            if (!shotProcessing && time > 2 && readyAt === null) {
                shotProcessing = true;
                await shot('processing');
            }
            if (done) {
                break;
            }
            if (Date.now() > end) {
                throw new Error(`not ended within 60 s: ${await page.evaluate(brief)}`);
            }
            await sleep(250);
        }
        await shot('ended');
        return true;
    });

    const r = await page.evaluate(collect);
    // when each chunk was done, on the page's clock (ms since it opened)
    const done = Object.fromEntries(psql('SELECT n, extract(epoch FROM done_at) * 1000'
                                         + ` FROM video_chunks WHERE video_id = '${id}'`)
        .split('\n').filter(Boolean).map(l => l.split('|').map(Number))
        .map(([n, ms]) => [n, Math.round(ms - r.origin)]));
    // all of it, for a look after a failure
    writeFileSync(path.join(ARTIFACTS, `${label}-run.json`),
                  JSON.stringify({id, boundaries, readyAt, startedWhile, done, ...r}, null, 1));
    const {watch: w, spy} = r;
    const events = w.events ?? [];
    const samples = (w.samples ?? []).map(([at, time, paused, seeking, rs]) =>
        ({at, time, paused, seeking, rs}));
    const after = type => events.filter(e => e.type === type && w.playingAt !== null
                                             && e.at > w.playingAt);
    const main = (spy?.frags ?? []).filter(f => f.type === 'main');
    const audio = (spy?.frags ?? []).filter(f => f.type === 'audio');
    const mainLevels = (spy?.levels ?? []).filter(l => l.type === 'main');

    note(`# ${label}: started while ${startedWhile}, READY at ${readyAt?.toFixed(2) ?? '-'} s,`
         + ` rate 2 from ${w.fastAt?.currentTime?.toFixed(2) ?? '-'} s;`
         + ` ${main.length} video and ${audio.length} audio segments buffered;`
         + ` playlist updates: ${mainLevels.map(l => `${l.fragments}${l.live ? '' : ' ended'}`).join(', ')}`);

    report(startedWhile === 'PROCESSING' && mainLevels.length > 0 && mainLevels[0].live
           && mainLevels.some(l => !l.live)
           && mainLevels.find(l => !l.live).fragments > mainLevels[0].fragments,
           'it started while PROCESSING, on a live playlist that grew and then ended',
           JSON.stringify({startedWhile, levels: mainLevels}));

    const first = samples.find(s => !s.paused && s.time > 0);
    report(ended && first && first.time < 1,
           'playback started at 0', JSON.stringify(first));

    // the chunks on the player's timeline: hls.js puts 0 at the first
    // segment's first decode time, so the first picture, and every
    // chunk's, lies `offset` later than in the original (the B-frames'
    // delay); c<n>_000.ts starts where chunk n starts in the original,
    // plus that
    const offset = main[0]?.startPTS ?? NaN;
    const starts = boundaries.map((b, i) => {
        const f = main.find(x => Number(x.url.match(/\/c(\d+)_0+\.ts$/)?.[1]) === i + 1);
        return {chunk: i + 1, original: b, player: f ? f.start : null};
    });
    note(`# ${label}: the first picture at ${offset.toFixed(4)} s on the player's timeline;`
         + ` chunks at ${starts.map(x => x.player?.toFixed(4)).join(' ')}`);
    report(boundaries.length >= 4 && main[0]?.start === 0 && offset >= 0 && offset < 4 * FRAME
           && starts.every(x => x.player !== null
                           && Math.abs(x.player - (x.original + offset)) < FRAME / 2),
           `each chunk's first segment starts on the player's timeline where it starts in the original (${boundaries.length} boundaries)`,
           JSON.stringify({offset, starts, first: main[0]}));

    // the media playlist the player had at a time (page clock)
    const listed = at => mainLevels.filter(l => l.at <= at).at(-1);

    for (const x of starts) {
        const b = x.player ?? x.original + (Number.isFinite(offset) ? offset : 0);
        const i = samples.findIndex((s, k) => k + 1 < samples.length && s.time < b
                                              && samples[k + 1].time >= b);
        const [s0, s1] = i < 0 ? [] : [samples[i], samples[i + 1]];
        const seeks = s0 ? events.filter(e => e.type === 'seeking' && e.at >= s0.at - 100
                                              && e.at <= s1.at) : [];
        const l = s1 && listed(s1.at);
        if (l) {
            note(`# ${label}: chunk ${x.chunk} at ${b.toFixed(3)} s crossed with`
                 + ` ${(l.end - b).toFixed(1)} s listed ahead in a${l.live ? ' growing' : 'n ended'} playlist`);
        }
        report(s0 && !s0.paused && !s1.paused && !s1.seeking && s1.at - s0.at < 500
               && s1.time - b < 0.5 && seeks.length === 0,
               `currentTime crosses chunk ${x.chunk}'s start (${x.original} s in the original) while playing`,
               JSON.stringify({at: b, before: s0, after: s1, seeks}));
    }

    report(ended && !events.some(e => e.type === 'error') && !r.video?.error && !r.error,
           'no error event from the video element, no error shown',
           JSON.stringify({errors: events.filter(e => e.type === 'error'), video: r.video?.error,
                           shown: r.error}));

    const errors = spy?.errors ?? [];
    report(spy && errors.filter(e => e.fatal).length === 0,
           'no hls.js fatal error', JSON.stringify(errors));
    // but for the start: 0 is before the first picture, and hls.js may
    // jump there before playback starts
    const startHole = e => e.details === 'bufferSeekOverHole' && e.currentTime !== null
        && e.currentTime <= offset + 0.2 && (w.playingAt === null || e.at <= w.playingAt);
    for (const e of errors.filter(startHole)) {
        note(`# ${label}: hls.js jumped the start, before the first picture: ${e.reason}`);
    }
    report(spy && !errors.some(e => /^buffer(SeekOverHole|NudgeOnStall)$/.test(e.details) && !startHole(e)),
           'no hole hls.js had to jump (but to the first picture), no stall it had to nudge',
           JSON.stringify(errors));
    for (const e of errors.filter(x => !x.fatal && !/^buffer(Stalled|SeekOverHole|NudgeOnStall)/.test(x.details))) {
        note(`# ${label}: hls.js reported (not fatal) ${e.details} at ${e.currentTime}: ${e.reason}`);
    }

    // A wait where the player had played all its growing media playlist
    // listed, for the next chunk, is the transcoder's: the player caught
    // up with it.  It is so only if that chunk was not done before the
    // wait began, or just before (the time it takes to be listed: the
    // module's one second of cache, hls.js's reload of a growing playlist
    // every target duration, a load), and if playback went on within as
    // long once it was done.  A `waiting` of less than UNDERRUN_MS with
    // data buffered ahead is the decoder's.  Any other wait, stall (1.5 s
    // still) or stall hls.js saw is the player's, the segments' or the
    // playlists'.
    const LISTED_MS = 5500;
    const UNDERRUN_MS = 250;
    const waits = after('waiting');
    const hlsStalls = errors.filter(e => e.details === 'bufferStalledError');
    const stalls = (w.stalls ?? []).map(x => ({...x, at: x.since}));
    const explain = (x) => {
        const end = x.type === 'waiting'
            ? events.slice(events.indexOf(x) + 1).find(e => e.type === 'playing')?.at : x.until;

        // a blink of `waiting` (Chromium's, on a loaded machine) with a
        // second or more buffered ahead, without a hole, is the decoder
        // running late, not data missing: noted, with how far the nearest
        // chunk boundary was
        const range = (x.buffered ?? []).find(([s0, e0]) => s0 <= x.currentTime && x.currentTime < e0);
        if (x.type === 'waiting' && end !== undefined && end - x.at < UNDERRUN_MS
            && range && range[1] - x.currentTime >= 1) {
            const near = Math.min(...starts.map(c => Math.abs((c.player ?? Infinity) - x.currentTime)));
            return `a ${end - x.at} ms underrun at ${x.currentTime.toFixed(3)} s with`
                   + ` ${(range[1] - x.currentTime).toFixed(1)} s buffered ahead, ${near.toFixed(3)} s`
                   + ' from the nearest chunk boundary';
        }

        if (!(x.live === true && x.playlistEnd !== null && x.playlistEnd - x.currentTime < 1)) {
            return null;
        }
        const next = starts.find(c => Math.abs((c.player ?? -1) - x.playlistEnd) < 0.1)?.chunk;
        const ready = done[next];
        if (ready === undefined || ready < x.at - LISTED_MS
            || (x.details === undefined && (end === undefined || end - Math.max(x.at, ready) > LISTED_MS))) {
            return null;
        }
        return `waited for the transcoder at ${x.currentTime.toFixed(3)} s, the end of the growing`
               + ` playlist; chunk ${next} done ${Math.abs(ready - x.at)} ms`
               + ` ${ready < x.at ? 'before' : 'after'} it began`
               + (end ? `, on ${end - x.at} ms later` : '');
    };
    for (const x of waits) {
        const why = explain(x);
        if (why) {
            note(`# ${label}: ${why}`);
        }
    }
    const unexplained = [...waits, ...stalls, ...hlsStalls].filter(x => !explain(x));
    report(ended && w.playingAt !== null && samples.length > 100 && unexplained.length === 0,
           'no waiting and no stall (still for 1.5 s) but for the transcoder',
           JSON.stringify({unexplained, done}));
    report(ended && after('seeking').length === 0,
           'no seeking once playback started', JSON.stringify(after('seeking')));

    // what the rate was while the video was transcoded: normal until the
    // playlist ended
    const rates = events.filter(e => e.type === 'ratechange');
    report(ended && w.fastAt && rates.length === 1 && rates[0].playbackRate === 2
           && rates[0].currentTime >= (readyAt ?? 0) - 1,
           'normal speed while PROCESSING, 2x once the playlist ended',
           JSON.stringify({rates, fastAt: w.fastAt, readyAt}));

    const audioTracks = spy?.audioTracks ?? [];
    const buffers = (spy?.buffers ?? []).map(b => `${b.name}:${b.codec}`);
    const audioEnd = Math.max(0, ...audio.map(f => f.start + f.duration));
    const sound = heard(r.video ?? {});
    report(ended && audioTracks.length === 1 && buffers.some(b => b.startsWith('audio:mp4a'))
           && buffers.some(b => b.startsWith('video:avc1')) && audioEnd > DURATION - 0.5
           && sound.ok,
           'audio: one track of its own, its segments buffered to the end, sound decoded',
           JSON.stringify({audioTracks, buffers, audioSegments: audio.length, audioEnd, sound: sound.what}));

    const chunks = new Set(main.map(f => f.url.match(/\/c(\d+)_\d+\.ts$/)?.[1]).filter(Boolean));
    report(chunks.size === boundaries.length + 1,
           `the segments of all ${boundaries.length + 1} chunks were buffered`,
           JSON.stringify(main.map(f => f.url.replace(/^.*\/play\//, ''))));

    report(ended && w.endedAt !== null && Math.abs(r.video.duration - DURATION) < 0.3
           && r.video.currentTime > DURATION - 0.3,
           `it ends: the ended event, at its duration (${DURATION} s)`,
           JSON.stringify(r.video));

    report(spy?.players === 1 && r.masters === 1,
           'one player and one master playlist request all along',
           JSON.stringify({players: spy?.players, masters: r.masters}));

    noConsoleErrors('no console error or uncaught exception');
}

/*
 * The whole script of a browser, label its name: openPage() launches it
 * and opens a tab at 1280x800; heard as watchChunks'.
 */
export async function runChunks(label, openPage, heard) {
    configure({ label: `${label}: `, artifacts: ARTIFACTS });
    await runScript({ what: 'chunks', deadlineMs: DEADLINE_MS, phase: false }, async () => {
        const page = track(await openPage(), label);
        await watchChunks(page, ID, label, heard);
        await closeBrowser();
    });
}
