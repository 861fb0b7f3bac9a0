#!/usr/bin/env node
// Checks recorded answers against the OpenAPI document:
//     node scripts/contract.mjs [--spec docs/openapi.json] LOG...
// Each LOG holds one JSON line per answer the suites got (t/inc/ContractLog.pm,
// with VIDEO_API_CONTRACT_LOG set): {method, path, query?, status,
// content_type, body?}.  Every JSON answer is matched to its path template
// and method in the document, and its body validated against the schema of
// its status (JSON Schema 2020-12, Ajv).  An answer whose route or status
// the document does not declare is a failure; a path or method it does not
// list takes the document's `x-undeclared` responses (404, 405, ...).
// Answers that are not JSON (playlists, segments, HTML, empty) are counted
// apart.  Prints the counts per route and status (-q: only the totals)
// and each kind of failure with its first answer; exit status 1 when
// anything failed.

import { readFileSync } from 'node:fs';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';

const addFormats = addFormatsModule.default ?? addFormatsModule;

const args = process.argv.slice(2);
let specPath = new URL('../docs/openapi.json', import.meta.url).pathname;
let quiet = false;
const logs = [];
for (let i = 0; i < args.length; i++) {
    if (args[i] === '--spec') {
        specPath = args[++i];
    } else if (args[i] === '--quiet' || args[i] === '-q') {
        quiet = true;
    } else {
        logs.push(args[i]);
    }
}
if (logs.length === 0) {
    console.error('usage: contract.mjs [--spec openapi.json] [-q] LOG...');
    process.exit(2);
}

const spec = JSON.parse(readFileSync(specPath, 'utf8'));
const SPEC_ID = 'https://video-api.invalid/openapi.json';

// the document's schemas as one JSON Schema, $defs for components/schemas
function rewrite(node) {
    if (Array.isArray(node)) {
        return node.map(rewrite);
    }
    if (node && typeof node === 'object') {
        const out = {};
        for (const [k, v] of Object.entries(node)) {
            if (k === '$ref' && typeof v === 'string'
                && v.startsWith('#/components/schemas/')) {
                out[k] = SPEC_ID + '#/$defs/'
                         + v.slice('#/components/schemas/'.length);
            } else {
                out[k] = rewrite(v);
            }
        }
        return out;
    }
    return node;
}

const ajv = new Ajv2020({ allErrors: true, strict: true,
                          allowUnionTypes: true });
addFormats(ajv);
ajv.addSchema({ $id: SPEC_ID,
                $defs: rewrite(spec.components?.schemas ?? {}) });

