#!/usr/bin/env node
// The fake SMSC's own ceiling for bench/gateway_sms_bench.sh (SMSC_ONLY=1): a direct ESME on the
// npm `smpp` client (tests/support/smsc/node_modules), bound as a transceiver, keeping WINDOW
// submit_sm (registered_delivery 1) outstanding and answering every receipt deliver_sm at once,
// with no storage and no HTTP. Whatever rate this reaches bounds both gateways in the bench.
// Usage: smsc_ceiling.js PORT N WINDOW UES   Output: one line of key=value.
'use strict';
const path = require('path');
const smpp = require(path.join(__dirname, '..', '..', 'tests', 'support', 'smsc', 'node_modules', 'smpp'));

const [port, nArg, windowArg, uesArg] = process.argv.slice(2).map(Number);
const N = nArg, WINDOW = windowArg, UES = uesArg;
let next = 0, resps = 0, receipts = 0, t0 = 0;
const now = () => Number(process.hrtime.bigint() / 1000n) / 1000;

const s = smpp.connect({host: '127.0.0.1', port: port});
s.on('error', e => { process.stderr.write(String(e) + '\n'); process.exit(1); });
s.on('pdu', pdu => {
  if (pdu.command === 'deliver_sm') {
    s.send(pdu.response());
    if (++receipts === N) done();
  } else if (pdu.command === 'enquire_link') {
    s.send(pdu.response());
  }
});
function submit() {
  if (next >= N) return;
  const i = next++;
  s.submit_sm({
    source_addr_ton: 5, source_addr_npi: 0, source_addr: 'MSGin5G',
    dest_addr_ton: 1, dest_addr_npi: 1, destination_addr: String(4670000000 + (i % UES)),
    registered_delivery: 1, data_coding: 0, short_message: Buffer.from('bench message ' + i, 'latin1'),
  }, () => { resps++; submit(); });
}
function done() {
  const secs = (now() - t0) / 1000;
  process.stdout.write(`submits=${N} resps=${resps} receipts=${receipts} seconds=${secs.toFixed(3)} rate=${(receipts / secs).toFixed(0)}\n`);
  s.destroy();
  process.exit(0);
}
s.on('connect', () => {
  s.bind_transceiver({system_id: 'msgin5g', password: 'secret'}, pdu => {
    if (pdu.command_status !== 0) { process.stderr.write('bind refused\n'); process.exit(1); }
    t0 = now();
    for (let w = 0; w < WINDOW; w++) submit();
  });
});
setTimeout(() => { process.stderr.write(`timeout: ${resps} resps, ${receipts} receipts\n`); process.exit(1); }, 300000).unref();
