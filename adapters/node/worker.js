#!/usr/bin/env node
// sessioncheck worker for express-session 1.19.0 over session-file-store
// 1.5.0 (docs/PROTOCOL.md). Every store operation is one request through
// express-session's own middleware: a fake request carrying the signed
// session cookie, the application's handler, and res.end(), at which
// express-session saves, touches or destroys through the store. See
// adapters/node/README.md for the mapping. Nothing here is copied from
// express-session or session-file-store; it only calls them.
'use strict';

// The store's clock is the protocol's fixed "now": Date is replaced before
// express-session and session-file-store are loaded, so that their
// Date.now() and new Date() read it.
const RealDate = Date;
let fixedNow = RealDate.now();
class FixedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(fixedNow);
    else super(...args);
  }
  static now() { return fixedNow; }
}
global.Date = FixedDate;

const path = require('path');
const readline = require('readline');
const crypto = require('crypto');

const PROTOCOL = 'sessioncheck-worker';
const ALL_OPS = ['create', 'load', 'save', 'touch', 'delete', 'exists', 'cycle', 'clear-expired'];
const OPS = ['create', 'load', 'save', 'touch', 'delete', 'exists', 'cycle'];
const KEY_RE = /^[a-z0-9]{8,64}$/;
const KEY_CHARS = 'abcdefghijklmnopqrstuvwxyz0123456789';
const COOKIE = 'connect.sid';
// The protocol's values are kept under this name in the session (the
// session object also holds express-session's cookie and the store's
// __lastAccess).
const VALUES = 'sc';

let session, signature, FileStore;
try {
  session = require('express-session');
  signature = require('cookie-signature');
  FileStore = require('session-file-store')(session);
} catch (e) {
  process.stderr.write('node-worker: cannot load express-session or session-file-store (' + e.message +
    '): run `npm ci` in ' + __dirname + '\n');
  process.exit(3);
}

class ProtocolError extends Error {}

function send(obj) { process.stdout.write(JSON.stringify(obj) + '\n'); }

function parseTime(v, field) {
  if (typeof v !== 'string' || !/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/.test(v)) {
    throw new ProtocolError(field + ': want an RFC 3339 UTC time, got ' + JSON.stringify(v));
  }
  const ms = RealDate.parse(v);
  if (Number.isNaN(ms)) throw new ProtocolError(field + ': not a time: ' + v);
  return ms;
}

function formatTime(ms) { return new RealDate(ms).toISOString().replace('.000Z', 'Z'); }

function parseValues(v) {
  if (v === undefined || v === null) return {};
  if (typeof v !== 'object' || Array.isArray(v)) throw new ProtocolError('values: want an object');
  const out = {};
  for (const [k, s] of Object.entries(v)) {
    if (typeof s !== 'string') throw new ProtocolError('values: value of ' + JSON.stringify(k) + ' is not a string');
    out[k] = s;
  }
  return out;
}

class Worker {
  constructor() {
    this.hello = false;
    this.opened = false;
    this.pool = null;
  }

  // open makes a new store and middleware for the directory: the reaper
  // off (reapInterval -1; the protocol's clear-expired is not declared),
  // no retries on a missing file (a missing session is not an error to
  // retry), the session-file-store defaults otherwise.
  open(msg) {
    if (typeof msg.dir !== 'string' || !msg.dir) throw new ProtocolError('open: missing dir');
    const fs = require('fs');
    if (!fs.existsSync(msg.dir) || !fs.statSync(msg.dir).isDirectory()) throw new ProtocolError('open: ' + msg.dir + ' is not a directory');
    fixedNow = parseTime(msg.now, 'now');
    this.secret = typeof msg.secret === 'string' && msg.secret ? msg.secret : 'sessioncheck';
    this.pool = Array.isArray(msg.keys) && msg.keys.length ? msg.keys.slice() : null;
    this.store = new FileStore({ path: path.resolve(msg.dir), reapInterval: -1, retries: 0, logFn: () => {} });
    this.mw = session({
      store: this.store, secret: this.secret, name: COOKIE, resave: false, saveUninitialized: false,
      // The key choice: fresh ids from the key pool, or 32 random
      // characters of the protocol's alphabet (express-session's own
      // uid-safe ids are base64url, outside it).
      genid: () => this.newKey(),
    });
    this.opened = true;
  }

  newKey() {
    if (this.pool) return this.pool[crypto.randomInt(this.pool.length)];
    let k = '';
    for (let i = 0; i < 32; i++) k += KEY_CHARS[crypto.randomInt(KEY_CHARS.length)];
    return k;
  }

  // request runs one request: express-session loads the session named by
  // key's cookie ("" for none), handler(req) acts on req.session, and
  // res.end() lets express-session write. It resolves with the handler's
  // result once the store has finished.
  request(key, handler) {
    return new Promise((resolve, reject) => {
      const headers = {};
      if (key) headers.cookie = COOKIE + '=' + encodeURIComponent('s:' + signature.sign(key, this.secret));
      const req = { headers, url: '/', originalUrl: '/', method: 'GET', connection: {}, socket: {} };
      let result, failed = null, settled = false;
      const res = {
        _header: null,
        headersSent: false,
        statusCode: 200,
        getHeader: (n) => headers['res:' + n.toLowerCase()],
        setHeader: (n, v) => { headers['res:' + n.toLowerCase()] = v; },
        writeHead() { this._header = 'HTTP/1.1 200 OK'; this.headersSent = true; return this; },
        _implicitHeader() { this.writeHead(); },
        write() { return true; },
        end() {
          if (!this._header) this.writeHead();
          if (!settled) { settled = true; failed ? reject(failed) : resolve(result); }
          return this;
        },
      };
      this.mw(req, res, (err) => {
        if (err) { settled = true; reject(err); return; }
        Promise.resolve().then(() => handler(req)).then((r) => {
          result = r;
          res.end();
        }, (e) => { failed = e; res.end(); });
      });
    });
  }

