// Sign in: paste an API key (made by an admin, or by `make run`); the API
// says what it allows, and the tab keeps it until it is closed or signed
// out.  Signed in, the view shows who the page acts as.

import { api, errorText, isAbort } from './api.js';
import { h, alertBox, say } from './dom.js';
import * as session from './session.js';

function who(me) {
    if (me.auth === 'off' && !me.keyId) {
        return 'This API is open (video_api_auth off): every visitor acts '
               + `as the admin of the account “${me.accountId}”.`;
    }

    return `Signed in as ${me.role} of the account “${me.accountId}”.`;
}

export function signin(root, {signal}) {
    root.dataset.view = 'signin';

    const input = h('input', {id: 'signin-key', name: 'key', type: 'password',
                              autocomplete: 'off', spellcheck: false,
                              class: 'mono', required: true,
                              'aria-describedby': 'signin-hint'});
    const error = alertBox('signin-error');
    const submit = h('button', {id: 'signin-submit', type: 'submit',
                                class: 'button primary'}, 'Sign in');
    const form = h('form', {id: 'signin-form', class: 'panel',
                            novalidate: true},
        h('label', {class: 'field', for: 'signin-key'},
          h('span', {}, 'API key'), input),
        h('small', {id: 'signin-hint', class: 'muted'},
          'A key starts with vapi_. It is kept in this tab only and sent ',
          'to the API alone.'),
        error,
        h('div', {class: 'actions'}, submit));

    const status = h('p', {id: 'signin-who'});
    const out = h('button', {id: 'signout', type: 'button', class: 'button'},
                  'Sign out');
    out.addEventListener('click', () => {
        location.hash = '#/';
        session.signOut();
    });

    const signedIn = session.key() !== null;
    status.textContent = signedIn || session.me.auth === 'off'
        ? who(session.me) : 'You are not signed in: you see public videos.';
    out.hidden = !signedIn;

    root.append(h('div', {class: 'heading'}, h('h1', {}, 'Sign in')),
                status, out, form);

    form.addEventListener('submit', async e => {
        e.preventDefault();

        const key = input.value.trim();

        if (!session.KEY_RE.test(key)) {
            say(error, 'That is not an API key: a key is vapi_ followed by '
                       + '49 letters and digits.');
            input.focus();
            return;
        }

        submit.disabled = true;

        try {
            const me = await api('GET', '/api/me', undefined, {signal, key});
            input.value = '';
            location.hash = '#/';
            session.signIn(key, me);

        } catch (err) {
            if (!isAbort(err)) {
                say(error, err.status === 401
                    ? 'This key was refused: check that it was copied whole '
                      + 'and is neither revoked nor expired.'
                    : errorText(err));
                input.focus();
            }

        } finally {
            submit.disabled = false;
        }
    });

    root.dataset.ready = '1';
}
