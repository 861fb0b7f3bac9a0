// A file's way to storage as a multipart upload: the API starts it
// (POST /api/upload/multipart) and hands out presigned part URLs; the
// parts go straight to storage, four at a time, each PUT with the bytes
// of its slice and nothing else, and storage's ETag of each is read from
// its answer; complete names the parts.  More URLs are asked for in
// batches of at most 100 as the upload gets to them, and again for a
// part whose URL expired (storage answers 403).  A part that fails is
// tried again after 1, 2 and 4 s.
//
// Resume: every unfinished upload is remembered in localStorage under the
// file's name, size and modification time.  The same file picked again
// (after a reload, or after the connection dropped) continues that
// upload: GET /api/upload/:id/parts says which parts storage has, and a
// part it has with the size expected is not sent again.  An upload the
// API no longer knows (404, or 409 once completed) is forgotten and the
// file starts afresh.

import { api, ApiError } from './api.js';

export const IN_FLIGHT = 4;
const BATCH = 100;
const BACKOFF_MS = [1000, 2000, 4000];
// a URL is used only while it has this long left
const URL_MARGIN_MS = 60_000;
const PREFIX = 'video-api.upload:';

// ---------------------------------------------------------- remembering --

export function fileId(f) {
    return `${f.name}|${f.size}|${f.lastModified}`;
}

export function remembered(f) {
    try {
        const entry = JSON.parse(localStorage.getItem(PREFIX + fileId(f)));

        if (entry && typeof entry.videoId === 'string'
            && typeof entry.uploadId === 'string'
            && Number.isInteger(entry.partSize)
            && Number.isInteger(entry.partCount))
        {
            return entry;
        }

    } catch {
        // storage refused or an entry of another shape: none
    }

    return null;
}

function remember(f, entry) {
    try {
        localStorage.setItem(PREFIX + fileId(f), JSON.stringify(entry));

    } catch {
        // private mode or full: the upload works, only resuming does not
    }
}

export function forget(f) {
    try {
        localStorage.removeItem(PREFIX + fileId(f));

    } catch {
        // nothing to forget
    }
}

// ---------------------------------------------------------- the upload --

export class StorageError extends Error {
    constructor(message, status) {
        super(message);
        this.name = 'StorageError';
        this.status = status;
    }
}

function sleep(ms, signal) {
    return new Promise((resolve, reject) => {
        if (signal.aborted) {
            reject(new DOMException('cancelled', 'AbortError'));
            return;
        }

        const t = setTimeout(resolve, ms);

        signal.addEventListener('abort', () => {
            clearTimeout(t);
            reject(new DOMException('cancelled', 'AbortError'));
        }, {once: true});
    });
}

export class Multipart {
    // onProgress({sent, size, done, total, skipped}) as bytes move
    constructor(file, {onProgress = () => {}, title = ''} = {}) {
        this.file = file;
        this.onProgress = onProgress;
        this.title = title;
        this.plan = null;
        this.etags = new Map();      // partNumber -> ETag, stored parts
        this.loaded = new Map();     // partNumber -> bytes sent, in flight
        this.urls = new Map();       // partNumber -> {url, until}
        this.xhrs = new Set();
        this.controller = new AbortController();
        this.skipped = 0;
        this.fetching = null;
    }

    get signal() {
        return this.controller.signal;
    }

    partBytes(n) {
        const {partSize, partCount} = this.plan;

        return n < partCount ? partSize
                             : this.file.size - (partCount - 1) * partSize;
    }

    progress() {
        let sent = 0;

        for (const n of this.etags.keys()) {
            sent += this.partBytes(n);
        }

        for (const bytes of this.loaded.values()) {
            sent += bytes;
        }

        this.onProgress({sent: Math.min(sent, this.file.size),
                         size: this.file.size, done: this.etags.size,
                         total: this.plan ? this.plan.partCount : 0,
                         skipped: this.skipped});
    }

    addUrls(parts, expiresIn) {
        const until = Date.now() + expiresIn * 1000 - URL_MARGIN_MS;

        for (const p of parts) {
            this.urls.set(p.partNumber, {url: p.url, until});
        }
    }

    // {resumed: parts storage had, or -1 for a new upload; gone: a
    // remembered upload that the API no longer knows}
    async prepare() {
        const f = this.file;
        const entry = remembered(f);
        let gone = false;

        if (entry) {
            try {
                const have = await api('GET',
                    `/api/upload/${encodeURIComponent(entry.videoId)}/parts`,
                    undefined, {signal: this.signal});

                if (have.uploadId === entry.uploadId
                    && have.fileSize === f.size
                    && have.partSize === entry.partSize
                    && have.partCount === entry.partCount)
                {
                    this.plan = {...entry, key: have.key};

                    for (const p of have.parts || []) {
                        if (p.partNumber >= 1
                            && p.partNumber <= entry.partCount
                            && p.size === this.partBytes(p.partNumber))
                        {
                            this.etags.set(p.partNumber, p.etag);
                        }
                    }

                    this.skipped = this.etags.size;
                    this.progress();
                    return {resumed: this.skipped, gone};
                }

                gone = true;

            } catch (e) {
                if (!(e instanceof ApiError)
                    || (e.status !== 404 && e.status !== 409))
                {
                    throw e;
                }

                gone = true;
            }

            forget(f);
        }

        const made = await api('POST', '/api/upload/multipart',
            {fileName: f.name, fileSize: f.size, contentType: f.type},
            {signal: this.signal});

        this.plan = {videoId: made.videoId, key: made.key,
                     uploadId: made.uploadId, partSize: made.partSize,
                     partCount: made.partCount};
        this.addUrls(made.parts || [], made.expiresIn);

        remember(f, {...this.plan, title: this.title});
        this.progress();
        return {resumed: -1, gone};
    }

