// The library: newest first, filtered by status and visibility, searched
// by title, continued page by page with the API's cursor.  Cards of videos
// still being transcoded refresh themselves; one that already plays while
// transcoded says so.

import { api, errorText, isAbort } from './api.js';
import { h, clear, select, alertBox, say } from './dom.js';
import { ago, badge, duration, playable, playableBadge,
         views } from './format.js';
import * as session from './session.js';

const PAGE = 20;
const REFRESH_MS = 3000;

const STATUSES = [['', 'Any status'], ['PENDING', 'Pending'],
                  ['PROCESSING', 'Processing'], ['READY', 'Ready'],
                  ['FAILED', 'Failed'], ['LIVE', 'Live']];
const VISIBILITIES = [['', 'Any visibility'], ['PUBLIC', 'Public'],
                      ['UNLISTED', 'Unlisted'], ['PRIVATE', 'Private']];

// what a card without a thumbnail says instead
function placeholder(v) {
    if (v.isLiveNow) {
        return 'On air';
    }

    switch (v.status) {
    case 'PENDING':
        return v.videoType === 'LIVE' ? 'Waiting for the stream' : 'Queued';
    case 'PROCESSING':
        return playable(v) ? 'Playable' : 'Transcoding';
    case 'FAILED':
        return 'Failed';
    default:
        return v.videoType === 'LIVE' ? 'Live stream' : 'No thumbnail';
    }
}

export function card(v) {
    const length = duration(v.duration);
    const thumb = v.thumbnailUrl
        ? h('img', {class: 'thumb', src: v.thumbnailUrl, alt: '',
                    loading: 'lazy', width: 320, height: 180})
        : h('span', {class: `thumb thumb-none thumb-${v.videoType.toLowerCase()}`,
                     'aria-hidden': 'true'},
            h('span', {class: 'thumb-icon'},
              v.videoType === 'LIVE' ? '◉' : '▶'),
            placeholder(v));

    const dataset = {id: v.id, status: v.status, type: v.videoType};

    if (v.status === 'PROCESSING' && playable(v)) {
        dataset.playable = '1';
    }

    return h('li', {class: 'video-card', dataset},
        h('a', {class: 'video-link', href: `#/watch/${v.id}`},
            h('span', {class: 'thumb-box'}, thumb,
              length && h('span', {class: 'video-duration',
                                   'aria-label': `Duration ${length}`},
                          length)),
            h('span', {class: 'video-title'}, v.title)),
        h('span', {class: 'card-meta'},
            badge(v),
            playableBadge(v),
            v.visibility !== 'PUBLIC'
                && h('span', {class: 'chip'}, v.visibility.toLowerCase()),
            h('span', {class: 'video-views'}, views(v.viewsTotal)),
            h('time', {datetime: v.createdAt, title: v.createdAt},
              ago(v.createdAt))),
        v.status === 'PROCESSING'
            && h('progress', {class: 'card-progress', max: 100,
                              value: v.transcodingProgress || 0,
                              'aria-label': 'Transcoding progress'}));
}

