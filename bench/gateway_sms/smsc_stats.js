#!/usr/bin/env node
// Reads the fake SMSC's event log (tests/support/smsc/fake_smsc.js stdout, one JSON event a line)
// and prints, for the ESME that was bound, what the SMSC saw: submits accepted, the time from the
// first submit_sm to the last receipt acknowledged (deliver_sm_resp ESME_ROK), that rate, and per
// message submit_sm -> its receipt's deliver_sm_resp (p50/p99, ms; t_ms has 1 ms resolution).
// Usage: smsc_stats.js EVENTS_FILE   Output: one line of key=value.
'use strict';
const fs = require('fs');
const readline = require('readline');

const submitAt = new Map();  // message_id -> t_ms of its submit_sm
let submits = 0, refused = 0, acked = 0, ackedErr = 0, first = Infinity, lastAck = 0, lastSubmit = 0;
const lat = [];
const rl = readline.createInterface({input: fs.createReadStream(process.argv[2])});
rl.on('line', line => {
  if (!line.startsWith('{')) return;
  let e;
  try { e = JSON.parse(line); } catch (_) { return; }
  if (e.event === 'submit_sm') {
    if (e.status === 0 && e.message_id) {
      submits++;
      submitAt.set(e.message_id, e.t_ms);
      if (e.t_ms < first) first = e.t_ms;
      lastSubmit = e.t_ms;
    } else {
      refused++;
    }
  } else if (e.event === 'deliver_sm_resp' && e.kind === 'receipt') {
    if (e.status !== 0) { ackedErr++; return; }
    const t0 = submitAt.get(e.message_id);
    if (t0 === undefined) return;
    submitAt.delete(e.message_id);
    acked++;
    lat.push(e.t_ms - t0);
    if (e.t_ms > lastAck) lastAck = e.t_ms;
  }
});
rl.on('close', () => {
  lat.sort((a, b) => a - b);
  const pct = q => lat.length ? lat[Math.min(lat.length - 1, Math.floor(q * lat.length))] : 0;
  const span = (lastAck - first) / 1000;
  const out = {
    submits: submits, refused: refused, receipts_acked: acked, receipts_refused: ackedErr,
    submit_span_s: ((lastSubmit - first) / 1000).toFixed(3),
    submit_rate: (submits / Math.max(0.001, (lastSubmit - first) / 1000)).toFixed(0),
    span_s: span.toFixed(3), rate: (acked / Math.max(0.001, span)).toFixed(0),
    p50_ms: pct(0.5), p99_ms: pct(0.99), max_ms: lat.length ? lat[lat.length - 1] : 0,
  };
  process.stdout.write(Object.entries(out).map(([k, v]) => k + '=' + v).join(' ') + '\n');
});