function deref(obj) {
    // a $ref to a component (response, parameter) of the document
    while (obj && obj.$ref) {
        const parts = obj.$ref.replace(/^#\//, '').split('/')
            .map((p) => p.replace(/~1/g, '/').replace(/~0/g, '~'));
        obj = parts.reduce((o, p) => o?.[p], spec);
    }
    return obj;
}

// path templates, the most literal first: /api/live/active before
// /api/live/{id}
const templates = Object.keys(spec.paths).map((t) => {
    const segs = t.split('/');
    const re = new RegExp('^' + segs.map((s) => (/^\{.+\}$/.test(s)
        ? '[^/]+' : s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&'))).join('/')
        + '$');
    const literal = segs.filter((s) => !/^\{.+\}$/.test(s)).join('').length;
    return { template: t, re, literal };
}).sort((a, b) => b.literal - a.literal);

// the path as nginx routes it (r->uri): percent-decoded, slashes merged,
// dot segments resolved
function normalize(raw) {
    let path = raw.replace(/%([0-9A-Fa-f]{2})/g,
                           (_, h) => String.fromCharCode(parseInt(h, 16)));
    path = path.replace(/\/{2,}/g, '/');
    const out = [];
    for (const seg of path.split('/').slice(1)) {
        if (seg === '..') {
            out.pop();
        } else if (seg !== '.') {
            out.push(seg);
        }
    }
    const last = path.split('/').pop();
    return '/' + out.join('/') + ((last === '.' || last === '..') && out.length ? '/' : '');
}

function matchPath(path) {
    path = normalize(path);
    // the router takes one trailing slash as if it were not there
    if (path.length > 1 && path.endsWith('/')) {
        path = path.slice(0, -1);
    }
    for (const t of templates) {
        if (t.re.test(path)) {
            return t.template;
        }
    }
    return null;
}

const compiled = new Map();
function validatorFor(key, schema) {
    if (!compiled.has(key)) {
        compiled.set(key, ajv.compile(rewrite(schema)));
    }
    return compiled.get(key);
}

function isJson(type) {
    return /^application\/(?:[\w.+-]+\+)?json\b/i.test(type ?? '');
}

const counts = new Map();
const failures = [];
let validated = 0;
let nonJson = 0;
let lines = 0;

function fail(rec, why) {
    failures.push({ why, rec });
}

for (const file of logs) {
    let text;
    try {
        text = readFileSync(file, 'utf8');
    } catch (e) {
        console.error(`contract: cannot read ${file}: ${e.message}`);
        process.exit(2);
    }
    for (const line of text.split('\n')) {
        if (line.trim() === '') {
            continue;
        }
        lines++;
        let rec;
        try {
            rec = JSON.parse(line);
        } catch (e) {
            fail({ line }, `unreadable log line: ${e.message}`);
            continue;
        }
        check(rec);
    }
}

function check(rec) {
    const method = String(rec.method).toLowerCase();
    const status = String(rec.status);

    if (!isJson(rec.content_type) || method === 'head'
        || rec.body === undefined || rec.body === '')
    {
        nonJson++;
        return;
    }

    let body;
    try {
        body = JSON.parse(rec.body);
    } catch (e) {
        fail(rec, `the body is not JSON: ${e.message}`);
        return;
    }

    const template = matchPath(rec.path);
    const op = template ? spec.paths[template][method] : undefined;
    let responses;
    let route;
    if (op) {
        responses = op.responses;
        route = `${method.toUpperCase()} ${template}`;
    } else {
        // a path or a method the document does not list
        responses = spec['x-undeclared']?.responses ?? {};
        route = template ? `${method.toUpperCase()} ${template} (undeclared method)`
                         : 'undeclared path';
    }

    const key = `${route} ${status}`;
    const response = deref(responses[status]);
    if (!response) {
        fail(rec, `${route}: status ${status} is not declared`);
        return;
    }
    const media = Object.entries(response.content ?? {})
        .find(([type]) => isJson(type));
    if (!media) {
        fail(rec, `${route} ${status}: the document declares no JSON body`);
        return;
    }
    const schema = media[1].schema ?? {};
    const validate = validatorFor(`${route} ${status}`, schema);
    if (!validate(body)) {
        fail(rec, `${key}: ` + ajv.errorsText(validate.errors,
                                             { dataVar: 'body' }));
        return;
    }
    validated++;
    counts.set(key, (counts.get(key) ?? 0) + 1);
}

const declared = [];
for (const [t, item] of Object.entries(spec.paths)) {
    for (const m of ['get', 'put', 'post', 'delete', 'patch']) {
        if (item[m]) {
            declared.push(`${m.toUpperCase()} ${t}`);
        }
    }
}

console.log(`contract: ${lines} answers recorded, ${validated} JSON answers `
            + `valid against ${specPath.replace(/.*\//, '')}, ${nonJson} `
            + `not JSON (skipped), ${failures.length} failed`);
if (!quiet) {
    for (const [k, n] of [...counts].sort()) {
        console.log(`  ${String(n).padStart(6)}  ${k}`);
    }
}
const seen = new Set([...counts.keys()].map((k) => k.replace(/ \d+$/, '')));
const unseen = declared.filter((r) => !seen.has(r));
if (unseen.length) {
    console.log(`  routes with no JSON answer checked: ${unseen.join(', ')}`);
}

// failures by reason: how many, and the first answer of each
const byWhy = new Map();
for (const f of failures) {
    if (!byWhy.has(f.why)) {
        byWhy.set(f.why, { n: 0, rec: f.rec });
    }
    byWhy.get(f.why).n++;
}
let shown = 0;
for (const [why, { n, rec: r }] of byWhy) {
    if (shown++ === 40) {
        console.log(`... and ${byWhy.size - 40} more kinds of failure`);
        break;
    }
    const rec = { ...r };
    if (typeof rec.body === 'string' && rec.body.length > 1500) {
        rec.body = rec.body.slice(0, 1500) + '...';
    }
    console.log(`FAIL (${n}x) ${why}\n     ${JSON.stringify(rec)}`);
}
process.exit(failures.length ? 1 : 0);
