// Browser tests of the page's webhooks view (#/webhooks), run by
// t/092-web-webhooks.t against its own nginx (and, when there is one, the
// webhook delivery worker).  Headless Chromium through playwright-core.
//
// What it covers, in order:
//   - an editor signs in (the key in the URL fragment), the Webhooks link
//     shows, the view has no endpoint yet;
//   - a URL the page refuses itself (javascript:) and one the API refuses
//     (a private address outside the allowed ones): the API's words show,
//     nothing is made;
//   - an endpoint added on the page (URL of a receiver this script runs,
//     two event types checked, a description with markup and a URL in
//     it): its secret is shown once with a "shown once" note, copies to
//     the clipboard, leaves the page when dismissed and is in no later
//     answer of the API; the description shows as text;
//   - a test event sent from the page: its delivery row appears (pending
//     or already delivered); with the worker running, it turns delivered
//     with status code 204 and a latency, and the receiver got it, its
//     webhook-id the event's and its signature made with the secret;
//     redelivered from the page (the same webhook-id again); a receiver
//     answering 500: the code, the attempt and the next retry, then
//     failed, and the endpoint disabled by the worker, with its reason;
//   - editing (the form takes the endpoint; a new description and
//     events saved), disabling and enabling again, rotating the secret (a
//     new one, shown once), deleting;
//   - a viewer and an anonymous visitor: no Webhooks link, a note, no
//     form, no button, and no request for /api/webhooks;
//   - no console error and no uncaught exception anywhere.
//
// Settings come from the environment: BASE_URL, EDITOR_KEY, VIEWER_KEY,
// RECEIVER_PORT (the receiver listens there), WORKER ("1" when the
// webhook worker runs), ARTIFACTS (screenshots).
//
// Output: one JSON line per assertion (t/web/common.mjs), which
// t/092-web-webhooks.t turns into Test::More results.

import { createHmac } from 'node:crypto';
import { createServer } from 'node:http';
import path from 'node:path';
import {
    assert, check, closeBrowser, configure, current, expectedErrors, launchChromium, need, newPage,
    noConsoleErrors, note, runScript, text, viewReady,
} from './common.mjs';

const BASE = (process.env.BASE_URL ?? 'http://127.0.0.1:2074').replace(/\/$/, '');
const EDITOR_KEY = process.env.EDITOR_KEY ?? '';
const VIEWER_KEY = process.env.VIEWER_KEY ?? '';
const RECEIVER_PORT = Number(process.env.RECEIVER_PORT ?? 2079);
const WORKER = process.env.WORKER === '1';
const ARTIFACTS = path.resolve(process.env.ARTIFACTS ?? 't/servroot-webhooks/artifacts');

const DEADLINE_MS = 50_000;

configure({ artifacts: ARTIFACTS, shots: 'webhooks-fail' });

// --------------------------------------------------------------- helpers --

async function api(method, urlPath, body, key = EDITOR_KEY) {
    const headers = body === undefined ? {} : { 'Content-Type': 'application/json' };
    if (key) {
        headers.Authorization = `Bearer ${key}`;
    }
    const response = await fetch(BASE + urlPath, {
        method, headers, body: body === undefined ? undefined : JSON.stringify(body),
    });
    const text = await response.text();
    let json = null;
    try {
        json = JSON.parse(text);
    } catch {
        // not JSON
    }
    return { status: response.status, json, text };
}

// signs a tab in the way make run's link does, then opens the view
async function signIn(page, key) {
    await page.goto('about:blank');
    const response = await page.goto(`${BASE}/#key=${key}`);
    await viewReady(page, 'library');
    return response;
}

async function openWebhooks(page) {
    await page.goto('about:blank');
    await page.goto(`${BASE}/#/webhooks`);
    await viewReady(page, 'webhooks');
}

// the Standard Webhooks signature of a request with a secret
function sign(secret, id, timestamp, body) {
    const key = Buffer.from(secret.replace(/^whsec_/, ''), 'base64');
    return createHmac('sha256', key).update(`${id}.${timestamp}.${body}`).digest('base64');
}

// ------------------------------------------------------------- receiver --

// what the receiver got: [{path, headers, body}]
const received = [];

