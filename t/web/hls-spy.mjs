// hls.js as the page imports it (www/js/player.js imports
// ../vendor/hls.js/hls.min.mjs), with what each player does kept in
// window.hlsSpy for the browser suites to read: t/094-web-chunks.t serves
// this module at that URL and the real one under /vendor/hls.js/real/.
// The players are the real ones, configured by the page; this only
// listens to their events:
//   - errors: every ERROR event (fatal or not) with its type and details,
//     and the end of the media playlist the player had then;
//   - frags: every fragment buffered, with its type (main, audio), URL,
//     start and duration on the player's timeline, and its PTS range;
//   - levels: every playlist update (main and audio), with its live flag
//     (no EXT-X-ENDLIST yet), its fragments' count and end;
//   - appends: the first 40 appends, with their SourceBuffer's ranges;
//   - buffers: the SourceBuffers made (audio, video, or audiovideo) with
//     their codecs;
//   - audioTracks: hls.js's audio tracks once it knows them.

import Hls from './real/hls.min.mjs';

const spy = {players: 0, errors: [], frags: [], levels: [], buffers: [],
             appends: [], audioTracks: null};

globalThis.hlsSpy = spy;

const now = () => Math.round(performance.now());

export default class SpiedHls extends Hls {
    constructor(config) {
        super(config);
        spy.players++;

        // with where the media playlist the player had then ended
        this.on(Hls.Events.ERROR, (_, d) => {
            const main = spy.levels.filter(l => l.type === 'main').at(-1);
            spy.errors.push({at: now(), type: d.type, details: d.details,
                             fatal: Boolean(d.fatal),
                             url: d.frag?.url ?? d.url ?? null,
                             reason: String(d.reason ?? d.error?.message ?? ''),
                             currentTime: this.media?.currentTime ?? null,
                             playlistEnd: main?.end ?? null,
                             live: main?.live ?? null});
        });

        // each append's SourceBuffer ranges after it, the first 40
        this.on(Hls.Events.BUFFER_APPENDED, (_, d) => {
            if (spy.appends.length < 40) {
                const r = d.timeRanges?.[d.type];
                spy.appends.push({at: now(), type: d.type, sn: d.frag?.sn,
                                  ranges: r ? Array.from({length: r.length},
                                      (_, i) => [r.start(i), r.end(i)]) : null});
            }
        });

        this.on(Hls.Events.FRAG_BUFFERED, (_, d) => {
            const f = d.frag;
            spy.frags.push({at: now(), type: f.type, sn: f.sn,
                            url: f.url.replace(/\?.*$/, ''),
                            start: f.start, duration: f.duration,
                            startPTS: f.startPTS ?? null,
                            endPTS: f.endPTS ?? null});
        });

        const level = type => (_, d) => {
            const l = d.details;
            spy.levels.push({at: now(), type, live: l.live,
                             fragments: l.fragments.length,
                             end: l.fragmentEnd ?? null,
                             totalduration: l.totalduration});
        };

        this.on(Hls.Events.LEVEL_UPDATED, level('main'));
        this.on(Hls.Events.AUDIO_TRACK_LOADED, level('audio'));

        this.on(Hls.Events.BUFFER_CREATED, (_, d) => {
            for (const [name, t] of Object.entries(d.tracks)) {
                spy.buffers.push({name, codec: t.codec ?? '',
                                  container: t.container ?? ''});
            }
        });

        this.on(Hls.Events.AUDIO_TRACKS_UPDATED, (_, d) => {
            spy.audioTracks = d.audioTracks.map(t => ({name: t.name,
                                                       groupId: t.groupId,
                                                       url: t.url}));
        });
    }
}
