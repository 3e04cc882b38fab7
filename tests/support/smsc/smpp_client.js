#!/usr/bin/env node
// A scriptable SMPP 3.4 ESME (npm package `smpp`, client side), used by the fake SMSC's
// self-test as a real peer. Same protocol style as fake_smsc.js: JSON commands on stdin, one
// JSON event per line on stdout, each command acked with {"event":"ack","cmd":..,"id":..}.
//
// Commands: connect {host, port} · bind {mode, system_id, password} · submit {source, dest,
// text | short_message_hex, data_coding, esm_class, registered_delivery, source_ton, source_npi,
// dest_ton, dest_npi, tlvs, ref} · answer_deliver {statuses: [..]} (status for each next deliver_sm;
// "none" = do not answer; default 0) · enquire_link · unbind · close · quit.
// Events: connected, close, error, bind_resp, submit_sm_resp, deliver_sm, enquire_link,
// enquire_link_resp, unbind, unbind_resp, generic_nack.
'use strict';

const path = require('path');
const readline = require('readline');
const smpp = require(path.join(__dirname, 'node_modules', 'smpp'));

const startedAt = Date.now();
function emit(event, fields) {
  process.stdout.write(JSON.stringify(Object.assign({event: event, t_ms: Date.now() - startedAt}, fields || {})) + '\n');
}

// Keep raw bytes of what arrives (the package decodes short_message as text).
const origFromBuffer = smpp.PDU.prototype.fromBuffer;
smpp.PDU.prototype.fromBuffer = function (buffer) {
  Object.defineProperty(this, 'raw', {value: Buffer.from(buffer), enumerable: false});
  return origFromBuffer.call(this, buffer);
};

// short_message of a deliver_sm from its raw bytes: skip the mandatory fields before it.
function rawShortMessage(raw) {
  let off = 16;
  const cstr = () => { while (raw[off] !== 0 && off < raw.length) off++; off++; };
  cstr();            // service_type
  off += 2; cstr();  // source ton, npi, addr
  off += 2; cstr();  // dest ton, npi, addr
  off += 3;          // esm_class, protocol_id, priority_flag
  cstr(); cstr();    // schedule_delivery_time, validity_period
  off += 4;          // registered_delivery, replace_if_present_flag, data_coding, sm_default_msg_id
  const len = raw[off++];
  return raw.subarray(off, off + len);
}

// Named TLVs of a submit: {"user_message_reference": 7, "message_payload": {"hex": ".."}}.
function tlvOptions(tlvs) {
  const out = {};
  for (const key of Object.keys(tlvs || {})) {
    const v = tlvs[key];
    out[key] = v && typeof v === 'object' && 'hex' in v ? Buffer.from(v.hex, 'hex') : v;
  }
  return out;
}

let session = null;
let answers = [];  // statuses for the next deliver_sm

function onPdu(pdu) {
  switch (pdu.command) {
    case 'deliver_sm': {
      const a = answers.length ? answers.shift() : 0;
      emit('deliver_sm', {sequence_number: pdu.sequence_number, source_addr: pdu.source_addr,
        destination_addr: pdu.destination_addr, esm_class: pdu.esm_class, data_coding: pdu.data_coding,
        short_message_hex: rawShortMessage(pdu.raw).toString('hex'),
        receipted_message_id: pdu.receipted_message_id === undefined ? null : pdu.receipted_message_id,
        message_state: pdu.message_state === undefined ? null : pdu.message_state,
        answer: a});
      if (a !== 'none') session.send(pdu.response({command_status: Number(a)}));
      return;
    }
    case 'enquire_link':
      emit('enquire_link', {sequence_number: pdu.sequence_number});
      session.send(pdu.response());
      return;
    case 'unbind':
      emit('unbind', {sequence_number: pdu.sequence_number});
      session.send(pdu.response());
      return;
    case 'generic_nack':
      emit('generic_nack', {status: pdu.command_status, sequence_number: pdu.sequence_number});
      return;
  }
}

