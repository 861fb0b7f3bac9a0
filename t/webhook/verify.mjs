#!/usr/bin/env node
// The standardwebhooks package (the reference TypeScript library of
// Standard Webhooks) on the command line, for t/070-webhook-sign.t to hold
// our signer and verifier (build/webhook-sign) against.  The body is read
// from stdin as bytes.
//
//     node t/webhook/verify.mjs verify <secret> <msg-id> <timestamp> \
//         <signature>
//         the library's Webhook.verify() with those headers, against its
//         own clock: exit 0, or 1 and its error message
//     node t/webhook/verify.mjs sign <secret> <msg-id> <timestamp>
//         prints the library's webhook-signature value for the message
//
// Exit 2: usage, or a secret the library refuses.

import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks');

function usage() {
    process.stderr.write('usage: verify.mjs verify <secret> <msg-id> '
                         + '<timestamp> <signature> < body\n'
                         + '       verify.mjs sign <secret> <msg-id> '
                         + '<timestamp> < body\n');
    process.exit(2);
}

async function readBody() {
    const chunks = [];
    for await (const chunk of process.stdin) {
        chunks.push(chunk);
    }
    return Buffer.concat(chunks);
}

const [mode, secret, id, timestamp, signature] = process.argv.slice(2);

const verifying = mode === 'verify' && signature !== undefined;
const signing = mode === 'sign' && timestamp !== undefined
                && signature === undefined;

if (!verifying && !signing) {
    usage();
}

let wh;
try {
    wh = new Webhook(secret);
} catch (e) {
    process.stderr.write(`verify.mjs: the secret is refused: ${e.message}\n`);
    process.exit(2);
}

const body = await readBody();

if (mode === 'sign') {
    if (!/^[0-9]+$/.test(timestamp)) {
        usage();
    }
    process.stdout.write(wh.sign(id, new Date(Number(timestamp) * 1000), body)
                         + '\n');
    process.exit(0);
}

try {
    // jsonParse: false, bodies need not be JSON
    wh.verify(body, {
        'webhook-id': id,
        'webhook-timestamp': timestamp,
        'webhook-signature': signature,
    }, { jsonParse: false });
} catch (e) {
    process.stdout.write(`${e.name}: ${e.message}\n`);
    process.exit(1);
}
