// Webhooks: the endpoints the signed-in account's events are POSTed to,
// signed with each endpoint's secret, and their recent deliveries.  An
// editor or an admin adds an endpoint, changes it, sends it a test event,
// disables, enables, rotates its secret or deletes it; anyone else gets a
// note and no request is made.  A secret is shown once, when it is made or
// rotated: it lives in this view's DOM until it is dismissed or the view
// is left, and is kept nowhere else.

import { api, errorText, isAbort } from './api.js';
import { h, alertBox, say, copyText, select } from './dom.js';
import { ago } from './format.js';
import * as session from './session.js';

// the event types an endpoint can subscribe to (none checked: all)
export const EVENT_GROUPS = [
    ['Videos', ['video.created', 'video.upload.completed', 'video.processing',
                'video.ready', 'video.failed', 'video.updated',
                'video.deleted']],
    ['Live streams', ['live.created', 'live.started', 'live.ended',
                      'live.recording.ready']],
    ['Endpoints', ['webhook.endpoint.disabled']],
];

const DELIVERIES_PAGE = 20;
// deliveries still pending are fetched again this often
const REFRESH_MS = 3000;

const DELIVERY_STATUSES = [['', 'Any status'], ['pending', 'Pending'],
                           ['delivered', 'Delivered'], ['failed', 'Failed']];

const checkboxId = type => `webhook-event-${type.replaceAll('.', '-')}`;

function time(iso) {
    return iso ? h('time', {datetime: iso, title: iso}, ago(iso)) : '';
}

// "in 4 min", for the next attempt of a pending delivery
function until(iso) {
    const t = Date.parse(iso);

    if (isNaN(t)) {
        return '';
    }

    const s = Math.round((t - Date.now()) / 1000);

    if (s <= 1) {
        return 'due now';
    }

    for (const [size, unit] of [[86400, 'd'], [3600, 'h'], [60, 'min']]) {
        if (s >= size) {
            return `in ${Math.floor(s / size)} ${unit}`;
        }
    }

    return `in ${s} s`;
}

function explainSecret(rotated, ep) {
    const parts = [
        h('strong', {}, 'Shown once. '),
        'This is the only time the signing secret is shown: copy it now and ',
        'keep it where your receiver checks signatures. It cannot be shown ',
        'again; if it is lost, rotate it.',
    ];

    if (rotated && ep.previousSecretExpiresAt) {
        parts.push(' Until ', h('time', {datetime: ep.previousSecretExpiresAt},
                                new Date(ep.previousSecretExpiresAt)
                                    .toLocaleString()),
                   ' deliveries are signed with both the old and the new ',
                   'secret, so the receiver can switch over.');
    }

    return h('p', {id: 'webhook-secret-note', class: 'warning'}, parts);
}

// the secret of a new endpoint, or of a rotation
function secretPanel(secret, ep, rotated, dismiss) {
    const input = h('input', {id: 'webhook-secret', readonly: true,
                              value: secret, spellcheck: false,
                              class: 'mono', autocomplete: 'off',
                              'aria-describedby': 'webhook-secret-note'});
    const done = h('span', {class: 'copied', 'aria-live': 'polite'});
    const copy = h('button', {id: 'copy-webhook-secret', type: 'button',
                              class: 'button',
                              'aria-label': 'Copy the signing secret'},
                   'Copy');
    let shown;

    copy.addEventListener('click', async () => {
        done.textContent = await copyText(input.value, input)
            ? 'Copied' : 'Selected: press Ctrl+C';
        clearTimeout(shown);
        shown = setTimeout(() => { done.textContent = ''; }, 3000);
    });
    input.addEventListener('focus', () => input.select());

    return h('section', {id: 'webhook-secret-panel', class: 'panel secret',
                         dataset: {endpoint: ep.id},
                         'aria-labelledby': 'webhook-secret-title'},
        h('h2', {id: 'webhook-secret-title'},
          rotated ? 'The new signing secret' : 'The endpoint’s signing secret'),
        h('p', {class: 'webhook-url mono'}, ep.url),
        explainSecret(rotated, ep),
        h('div', {class: 'field'},
          h('label', {for: 'webhook-secret'}, 'Signing secret'),
          h('div', {class: 'copy-row'}, input, copy, done)),
        h('div', {class: 'actions'},
          h('button', {id: 'webhook-secret-done', type: 'button',
                       class: 'button primary', onclick: dismiss},
            'I have copied it')));
}

