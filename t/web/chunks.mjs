// A video transcoded in chunks by two workers, played through every
// chunk boundary in headless Chromium (playwright-core) while it is
// still transcoded, then to its end: the watch page of www/ with its
// hls.js, against the stack t/094-web-chunks.t starts.  What is checked
// is in t/web/chunks-common.mjs.
//
// Settings come from the environment: BASE_URL, API_KEY, VIDEO_ID (the video the
// suite has just uploaded), SOURCE_DURATION, PG_CONNINFO, ARTIFACTS.
//
// Output: one JSON line per assertion (t/web/common.mjs), which the suite
// turns into Test::More results.

import { runChunks } from './chunks-common.mjs';
import { launchChromium } from './common.mjs';

await runChunks('chromium', async () => {
    const browser = await launchChromium();
    const context = await browser.newContext({viewport: {width: 1280, height: 800}});
    return context.newPage();
}, (v) => ({ok: v.audioBytes > 0, what: `webkitAudioDecodedByteCount ${v.audioBytes}`}));
