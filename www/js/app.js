// The page's router: #/ library, #/upload, #/watch/<id>, #/live,
// #/webhooks, #/signin.
// Each view renders into main#view and returns nothing; it stops its
// timers and requests when the AbortSignal it is given fires (the route
// changed, or the session did).

import { api } from './api.js';
import { h } from './dom.js';
import * as session from './session.js';
import { signin } from './signin.js';
import { library } from './library.js';
import { upload } from './upload.js';
import { watch } from './watch.js';
import { live } from './live.js';
import { webhooks } from './webhooks.js';

let viewRoot = document.getElementById('view');
let current = null;

const routes = [
    [/^\/$/, library, 'library', 'Library'],
    [/^\/upload$/, upload, 'upload', 'Upload'],
    [/^\/watch\/([A-Za-z0-9_-]{1,64})$/, watch, 'library', 'Watch'],
    [/^\/live$/, live, 'live', 'Live'],
    [/^\/webhooks$/, webhooks, 'webhooks', 'Webhooks'],
    [/^\/signin$/, signin, 'signin', 'Sign in'],
];

function parse() {
    const raw = location.hash.replace(/^#/, '') || '/';
    const q = raw.indexOf('?');
    const path = q < 0 ? raw : raw.slice(0, q);
    const params = new URLSearchParams(q < 0 ? '' : raw.slice(q + 1));

    return {path, params};
}

function render() {
    const {path, params} = parse();

    if (current) {
        current.abort();
    }

    current = new AbortController();

    // a new element per view: nothing of the last one (listeners, state,
    // data-ready) survives
    const fresh = viewRoot.cloneNode(false);
    fresh.removeAttribute('data-ready');
    fresh.removeAttribute('data-view');
    viewRoot.replaceWith(fresh);
    viewRoot = fresh;

    for (const [re, view, nav, title] of routes) {
        const m = path.match(re);

        if (!m) {
            continue;
        }

        markNav(nav);
        document.title = `${title} · video-api`;
        view(fresh, {params, id: m[1], signal: current.signal});
        focusHeading(fresh);
        return;
    }

    markNav(null);
    document.title = 'Not found · video-api';
    fresh.dataset.view = 'missing';
    fresh.append(h('h1', {}, 'Page not found'),
                 h('p', {}, 'There is nothing at this address. ',
                   h('a', {href: '#/'}, 'Back to the library'), '.'));
    fresh.dataset.ready = '1';
}

function markNav(name) {
    for (const a of document.querySelectorAll('nav a[data-nav]')) {
        if (a.dataset.nav === name) {
            a.setAttribute('aria-current', 'page');

        } else {
            a.removeAttribute('aria-current');
        }
    }
}

// after a route change, keyboard and screen reader users start at the
// new view's heading, not at the link they used
let first = true;

function focusHeading(root) {
    if (first) {
        first = false;
        return;
    }

    const heading = root.querySelector('h1');

    if (heading) {
        heading.tabIndex = -1;
        heading.focus({preventScroll: true});
    }

    window.scrollTo(0, 0);
}

// the header: who the page acts as, and the way in or out
function showSession() {
    const box = document.getElementById('session');
    const me = session.me;
    const upload = document.querySelector('nav a[data-nav="upload"]');
    const hooks = document.querySelector('nav a[data-nav="webhooks"]');

    upload.hidden = !session.canUpload();
    // only editors and admins have webhooks to see
    hooks.hidden = !session.canUpload();

    if (session.key()) {
        box.replaceChildren(
            h('span', {id: 'session-who', class: 'muted'},
              `${me.role} · ${me.accountId}`),
            h('button', {id: 'session-signout', type: 'button',
                         class: 'button small',
                         onclick: () => {
                             // the library first: nothing of the old view
                             // is asked for again as the new caller
                             location.hash = '#/';
                             session.signOut();
                         }}, 'Sign out'));

    } else if (me.auth === 'off') {
        box.replaceChildren(h('span', {id: 'session-who', class: 'muted'},
                              'Open API'));

    } else {
        box.replaceChildren(h('a', {id: 'session-signin', href: '#/signin',
                                    dataset: {nav: 'signin'}}, 'Sign in'));
    }
}

// a key in the fragment of the link make run prints is taken first, then
// the API says who the page acts as; without an answer the page is
// anonymous and still shows what is public
session.takeFromFragment();

try {
    session.assume(await api('GET', '/api/me'));
} catch {
    // anonymous; a refused key has been forgotten (api.js)
}

// signing in or out shows the same route as the new caller sees it
document.addEventListener('session', () => {
    showSession();
    render();
});

window.addEventListener('hashchange', render);
showSession();
render();