function eventChips(types) {
    if (!types || !types.length) {
        return h('span', {class: 'chip'}, 'all events');
    }

    return types.map(t => h('span', {class: 'chip mono'}, t));
}

// one endpoint, with its buttons; act(name, ep, button) runs them
function endpointItem(ep, selected, act) {
    const button = (name, text, cls = 'button small') =>
        h('button', {type: 'button', class: `${cls} webhook-${name}`,
                     'aria-label': `${text}: ${ep.url}`,
                     onclick: e => act(name, ep, e.currentTarget)},
          text);

    return h('li', {class: `webhook-item${selected ? ' selected' : ''}`,
                    dataset: {id: ep.id, enabled: String(ep.enabled)}},
        h('div', {class: 'webhook-head'},
          h('span', {class: `badge webhook-state badge-${ep.enabled
                                 ? 'ready' : 'failed'}`},
            ep.enabled ? 'ENABLED' : 'DISABLED'),
          h('span', {class: 'webhook-url mono'}, ep.url)),
        ep.description
            && h('p', {class: 'webhook-description'}, ep.description),
        !ep.enabled && ep.disabledReason
            && h('p', {class: 'webhook-reason warning'},
                 'Disabled ', time(ep.disabledAt), ' after failed deliveries: ',
                 ep.disabledReason, '. Enable it once the receiver is fixed.'),
        h('div', {class: 'card-meta'},
          eventChips(ep.eventTypes),
          ep.failedDeliveries > 0
              && h('span', {class: 'webhook-failed'},
                   `${ep.failedDeliveries} failed in a row`),
          h('span', {}, 'added ', time(ep.createdAt)),
          Date.parse(ep.previousSecretExpiresAt) > Date.now()
              && h('span', {class: 'webhook-overlap'},
                   'the previous secret also signs until ',
                   h('time', {datetime: ep.previousSecretExpiresAt},
                     new Date(ep.previousSecretExpiresAt).toLocaleString()))),
        h('div', {class: 'actions'},
          button('show', 'Deliveries',
                 selected ? 'button small primary' : 'button small'),
          button('test', 'Send test event'),
          button('toggle', ep.enabled ? 'Disable' : 'Enable'),
          button('edit', 'Edit'),
          button('rotate', 'Rotate secret'),
          button('delete', 'Delete', 'button small danger')));
}

function attemptLog(d) {
    const log = Array.isArray(d.attemptLog) ? d.attemptLog : [];

    if (!log.length) {
        return String(d.attempts);
    }

    return h('details', {class: 'attempt-log'},
        h('summary', {}, String(d.attempts)),
        h('ol', {},
          log.map(a => h('li', {},
              time(a.at), ' ',
              a.statusCode ? `HTTP ${a.statusCode}` : 'no answer',
              typeof a.latencyMs === 'number' ? `, ${a.latencyMs} ms` : '',
              a.error ? h('span', {class: 'muted'}, ` (${a.error})`) : ''))));
}

const BADGES = {delivered: 'ready', pending: 'pending', failed: 'failed'};

