// Watch: the player with its quality menu, the video's details (edited in
// place), visibility, views, and for a live stream the LIVE state and the
// switch to the recording once it is transcoded.  A video transcoded in
// chunks plays while it is still PROCESSING, once the API says it is
// playable; its progress keeps showing, and READY takes over without
// restarting the player.

import { api, errorText, isAbort } from './api.js';
import { h, alertBox, say } from './dom.js';
import { badge, duration, playable, playableBadge, plural } from './format.js';
import { play, rungs, rungName } from './player.js';
import * as session from './session.js';

const LIVE_POLL_MS = 4000;
const PROGRESS_POLL_MS = 2000;

// nginx-rtmp writes a stream's first playlist once its first fragment is
// closed (2 s and the next keyframe after the publisher starts): asking
// sooner gets 404s, so the player waits this long after startedAt
const LIVE_FIRST_PLAYLIST_MS = 6000;

export function watch(root, {id, signal}) {
    root.dataset.view = 'watch';

    const error = alertBox('watch-error');
    const video = h('video', {id: 'player', controls: true, playsInline: true,
                              preload: 'metadata', 'aria-label': 'Player'});
    const stage = h('div', {class: 'stage'}, video);
    const notice = h('div', {id: 'watch-notice', class: 'stage-notice',
                             hidden: true});
    stage.append(notice);

    const quality = h('select', {id: 'quality', disabled: true},
                      h('option', {value: '-1'}, 'Auto'));
    const liveBadge = h('span', {id: 'live-badge', class: 'badge badge-live',
                                 hidden: true}, 'LIVE');
    const status = h('span', {id: 'watch-status'});
    const heading = h('h1', {id: 'watch-title'}, 'Loading…');
    const desc = h('p', {id: 'watch-description', class: 'description'});
    const meta = h('p', {class: 'muted', id: 'watch-meta'});
    const viewsBox = h('p', {id: 'views', class: 'views'},
        h('span', {id: 'views-total'}, '–'), ' · ',
        h('span', {id: 'views-today'}, '–'), ' today · ',
        h('span', {id: 'views-month'}, '–'), ' this month');

    const edit = h('button', {id: 'edit-details', type: 'button',
                              class: 'button'}, 'Edit details');
    const titleInput = h('input', {id: 'title-input', name: 'title',
                                   maxLength: 255, required: true,
                                   autocomplete: 'off'});
    const descInput = h('textarea', {id: 'description-input',
                                     name: 'description', rows: 3,
                                     maxLength: 2000});
    const formError = alertBox('details-error');
    const detailsForm = h('form', {id: 'details-form', class: 'panel',
                                   hidden: true, novalidate: true},
        h('label', {class: 'field', for: 'title-input'},
          h('span', {}, 'Title'), titleInput),
        h('label', {class: 'field', for: 'description-input'},
          h('span', {}, 'Description'), descInput),
        formError,
        h('div', {class: 'actions'},
          h('button', {id: 'details-save', type: 'submit',
                       class: 'button primary'}, 'Save'),
          h('button', {id: 'details-cancel', type: 'button', class: 'button'},
            'Cancel')));

    const visibility = h('select', {id: 'visibility', disabled: true},
        ['PUBLIC', 'UNLISTED', 'PRIVATE'].map(v =>
            h('option', {value: v}, v[0] + v.slice(1).toLowerCase())));
    const visibilityField = h('label', {class: 'field inline',
                                        for: 'visibility'},
        h('span', {}, 'Visibility'), visibility);
    const endStream = h('button', {id: 'end-stream', type: 'button',
                                   class: 'button danger', hidden: true},
                        'End stream');
    const remove = h('button', {id: 'delete-video', type: 'button',
                                class: 'button danger', disabled: true},
                     'Delete');

    root.append(
        stage,
        h('div', {class: 'toolbar'},
          h('label', {class: 'field inline', for: 'quality'},
            h('span', {}, 'Quality'), quality),
          visibilityField,
          h('span', {class: 'spacer'}),
          endStream, edit, remove),
        error,
        h('div', {class: 'title-row'}, heading, liveBadge, status),
        meta, viewsBox, desc, detailsForm);

    let v = null;
    let player = null;
    let source = null;
    let src = null;
    let timer = null;
    let counted = false;

    signal.addEventListener('abort', () => {
        clearTimeout(timer);
        player?.destroy();
    });

    const later = (fn, ms) => {
        clearTimeout(timer);
        timer = setTimeout(fn, ms);
    };

    function fail(e, what) {
        if (!isAbort(e)) {
            say(error, `${what}: ${errorText(e)}`);
        }
    }

    function show(latest) {
        v = latest;
        heading.textContent = v.title;
        document.title = `${v.title} · video-api`;
        desc.textContent = v.description || '';
        desc.hidden = !v.description;
        liveBadge.hidden = !v.isLiveNow;
        showStatus();
        visibility.value = v.visibility;
        visibility.disabled = false;
        remove.disabled = false;

        // the controls that change it, for who may: its account's editors
        // and admins (a public view names no account)
        const mine = session.canChange(v);
        visibilityField.hidden = !mine;
        edit.hidden = !mine || !detailsForm.hidden;
        remove.hidden = !mine;
        endStream.dataset.mine = mine ? '1' : '';
        meta.textContent = [
            v.videoType === 'LIVE' ? 'Live stream' : 'Video',
            duration(v.duration),
            v.createdAt && `added ${new Date(v.createdAt).toLocaleString()}`,
        ].filter(Boolean).join(' · ');

        if (!video.poster && v.thumbnailUrl) {
            video.poster = v.thumbnailUrl;
        }

        showViews(v);
    }

    function showStatus() {
        status.replaceChildren(
            v.isLiveNow ? '' : badge(v, {id: 'watch-status-badge'}),
            playableBadge(v, {id: 'watch-playable'}) || '');
    }

    function showViews(s) {
        root.querySelector('#views-total').textContent =
            plural(s.viewsTotal, 'view', 'views');
        root.querySelector('#views-today').textContent =
            (s.viewsToday || 0).toLocaleString('en');
        root.querySelector('#views-month').textContent =
            (s.viewsMonth || 0).toLocaleString('en');
    }

    function showNotice(text) {
        notice.textContent = text || '';
        notice.hidden = !text;
    }

    // the quality menu follows the ladder hls.js found
    function levels(list) {
        const options = [h('option', {value: '-1'}, 'Auto')];

        for (const l of rungs(list)) {
            options.push(h('option', {value: String(l.index)}, rungName(l)));
        }

        quality.replaceChildren(...options);
        quality.value = '-1';
        quality.disabled = list.length < 2;
        quality.dataset.levels = String(list.length);
    }

    function levelPlaying(index) {
        const auto = quality.options[0];
        const l = player && index >= 0 && quality.options.length > 2
            ? quality.querySelector(`option[value="${index}"]`) : null;
        auto.textContent = l && quality.value === '-1'
            ? `Auto (${l.textContent})` : 'Auto';
    }

    quality.addEventListener('change', () => {
        player?.setLevel(Number(quality.value));
        levelPlaying(player?.level ?? -1);
    });

    // (re)starts the player on url; a new URL for the same source (a
    // private video's new token) keeps the position
    async function attach(url, kind) {
        if (url === src) {
            return;
        }

        const keep = source === kind && kind === 'vod' ? video.currentTime : 0;
        const wasPlaying = !video.paused;

        player?.destroy();
        src = url;
        source = kind;
        video.dataset.source = kind;
        say(error, '');
        showNotice('');

        player = await play(video, url, {
            live: kind === 'live',
            startAt: keep,
            on: {
                levels,
                level: levelPlaying,
                error: text => say(error, text),
            },
        });

        if (signal.aborted) {
            player.destroy();
            return;
        }

        if (wasPlaying || kind === 'live') {
            video.play().catch(() => {});
        }
    }

    // one view per play start: the first play, and a play after the end,
    // not a resume after a pause nor a page load
    video.addEventListener('play', async () => {
        if (counted || !v) {
            return;
        }

        counted = true;

        try {
            await api('POST', `/api/analytics/view/${v.id}`, undefined,
                      {signal});

        } catch (e) {
            // not counted: the next play start tries again
            counted = false;
            fail(e, 'The view was not counted');
            return;
        }

        try {
            showViews(await api('GET', `/api/analytics/stats/${v.id}`,
                                undefined, {signal}));

        } catch (e) {
            fail(e, 'The view counts could not be loaded');
        }
    });

    video.addEventListener('ended', () => {
        counted = false;
    });

    // a VOD plays once it is playable: READY, or PROCESSING with a start
    // transcoded (the playlist grows until it ends); until then, and for
    // as long as it is PROCESSING, the transcoder's progress shows
    async function vod() {
        if (v.status === 'FAILED') {
            showNotice('Transcoding failed.');

            try {
                const p = await api('GET', `/api/videos/${v.id}/progress`,
                                    undefined, {signal});
                showNotice(`Transcoding failed: ${p.error || 'no reason given'}`);

            } catch (e) {
                fail(e, 'Progress is not available');
            }

            return;
        }

        // one player from the first play on: the video turning READY
        // while it plays changes the status shown, not the player
        if (playable(v) && v.playbackUrl && source !== 'vod') {
            await attach(v.playbackUrl, 'vod');
        }

        if (v.status === 'READY' && !v.playbackUrl) {
            showNotice('The video is ready, but has no playlist.');
        }

        if (v.status === 'READY' || signal.aborted) {
            return;
        }

        try {
            const p = await api('GET', `/api/videos/${v.id}/progress`,
                                undefined, {signal});

            // the video again when its status moved on, and while it does
            // not play yet: when it becomes playable is in the video, not
            // in its progress
            if (p.status !== v.status || !playable(v)) {
                show((await api('GET', `/api/videos/${v.id}`, undefined,
                                {signal})).video);

                if (v.status === 'READY' || v.status === 'FAILED'
                    || playable(v) && source !== 'vod')
                {
                    return vod();
                }
            }

            if (p.status === 'PROCESSING' && v.status === 'PROCESSING') {
                v = {...v, transcodingProgress: p.progress || 0};
                showStatus();
            }

            if (source !== 'vod') {
                showNotice(p.status === 'PROCESSING'
                    ? `Transcoding: ${p.progress || 0}%`
                    : 'Waiting for the transcoder…');
            }

        } catch (e) {
            fail(e, 'Progress is not available');
        }

        later(vod, PROGRESS_POLL_MS);
    }

    // a live stream: waiting, on air, ended and converting, then the VOD
    async function live() {
        let s;

        try {
            ({stream: s} = await api('GET', `/api/live/${v.id}`, undefined,
                                     {signal}));
            say(error, '');

        } catch (e) {
            fail(e, 'The stream could not be loaded');
            later(live, LIVE_POLL_MS);
            return;
        }

        // on air, the LIVE badge says it all
        liveBadge.hidden = !s.isLiveNow;
        endStream.hidden = Boolean(s.endedAt) || !endStream.dataset.mine;
        status.replaceChildren(s.isLiveNow ? '' : badge(
            {...v, status: s.status, isLiveNow: false},
            {id: 'watch-status-badge'}));

        if (s.isLiveNow) {
            const wait = Date.parse(s.startedAt) + LIVE_FIRST_PLAYLIST_MS
                         - Date.now();

            if (source !== 'live' && wait > 0) {
                showNotice('The stream is starting…');
                later(live, Math.min(wait, LIVE_FIRST_PLAYLIST_MS));
                return;
            }

            await attach(s.playbackUrl, 'live');

        } else if (s.endedAt && s.status === 'READY' && s.vodPlaybackUrl) {
            await attach(s.vodPlaybackUrl, 'vod');
            return;

        } else if (s.endedAt && s.status === 'READY') {
            showNotice('The stream has ended.');
            return;

        } else if (s.endedAt && s.status === 'FAILED') {
            showNotice('The stream has ended; its recording could not be '
                       + 'converted.');
            return;

        } else if (s.endedAt) {
            if (source !== 'live') {
                showNotice('The stream has ended. Its recording will play '
                           + 'here once it is converted…');
            }

        } else if (source !== 'live') {
            showNotice('Waiting for the stream to start. Publish to '
                       + `${s.rtmpUrl} with the stream key.`);
        }

        later(live, LIVE_POLL_MS);
    }

    // details, edited in place
    edit.addEventListener('click', () => {
        titleInput.value = v.title;
        descInput.value = v.description || '';
        say(formError, '');
        detailsForm.hidden = false;
        edit.hidden = true;
        titleInput.focus();
    });

    const closeForm = () => {
        detailsForm.hidden = true;
        edit.hidden = false;
        edit.focus();
    };

    root.querySelector('#details-cancel').addEventListener('click', closeForm);
    detailsForm.addEventListener('keydown', e => {
        if (e.key === 'Escape') {
            closeForm();
        }
    });

    detailsForm.addEventListener('submit', async e => {
        e.preventDefault();

        const title = titleInput.value.trim();
        const description = descInput.value.trim();

        if (!title) {
            say(formError, 'title must be 1 to 255 characters');
            titleInput.focus();
            return;
        }

        try {
            const {video: saved} = await api('PATCH', `/api/videos/${v.id}`,
                {title, description: description || null}, {signal});
            show(saved);
            closeForm();

        } catch (err) {
            if (!isAbort(err)) {
                say(formError, errorText(err));
            }
        }
    });

    visibility.addEventListener('change', async () => {
        const want = visibility.value;
        visibility.disabled = true;

        try {
            const {video: saved} = await api('PATCH', `/api/videos/${v.id}`,
                                             {visibility: want}, {signal});
            show(saved);

            // a private video plays with a token, a public one without
            if (source === 'vod' && saved.playbackUrl) {
                await attach(saved.playbackUrl, 'vod');
            }

        } catch (e) {
            visibility.value = v.visibility;
            fail(e, 'Visibility was not changed');

        } finally {
            visibility.disabled = false;
        }
    });

    endStream.addEventListener('click', async () => {
        if (!confirm('End this stream? The publisher is disconnected.')) {
            return;
        }

        try {
            await api('POST', `/api/live/${v.id}/stop`, {}, {signal});
            live();

        } catch (e) {
            fail(e, 'The stream was not ended');
        }
    });

    remove.addEventListener('click', async () => {
        if (!confirm(`Delete “${v.title}”? This cannot be undone.`)) {
            return;
        }

        try {
            await api('DELETE', `/api/videos/${v.id}`, undefined, {signal});
            location.hash = '#/';

        } catch (e) {
            fail(e, 'The video was not deleted');
        }
    });

    (async () => {
        try {
            show((await api('GET', `/api/videos/${id}`, undefined,
                            {signal})).video);

        } catch (e) {
            if (!isAbort(e)) {
                heading.textContent = e.status === 404
                    ? 'Video not found' : 'The video could not be loaded';
                say(error, errorText(e));
                stage.hidden = true;
                root.dataset.ready = '1';
            }

            return;
        }

        root.dataset.ready = '1';
        await (v.videoType === 'LIVE' ? live() : vod());
    })();
}
