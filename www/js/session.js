// Who uses the page: an API key kept for this tab only (sessionStorage:
// gone when the tab closes, never in a URL the page makes, never sent
// anywhere but the API's Authorization header), and what the API says it
// allows (GET /api/me).  A key arrives pasted into the sign-in form or in
// the URL fragment of the link `make run` prints (#key=...), which is
// taken out of the address bar and history at once; fragments are never
// sent to a server, so the key is in no server's log.

const STORE = 'video-api.key';

// the API's key format: "vapi_", 43 base62 characters of secret and 6 of
// checksum; anything else is refused before a request is made
export const KEY_RE = /^vapi_[0-9A-Za-z]{49}$/;

// {role: 'admin'|'editor'|'viewer'|null, accountId, keyId, auth: 'on'|'off'}
export let me = {role: null, accountId: null, keyId: null, auth: 'on'};

export function key() {
    try {
        return sessionStorage.getItem(STORE);

    } catch {
        return null;
    }
}

function keep(value) {
    try {
        if (value) {
            sessionStorage.setItem(STORE, value);

        } else {
            sessionStorage.removeItem(STORE);
        }

    } catch {
        // storage refused (a private window's quota): the key lives until
        // the page is left
    }
}

// a key in the fragment (#key=vapi_...) moves into this tab's storage and
// out of the address bar, before anything else reads the URL
export function takeFromFragment() {
    const m = location.hash.match(/^#key=([^&]*)$/);

    if (!m) {
        return false;
    }

    history.replaceState(null, '', location.pathname + location.search
                                    + '#/');

    if (KEY_RE.test(m[1])) {
        keep(m[1]);
        return true;
    }

    return false;
}

// who the page acts as, from GET /api/me, once at start
export function assume(who) {
    me = who;
}

function set(who) {
    me = who;
    document.dispatchEvent(new CustomEvent('session'));
}

export function signIn(value, who) {
    keep(value);
    set(who);
}

export function signOut() {
    keep(null);
    set({role: null, accountId: null, keyId: null, auth: me.auth});
}

// what the session may do
export const canUpload = () => me.role === 'editor' || me.role === 'admin';

export const canChange = v => me.role === 'admin'
    || (me.role === 'editor' && Boolean(v) && v.accountId === me.accountId);
