// A video transcoded in chunks by two workers, played through every
// chunk boundary in Firefox (Debian's firefox-esr) over WebDriver BiDi
// with puppeteer-core, while it is still transcoded, then to its end: the
// same run as t/web/chunks.mjs (t/web/chunks-common.mjs), on a video of
// its own that t/094-web-chunks.t has just uploaded.
//
// Settings come from the environment: BASE_URL, API_KEY, VIDEO_ID,
// SOURCE_DURATION, PG_CONNINFO, ARTIFACTS, FIREFOX.  Output as in
// chunks.mjs: one JSON line per assertion.

import { runChunks } from './chunks-common.mjs';
import { launchFirefox } from './common.mjs';

await runChunks('firefox', async () => {
    const browser = await launchFirefox();
    const page = await browser.newPage();
    await page.setViewport({width: 1280, height: 800});
    return page;
}, (v) => ({ok: v.mozHasAudio === true, what: `mozHasAudio ${v.mozHasAudio}`}));
