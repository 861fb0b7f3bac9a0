// The API reference page (www/api.html) in headless Chromium, through
// playwright-core, as t/091-api-reference.t serves it with the shipped
// conf/nginx.conf: Swagger UI from node_modules renders /api/openapi.json,
// showing every operation of the document, under the page's
// Content-Security-Policy, with no console error, no failed request and no
// request to another origin.
//
// BASE_URL is the shipped nginx; ARTIFACTS takes a screenshot.  Output:
// one JSON line per assertion, {"ok", "name", "diag"}, as t/web/browser.mjs.

import { chromium } from 'playwright-core';
import { mkdir } from 'node:fs/promises';
import path from 'node:path';

const BASE = (process.env.BASE_URL ?? 'http://127.0.0.1:2019').replace(/\/$/, '');
const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? 't/servroot-api-ref/artifacts');

function report(ok, name, diag = '') {
    console.log(JSON.stringify({ ok: !!ok, name, diag: String(diag) }));
}

const errors = [];
const failed = [];
const foreign = [];

const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--no-first-run',
        '--disable-background-networking', '--disable-component-update',
        '--disable-sync'],
});

try {
    const doc = await (await fetch(`${BASE}/api/openapi.json`)).json();
    const operations = [];
    for (const [p, item] of Object.entries(doc.paths)) {
        for (const m of ['get', 'post', 'put', 'patch', 'delete']) {
            if (item[m]) {
                operations.push(`${m} ${p}`);
            }
        }
    }
    report(operations.length >= 40,
           `the document lists the API's operations (${operations.length})`);

    // from the library page's navigation, as a reader gets there
    const home = await browser.newPage();
    await home.goto(`${BASE}/`, { waitUntil: 'load' });
    const link = home.locator('nav a[href="api.html"]');
    report(await link.isVisible(), 'the page links the API reference');
    // the machine may be busy: Swagger UI's bundle is 1.5 MB
    await link.click();
    await home.waitForURL(/\/api\.html$/, { waitUntil: 'commit', timeout: 30_000 });
    report(true, 'which opens /api.html');
    await home.close();

    // the reference page on its own, every console message and request
    // of it watched
    const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
    page.on('console', (msg) => {
        if (msg.type() === 'error') {
            errors.push(`${msg.text()} (${msg.location()?.url ?? ''})`);
        }
    });
    page.on('pageerror', (e) => errors.push(`uncaught ${e.name}: ${e.message}`));
    page.on('requestfailed', (req) => failed.push(`${req.url()}: ${req.failure()?.errorText}`));
    page.on('request', (req) => {
        if (!req.url().startsWith(BASE + '/') && !req.url().startsWith('data:')) {
            foreign.push(req.url());
        }
    });
    await page.goto(`${BASE}/api.html`, { waitUntil: 'load', timeout: 30_000 });

    let shown = [];
    try {
        await page.waitForSelector('.opblock', { timeout: 60_000 });
        // every operation block names its method and path
        shown = await page.$$eval('.opblock', (blocks) => blocks.map((b) => {
            const m = b.querySelector('.opblock-summary-method')?.textContent ?? '';
            const p = b.querySelector('.opblock-summary-path')?.getAttribute('data-path')
                ?? b.querySelector('.opblock-summary-path')?.textContent ?? '';
            return `${m.trim().toLowerCase()} ${p.replace(/\u200b/g, '').trim()}`;
        }));
    } catch (e) {
        report(false, 'Swagger UI renders the operations', e.message);
    }
    const missing = operations.filter((o) => !shown.includes(o));
    report(shown.length > 0 && missing.length === 0,
           `every operation of the document is shown (${shown.length})`,
           `missing: ${missing.join(', ')}; shown: ${shown.slice(0, 10).join(', ')}`);

    const title = await page.locator('.info .title').first().textContent().catch(() => '');
    report(/video-api/.test(title ?? ''), 'with the document\'s title', title);

    // one operation opened: its responses, the error envelope among them
    const op = page.locator('#operations-videos-getVideo');
    await op.locator('.opblock-summary').first().click();
    let statuses = [];
    try {
        await op.locator('.responses-table').first().waitFor({ timeout: 30_000 });
        statuses = await op.locator('.responses-table .response-col_status')
            .allTextContents();
    } catch (e) {
        statuses = [`(${e.message})`];
    }
    const codes = statuses.map((s) => s.trim());
    report(['200', '304', '404'].every((c) => codes.includes(c)),
           'GET /api/videos/{id} opens with its responses (200, 304, 404)',
           codes.join(' '));

    await mkdir(ARTIFACTS, { recursive: true });
    await page.screenshot({ path: path.join(ARTIFACTS, 'api-reference.png') });

    report(errors.length === 0, 'no console error or uncaught exception',
           errors.join(' | '));
    report(failed.length === 0, 'no failed request', failed.join(' | '));
    report(foreign.length === 0, 'no request to another origin (no CDN, no validator)',
           foreign.join(' | '));
} finally {
    await browser.close();
}