function deliveryRow(d, redeliver) {
    const status = String(d.status || '');
    let next = '';

    if (status === 'pending') {
        next = d.attempts > 0 ? `retry ${until(d.nextAttemptAt)}`
                              : until(d.nextAttemptAt);

    } else if (status === 'delivered') {
        next = h('span', {class: 'muted'}, 'delivered ', time(d.deliveredAt));
    }

    return h('tr', {class: 'delivery', dataset: {id: String(d.id), status,
                                                  eventId: d.eventId}},
        h('td', {class: 'd-type mono'}, d.eventType),
        h('td', {class: 'd-status'},
          h('span', {class: `badge badge-${BADGES[status] || 'pending'}`},
            status.toUpperCase())),
        h('td', {class: 'd-attempts'}, attemptLog(d)),
        h('td', {class: 'd-code'},
          d.lastStatus ? String(d.lastStatus) : '—',
          d.lastError && h('small', {class: 'd-error muted'}, d.lastError)),
        h('td', {class: 'd-latency'},
          typeof d.lastLatencyMs === 'number' ? `${d.lastLatencyMs} ms` : '—'),
        h('td', {class: 'd-next'}, next),
        h('td', {class: 'd-created'}, time(d.createdAt)),
        h('td', {},
          status !== 'pending'
              && h('button', {type: 'button', class: 'button small d-redeliver',
                              'aria-label': `Redeliver ${d.eventType}`,
                              onclick: e => redeliver(d, e.currentTarget)},
                   'Redeliver')));
}

function denied(root) {
    const anonymous = !session.key() && session.me.auth !== 'off';

    root.append(h('p', {id: 'webhooks-denied', class: 'notice'},
        anonymous
            ? ['Webhooks need an editor’s or an admin’s API key: ',
               h('a', {href: '#/signin'}, 'sign in'), '.']
            : 'Webhooks are managed by the account’s editors and admins: '
              + 'a viewer’s key can neither see nor change them.'));
}