function startReceiver(port) {
    const server = createServer((req, res) => {
        const chunks = [];
        req.on('data', (c) => chunks.push(c));
        req.on('end', () => {
            received.push({ method: req.method, path: req.url, headers: req.headers,
                body: Buffer.concat(chunks).toString('utf8') });
            // /fail: a receiver that is down
            res.writeHead(req.url === '/fail' ? 500 : 204);
            res.end();
        });
    });
    return new Promise((resolve, reject) => {
        server.once('error', reject);
        server.listen(port, '127.0.0.1', () => resolve(server));
    });
}

// --------------------------------------------------------------- the run --

let receiver;

async function main() {
    receiver = await startReceiver(RECEIVER_PORT);
    const hookUrl = `http://127.0.0.1:${RECEIVER_PORT}/hooks/video-api`;
    // markup and a URL in the description, which must read as text
    const description = '<img src=x id=injected> <b>orders</b> '
        + 'https://example.com/?q=<script>window.pwned=1</script>&x="1"';

    const browser = await launchChromium({ autoplay: false });
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: BASE });
    const page = await newPage(context, 'editor');
    current.page = page;
    const dialogs = [];
    page.on('dialog', (d) => {
        dialogs.push(d.message());
        d.accept();
    });

    // -- an editor, the link, the empty view --------------------------------

    current.phase = 'editor';
    const signedIn = await check('editor: signs in (the page under its Content-Security-Policy), and the Webhooks link shows', async () => {
        const response = await signIn(page, EDITOR_KEY);
        const csp = response.headers()['content-security-policy'] ?? '';
        assert(/script-src 'self'/.test(csp) && /style-src 'self'/.test(csp) && !/unsafe-inline/.test(csp),
            `Content-Security-Policy: ${csp}`);
        assert(await text(page, '#session-who') === 'editor · default',
            `the header says ${await text(page, '#session-who')}`);
        assert(await page.locator('nav a[data-nav="webhooks"]').isVisible(), 'no Webhooks link');
    });
    const opened = await check('editor: the link opens #/webhooks, no endpoint yet', async () => {
        need(signedIn, 'signing in');
        await page.click('nav a[data-nav="webhooks"]');
        await viewReady(page, 'webhooks');
        assert(await page.locator('nav a[data-nav="webhooks"][aria-current="page"]').count() === 1,
            'the link is not marked current');
        assert(await page.locator('#webhooks-empty').isVisible(), 'no empty note');
        assert(await page.locator('#webhook-deliveries-panel').isHidden(), 'a deliveries panel shows');
    });

    await check('editor: the form offers every event type as a checkbox', async () => {
        need(opened, 'the view');
        await viewReady(page, 'webhooks');
        const types = await page.$$eval('#webhook-events input[type="checkbox"]', (els) => els.map((e) => e.value));
        for (const t of ['video.created', 'video.ready', 'video.failed', 'video.deleted',
            'live.started', 'live.recording.ready', 'webhook.endpoint.disabled']) {
            assert(types.includes(t), `no checkbox for ${t} (${types.join(' ')})`);
        }
        assert(await page.locator('#webhook-events input:checked').count() === 0, 'some checked already');
    });

    await check('editor: a javascript: URL is refused on the page, before any request', async () => {
        need(opened, 'the view');
        let posted = 0;
        const count = (r) => { if (r.method() === 'POST' && r.url().endsWith('/api/webhooks')) posted++; };
        page.on('request', count);
        await page.fill('#webhook-url', 'javascript:alert(1)');
        await page.click('#webhook-add');
        await page.locator('#webhook-error').waitFor({ state: 'visible' });
        const error = await text(page, '#webhook-error');
        assert(/http/.test(error), `#webhook-error says ${JSON.stringify(error)}`);
        assert(await page.getAttribute('#webhook-url', 'aria-invalid') === 'true', 'the field is not marked invalid');
        page.off('request', count);
        assert(posted === 0, `${posted} POST /api/webhooks`);
    });

    await check('editor: a private address the API refuses shows its message, nothing is made', async () => {
        need(opened, 'the view');
        await page.fill('#webhook-url', 'http://10.1.2.3/hook');
        const answer = page.waitForResponse((r) => r.url().endsWith('/api/webhooks') && r.request().method() === 'POST');
        await page.click('#webhook-add');
        const r = await answer;
        assert(r.status() === 400, `POST /api/webhooks answered ${r.status()}`);
        await page.waitForFunction(() => !document.querySelector('#webhook-error').hidden
            && !/http:\/\/ or https/.test(document.querySelector('#webhook-error').textContent));
        const error = await text(page, '#webhook-error');
        assert(error.length > 0 && !/server answered/.test(error), `#webhook-error says ${JSON.stringify(error)}`);
        assert(await page.locator('#webhook-list li.webhook-item').count() === 0, 'an endpoint is listed');
        const list = await api('GET', '/api/webhooks');
        assert(list.status === 200 && list.json.data.endpoints.length === 0, `GET /api/webhooks: ${list.text.slice(0, 300)}`);
        expectedErrors(/status of 400/);
    });

    // -- adding one: the secret once ----------------------------------------

    current.phase = 'add';
    const added = await check('add: an endpoint with a URL, two event types and a description', async () => {
        need(opened, 'the view');
        await page.fill('#webhook-url', hookUrl);
        await page.fill('#webhook-description', description);
        await page.check('#webhook-event-video-ready');
        await page.check('#webhook-event-webhook-endpoint-disabled');
        await page.click('#webhook-add');
        await page.locator('#webhook-secret-panel').waitFor({ state: 'visible' });
        const secret = await page.inputValue('#webhook-secret');
        const li = page.locator('#webhook-list li.webhook-item').first();
        const id = await li.getAttribute('data-id');
        assert(id, 'no endpoint listed');
        assert(await page.locator('#webhook-error').isHidden(), `error: ${await text(page, '#webhook-error')}`);
        return { secret, id };
    });
    const item = added && `#webhook-list li.webhook-item[data-id="${added.id}"]`;

    await check('add: the secret is a whsec_ secret, read-only, focused, with a "shown once" note', async () => {
        const { secret } = need(added, 'adding');
        assert(/^whsec_[A-Za-z0-9+/]{32}$/.test(secret), `secret ${JSON.stringify(secret)}`);
        assert(await page.$eval('#webhook-secret', (el) => el.readOnly), 'not read-only');
        assert(await page.evaluate(() => document.activeElement?.id) === 'webhook-secret', 'not focused');
        const noteText = await text(page, '#webhook-secret-note');
        assert(/shown once/i.test(noteText) && /cannot be shown again/.test(noteText), `note: ${noteText}`);
        assert(await page.locator('#webhook-secret-panel .webhook-url').textContent() === hookUrl, 'no URL in the panel');
        await page.screenshot({ path: path.join(ARTIFACTS, 'webhooks-secret.png') });
    });

    await check('add: the copy button puts the secret on the clipboard', async () => {
        const { secret } = need(added, 'adding');
        await page.click('#copy-webhook-secret');
        await page.waitForFunction(() => /Copied|Selected/.test(document.querySelector('#webhook-secret-panel .copied').textContent));
        const copied = await page.evaluate(() => navigator.clipboard.readText());
        assert(copied === secret, `the clipboard holds ${JSON.stringify(copied)}`);
    });

    await check('add: the API has the endpoint as the form said, and no secret in it', async () => {
        const { id, secret } = need(added, 'adding');
        const r = await api('GET', `/api/webhooks/${id}`);
        assert(r.status === 200, `${r.status} ${r.text.slice(0, 300)}`);
        const ep = r.json.data.endpoint;
        assert(ep.url === hookUrl, `url ${ep.url}`);
        assert(ep.description === description, `description ${JSON.stringify(ep.description)}`);
        assert(JSON.stringify([...ep.eventTypes].sort()) === '["video.ready","webhook.endpoint.disabled"]',
            `eventTypes ${JSON.stringify(ep.eventTypes)}`);
        assert(ep.enabled === true, 'not enabled');
        const list = await api('GET', '/api/webhooks');
        assert(!r.text.includes(secret) && !list.text.includes(secret) && !/whsec_/.test(list.text),
            'a secret in GET /api/webhooks');
    });

    await check('add: the description with markup and a URL reads as text', async () => {
        need(added, 'adding');
        const shown = await page.locator(`${item} .webhook-description`).textContent();
        assert(shown === description, `shown ${JSON.stringify(shown)}`);
        assert(await page.locator('#injected').count() === 0, 'an <img> from the description');
        assert(await page.locator(`${item} b, ${item} script, ${item} img`).count() === 0, 'markup from the description');
        assert(await page.evaluate(() => window.pwned) === undefined, 'a script from the description ran');
        assert(await page.locator(`${item} .webhook-url`).textContent() === hookUrl, 'the URL is not shown');
        assert(await page.locator(`${item} a`).count() === 0, 'the URL became a link');
    });

    await check('add: "I have copied it" takes the secret off the page, and a reload does not bring it back', async () => {
        const { secret } = need(added, 'adding');
        await page.click('#webhook-secret-done');
        assert(await page.locator('#webhook-secret-panel').count() === 0, 'the panel stays');
        assert(!(await page.content()).includes(secret), 'the secret is still in the page');
        await page.reload();
        await viewReady(page, 'webhooks');
        await page.locator(item).waitFor({ state: 'visible' });
        assert(!(await page.content()).includes(secret), 'the secret is in the page after a reload');
        const stored = await page.evaluate(() => JSON.stringify({ ...sessionStorage }) + JSON.stringify({ ...localStorage }));
        assert(!stored.includes('whsec_'), 'the secret is in storage');
    });

    // -- a test event and its delivery -----------------------------------------

    current.phase = 'test';
    const tested = await check('test event: sent from the page, its delivery row appears', async () => {
        need(added, 'adding');
        assert(await page.getAttribute(`${item} button.webhook-test`, 'aria-label') === `Send test event: ${hookUrl}`,
            'the button\'s accessible name does not name the endpoint');
        await page.click(`${item} button.webhook-test`);
        await page.waitForFunction(() => /Test event evt_/.test(document.querySelector('#webhooks-status').textContent));
        const eventId = (await text(page, '#webhooks-status')).match(/evt_[A-Za-z0-9]+/)[0];
        const row = `#webhook-deliveries tr.delivery[data-event-id="${eventId}"]`;
        await page.locator(row).waitFor({ state: 'visible', timeout: 5_000 });
        assert(await page.locator(`${row} .d-type`).textContent() === 'webhook.test', 'not a webhook.test row');
        const status = await page.getAttribute(row, 'data-status');
        // without the worker nothing sends it: it waits, due now
        assert(WORKER ? ['pending', 'delivered'].includes(status) : status === 'pending', `status ${status}`);
        assert(await page.locator('#webhook-deliveries-for').textContent() === hookUrl, 'the panel is not for this endpoint');
        return { eventId, row };
    });

    const todo = WORKER ? undefined : 'the webhook worker is not in this build';
    const delivered = await check('test event: the page shows it delivered, status code 204, with a latency', async () => {
        const { row } = need(tested, 'the test event');
        assert(WORKER, 'not checked: this build has no webhook worker');
        // pending rows are fetched again every 3 s; the worker wakes on NOTIFY
        await page.locator(`${row}[data-status="delivered"]`).waitFor({ state: 'attached', timeout: 12_000 });
        assert(await text(page, `${row} .d-code`) === '204', `status code ${await text(page, `${row} .d-code`)}`);
        assert(/^\d+ ms$/.test(await text(page, `${row} .d-latency`)), `latency ${await text(page, `${row} .d-latency`)}`);
        // the count opens the attempt log
        assert(await text(page, `${row} .d-attempts summary`) === '1', `attempts ${await text(page, `${row} .d-attempts`)}`);
        await page.click(`${row} .d-attempts summary`);
        const log = await text(page, `${row} .d-attempts ol`);
        assert(/HTTP 204, \d+ ms/.test(log), `attempt log ${JSON.stringify(log)}`);
        await page.screenshot({ path: path.join(ARTIFACTS, 'webhooks-delivered.png') });
    }, { todo });

    await check('test event: the receiver got it, signed with the secret shown once', async () => {
        need(delivered, 'the delivery');
        const { eventId } = tested;
        const got = received.find((r) => r.headers['webhook-id'] === eventId);
        assert(got, `nothing with webhook-id ${eventId} among ${received.length} requests`);
        assert(got.method === 'POST' && got.path === '/hooks/video-api', `${got.method} ${got.path}`);
        const body = JSON.parse(got.body);
        assert(body.id === eventId && body.type === 'webhook.test' && body.objectId === added.id,
            `body ${got.body.slice(0, 300)}`);
        const expected = sign(added.secret, eventId, got.headers['webhook-timestamp'], got.body);
        const sigs = String(got.headers['webhook-signature']).split(' ');
        assert(sigs.includes(`v1,${expected}`), `webhook-signature ${got.headers['webhook-signature']}`);
    }, { todo });

    await check('deliveries: the Refresh button fetches them again', async () => {
        need(tested, 'the test event');
        const answer = page.waitForResponse((r) => /\/api\/webhooks\/[^/]+\/deliveries/.test(r.url()));
        await page.click('#webhook-deliveries-refresh');
        assert((await answer).status() === 200, 'no deliveries request');
        await page.locator(tested.row).waitFor({ state: 'visible' });
        assert(/Updated/.test(await text(page, '#webhook-deliveries-updated')), 'no update time');
    });

    await check('deliveries: filtered by status (none failed), then all again', async () => {
        need(tested, 'the test event');
        const asked = page.waitForResponse((r) => /\/deliveries\?.*status=failed/.test(r.url()));
        await page.selectOption('#webhook-deliveries-status', 'failed');
        assert((await asked).status() === 200, 'no filtered request');
        await page.locator('#webhook-deliveries-empty').waitFor({ state: 'visible' });
        assert(await text(page, '#webhook-deliveries-empty') === 'No failed deliveries.', 'no empty note');
        assert(await page.locator('#webhook-deliveries tr').count() === 0, 'rows show');
        await page.selectOption('#webhook-deliveries-status', '');
        await page.locator(tested.row).waitFor({ state: 'visible' });
    });

    await check('redeliver: the delivered event sent again, a new row, the same webhook-id', async () => {
        need(delivered, 'the delivery');
        const { eventId, row } = tested;
        const got = () => received.filter((r) => r.headers['webhook-id'] === eventId).length;
        const before = got();
        await page.click(`${row} button.d-redeliver`);
        await page.waitForFunction((sel) => document.querySelectorAll(sel).length === 2, row);
        await page.waitForFunction((sel) => [...document.querySelectorAll(sel)]
            .every((r) => r.dataset.status === 'delivered'), row, { timeout: 12_000 });
        assert(got() === before + 1, `the receiver got it ${got() - before} more times`);
    }, { todo });

    const failing = await check('retries: a receiver answering 500 shows the code, one attempt and the next retry, then failed', async () => {
        need(opened, 'the view');
        assert(WORKER, 'not checked: this build has no webhook worker');
        await page.fill('#webhook-url', `http://127.0.0.1:${RECEIVER_PORT}/fail`);
        await page.click('#webhook-add');
        await page.locator('#webhook-secret-panel').waitFor({ state: 'visible' });
        await page.click('#webhook-secret-done');
        const down = page.locator('#webhook-list li.webhook-item', { hasText: '/fail' });
        await down.locator('button.webhook-test').click();
        const failed = '#webhook-deliveries tr.delivery[data-status="pending"]';
        // pending rows are fetched again every 3 s
        await page.waitForFunction((sel) => [...document.querySelectorAll(sel)]
            .some((r) => r.querySelector('.d-code').textContent.startsWith('500')), failed, { timeout: 12_000 });
        const cells = await page.$eval(failed, (r) => [...r.cells].map((c) => c.textContent.trim()));
        assert(cells[0] === 'webhook.test' && cells[1] === 'PENDING', `row ${JSON.stringify(cells)}`);
        assert(/^1/.test(cells[2]), `attempts ${cells[2]}`);
        assert(/^\d+ ms$/.test(cells[4]), `latency ${cells[4]}`);
        assert(/^retry (in \d+ (s|min)|due now)$/.test(cells[5]), `next retry ${JSON.stringify(cells[5])}`);
        await page.screenshot({ path: path.join(ARTIFACTS, 'webhooks-retry.png') });
        // the second attempt, the last (webhook_backoff 6s)
        await page.locator('#webhook-deliveries tr.delivery[data-status="failed"]')
            .waitFor({ state: 'attached', timeout: 15_000 });
        return down;
    }, { todo });

    await check('retries: the endpoint the worker disabled shows DISABLED and why, after a refresh', async () => {
        const down = need(failing, 'the failing endpoint');
        await page.click('#webhook-deliveries-refresh');
        await down.locator('.webhook-state', { hasText: 'DISABLED' }).waitFor({ state: 'visible' });
        const why = (await down.locator('.webhook-reason').textContent()).trim();
        assert(/^Disabled .*after failed deliveries: .+\. Enable it/.test(why), `reason ${JSON.stringify(why)}`);
        assert(await down.locator('button.webhook-toggle').textContent() === 'Enable', 'no Enable button');
        await down.locator('button.webhook-delete').click();
        await down.waitFor({ state: 'detached' });
    }, { todo });

    await check('edit: the form takes the endpoint, and saves a new description and events', async () => {
        need(added, 'adding');
        await page.click(`${item} button.webhook-edit`);
        assert(await text(page, '#webhook-form-title') === 'Edit the endpoint', 'the form is not editing');
        assert(await page.inputValue('#webhook-url') === hookUrl, 'the URL is not in the form');
        assert(await page.inputValue('#webhook-description') === description, 'the description is not in the form');
        assert(await page.isChecked('#webhook-event-video-ready')
            && await page.isChecked('#webhook-event-webhook-endpoint-disabled')
            && !await page.isChecked('#webhook-event-video-failed'), 'the checkboxes are not the endpoint\'s');
        await page.fill('#webhook-description', 'Orders service');
        await page.uncheck('#webhook-event-webhook-endpoint-disabled');
        await page.check('#webhook-event-video-failed');
        await page.click('#webhook-add');
        await page.waitForFunction((sel) => document.querySelector(sel)?.textContent === 'Orders service',
            `${item} .webhook-description`);
        assert(await text(page, '#webhook-form-title') === 'Add an endpoint', 'the form is still editing');
        assert(await page.locator('#webhook-cancel').isHidden(), 'Cancel still shows');
        const r = await api('GET', `/api/webhooks/${added.id}`);
        const ep = r.json?.data?.endpoint;
        assert(ep?.description === 'Orders service' && ep.url === hookUrl, `API: ${r.text.slice(0, 300)}`);
        assert(JSON.stringify([...ep.eventTypes].sort()) === '["video.failed","video.ready"]',
            `eventTypes ${JSON.stringify(ep.eventTypes)}`);
    });

    // -- disable, enable, rotate --------------------------------------------------

    current.phase = 'manage';
    const disabled = await check('disable: the endpoint shows DISABLED, and the API agrees', async () => {
        need(added, 'adding');
        await page.click(`${item} button.webhook-toggle`);
        await page.locator(`${item}[data-enabled="false"]`).waitFor({ state: 'visible' });
        assert(await text(page, `${item} .webhook-state`) === 'DISABLED', 'no DISABLED badge');
        assert(await text(page, `${item} button.webhook-toggle`) === 'Enable', 'no Enable button');
        const r = await api('GET', `/api/webhooks/${added.id}`);
        assert(r.json?.data?.endpoint?.enabled === false, `API: ${r.text.slice(0, 300)}`);
    });

    await check('enable: enabled again from the page', async () => {
        need(disabled, 'disabling');
        await page.click(`${item} button.webhook-toggle`);
        await page.locator(`${item}[data-enabled="true"]`).waitFor({ state: 'visible' });
        const r = await api('GET', `/api/webhooks/${added.id}`);
        assert(r.json?.data?.endpoint?.enabled === true, `API: ${r.text.slice(0, 300)}`);
    });

    await check('rotate: after a confirmation, a new secret is shown once', async () => {
        need(added, 'adding');
        const asked = dialogs.length;
        await page.click(`${item} button.webhook-rotate`);
        await page.locator('#webhook-secret-panel').waitFor({ state: 'visible' });
        assert(dialogs.length === asked + 1 && /Rotate/.test(dialogs.at(-1)), `dialogs ${JSON.stringify(dialogs)}`);
        const secret = await page.inputValue('#webhook-secret');
        assert(/^whsec_/.test(secret) && secret !== added.secret, `secret ${JSON.stringify(secret)}`);
        assert(/shown once/i.test(await text(page, '#webhook-secret-note')), 'no "shown once" note');
        assert(/both the old and the new/.test(await text(page, '#webhook-secret-note')), 'no word of the overlap');
        await page.click('#webhook-secret-done');
        assert(/previous secret also signs until/.test(await text(page, `${item} .webhook-overlap`)),
            'the endpoint does not say the previous secret still signs');
    });

    await check('disable again: left disabled for the rest of the run', async () => {
        need(added, 'adding');
        await page.click(`${item} button.webhook-toggle`);
        await page.locator(`${item}[data-enabled="false"]`).waitFor({ state: 'visible' });
        const r = await api('GET', `/api/webhooks/${added.id}`);
        assert(r.json?.data?.endpoint?.enabled === false, `API: ${r.text.slice(0, 300)}`);
    });

    await check('layout: the view at phone width (390x844) needs no sideways scrolling', async () => {
        need(added, 'adding');
        await page.setViewportSize({ width: 390, height: 844 });
        const wide = await page.evaluate(() => document.documentElement.scrollWidth);
        await page.screenshot({ path: path.join(ARTIFACTS, 'webhooks-phone.png'), fullPage: true });
        await page.setViewportSize({ width: 1280, height: 900 });
        assert(wide <= 390, `the page is ${wide} px wide`);
    });
    noConsoleErrors('editor: no console errors');

    // -- a viewer and an anonymous visitor ------------------------------------------

    for (const [who, key] of [['viewer', VIEWER_KEY], ['anonymous', '']]) {
        current.phase = who;
        const other = await browser.newContext({ viewport: { width: 1280, height: 800 } });
        const p = await newPage(other, who);
        current.page = p;
        const asked = [];
        p.on('request', (r) => { if (r.url().includes('/api/webhooks')) asked.push(r.url()); });
        await check(`${who}: no Webhooks link, and #/webhooks shows a note and no controls`, async () => {
            if (key) {
                await signIn(p, key);
                assert(await text(p, '#session-who') === 'viewer · default', 'not signed in as the viewer');
            } else {
                await p.goto(`${BASE}/#/`);
                await viewReady(p, 'library');
            }
            assert(await p.locator('nav a[data-nav="webhooks"]').isHidden(), 'a Webhooks link shows');
            await openWebhooks(p);
            const noteText = await text(p, '#webhooks-denied');
            assert(key ? /editors and admins/.test(noteText) : /sign in/.test(noteText), `the note says ${noteText}`);
            for (const sel of ['#webhook-form', '#webhook-list', '#webhook-add', 'button.webhook-test',
                'button.webhook-toggle', 'button.webhook-rotate', 'button.webhook-delete', '#webhook-deliveries']) {
                assert(await p.locator(sel).count() === 0, `${sel} is on the page`);
            }
            assert(!(await p.content()).includes(hookUrl), 'the endpoint\'s URL is on the page');
            assert(asked.length === 0, `requests: ${asked.join(' ')}`);
        }, { page: p });
        if (key) {
            await check('viewer: the API refuses it the endpoints (403)', async () => {
                const r = await api('GET', '/api/webhooks', undefined, key);
                assert(r.status === 403, `${r.status} ${r.text.slice(0, 200)}`);
            }, { page: p });
        }
        await other.close();
        noConsoleErrors(`${who}: no console errors`);
    }
    current.page = page;

    // -- delete ---------------------------------------------------------------------

    current.phase = 'delete';
    await check('delete: after a confirmation, the endpoint is gone from the page and the API', async () => {
        need(added, 'adding');
        await openWebhooks(page);
        const asked = dialogs.length;
        await page.click(`${item} button.webhook-delete`);
        await page.locator(item).waitFor({ state: 'detached' });
        assert(dialogs.length === asked + 1 && /Delete/.test(dialogs.at(-1)), `dialogs ${JSON.stringify(dialogs)}`);
        assert(await page.locator('#webhooks-empty').isVisible(), 'no empty note');
        assert(await page.locator('#webhook-deliveries-panel').isHidden(), 'the deliveries panel stays');
        const r = await api('GET', `/api/webhooks/${added.id}`);
        assert(r.status === 404, `GET after DELETE: ${r.status}`);
    });
    noConsoleErrors('delete: no console errors');

    await closeBrowser();
}

await runScript({ what: 'webhooks', deadlineMs: DEADLINE_MS, after: () => receiver?.close() }, main);
