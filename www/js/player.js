// HLS playback: hls.js where Media Source Extensions exist, the browser's
// own HLS (Safari) where they don't.  hls.js is loaded on first use, so
// the library and upload views never fetch it.

let loading = null;

function hlsClass() {
    loading ??= import('../vendor/hls.js/hls.min.mjs').then(m => m.default);
    return loading;
}

// the rungs as the quality menu lists them: tallest first, by hls.js's
// level index
export function rungs(levels) {
    return levels
        .map((l, index) => ({index, height: l.height, bitrate: l.bitrate}))
        .sort((a, b) => b.height - a.height || b.bitrate - a.bitrate);
}

export const rungName = l => (l.height ? `${l.height}p`
    : l.bitrate ? `${Math.round(l.bitrate / 1000)} kbps` : 'Source');

/*
 * Plays src in video.  on.levels(levels) when the ladder is known (empty
 * for native playback), on.level(index) when the rung playing changes,
 * on.error(text) on an error playback cannot get over by itself.  The
 * returned object: setLevel(index or -1 for automatic), level (the rung
 * playing, -1 when unknown), destroy().
 */
export async function play(video, src, {live = false, startAt = 0, on = {}} = {}) {
    const Hls = await hlsClass().catch(() => null);

    if (!Hls || !Hls.isSupported()) {
        if (video.canPlayType('application/vnd.apple.mpegurl')) {
            video.src = src;

            if (startAt) {
                video.addEventListener('loadedmetadata',
                    () => { video.currentTime = startAt; }, {once: true});
            }

            on.levels?.([]);
            return {level: -1, setLevel() {}, destroy() {
                video.removeAttribute('src');
                video.load();
            }};
        }

        on.error?.('This browser cannot play HLS video.');
        return {level: -1, setLevel() {}, destroy() {}};
    }

    const hls = new Hls({
        // a live stream starts near its edge; a video from startAt, the
        // start by default, even while it is still transcoded and its
        // playlist (EXT-X-PLAYLIST-TYPE:EVENT, no ENDLIST yet) reads to
        // hls.js as live
        startPosition: live ? -1 : startAt,
        // live: start three fragments behind the edge, as players usually
        // do, and show no duration: the window slides
        liveSyncDurationCount: 3,
        liveDurationInfinity: live,
        lowLatencyMode: false,
        enableWorker: true,
    });

    let recovering = 0;

    hls.on(Hls.Events.MANIFEST_PARSED, (_, data) => {
        on.levels?.(data.levels);
    });

    hls.on(Hls.Events.LEVEL_SWITCHED, (_, data) => {
        on.level?.(data.level);
    });

    hls.on(Hls.Events.FRAG_LOADED, () => {
        recovering = 0;
    });

    hls.on(Hls.Events.ERROR, (_, data) => {
        if (!data.fatal) {
            return;
        }

        // network trouble: try again a few times; a live playlist may
        // not be written yet
        if (data.type === Hls.ErrorTypes.NETWORK_ERROR && recovering < 5) {
            recovering++;
            setTimeout(() => hls.startLoad(), 1000 * recovering);
            return;
        }

        if (data.type === Hls.ErrorTypes.MEDIA_ERROR && recovering < 3) {
            recovering++;
            hls.recoverMediaError();
            return;
        }

        const status = data.response && data.response.code;
        on.error?.(status === 403
            ? 'This video is private and its link has expired. Reload the page.'
            : `Playback stopped: ${data.details}.`);
        hls.destroy();
    });

    hls.loadSource(src);
    hls.attachMedia(video);

    return {
        // -1 is automatic; a rung switches at once
        setLevel(index) {
            hls.currentLevel = index;
        },
        destroy() {
            hls.destroy();
        },
        get level() {
            return hls.currentLevel;
        },
    };
}
