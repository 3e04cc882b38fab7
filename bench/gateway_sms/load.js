#!/usr/bin/env node
// Load generator and receipt sink for bench/gateway_sms_bench.sh (no npm packages: node's own
// http/http2). One process per side stays up for all its phases, so that the receiver of the
// receipts never goes away under the system measured (a report in flight to a vanished AS would be
// retried seconds later and stall the next phase).
//
//   load.js msgin5g URL_BASE CONC UES PORT
//     AS side of msgin5gd: an h2c server on 127.0.0.1:PORT takes POST /as/as-1/deliver-report
//     (answers 204, keeps the first arrival time per msgId); messages are POSTs of
//     {URL_BASE}/msgs-msgdelivery/v1/deliver-as-message over 2 HTTP/2 connections, each with a
//     unique msgId TAG-i to ue-sms-(i % UES), stoAndFwInd and delivStReqInd.
//
//   load.js kannel URL_BASE CONC UES PORT
//     The same against Kannel's smsbox: GETs of {URL_BASE}/cgi-bin/sendsms?...&dlr-mask=3
//     &dlr-url=http://127.0.0.1:PORT/dlr?id=TAG-i%26type=%d to 4670000000 + (i % UES), over CONC
//     keep-alive HTTP/1.1 connections; an HTTP/1.1 server on PORT takes the dlr-url callbacks.
//
// Prints "ready" once listening, then reads phases from stdin, one line each: "TAG COUNT RATE"
// (RATE 0: as fast as CONC requests in flight allow; R > 0: request i leaves at start + i / R, still
// at most CONC in flight). A phase ends when every request is answered and every accepted message
// has its receipt (or WAIT_S seconds, default 120, after the last answer), and prints one line of
// key=value: sent ok errors accept_s accept_rate reports final_ok other e2e_s e2e_rate p50_ms
// p99_ms (request sent -> receipt at the AS / dlr-url: the application's view) cpu_s (this
// process's CPU seconds during the phase). Exits when stdin closes.
'use strict';

const http = require('http');
const http2 = require('http2');
const readline = require('readline');

const [mode, base, concArg, uesArg, portArg] = process.argv.slice(2);
if (!portArg || (mode !== 'msgin5g' && mode !== 'kannel')) {
  process.stderr.write('usage: load.js msgin5g|kannel URL_BASE CONC UES PORT\n');
  process.exit(64);
}
const CONC = Number(concArg), UES = Number(uesArg), PORT = Number(portArg);
const WAIT_S = Number(process.env.WAIT_S || 120);
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;  // ms, monotonic
const cpu = () => (u => (u.user + u.system) / 1e6)(process.cpuUsage());

let ph = null;  // the running phase

function newPhase(tag, count, rate) {
  return {
    tag: tag, N: count, rate: rate, sentAt: new Float64Array(count), reportAt: new Float64Array(count),
    reports: 0, finalOk: 0, other: 0, ok: 0, errors: 0, done: 0, next: 0, firstErr: null,
    tStart: now(), tAccepted: 0, tLastReport: 0, cpu0: cpu(), finished: false, timer: null,
  };
}

function noteReport(id, success) {
  const p = ph;
  let i = -1;
  if (p && id && id.startsWith(p.tag + '-')) {
    const n = Number(id.substring(p.tag.length + 1));
    if (Number.isInteger(n) && n >= 0 && n < p.N) i = n;
  }
  if (i < 0) { if (p) p.other++; return; }
  if (p.reportAt[i] !== 0) return;
  p.reportAt[i] = p.tLastReport = now();
  p.reports++;
  if (success) p.finalOk++;
  if (p.done === p.N && p.reports >= p.ok) finish(p);
}

// ---- receivers
function startReceiver(cb) {
  if (mode === 'msgin5g') {
    const srv = http2.createServer({settings: {maxConcurrentStreams: 1024}});
    srv.on('stream', (stream, headers) => {
      const chunks = [];
      stream.on('data', c => chunks.push(c));
      stream.on('end', () => {
        stream.respond({':status': 204});
        stream.end();
        if (headers[':path'].endsWith('/deliver-report')) {
          try {
            const r = JSON.parse(Buffer.concat(chunks).toString());
            noteReport(r.msgId, r.delivSt === 'REPT_DELY_SUCCESS');
          } catch (e) { noteReport(null, false); }
        } else {
          noteReport(null, false);
        }
      });
    });
    srv.on('sessionError', () => {});
    srv.listen(PORT, '127.0.0.1', cb);
  } else {
    const srv = http.createServer((req, res) => {
      const u = new URL(req.url, 'http://x');
      res.writeHead(200, {'content-type': 'text/plain'});
      res.end('ok');
      const type = Number(u.searchParams.get('type'));
      // 1 delivered, 2 failed, 16 rejected by the SMSC; 8 (SMSC accepted) is not asked for.
      if (type === 1 || type === 2 || type === 16) noteReport(u.searchParams.get('id'), type === 1);
      else noteReport(null, false);
    });
    srv.keepAliveTimeout = 60000;
    srv.listen(PORT, '127.0.0.1', cb);
  }
}