  // live says whether the request found key's session with a protocol
  // expiry after now (express-session starts a new session when the store
  // has none, or when the store found it expired).
  found(req, key) { return req.sessionID === key && req.session && req.session[VALUES] !== undefined; }

  async storeOp(op, msg) {
    let key = '';
    if (op !== 'create') {
      key = msg.key === undefined ? '' : msg.key;
      if (typeof key !== 'string') throw new ProtocolError('key must be a string');
      if (!KEY_RE.test(key)) return { outcome: 'invalid-key', message: 'session key ' + JSON.stringify(key) + ' is not ^[a-z0-9]{8,64}$' };
    }
    const setExpiry = (s, ms) => { s.cookie.maxAge = ms - fixedNow; };
    switch (op) {
      case 'create': {
        const values = parseValues(msg.values), exp = parseTime(msg.expiry, 'expiry');
        return this.request('', (req) => {
          req.session[VALUES] = values;
          setExpiry(req.session, exp);
          return { outcome: 'ok', key: req.sessionID };
        });
      }
      case 'load':
      case 'exists':
        return this.request(key, (req) => {
          if (!this.found(req, key)) return op === 'exists' ? { outcome: 'ok', exists: false } : { outcome: 'not-found' };
          if (op === 'exists') return { outcome: 'ok', exists: true };
          const exp = req.session.cookie.expires;
          return { outcome: 'ok', record: { values: Object.assign({}, req.session[VALUES]), expiry: formatTime(exp.getTime()) } };
        });
      case 'save':
      case 'touch': {
        const values = op === 'save' ? parseValues(msg.values) : null, exp = parseTime(msg.expiry, 'expiry');
        return this.request(key, (req) => {
          if (!this.found(req, key)) return { outcome: 'not-found' };
          if (values) req.session[VALUES] = values;
          setExpiry(req.session, exp);
          return { outcome: 'ok' };
        });
      }
      case 'delete':
        // Logout: req.session.destroy() (store.destroy), before the end.
        return this.request(key, (req) => new Promise((resolve, reject) => {
          req.session.destroy((err) => (err ? reject(err) : resolve({ outcome: 'ok' })));
        }));
      case 'cycle':
        // Login: regenerate (store.destroy, then a new id) and copy the
        // data over, as express-session's documentation shows.
        return this.request(key, (req) => new Promise((resolve, reject) => {
          if (!this.found(req, key)) { resolve({ outcome: 'not-found' }); return; }
          const values = req.session[VALUES], maxAge = req.session.cookie.expires.getTime() - fixedNow;
          req.session.regenerate((err) => {
            if (err) { reject(err); return; }
            req.session[VALUES] = values;
            req.session.cookie.maxAge = maxAge;
            resolve({ outcome: 'ok', key: req.sessionID });
          });
        }));
    }
    throw new ProtocolError('op ' + JSON.stringify(op) + ' is not supported by this worker');
  }

  async handle(line, lineno) {
    let msg;
    try { msg = JSON.parse(line); } catch (e) { return { id: null, error: 'line ' + lineno + ': ' + e.message }; }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg)) return { id: null, error: 'line ' + lineno + ': want a JSON object' };
    const id = msg.id;
    if (!Number.isInteger(id)) return { id: null, error: 'line ' + lineno + ': missing or non-integer id' };
    try {
      if (msg.op === 'hello') {
        if (!Number.isInteger(msg.version) || msg.version < 1) throw new ProtocolError('hello: want version >= 1');
        this.hello = true;
        return { id, outcome: 'ok', protocol: PROTOCOL, version: 1, name: 'express-session-1.19.0/session-file-store-1.5.0', ops: OPS, features: ['key-pool'] };
      }
      if (!this.hello) throw new ProtocolError('send hello first');
      if (msg.op === 'open') { this.open(msg); return { id, outcome: 'ok' }; }
      if (!ALL_OPS.includes(msg.op)) throw new ProtocolError('unknown op ' + JSON.stringify(msg.op));
      if (!OPS.includes(msg.op)) throw new ProtocolError('op "' + msg.op + '" is not supported by this worker');
      if (!this.opened) throw new ProtocolError('no store is open: send open first');
      try {
        return Object.assign({ id }, await this.storeOp(msg.op, msg));
      } catch (e) {
        if (e instanceof ProtocolError) throw e;
        return { id, outcome: 'failed', message: String(e && e.stack ? e.message : e) };
      }
    } catch (e) {
      if (e instanceof ProtocolError) return { id, error: e.message };
      return { id, error: 'internal: ' + String(e) };
    }
  }
}

async function main() {
  const w = new Worker();
  const rl = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  let lineno = 0;
  for await (const line of rl) {
    lineno++;
    if (!line.trim()) continue;
    send(await w.handle(line, lineno));
  }
}

main().catch((e) => { process.stderr.write('node-worker: ' + (e && e.stack || e) + '\n'); process.exit(1); });