    // a fresh URL for part n, asking for a batch with the parts next in
    // line when it has none
    async urlFor(n, queue) {
        for (let i = 0; i < 3; i++) {
            const u = this.urls.get(n);

            if (u && u.until > Date.now()) {
                return u.url;
            }

            if (!this.fetching) {
                const want = [n];

                for (const m of queue) {
                    if (want.length >= BATCH) {
                        break;
                    }

                    const v = this.urls.get(m);

                    if (!v || v.until <= Date.now()) {
                        want.push(m);
                    }
                }

                this.fetching = api('POST',
                    `/api/upload/${encodeURIComponent(this.plan.videoId)}`
                    + '/parts', {partNumbers: want}, {signal: this.signal})
                    .then(r => this.addUrls(r.parts || [], r.expiresIn))
                    .finally(() => { this.fetching = null; });
            }

            await this.fetching;
        }

        throw new Error(`The API gave no URL for part ${n}.`);
    }

    // one PUT of part n; resolves to its ETag
    put(n, url) {
        const start = (n - 1) * this.plan.partSize;
        const body = this.file.slice(start, start + this.partBytes(n));

        return new Promise((resolve, reject) => {
            const xhr = new XMLHttpRequest();
            this.xhrs.add(xhr);
            this.loaded.set(n, 0);

            const done = () => {
                this.xhrs.delete(xhr);
                this.loaded.delete(n);
            };

            xhr.open('PUT', url);
            // storage's answer is empty or S3's XML: read as text, not
            // parsed as a document
            xhr.responseType = 'text';

            xhr.upload.addEventListener('progress', e => {
                this.loaded.set(n, e.loaded);
                this.progress();
            });

            xhr.addEventListener('load', () => {
                done();

                if (xhr.status < 200 || xhr.status >= 300) {
                    reject(new StorageError(`Storage refused part ${n} `
                                            + `(HTTP ${xhr.status}).`,
                                            xhr.status));
                    return;
                }

                const etag = xhr.getResponseHeader('ETag');

                if (!etag) {
                    reject(new StorageError('Storage did not let the page '
                        + 'read the part\'s ETag: its CORS rule must expose '
                        + 'the ETag header.', -1));
                    return;
                }

                resolve(etag);
            });

            xhr.addEventListener('error', () => {
                done();
                reject(new StorageError('The connection to storage was '
                                        + 'lost.', 0));
            });

            xhr.addEventListener('abort', () => {
                done();
                reject(new DOMException('cancelled', 'AbortError'));
            });

            xhr.send(body);
        });
    }

    // part n, tried again after a network error or a 5xx with backoff,
    // and with a new URL after a 403 (expired)
    async part(n, queue) {
        for (let attempt = 0; ; attempt++) {
            try {
                const etag = await this.put(n, await this.urlFor(n, queue));
                this.etags.set(n, etag);
                this.progress();
                return;

            } catch (e) {
                const status = e instanceof StorageError ? e.status : null;
                const again = status === 0 || status === 403
                              || status === 408 || status === 429
                              || status >= 500;

                if (!again || attempt >= BACKOFF_MS.length) {
                    throw e;
                }

                if (status === 403) {
                    this.urls.delete(n);
                }

                this.progress();
                await sleep(BACKOFF_MS[attempt], this.signal);
            }
        }
    }

    // every part storage does not have yet, IN_FLIGHT at a time
    async transfer() {
        const queue = [];

        for (let n = 1; n <= this.plan.partCount; n++) {
            if (!this.etags.has(n)) {
                queue.push(n);
            }
        }

        let failure = null;

        const worker = async () => {
            while (queue.length && !failure) {
                const n = queue.shift();

                try {
                    await this.part(n, queue);

                } catch (e) {
                    if (!failure) {
                        failure = e;
                        // the others stop: what is stored stays for a resume
                        this.stop();
                    }
                }
            }
        };

        await Promise.all(Array.from({length: IN_FLIGHT}, worker));

        if (failure) {
            throw failure;
        }
    }

    parts() {
        const parts = [];

        for (let n = 1; n <= this.plan.partCount; n++) {
            parts.push({partNumber: n, etag: this.etags.get(n)});
        }

        return parts;
    }

    async complete(fields) {
        const r = await api('POST',
            `/api/upload/${encodeURIComponent(this.plan.videoId)}/complete`,
            {key: this.plan.key, ...fields, parts: this.parts()});

        forget(this.file);
        return r;
    }

    // aborts what is in flight, without forgetting the upload
    stop() {
        this.controller.abort();

        for (const xhr of [...this.xhrs]) {
            xhr.abort();
        }
    }

    // stops, aborts the upload in storage (DELETE) and forgets it
    async cancel() {
        this.stop();

        if (this.plan) {
            await api('DELETE',
                `/api/upload/${encodeURIComponent(this.plan.videoId)}`);
        }

        forget(this.file);
    }
}
