// How numbers, sizes, times and states read on the page.

import { h } from './dom.js';

export function duration(seconds) {
    if (typeof seconds !== 'number' || !isFinite(seconds) || seconds < 0) {
        return '';
    }

    const s = Math.round(seconds);
    const hh = Math.floor(s / 3600);
    const mm = Math.floor(s % 3600 / 60);
    const ss = String(s % 60).padStart(2, '0');

    return hh ? `${hh}:${String(mm).padStart(2, '0')}:${ss}` : `${mm}:${ss}`;
}

const units = ['B', 'KB', 'MB', 'GB'];

export function bytes(n) {
    let i = 0;

    while (n >= 1000 && i < units.length - 1) {
        n /= 1000;
        i++;
    }

    return `${i ? n.toFixed(n < 10 ? 1 : 0) : n} ${units[i]}`;
}

export const plural = (n, one, many) =>
    `${(n || 0).toLocaleString('en')} ${n === 1 ? one : many}`;

export const views = n => plural(n, 'view', 'views');

export function ago(iso) {
    const t = Date.parse(iso);

    if (isNaN(t)) {
        return '';
    }

    const s = Math.max(0, (Date.now() - t) / 1000);

    if (s < 60) {
        return 'just now';
    }

    for (const [size, unit] of [[86400 * 365, 'year'], [86400 * 30, 'month'],
                                [86400, 'day'], [3600, 'hour'],
                                [60, 'minute']]) {
        if (s >= size) {
            const n = Math.floor(s / size);
            return `${n} ${unit}${n === 1 ? '' : 's'} ago`;
        }
    }
}

// whether a video can be played now: once READY, and while PROCESSING
// once its transcode in chunks has made a start playable (playableAt)
// and the API hands out its playlist; it then plays as far as it is
// transcoded, the playlist growing until it ends
export function playable(v) {
    if (v.status === 'READY') {
        return true;
    }

    return v.status === 'PROCESSING'
        && typeof v.playableAt === 'string' && v.playableAt !== ''
        && typeof v.playbackUrl === 'string' && v.playbackUrl !== '';
}

// the status a person cares about: a stream on air is LIVE, a video being
// transcoded says how far it is
export function statusText(v) {
    if (v.isLiveNow) {
        return 'LIVE';
    }

    if (v.status === 'PROCESSING') {
        return `PROCESSING ${v.transcodingProgress || 0}%`;
    }

    return v.status;
}

export function badge(v, attrs = {}) {
    const state = v.isLiveNow ? 'LIVE' : v.status;
    return h('span', {class: `badge badge-${state.toLowerCase()}`, ...attrs},
             statusText(v));
}

// next to the status of a video that plays while it is still transcoded
export function playableBadge(v, attrs = {}) {
    return v.status === 'PROCESSING' && playable(v)
        ? h('span', {class: 'badge badge-playable',
                     title: 'Plays as far as it is transcoded', ...attrs},
            'PLAYABLE')
        : null;
}
