// Upload: the file goes straight to storage as a multipart upload
// (multipart.js: parts in parallel, a progress bar of the bytes storage
// acknowledged plus those in flight, resume, cancel); then complete names
// it and queues it, and the page follows the transcoding to READY.  Every
// file goes this way, a small one as a single part, so any upload can
// resume.

import { api, errorText, isAbort } from './api.js';
import { h, alertBox, say } from './dom.js';
import { bytes } from './format.js';
import { Multipart, remembered } from './multipart.js';
import * as session from './session.js';

// the API's own rules and words (POST /api/upload/multipart), so a wrong
// file is refused before a byte moves, with the message the API gives;
// the size is the default limit (video_api_storage max_upload=), a
// server with a lower one says so itself
export const TYPES = ['video/mp4', 'video/webm', 'video/ogg'];
export const MAX_SIZE = 53687091200;

export function fileProblems(file) {
    const problems = [];

    if (file.name.length < 1 || file.name.length > 255) {
        problems.push('fileName must be 1 to 255 characters');
    }

    if (file.size < 1 || file.size > MAX_SIZE) {
        problems.push('fileSize must be an integer from 1 to 53687091200');
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
                     'MP4, WebM or Ogg, up to 50 GiB');
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
    const hint = h('p', {id: 'upload-resume-hint', class: 'muted hint'},
        'An interrupted upload resumes when you pick the same file again '
        + '(the same name, size and modification time): the parts storage '
        + 'already has are not sent again.');
    const resumeNote = h('p', {id: 'upload-resume', class: 'notice',
                               hidden: true});

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
        drop, hint, resumeNote,
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
    let job = null;
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

        const before = remembered(f);
        resumeNote.hidden = !before;
        start.textContent = before ? 'Resume upload' : 'Upload';

        if (before) {
            resumeNote.textContent = 'This file was partly uploaded before '
                + '(the same name, size and modification time): the upload '
                + 'resumes, and the parts storage already has are not sent '
                + 'again.';
        }

        if (!title.value.trim()) {
            title.value = (before && typeof before.title === 'string'
                           && before.title)
                          || f.name.replace(/\.[^.]+$/, '').slice(0, 255);
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
        chosen.textContent = 'MP4, WebM or Ogg, up to 50 GiB';
        start.disabled = true;
        start.textContent = 'Upload';
        resumeNote.hidden = true;
        upBlock.hidden = tBlock.hidden = true;
        watchLink.hidden = another.hidden = true;
        form.removeAttribute('data-video-id');
        seen.length = 0;
        tbar.dataset.seen = '';
        setState('');
        say(error, '');
        file.focus();
    }

    function showUpload({sent, size, done, total, skipped}) {
        const pct = size ? Math.floor(sent * 100 / size) : 100;
        bar.value = pct;
        bar.dataset.partsDone = done;
        bar.dataset.partsTotal = total;
        bar.dataset.partsSkipped = skipped;
        barText.textContent = `${bytes(sent)} of ${bytes(size)} (${pct}%)`
            + (total > 1 ? ` · ${done} of ${total} parts` : '')
            + (skipped > 0 ? ` (${skipped} stored before)` : '');
    }

    // Cancel: the parts in flight are aborted, the upload is aborted in
    // storage (DELETE /api/upload/:id) and forgotten
    cancel.addEventListener('click', async () => {
        const j = job;

        if (!j || j.cancelling) {
            return;
        }

        j.cancelling = true;
        cancel.disabled = true;
        setState('Cancelling');

        try {
            await j.cancel();
            j.cancelled = true;

        } catch (err) {
            j.cancelled = true;
            j.cancelError = err;
        }

        finish(j);
    });

    let finished = null;

    function finish(j) {
        if (finished) {
            finished(j);
        }
    }

    form.addEventListener('submit', async e => {
        e.preventDefault();

        if (!picked || busy) {
            return;
        }

        const f = picked;
        lock(true);
        say(error, '');
        resumeNote.hidden = true;
        upBlock.hidden = false;
        tBlock.hidden = true;
        bar.value = 0;
        barText.textContent = '';

        const j = new Multipart(f, {onProgress: showUpload,
                                    title: title.value.trim()});
        job = j;
        const settled = new Promise(resolve => { finished = resolve; });

        cancel.hidden = false;
        cancel.disabled = false;

        try {
            setState('Uploading');
            const {resumed, gone} = await j.prepare();
            form.dataset.videoId = j.plan.videoId;

            if (resumed >= 0) {
                setState('Resuming');
                say(error, '');
            }

            if (gone) {
                resumeNote.hidden = false;
                resumeNote.textContent = 'The upload started earlier for '
                    + 'this file is no longer there; it starts again.';
            }

            await j.transfer();
            cancel.hidden = true;
            job = null;

            if (signal.aborted) {
                window.removeEventListener('beforeunload', leaving);
            }

            showUpload({sent: f.size, size: f.size, done: j.plan.partCount,
                        total: j.plan.partCount, skipped: j.skipped});
            setState('Uploaded');

            const body = {};
            const t = title.value.trim();
            const d = description.value.trim();

            if (t) {
                body.title = t;
            }

            if (d) {
                body.description = d;
            }

            const {video} = await j.complete(body);
            resumeNote.hidden = true;

            follow(video.id);

        } catch (err) {
            // a cancel answers once storage's upload is aborted
            if (j.cancelling) {
                await settled;
            }

            cancel.hidden = true;
            job = null;

            if (signal.aborted) {
                window.removeEventListener('beforeunload', leaving);
                return;
            }

            if (j.cancelled) {
                setState('Cancelled');
                say(error, j.cancelError
                    ? 'The upload was stopped, but storage could not be '
                      + `told to drop it: ${errorText(j.cancelError)}`
                    : 'The upload was cancelled; nothing was kept.');

            } else if (isAbort(err)) {
                setState('Cancelled');
                say(error, 'The upload was cancelled.');

            } else if (j.plan && remembered(f)) {
                // what storage has stays: the same file resumes
                setState('Interrupted');
                say(error, `The upload stopped: ${errorText(err)} `
                    + 'Press Upload or pick the same file again to resume; '
                    + 'the parts already stored are not sent again.');
                start.textContent = 'Resume upload';

            } else {
                setState('Failed');
                say(error, errorText(err));
            }

            lock(false);
            // the same file picked again is a change again
            file.value = '';
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
        if (job) {
            e.preventDefault();
            e.returnValue = '';
        }
    };

    window.addEventListener('beforeunload', leaving);
    signal.addEventListener('abort', () => {
        clearTimeout(poll);

        if (!job) {
            window.removeEventListener('beforeunload', leaving);
        }
    });

    root.dataset.ready = '1';
}