const commands = {
  connect: (cmd, reply) => {
    session = smpp.connect({host: cmd.host || '127.0.0.1', port: Number(cmd.port)});
    const s = session;
    s.on('connect', () => { emit('connected', {}); reply({}); });
    s.on('error', e => {
      emit('error', {code: e.code || null, message: String(e.message)});
      if (!s.connectedOnce) reply(null, e);
    });
    s.on('connect', () => { s.connectedOnce = true; });
    s.on('close', () => emit('close', {}));
    s.on('pdu', pdu => { try { onPdu(pdu); } catch (e) { emit('error', {message: String(e.stack)}); } });
  },
  bind: (cmd, reply) => {
    const fn = 'bind_' + (cmd.mode || 'transceiver');
    session[fn]({system_id: cmd.system_id, password: cmd.password}, pdu => {
      emit('bind_resp', {status: pdu.command_status, system_id: pdu.system_id || null});
      reply({status: pdu.command_status});
    });
  },
  submit: (cmd, reply) => {
    const dc = cmd.data_coding === undefined ? 0 : Number(cmd.data_coding);
    const sm = cmd.short_message_hex !== undefined ? Buffer.from(cmd.short_message_hex, 'hex')
                                                   : Buffer.from(String(cmd.text || ''), 'latin1');
    const ok = session.submit_sm(Object.assign({
      source_addr_ton: Number(cmd.source_ton || 0), source_addr_npi: Number(cmd.source_npi || 0),
      source_addr: String(cmd.source || ''),
      dest_addr_ton: Number(cmd.dest_ton || 1), dest_addr_npi: Number(cmd.dest_npi || 1),
      destination_addr: String(cmd.dest || ''),
      esm_class: Number(cmd.esm_class || 0), registered_delivery: Number(cmd.registered_delivery || 0),
      data_coding: dc, short_message: sm,
    }, tlvOptions(cmd.tlvs)), pdu => {
      emit('submit_sm_resp', {status: pdu.command_status, message_id: pdu.message_id || null,
        ref: cmd.ref === undefined ? null : cmd.ref});
    });
    reply({sent: ok});
  },
  answer_deliver: (cmd, reply) => { answers = (cmd.statuses || []).slice(); reply({}); },
  enquire_link: (cmd, reply) => {
    session.enquire_link(pdu => emit('enquire_link_resp', {status: pdu.command_status}));
    reply({});
  },
  unbind: (cmd, reply) => {
    session.unbind(pdu => emit('unbind_resp', {status: pdu.command_status}));
    reply({});
  },
  close: (cmd, reply) => {
    if (session) session.destroy();
    reply({});
  },
  quit: (cmd, reply) => {
    if (session) session.destroy();
    reply({});
    process.exit(0);
  },
};

const rl = readline.createInterface({input: process.stdin});
rl.on('line', line => {
  if (!line.trim()) return;
  let cmd;
  try { cmd = JSON.parse(line); } catch (e) { emit('command_error', {message: e.message}); return; }
  const id = cmd.id === undefined ? null : cmd.id;
  let replied = false;
  const reply = (result, err) => {
    if (replied) return;
    replied = true;
    if (err) emit('command_error', {cmd: cmd.cmd, id: id, message: String(err.message || err)});
    else emit('ack', Object.assign({cmd: cmd.cmd, id: id}, result));
  };
  try {
    if (!commands[cmd.cmd]) throw new Error('unknown command ' + cmd.cmd);
    if (cmd.cmd !== 'connect' && cmd.cmd !== 'quit' && cmd.cmd !== 'answer_deliver' && !session) {
      throw new Error('not connected');
    }
    commands[cmd.cmd](cmd, reply);
  } catch (e) {
    reply(null, e);
  }
});
rl.on('close', () => process.exit(0));
process.on('uncaughtException', e => emit('error', {what: 'uncaught', message: String(e && e.stack)}));