export function webhooks(root, {params, signal}) {
    root.dataset.view = 'webhooks';

    const total = h('span', {id: 'webhooks-total', class: 'muted'});

    root.append(h('div', {class: 'heading'}, h('h1', {}, 'Webhooks'), total));

    if (!session.canUpload()) {
        denied(root);
        root.dataset.ready = '1';
        return;
    }

    // -- the form --------------------------------------------------------

    const url = h('input', {id: 'webhook-url', name: 'url', type: 'url',
                            required: true, maxLength: 2048,
                            autocomplete: 'off', spellcheck: false,
                            inputMode: 'url', class: 'mono',
                            placeholder: 'https://example.com/webhooks'});
    const description = h('input', {id: 'webhook-description',
                                    name: 'description', maxLength: 255,
                                    autocomplete: 'off'});
    const events = h('fieldset', {id: 'webhook-events', class: 'events'},
        h('legend', {}, 'Events'),
        h('small', {class: 'muted'},
          'None checked: every event, types added later included. A test '
          + 'event is sent whatever is checked.'),
        EVENT_GROUPS.map(([group, types]) => h('div', {class: 'event-group'},
            h('span', {class: 'event-group-name'}, group),
            types.map(t => h('label', {class: 'check', for: checkboxId(t)},
                h('input', {type: 'checkbox', id: checkboxId(t),
                            name: 'eventTypes', value: t}),
                h('span', {class: 'mono'}, t))))));
    const add = h('button', {id: 'webhook-add', type: 'submit',
                             class: 'button primary'}, 'Add endpoint');
    const cancel = h('button', {id: 'webhook-cancel', type: 'button',
                                class: 'button', hidden: true}, 'Cancel');
    const formTitle = h('h2', {id: 'webhook-form-title'}, 'Add an endpoint');
    const formError = alertBox('webhook-error');
    const form = h('form', {id: 'webhook-form', class: 'panel',
                            novalidate: true},
        formTitle,
        h('label', {class: 'field', for: 'webhook-url'},
          h('span', {}, 'URL'), url),
        h('label', {class: 'field', for: 'webhook-description'},
          h('span', {}, 'Description ', h('small', {}, '(optional)')),
          description),
        events, formError,
        h('div', {class: 'actions'}, add, cancel));

    // -- the endpoints and the deliveries ----------------------------------

    const secretBox = h('div', {id: 'webhook-secret-box'});
    const status = h('p', {id: 'webhooks-status', class: 'muted',
                           role: 'status'});
    const listError = alertBox('webhooks-error');
    const list = h('ul', {id: 'webhook-list', class: 'webhook-list'});
    const empty = h('p', {id: 'webhooks-empty', class: 'empty', hidden: true},
                    'No endpoints yet: add one to receive the account’s '
                    + 'events.');

    const filter = select('webhook-deliveries-status', 'Status',
                          DELIVERY_STATUSES, '');
    const refresh = h('button', {id: 'webhook-deliveries-refresh',
                                 type: 'button', class: 'button small'},
                      'Refresh');
    const deliveriesFor = h('span', {id: 'webhook-deliveries-for',
                                     class: 'webhook-url mono'});
    const rows = h('tbody', {id: 'webhook-deliveries'});
    const table = h('div', {class: 'table-wrap'},
        h('table', {class: 'deliveries'},
          h('thead', {}, h('tr', {},
            ['Event', 'Status', 'Attempts', 'Last status code', 'Latency',
             'Next retry', 'Created', ''].map(c => h('th', {scope: 'col'}, c)))),
          rows));
    const deliveriesEmpty = h('p', {id: 'webhook-deliveries-empty',
                                    class: 'empty', hidden: true});
    const deliveriesError = alertBox('webhook-deliveries-error');
    const more = h('button', {id: 'webhook-deliveries-more', type: 'button',
                              class: 'button', hidden: true}, 'Load more');
    const updated = h('small', {id: 'webhook-deliveries-updated',
                                class: 'muted'});
    const deliveries = h('section', {id: 'webhook-deliveries-panel',
                                     class: 'panel', hidden: true,
                                     'aria-labelledby': 'webhook-deliveries-title'},
        h('div', {class: 'heading'},
          h('h2', {id: 'webhook-deliveries-title'}, 'Recent deliveries'),
          deliveriesFor),
        h('div', {class: 'toolbar'}, filter, refresh, updated),
        deliveriesError, table, deliveriesEmpty,
        h('div', {class: 'more'}, more));

    root.append(
        h('p', {class: 'muted intro'},
          'The account’s events are POSTed as JSON to each endpoint, signed ',
          'with its secret (headers webhook-id, webhook-timestamp and ',
          'webhook-signature). A delivery that fails is retried at growing ',
          'intervals, by default for about a day.'),
        h('div', {class: 'columns'},
          h('div', {}, secretBox,
            h('section', {class: 'panel', 'aria-labelledby': 'webhooks-list'},
              h('h2', {id: 'webhooks-list'}, 'Endpoints'),
              status, listError, list, empty)),
          form),
        deliveries);

    let endpoints = [];
    let selected = params.get('endpoint') || null;

    function keepSelection() {
        history.replaceState(null, '', selected
            ? `#/webhooks?${new URLSearchParams({endpoint: selected})}`
            : '#/webhooks');
    }

    function renderList() {
        list.replaceChildren(...endpoints.map(ep =>
            endpointItem(ep, ep.id === selected, act)));
        empty.hidden = endpoints.length > 0;
        total.textContent = endpoints.length === 1 ? '1 endpoint'
                            : `${endpoints.length} endpoints`;
    }

    function replace(ep) {
        const i = endpoints.findIndex(e => e.id === ep.id);

        if (i < 0) {
            endpoints.unshift(ep);

        } else {
            endpoints[i] = ep;
        }

        renderList();
    }

    async function loadEndpoints() {
        try {
            const data = await api('GET', '/api/webhooks', undefined,
                                   {signal});
            endpoints = Array.isArray(data.endpoints) ? data.endpoints : [];
            say(listError, '');

            if (!endpoints.some(e => e.id === selected)) {
                selected = endpoints.length ? endpoints[0].id : null;
                keepSelection();
            }

            renderList();
            return true;

        } catch (e) {
            if (!isAbort(e)) {
                say(listError, `The endpoints could not be loaded: `
                               + errorText(e));
            }

            return false;
        }
    }

    // -- deliveries --------------------------------------------------------

    let cursor = null;
    let generation = 0;
    let paged = false;
    let timer = null;

    async function loadDeliveries(reset) {
        clearTimeout(timer);

        const ep = endpoints.find(e => e.id === selected);

        deliveries.hidden = !ep;

        if (!ep) {
            return;
        }

        const mine = reset ? ++generation : generation;
        const q = new URLSearchParams({limit: DELIVERIES_PAGE});
        const wanted = filter.querySelector('select').value;

        if (wanted) {
            q.set('status', wanted);
        }

        if (!reset && cursor) {
            q.set('cursor', cursor);
        }

        deliveriesFor.textContent = ep.url;
        more.disabled = true;
        refresh.disabled = true;

        try {
            const data = await api('GET',
                `/api/webhooks/${encodeURIComponent(ep.id)}/deliveries?${q}`,
                undefined, {signal});

            if (mine !== generation) {
                return;
            }

            const got = (data.deliveries || []).map(d => deliveryRow(d,
                                                                  redeliver));

            if (reset) {
                rows.replaceChildren(...got);
                paged = false;

            } else {
                rows.append(...got);
                paged = true;
            }

            cursor = data.nextCursor || null;
            more.hidden = !cursor;
            deliveriesEmpty.textContent = wanted
                ? `No ${wanted} deliveries.`
                : 'No deliveries yet: send a test event.';
            deliveriesEmpty.hidden = rows.children.length > 0;
            updated.textContent = `Updated ${new Date().toLocaleTimeString()}`;
            say(deliveriesError, '');

        } catch (e) {
            if (isAbort(e) || mine !== generation) {
                return;
            }

            say(deliveriesError, `The deliveries could not be loaded: `
                                 + errorText(e));

        } finally {
            more.disabled = false;
            refresh.disabled = false;
        }

        // the first page is fetched again while some are on their way
        if (!paged && rows.querySelector('tr[data-status="pending"]')) {
            timer = setTimeout(() => loadDeliveries(true), REFRESH_MS);
        }
    }

    async function redeliver(d, button) {
        button.disabled = true;

        try {
            await api('POST',
                `/api/webhooks/${encodeURIComponent(selected)}/redeliver`,
                {eventId: d.eventId}, {signal});
            say(status, `${d.eventType} is sent again.`);
            await loadDeliveries(true);

        } catch (e) {
            if (!isAbort(e)) {
                say(deliveriesError, `It was not sent again: ${errorText(e)}`);
            }

        } finally {
            button.disabled = false;
        }
    }

    // -- the secret --------------------------------------------------------

    function showSecret(secret, ep, rotated) {
        const panel = secretPanel(secret, ep, rotated, () => {
            // the secret leaves the page
            panel.remove();
            list.querySelector(`li[data-id="${CSS.escape(ep.id)}"] button`)
                ?.focus();
        });

        secretBox.replaceChildren(panel);
        panel.querySelector('#webhook-secret').focus();
    }

    function forgetSecret(id) {
        const panel = secretBox.firstElementChild;

        if (panel && panel.dataset.endpoint === id) {
            panel.remove();
        }
    }

    // -- the endpoints' buttons --------------------------------------------

    async function act(name, ep, button) {
        const path = `/api/webhooks/${encodeURIComponent(ep.id)}`;

        if (name === 'edit') {
            edit(ep);
            return;
        }

        if (name === 'show') {
            selected = ep.id;
            keepSelection();
            renderList();
            loadDeliveries(true);
            return;
        }

        if (name === 'rotate'
            && !confirm(`Rotate the secret of ${ep.url}? A new secret is `
                        + 'shown once; the old one keeps signing deliveries '
                        + 'for a while.'))
        {
            return;
        }

        if (name === 'delete'
            && !confirm(`Delete the endpoint ${ep.url}? Its deliveries `
                        + 'stop and their log is deleted.'))
        {
            return;
        }

        button.disabled = true;
        say(listError, '');

        try {
            switch (name) {
            case 'test': {
                const data = await api('POST', `${path}/test`, {}, {signal});
                say(status, `Test event ${data.eventId} sent to ${ep.url}.`);
                selected = ep.id;
                keepSelection();
                renderList();
                await loadDeliveries(true);
                break;
            }

            case 'toggle': {
                const data = await api('PATCH', path, {enabled: !ep.enabled},
                                       {signal});
                replace(data.endpoint);
                say(status, `${ep.url} is ${data.endpoint.enabled
                                            ? 'enabled' : 'disabled'}.`);
                break;
            }

            case 'rotate': {
                const data = await api('POST', `${path}/rotate`, {}, {signal});
                replace(data.endpoint);
                showSecret(data.secret, data.endpoint, true);
                say(status, `The secret of ${ep.url} is rotated.`);
                break;
            }

            case 'delete':
                await api('DELETE', path, undefined, {signal});
                endpoints = endpoints.filter(e => e.id !== ep.id);
                forgetSecret(ep.id);

                if (editing && editing.id === ep.id) {
                    edit(null);
                }

                if (selected === ep.id) {
                    selected = endpoints.length ? endpoints[0].id : null;
                    keepSelection();
                    loadDeliveries(true);
                }

                renderList();
                say(status, `${ep.url} is deleted.`);
                break;
            }

        } catch (e) {
            if (isAbort(e)) {
                return;
            }

            say(listError, errorText(e));

            // gone meanwhile (deleted in another tab): the list as it is
            if (e.status === 404) {
                await loadEndpoints();
                loadDeliveries(true);
            }

        } finally {
            if (button.isConnected) {
                button.disabled = false;
            }
        }
    }

    // -- adding and changing -------------------------------------------------

    // the form changes ep (its URL, description and events) until saved or
    // cancelled; edit(null): back to adding
    let editing = null;

    function edit(ep) {
        editing = ep;
        form.reset();
        say(formError, '');
        url.removeAttribute('aria-invalid');
        formTitle.textContent = ep ? 'Edit the endpoint' : 'Add an endpoint';
        add.textContent = ep ? 'Save changes' : 'Add endpoint';
        cancel.hidden = !ep;
        form.dataset.editing = ep ? ep.id : '';

        if (!ep) {
            return;
        }

        url.value = ep.url;
        description.value = ep.description || '';

        for (const box of events.querySelectorAll('input[type="checkbox"]')) {
            box.checked = (ep.eventTypes || []).includes(box.value);
        }

        url.focus();
    }

    cancel.addEventListener('click', () => edit(null));

    function validUrl(text) {
        try {
            const u = new URL(text);
            return u.protocol === 'https:' || u.protocol === 'http:';

        } catch {
            return false;
        }
    }

    form.addEventListener('submit', async e => {
        e.preventDefault();

        const body = {url: url.value.trim()};
        const d = description.value.trim();
        const types = [...events.querySelectorAll('input:checked')]
            .map(c => c.value);

        url.removeAttribute('aria-invalid');

        if (!validUrl(body.url)) {
            say(formError, 'url must be an http:// or https:// URL');
            url.setAttribute('aria-invalid', 'true');
            url.focus();
            return;
        }

        // a change says every field: an emptied description, no type
        // checked (all events) are changes too
        if (d || editing) {
            body.description = d;
        }

        if (types.length || editing) {
            body.eventTypes = types;
        }

        add.disabled = true;

        try {
            if (editing) {
                const data = await api('PATCH', '/api/webhooks/'
                                       + encodeURIComponent(editing.id),
                                       body, {signal});
                replace(data.endpoint);
                say(status, `${data.endpoint.url} is saved.`);
                edit(null);

                if (data.endpoint.id === selected) {
                    deliveriesFor.textContent = data.endpoint.url;
                }

                return;
            }

            const data = await api('POST', '/api/webhooks', body, {signal});
            say(formError, '');
            form.reset();
            selected = data.endpoint.id;
            keepSelection();
            replace(data.endpoint);
            showSecret(data.secret, data.endpoint, false);
            loadDeliveries(true);

        } catch (err) {
            if (isAbort(err)) {
                return;
            }

            say(formError, errorText(err));

            if (err.details.some(x => x && x.path === 'url')) {
                url.setAttribute('aria-invalid', 'true');
                url.focus();
            }

        } finally {
            add.disabled = false;
        }
    });

    refresh.addEventListener('click', async () => {
        await loadEndpoints();
        loadDeliveries(true);
    });
    filter.querySelector('select').addEventListener('change',
                                                    () => loadDeliveries(true));
    more.addEventListener('click', () => loadDeliveries(false));
    signal.addEventListener('abort', () => clearTimeout(timer));

    (async () => {
        if (await loadEndpoints()) {
            await loadDeliveries(true);
        }

        root.dataset.ready = '1';
    })();
}
