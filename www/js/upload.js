// Upload: the file goes straight to storage with the presigned URL the
// API gives, with a progress bar and a cancel button; then complete names
// it and queues it, and the page follows the transcoding to READY.

import { api, errorText, isAbort } from './api.js';
import { h, alertBox, say } from './dom.js';
import { bytes } from './format.js';
import * as session from './session.js';

// the API's own rules and words (POST /api/upload/presign), so a wrong
// file is refused before a byte moves, with the message the API gives
export const TYPES = ['video/mp4', 'video/webm', 'video/ogg'];
export const MAX_SIZE = 2147483648;

export function fileProblems(file) {
    const problems = [];

    if (file.name.length < 1 || file.name.length > 255) {
        problems.push('fileName must be 1 to 255 characters');
    }

    if (file.size < 1 || file.size > MAX_SIZE) {
        problems.push('fileSize must be an integer from 1 to 2147483648 '
                      + '(2 GiB)');
    }

    if (!TYPES.includes(file.type)) {
        problems.push('contentType must be one of video/mp4, video/webm, '
                      + 'video/ogg');
    }

    return problems;
}

const POLL_MS = 1000;

// what a visitor without an editor's key sees where a form would be
export function signInFirst(root, what) {
    root.append(h('p', {id: 'signin-needed', class: 'notice'},
        `${what} needs an editor's or an admin's API key: `,
        h('a', {href: '#/signin'}, 'sign in'), '.'));
}