export function library(root, {params, signal}) {
    root.dataset.view = 'library';

    const filters = {
        status: STATUSES.some(([v]) => v === params.get('status'))
            ? params.get('status') : '',
        visibility: VISIBILITIES.some(([v]) => v === params.get('visibility'))
            ? params.get('visibility') : '',
        q: params.get('q') || '',
    };

    const status = select('filter-status', 'Status', STATUSES, filters.status);
    const visibility = select('filter-visibility', 'Visibility', VISIBILITIES,
                              filters.visibility);
    const search = h('input', {id: 'search', type: 'search', name: 'q',
                               value: filters.q, autocomplete: 'off',
                               placeholder: 'Search titles'});
    const list = h('ul', {id: 'library', class: 'grid', 'aria-live': 'polite'});
    const more = h('button', {id: 'load-more', type: 'button', class: 'button',
                              hidden: true}, 'Load more');
    const empty = h('p', {id: 'library-empty', class: 'empty', hidden: true});
    const error = alertBox('library-error');
    const total = h('span', {id: 'library-total', class: 'muted'});

    root.append(
        h('div', {class: 'heading'}, h('h1', {}, 'Library'), total,
          session.canUpload() && h('a', {id: 'library-upload',
                                          class: 'button primary',
                                          href: '#/upload'},
                                     'Upload a video')),
        h('form', {class: 'filters', role: 'search',
                   onsubmit: e => e.preventDefault()},
          h('label', {class: 'field grow', for: 'search'},
            h('span', {}, 'Search'), search),
          status, visibility),
        error, list, empty, h('div', {class: 'more'}, more));

    let cursor = null;
    let generation = 0;
    const shown = new Set();

    async function load(reset) {
        const mine = reset ? ++generation : generation;
        const q = new URLSearchParams({limit: PAGE});

        for (const key of ['status', 'visibility', 'q']) {
            if (filters[key]) {
                q.set(key, filters[key]);
            }
        }

        if (!reset && cursor) {
            q.set('cursor', cursor);
        }

        more.disabled = true;

        try {
            const data = await api('GET', `/api/videos?${q}`, undefined,
                                   {signal});

            if (mine !== generation) {
                return;
            }

            if (reset) {
                clear(list);
                shown.clear();
            }

            for (const v of data.videos) {
                if (!shown.has(v.id)) {
                    shown.add(v.id);
                    list.append(card(v));
                }
            }

            cursor = data.nextCursor || null;
            more.hidden = !cursor;
            total.textContent = `${data.total.toLocaleString('en')} `
                                + (data.total === 1 ? 'video' : 'videos');
            empty.textContent = filters.q || filters.status || filters.visibility
                ? 'No videos match these filters.'
                : 'No videos yet. Upload one, or start a live stream.';
            empty.hidden = shown.size > 0;
            say(error, '');

        } catch (e) {
            if (!isAbort(e) && mine === generation) {
                say(error, `The library could not be loaded: ${errorText(e)}`);
            }

        } finally {
            more.disabled = false;

            if (mine === generation) {
                root.dataset.ready = '1';
            }
        }
    }

    // the filters live in the address, so a reload or a shared link keeps
    // them; replaceState does not fire hashchange
    function apply() {
        filters.status = status.querySelector('select').value;
        filters.visibility = visibility.querySelector('select').value;
        filters.q = search.value.trim();

        const q = new URLSearchParams();

        for (const [k, v] of Object.entries(filters)) {
            if (v) {
                q.set(k, v);
            }
        }

        history.replaceState(null, '', q.size ? `#/?${q}` : '#/');
        cursor = null;
        load(true);
    }

    let typing;

    search.addEventListener('input', () => {
        clearTimeout(typing);
        typing = setTimeout(apply, 250);
    });
    status.addEventListener('change', apply);
    visibility.addEventListener('change', apply);
    more.addEventListener('click', () => load(false));

    // videos on their way to READY or FAILED are fetched again until
    // they get there
    const timer = setInterval(async () => {
        const busy = [...list.querySelectorAll(
            'li[data-type="VOD"][data-status="PENDING"],'
            + ' li[data-status="PROCESSING"]')];

        for (const li of busy.slice(0, PAGE)) {
            try {
                const {video} = await api('GET', `/api/videos/${li.dataset.id}`,
                                          undefined, {signal});

                if (li.isConnected) {
                    li.replaceWith(card(video));
                }

            } catch (e) {
                if (isAbort(e)) {
                    return;
                }

                if (e.status === 404) {
                    li.remove();
                }
            }
        }
    }, REFRESH_MS);

    signal.addEventListener('abort', () => {
        clearInterval(timer);
        clearTimeout(typing);
    });

    load(true);
}
