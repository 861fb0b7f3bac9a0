// An HTTP forward proxy for the browser tests: the browser sends every
// request through it (Firefox's network.proxy.* preferences), and it
// passes them on unchanged.  Request bodies of the requests `slowed`
// picks (the part PUTs to the store) can be throttled to a rate, and the
// link to the store can be cut: what is in flight is dropped and new
// requests fail as on a lost network, until it is restored.  Firefox has
// no network emulation a script can drive; this stands in for it.

import http from 'node:http';
import { once } from 'node:events';
import { setTimeout as sleep } from 'node:timers/promises';

const SLICE = 16 * 1024;

export async function startProxy(port, slowed) {
    const state = {
        rate: 0,             // bytes per second per request, 0: unthrottled
        cut: false,
        cutAfter: 0,         // cut once this many slowed requests got a 2xx
        answered: 0,
        log: [],             // {method, url, status, at} of slowed requests
    };
    const open = new Set();

    const drop = (entry) => {
        entry.req.socket.destroy();
        entry.up?.destroy();
    };

    const cutNow = () => {
        state.cut = true;
        for (const entry of open) {
            drop(entry);
        }
        open.clear();
    };

    const server = http.createServer((req, res) => {
        let target;
        try {
            target = new URL(req.url);
        } catch {
            res.writeHead(400).end();
            return;
        }
        const slow = slowed(req.method, target);
        const record = slow ? { method: req.method, url: req.url, status: 0, at: Date.now() } : null;
        if (record) {
            state.log.push(record);
        }
        if (slow && state.cut) {
            // a lost network: the connection goes, no answer
            req.socket.destroy();
            return;
        }
        const headers = { ...req.headers };
        delete headers['proxy-connection'];
        const up = http.request({
            host: target.hostname, port: target.port, method: req.method,
            path: target.pathname + target.search, headers,
        });
        const entry = { req, up };
        if (slow) {
            open.add(entry);
        }
        up.on('response', (r) => {
            if (record) {
                record.status = r.statusCode;
                open.delete(entry);
                if (r.statusCode < 300) {
                    state.answered++;
                }
            }
            res.writeHead(r.statusCode, r.headers);
            r.pipe(res);
            if (record && state.cutAfter && state.answered >= state.cutAfter) {
                // the answer that reached the count still gets through
                r.on('end', () => {
                    if (state.cutAfter && !state.cut) {
                        cutNow();
                    }
                });
            }
        });
        up.on('error', () => res.destroy());
        req.on('error', () => up.destroy());
        if (!slow) {
            req.pipe(up);
            return;
        }
        (async () => {
            try {
                for await (const chunk of req) {
                    for (let i = 0; i < chunk.length; i += SLICE) {
                        if (state.cut) {
                            drop(entry);
                            return;
                        }
                        const slice = chunk.subarray(i, i + SLICE);
                        if (!up.write(slice)) {
                            await once(up, 'drain');
                        }
                        if (state.rate) {
                            await sleep(slice.length * 1000 / state.rate);
                        }
                    }
                }
                up.end();
            } catch {
                drop(entry);
            }
        })();
    });

    server.listen(port, '127.0.0.1');
    await once(server, 'listening');

    return {
        state,
        throttle(rate) { state.rate = rate; },
        cutAfter(n) { state.answered = 0; state.cutAfter = n; },
        cut: cutNow,
        restore() { state.cut = false; state.cutAfter = 0; state.rate = 0; },
        close() {
            for (const entry of open) {
                drop(entry);
            }
            server.closeAllConnections?.();
            return new Promise((resolve) => server.close(() => resolve()));
        },
    };
}