// ---- senders
function completed(p, good, what) {
  p.done++;
  if (good) p.ok++;
  else {
    p.errors++;
    if (!p.firstErr) p.firstErr = what;
  }
  if (p.done === p.N) {
    p.tAccepted = now();
    if (p.reports >= p.ok) finish(p);
    else p.timer = setTimeout(() => finish(p), WAIT_S * 1000);
  } else {
    send(p);
  }
}

let sendIndex;
// Takes the next index; with a rate, holds it until its due time (the window stays CONC).
function send(p) {
  if (p.next >= p.N) return;
  const i = p.next++;
  const wait = p.rate > 0 ? p.tStart + (1000 * i) / p.rate - now() : 0;
  if (wait > 0) setTimeout(() => sendIndex(p, i), wait);
  else sendIndex(p, i);
}

if (mode === 'msgin5g') {
  let sessions = null;
  const path = '/msgs-msgdelivery/v1/deliver-as-message';
  sendIndex = (p, i) => {
    if (sessions === null || sessions.some(s => s.destroyed || s.closed)) {
      sessions = [http2.connect(base), http2.connect(base)];
      for (const s of sessions) s.on('error', e => { if (ph && !ph.firstErr) ph.firstErr = String(e); });
    }
    const body = JSON.stringify({
      oriAddr: {addrType: 'AS', addr: 'as-1'}, destAddr: {addrType: 'UE', addr: 'ue-sms-' + (i % UES)},
      msgId: p.tag + '-' + i, stoAndFwInd: true, payload: 'bench message ' + i, delivStReqInd: true,
    });
    p.sentAt[i] = now();
    const req = sessions[i % sessions.length].request({
      ':method': 'POST', ':path': path, 'content-type': 'application/json',
    });
    let status = 0;
    const chunks = [];
    req.on('response', h => { status = h[':status']; });
    req.on('data', c => chunks.push(c));
    req.on('end', () => {
      const good = status >= 200 && status < 300;
      completed(p, good, good ? null : status + ' ' + Buffer.concat(chunks).toString().slice(0, 300));
    });
    req.on('error', e => completed(p, false, String(e)));
    req.end(body);
  };
} else {
  const agent = new http.Agent({keepAlive: true, maxSockets: CONC});
  const u = new URL(base);
  sendIndex = (p, i) => {
    const id = p.tag + '-' + i;
    const dlr = 'http://127.0.0.1:' + PORT + '/dlr?id=' + id + '&type=%d';
    const q = new URLSearchParams({
      username: 'bench', password: 'bench', from: 'MSGin5G', to: String(4670000000 + (i % UES)),
      text: 'bench message ' + i, 'dlr-mask': '3', 'dlr-url': dlr,
    });
    p.sentAt[i] = now();
    const req = http.get({host: u.hostname, port: u.port, path: '/cgi-bin/sendsms?' + q, agent: agent}, res => {
      const chunks = [];
      res.on('data', c => chunks.push(c));
      res.on('end', () => {
        const good = res.statusCode === 202 || res.statusCode === 200;
        completed(p, good, good ? null : res.statusCode + ' ' + Buffer.concat(chunks).toString().slice(0, 300));
      });
    });
    req.on('error', e => completed(p, false, String(e)));
  };
}

function finish(p) {
  if (p.finished) return;
  p.finished = true;
  if (p.timer) clearTimeout(p.timer);
  const lat = [];
  for (let i = 0; i < p.N; i++) if (p.reportAt[i] !== 0) lat.push(p.reportAt[i] - p.sentAt[i]);
  lat.sort((a, b) => a - b);
  const pct = q => lat.length ? lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] : 0;
  const acceptS = (p.tAccepted - p.tStart) / 1000;
  const e2eS = ((p.tLastReport || now()) - p.tStart) / 1000;
  const out = {
    sent: p.N, ok: p.ok, errors: p.errors, accept_s: acceptS.toFixed(3),
    accept_rate: (p.ok / acceptS).toFixed(0), reports: p.reports, final_ok: p.finalOk, other: p.other,
    e2e_s: e2eS.toFixed(3), e2e_rate: (p.reports / e2eS).toFixed(0), p50_ms: pct(0.5).toFixed(1),
    p99_ms: pct(0.99).toFixed(1), cpu_s: (cpu() - p.cpu0).toFixed(2),
  };
  process.stdout.write(Object.entries(out).map(([k, v]) => k + '=' + v).join(' ') + '\n');
  if (p.firstErr) process.stderr.write(p.tag + ': first error: ' + p.firstErr + '\n');
  startNext();
}

const queue = [];
function startNext() {
  if (ph && !ph.finished) return;
  const line = queue.shift();
  if (line === undefined) return;
  const [tag, count, rate] = line.trim().split(/\s+/);
  ph = newPhase(tag, Number(count), Number(rate || 0));
  for (let c = 0; c < CONC; c++) send(ph);
}

startReceiver(() => {
  process.stdout.write('ready\n');
  const rl = readline.createInterface({input: process.stdin});
  rl.on('line', line => {
    if (!line.trim()) return;
    queue.push(line);
    startNext();
  });
  rl.on('close', () => setTimeout(() => process.exit(0), 200));
});
