// Live: create a stream (its key is shown this once), see how to publish
// from OBS or ffmpeg, and the public streams on air now.

import { api, errorText, isAbort } from './api.js';
import { h, alertBox, say, copyText } from './dom.js';
import { ago } from './format.js';
import * as session from './session.js';
import { signInFirst } from './upload.js';

const LIST_POLL_MS = 5000;

function copyField(id, label, value, hint) {
    const input = h('input', {id, readonly: true, value, spellcheck: false,
                              class: 'mono', autocomplete: 'off'});
    const done = h('span', {class: 'copied', 'aria-live': 'polite'});
    const button = h('button', {id: `copy-${id.replace(/^live-/, '')}`,
                                type: 'button', class: 'button',
                                'aria-label': `Copy ${label}`}, 'Copy');

    button.addEventListener('click', async () => {
        done.textContent = await copyText(input.value, input)
            ? 'Copied' : 'Selected: press Ctrl+C';
        setTimeout(() => { done.textContent = ''; }, 3000);
    });

    input.addEventListener('focus', () => input.select());

    return h('div', {class: 'field'},
        h('label', {for: id}, label),
        h('div', {class: 'copy-row'}, input, button, done),
        hint && h('small', {class: 'muted'}, hint));
}

function created(data) {
    const ffmpeg = `ffmpeg -re -i input.mp4 -c:v libx264 -preset veryfast `
                   + `-g 60 -c:a aac -f flv ${data.rtmpUrl}/${data.streamKey}`;

    return h('section', {id: 'live-created', class: 'panel',
                         'aria-labelledby': 'live-created-title'},
        h('h2', {id: 'live-created-title'}, 'Your stream is ready'),
        h('p', {class: 'warning'},
          'The stream key is shown only now. Copy it and keep it secret: ',
          'anyone with it can publish to this stream.'),
        copyField('live-rtmp-url', 'Server', data.rtmpUrl),
        copyField('live-stream-key', 'Stream key', data.streamKey),
        h('h3', {}, 'In OBS Studio'),
        h('ol', {class: 'steps'},
          h('li', {}, 'Settings → Stream → Service: ', h('em', {}, 'Custom…')),
          h('li', {}, 'Server: the server above; Stream Key: the key above.'),
          h('li', {}, 'Settings → Output: keyframe interval 2 s, then ',
            h('em', {}, 'Start Streaming'), '.')),
        h('h3', {}, 'With ffmpeg'),
        h('pre', {class: 'mono'}, ffmpeg),
        h('p', {},
          h('a', {id: 'live-watch-link', class: 'button primary',
                  href: `#/watch/${data.videoId}`}, 'Open the watch page'),
          ' It plays as soon as you publish.'));
}

function item(s) {
    return h('li', {class: 'live-item', dataset: {id: s.id}},
        h('a', {href: `#/watch/${s.id}`},
          h('span', {class: 'badge badge-live'}, 'LIVE'), ' ',
          h('span', {class: 'video-title'}, s.title)),
        h('span', {class: 'muted'},
          s.startedAt ? `started ${ago(s.startedAt)}` : ''));
}

export function live(root, {signal}) {
    root.dataset.view = 'live';

    const title = h('input', {id: 'live-title', name: 'title', required: true,
                              maxLength: 255, autocomplete: 'off'});
    const description = h('textarea', {id: 'live-description',
                                       name: 'description', rows: 2,
                                       maxLength: 2000});
    const create = h('button', {id: 'live-create', type: 'submit',
                                class: 'button primary'}, 'Create stream');
    const formError = alertBox('live-error');
    const form = h('form', {id: 'live-form', class: 'panel', novalidate: true},
        h('h2', {}, 'Start a live stream'),
        h('label', {class: 'field', for: 'live-title'},
          h('span', {}, 'Title'), title),
        h('label', {class: 'field', for: 'live-description'},
          h('span', {}, 'Description ', h('small', {}, '(optional)')),
          description),
        formError,
        h('div', {class: 'actions'}, create));
    const result = h('div', {id: 'live-result'});

    const list = h('ul', {id: 'live-list', class: 'live-list',
                          'aria-live': 'polite'});
    const empty = h('p', {id: 'live-empty', class: 'empty', hidden: true},
                    'Nobody is live right now.');
    const listError = alertBox('live-list-error');

    const side = h('div', {}, form, result);

    root.append(
        h('div', {class: 'heading'}, h('h1', {}, 'Live')),
        h('div', {class: 'columns'},
          side,
          h('section', {class: 'panel', 'aria-labelledby': 'live-now'},
            h('h2', {id: 'live-now'}, 'Live now'),
            listError, list, empty)));

    if (!session.canUpload()) {
        side.replaceChildren();
        signInFirst(side, 'Starting a stream');
    }

    form.addEventListener('submit', async e => {
        e.preventDefault();

        const body = {title: title.value.trim()};
        const d = description.value.trim();

        if (d) {
            body.description = d;
        }

        // the API's rule and words, without a round trip
        if (!body.title) {
            say(formError, 'title must be 1 to 255 characters');
            title.focus();
            return;
        }

        create.disabled = true;

        try {
            const data = await api('POST', '/api/live/create', body, {signal});
            say(formError, '');
            result.replaceChildren(created(data));
            form.reset();
            result.querySelector('#live-stream-key').focus();

        } catch (err) {
            if (!isAbort(err)) {
                say(formError, errorText(err));
            }

        } finally {
            create.disabled = false;
        }
    });

    let timer = null;

    async function refresh() {
        try {
            const {streams} = await api('GET', '/api/live/active', undefined,
                                        {signal});
            list.replaceChildren(...streams.map(item));
            empty.hidden = streams.length > 0;
            say(listError, '');

        } catch (e) {
            if (isAbort(e)) {
                return;
            }

            say(listError, `Live streams could not be loaded: ${errorText(e)}`);
        }

        root.dataset.ready = '1';
        timer = setTimeout(refresh, LIST_POLL_MS);
    }

    signal.addEventListener('abort', () => clearTimeout(timer));
    refresh();
}
