// A webhook receiver for the suites (t/072-webhook-delivery.t): listens
// on 127.0.0.1:<port>, verifies every request with the reference library
// (standardwebhooks' Webhook.verify) against each secret configured for
// its path, and appends one JSON line per request to the log: path,
// headers, body, which secrets verified it, its arrival time (ms since the
// epoch) and the status answered.  What it answers comes from a control
// file read again at every request, so a suite changes it while it runs:
//
//   {"secrets": {"/a": ["whsec_...", ...], "*": [...]},
//    "paths": {"/a": {"status": 500, "first": 3, "hang": 10,
//                     "location": "http://..."}}}
//
// status: answered to the first `first` requests of the path (all when
// absent), 200 after them; hang: seconds to wait before answering (the
// arrival is logged at once); location: a Location header.
//
//   node t/webhook/receiver.mjs --port N --log FILE --control FILE
//                               [--ready FILE]
import { createServer } from 'node:http';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const { Webhook } = require('standardwebhooks');

const args = {};
for (let i = 2; i + 1 < process.argv.length; i += 2) {
  args[process.argv[i].replace(/^--/, '')] = process.argv[i + 1];
}
if (!args.port || !args.log || !args.control) {
  console.error('usage: receiver.mjs --port N --log FILE --control FILE [--ready FILE]');
  process.exit(2);
}

const seen = new Map();       // path -> requests so far

function control() {
  try {
    return JSON.parse(readFileSync(args.control, 'utf8'));
  } catch {
    return {};
  }
}

const server = createServer((req, res) => {
  const chunks = [];
  req.on('data', (c) => chunks.push(c));
  req.on('end', () => {
    const arrival = Date.now();
    const body = Buffer.concat(chunks).toString('utf8');
    const path = req.url.split('?')[0];
    const c = control();
    const secrets = (c.secrets && (c.secrets[path] ?? c.secrets['*'])) ?? [];
    const rule = (c.paths && c.paths[path]) ?? {};
    const n = (seen.get(path) ?? 0) + 1;
    seen.set(path, n);

    // every secret that verifies it, by its index in the list
    const verifiedBy = [];
    const errors = [];
    secrets.forEach((s, i) => {
      try {
        new Webhook(s).verify(body, req.headers);
        verifiedBy.push(i);
      } catch (e) {
        errors.push(String(e.message));
      }
    });

    let status = 200;
    if (rule.status && (rule.first === undefined || n <= rule.first)) {
      status = rule.status;
    }
    const hang = rule.hang && (rule.first === undefined || n <= rule.first)
      ? rule.hang : 0;

    appendFileSync(args.log, JSON.stringify({
      path, n, arrival, method: req.method,
      headers: {
        'webhook-id': req.headers['webhook-id'],
        'webhook-timestamp': req.headers['webhook-timestamp'],
        'webhook-signature': req.headers['webhook-signature'],
        'content-type': req.headers['content-type'],
        'user-agent': req.headers['user-agent'],
      },
      body, verified: verifiedBy.length > 0, verifiedBy,
      errors, status, hang,
    }) + '\n');

    const answer = () => {
      const headers = { 'content-type': 'text/plain' };
      if (rule.location) {
        headers.location = rule.location;
      }
      try {
        res.writeHead(status, headers);
        res.end(status < 300 ? 'ok\n' : 'no\n');
      } catch {
        // the client went away
      }
    };
    if (hang > 0) {
      setTimeout(answer, hang * 1000);
    } else {
      answer();
    }
  });
  req.on('error', () => {});
});

server.keepAliveTimeout = 5000;
server.listen(Number(args.port), '127.0.0.1', () => {
  if (args.ready) {
    writeFileSync(args.ready, `${process.pid}\n`);
  }
});
process.on('SIGTERM', () => process.exit(0));