export function upload(root, {signal}) {
    root.dataset.view = 'upload';

    if (!session.canUpload()) {
        root.append(h('div', {class: 'heading'},
                      h('h1', {}, 'Upload a video')));
        signInFirst(root, 'Uploading');
        root.dataset.ready = '1';
        return;
    }

    const file = h('input', {id: 'file', type: 'file', class: 'file-input',
                             accept: TYPES.join(',')});
    const chosen = h('span', {id: 'file-chosen', class: 'muted'},
                     'MP4, WebM or Ogg, up to 2 GiB');
    const drop = h('div', {id: 'dropzone', class: 'dropzone'},
        h('label', {for: 'file'},
          h('strong', {}, 'Choose a video'), ' or drop it here'),
        file, chosen);
    const title = h('input', {id: 'upload-title', name: 'title',
                              maxLength: 255, autocomplete: 'off'});
    const description = h('textarea', {id: 'upload-description',
                                       name: 'description', rows: 3,
                                       maxLength: 2000});
    const start = h('button', {id: 'upload-start', type: 'submit',
                               class: 'button primary', disabled: true},
                    'Upload');
    const cancel = h('button', {id: 'upload-cancel', type: 'button',
                                class: 'button', hidden: true}, 'Cancel');
    const error = alertBox('upload-error');

    const state = h('p', {id: 'upload-state', class: 'state',
                          'aria-live': 'polite'});
    const bar = h('progress', {id: 'upload-progress', max: 100, value: 0,
                               'aria-labelledby': 'upload-progress-label'});
    const barText = h('span', {id: 'upload-progress-text', class: 'muted'});
    const tbar = h('progress', {id: 'transcode-progress', max: 100, value: 0,
                                'aria-labelledby': 'transcode-label'});
    const tText = h('span', {id: 'transcode-text', class: 'muted'});
    const watchLink = h('a', {id: 'upload-watch', class: 'button primary',
                              hidden: true}, 'Watch it');
    const another = h('button', {type: 'button', class: 'button',
                                 hidden: true,
                                 onclick: () => reset()}, 'Upload another');

    const upBlock = h('div', {class: 'meter', hidden: true},
        h('span', {id: 'upload-progress-label'}, 'Upload'), bar, barText);
    const tBlock = h('div', {class: 'meter', hidden: true},
        h('span', {id: 'transcode-label'}, 'Transcoding'), tbar, tText);

    const form = h('form', {id: 'upload-form', class: 'panel',
                            novalidate: true},
        drop,
        h('label', {class: 'field', for: 'upload-title'},
          h('span', {}, 'Title'), title),
        h('label', {class: 'field', for: 'upload-description'},
          h('span', {}, 'Description ', h('small', {}, '(optional)')),
          description),
        error,
        h('div', {class: 'actions'}, start, cancel),
        h('div', {class: 'progress-area'}, state, upBlock, tBlock,
          h('div', {class: 'actions'}, watchLink, another)));

    root.append(h('div', {class: 'heading'}, h('h1', {}, 'Upload a video')),
                form);

    let picked = null;
    let xhr = null;
    let busy = false;
    let poll = null;
    const seen = [];

    function setState(text) {
        state.textContent = text;
    }

    function pick(f) {
        if (busy || !f) {
            return;
        }

        picked = null;
        start.disabled = true;
        chosen.textContent = `${f.name} · ${bytes(f.size)}`;

        const problems = fileProblems(f);

        if (problems.length) {
            say(error, problems.join('. '));
            return;
        }

        say(error, '');
        picked = f;
        start.disabled = false;

        if (!title.value.trim()) {
            title.value = f.name.replace(/\.[^.]+$/, '').slice(0, 255);
        }
    }

    file.addEventListener('change', () => pick(file.files[0]));

    for (const type of ['dragenter', 'dragover']) {
        drop.addEventListener(type, e => {
            e.preventDefault();
            drop.classList.add('over');
        });
    }

    for (const type of ['dragleave', 'drop']) {
        drop.addEventListener(type, () => drop.classList.remove('over'));
    }

    drop.addEventListener('drop', e => {
        e.preventDefault();
        pick(e.dataTransfer.files[0]);
    });

    function lock(on) {
        busy = on;

        for (const el of [file, title, description, start]) {
            el.disabled = on;
        }

        drop.classList.toggle('disabled', on);
    }

    function reset() {
        clearTimeout(poll);
        lock(false);
        picked = null;
        file.value = '';
        title.value = '';
        description.value = '';
        chosen.textContent = 'MP4, WebM or Ogg, up to 2 GiB';
        start.disabled = true;
        upBlock.hidden = tBlock.hidden = true;
        watchLink.hidden = another.hidden = true;
        form.removeAttribute('data-video-id');
        seen.length = 0;
        tbar.dataset.seen = '';
        setState('');
        say(error, '');
        file.focus();
    }

    // PUT with XMLHttpRequest: fetch cannot report upload progress.  The
    // URL is signed for exactly these headers (the type presign checked,
    // If-None-Match: *) and the file's size, which the browser sends as
    // Content-Length itself
    function put(target, headers, f) {
        return new Promise((resolve, reject) => {
            xhr = new XMLHttpRequest();
            xhr.open('PUT', target);

            for (const [name, value] of Object.entries(headers)) {
                xhr.setRequestHeader(name, value);
            }

            xhr.upload.addEventListener('progress', e => {
                if (e.lengthComputable) {
                    showUpload(e.loaded, e.total);
                }
            });

            xhr.addEventListener('load', () => {
                if (xhr.status >= 200 && xhr.status < 300) {
                    resolve();

                } else {
                    reject(new Error(`Storage refused the upload (HTTP `
                                     + `${xhr.status}). Try again.`));
                }
            });

            xhr.addEventListener('error', () =>
                reject(new Error('The upload was interrupted. Check the '
                                 + 'connection and try again.')));
            xhr.addEventListener('abort', () =>
                reject(new DOMException('cancelled', 'AbortError')));

            xhr.send(f);
        });
    }

    function showUpload(loaded, size) {
        const pct = size ? Math.floor(loaded * 100 / size) : 100;
        bar.value = pct;
        barText.textContent = `${bytes(loaded)} of ${bytes(size)} (${pct}%)`;
    }

    cancel.addEventListener('click', () => {
        if (xhr) {
            xhr.abort();
        }
    });

    form.addEventListener('submit', async e => {
        e.preventDefault();

        if (!picked || busy) {
            return;
        }

        const f = picked;
        lock(true);
        say(error, '');
        upBlock.hidden = false;
        tBlock.hidden = true;
        showUpload(0, f.size);

        try {
            setState('Uploading');
            const presigned = await api('POST', '/api/upload/presign',
                {fileName: f.name, fileSize: f.size, contentType: f.type});
            form.dataset.videoId = presigned.videoId;

            cancel.hidden = false;
            await put(presigned.uploadUrl,
                      presigned.uploadHeaders || {'Content-Type': f.type}, f);
            cancel.hidden = true;
            xhr = null;

            if (signal.aborted) {
                window.removeEventListener('beforeunload', leaving);
            }

            showUpload(f.size, f.size);
            setState('Uploaded');

            const body = {key: presigned.key};
            const t = title.value.trim();
            const d = description.value.trim();

            if (t) {
                body.title = t;
            }

            if (d) {
                body.description = d;
            }

            const {video} = await api('POST',
                `/api/upload/${presigned.videoId}/complete`, body);

            follow(video.id);

        } catch (err) {
            cancel.hidden = true;
            xhr = null;

            if (signal.aborted) {
                window.removeEventListener('beforeunload', leaving);
                return;
            }

            if (isAbort(err)) {
                setState('Cancelled');
                say(error, 'The upload was cancelled; nothing was saved.');

            } else {
                setState('Failed');
                say(error, errorText(err));
            }

            lock(false);
            start.disabled = !picked;
        }
    });

    function showTranscode(p) {
        const pct = Math.max(0, Math.min(100, p.progress || 0));

        if (seen[seen.length - 1] !== pct) {
            seen.push(pct);
            tbar.dataset.seen = seen.join(',');
        }

        tbar.value = pct;
        let text = `${pct}%`;

        if (p.estimatedEnd) {
            const left = Math.round((Date.parse(p.estimatedEnd) - Date.now())
                                    / 1000);

            if (left > 0) {
                text += ` · about ${left < 60 ? `${left} s`
                                              : `${Math.round(left / 60)} min`}`
                        + ' left';
            }
        }

        tText.textContent = text;
    }

    // the transcoder's progress, polled until READY or FAILED
    function follow(id) {
        tBlock.hidden = false;
        setState('Queued');
        showTranscode({progress: 0});

        const tick = async () => {
            let p;

            try {
                p = await api('GET', `/api/videos/${id}/progress`, undefined,
                              {signal});

            } catch (e) {
                if (isAbort(e)) {
                    return;
                }

                say(error, `Progress is not available right now: `
                           + `${errorText(e)}. Retrying…`);
                poll = setTimeout(tick, POLL_MS * 3);
                return;
            }

            say(error, '');

            if (p.status === 'READY') {
                showTranscode({progress: 100});
                setState('Ready');
                watchLink.href = `#/watch/${id}`;
                watchLink.hidden = another.hidden = false;
                return;
            }

            if (p.status === 'FAILED') {
                setState('Failed');
                say(error, `Transcoding failed: ${p.error || 'no reason given'}`);
                another.hidden = false;
                return;
            }

            setState(p.status === 'PROCESSING' ? 'Processing' : 'Queued');
            showTranscode(p);
            poll = setTimeout(tick, POLL_MS);
        };

        tick();
    }

    // moving to another view does not cancel an upload the user started
    // (it completes in the background); closing the tab asks first
    const leaving = e => {
        if (xhr) {
            e.preventDefault();
            e.returnValue = '';
        }
    };

    window.addEventListener('beforeunload', leaving);
    signal.addEventListener('abort', () => {
        clearTimeout(poll);

        if (!xhr) {
            window.removeEventListener('beforeunload', leaving);
        }
    });

    root.dataset.ready = '1';
}
