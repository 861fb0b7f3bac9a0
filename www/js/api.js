// The API client: every answer is an envelope, and every failure becomes
// an ApiError whose text a person can read.

import { apiBase } from '../config.js';
import * as session from './session.js';

export class ApiError extends Error {
    constructor(message, status, code, details) {
        super(message);
        this.name = 'ApiError';
        this.status = status;
        this.code = code;
        this.details = Array.isArray(details) ? details : [];
    }

    // the field messages of a validation error say more than its headline
    get text() {
        const fields = this.details
            .map(d => d && typeof d.message === 'string' ? d.message : null)
            .filter(Boolean);

        return fields.length ? fields.join('. ') : this.message;
    }
}

export const url = path => apiBase + path;

// options.key: a key to try instead of the session's (signing in)
export async function api(method, path, body, options = {}) {
    const init = {method, signal: options.signal, headers: {}};
    const key = options.key ?? session.key();

    if (key) {
        init.headers.Authorization = `Bearer ${key}`;
    }

    if (body !== undefined) {
        init.headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }

    let res;

    try {
        res = await fetch(url(path), init);

    } catch (e) {
        if (e.name === 'AbortError') {
            throw e;
        }

        throw new ApiError('The server could not be reached. Check the '
                           + 'connection and try again.', 0, 'NETWORK');
    }

    const text = await res.text();
    let payload = null;

    try {
        payload = text ? JSON.parse(text) : null;

    } catch {
        payload = null;
    }

    if (res.ok && payload && payload.success === true) {
        return payload.data;
    }

    const err = payload && payload.error;

    // the session's key was refused (revoked, expired, its account
    // disabled): the tab forgets it and the page says so
    if (res.status === 401 && key && options.key === undefined) {
        session.signOut();
        throw new ApiError('Your API key was refused (revoked, expired or '
                           + 'disabled). Sign in again.', 401,
                           'UNAUTHORIZED');
    }

    if (err && typeof err.message === 'string') {
        throw new ApiError(err.message, err.status || res.status, err.code,
                           err.details);
    }

    throw new ApiError(`The server answered ${res.status}`
                       + (res.statusText ? ` ${res.statusText}` : '')
                       + '. Try again in a moment.', res.status, 'HTTP');
}

// what to show for any error thrown at us
export function errorText(e) {
    if (e instanceof ApiError) {
        return e.text;
    }

    return e && e.message ? e.message : String(e);
}

export const isAbort = e => e && e.name === 'AbortError';
