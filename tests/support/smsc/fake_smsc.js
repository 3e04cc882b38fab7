#!/usr/bin/env node
// A fake SMSC for msgin5g-gatewayd's end-to-end tests: an SMPP 3.4 server (npm package `smpp`)
// that records what the ESME sends, answers it, sends delivery receipts and MO messages, and is
// driven by JSON commands on stdin. Every event is one JSON object on one line of stdout.
// The protocol is described in README.md beside this file.
'use strict';

const path = require('path');
const readline = require('readline');
const crypto = require('crypto');
const smpp = require(path.join(__dirname, 'node_modules', 'smpp'));

// ---------------------------------------------------------------------------------------------
// Options: argv (--name value) over environment (FAKE_SMSC_NAME) over defaults.

const DEFAULTS = {
  port: 0,
  host: '127.0.0.1',
  system_id: 'msgin5g',
  password: 'secret',
  smsc_system_id: 'FAKESMSC',
  receipt_delay_ms: 100,
  response_timeout_ms: 3000,  // how long a deliver_sm waits for its deliver_sm_resp
  retry_interval_ms: 1000,    // wait before the next attempt of a refused / unanswered deliver_sm
  max_attempts: 5,            // attempts per deliver_sm (receipt or MO) before giving up
  submit_delay_ms: 0,         // delay of every submit_sm_resp
};
const INT_OPTIONS = new Set(['port', 'receipt_delay_ms', 'response_timeout_ms',
  'retry_interval_ms', 'max_attempts', 'submit_delay_ms']);

function parseOptions() {
  const o = Object.assign({}, DEFAULTS);
  for (const key of Object.keys(DEFAULTS)) {
    const env = process.env['FAKE_SMSC_' + key.toUpperCase()];
    if (env !== undefined && env !== '') o[key] = env;
  }
  const argv = process.argv.slice(2);
  for (let i = 0; i < argv.length; i++) {
    const m = /^--([a-z_-]+)(?:=(.*))?$/.exec(argv[i]);
    if (!m) continue;
    const key = m[1].replace(/-/g, '_');
    const value = m[2] !== undefined ? m[2] : argv[++i];
    if (key in DEFAULTS) o[key] = value;
  }
  for (const key of INT_OPTIONS) o[key] = Number(o[key]);
  return o;
}

const opt = parseOptions();
const startedAt = Date.now();

// ---------------------------------------------------------------------------------------------
// Output.

function emit(event, fields) {
  const obj = Object.assign({event: event, t_ms: Date.now() - startedAt}, fields || {});
  process.stdout.write(JSON.stringify(obj) + '\n');
}

function hex(buf) {
  return buf ? Buffer.from(buf).toString('hex') : '';
}

function statusName(status) {
  for (const name in smpp.errors) {
    if (smpp.errors[name] === status) return name;
  }
  return 'UNKNOWN_0x' + status.toString(16);
}

// Status values in commands may be numbers or names ("ESME_RTHROTTLED").
function toStatus(v, fallback) {
  if (v === undefined || v === null) return fallback;
  if (typeof v === 'number') return v >>> 0;
  if (typeof v === 'string' && v in smpp.errors) return smpp.errors[v];
  const n = Number(v);
  if (!Number.isNaN(n)) return n >>> 0;
  throw new Error('unknown status ' + JSON.stringify(v));
}

// ---------------------------------------------------------------------------------------------
// Package hooks. The package decodes short_message as text, which loses bytes; keep every
// received PDU's raw bytes (non-enumerable, so the package's own loops never see it) and decode
// what we record ourselves. Refuse a command_length below the 16-byte header before the package
// tries to read it.

const origFromBuffer = smpp.PDU.prototype.fromBuffer;
smpp.PDU.prototype.fromBuffer = function (buffer) {
  Object.defineProperty(this, 'raw', {value: Buffer.from(buffer), enumerable: false});
  return origFromBuffer.call(this, buffer);
};
const origCommandLength = smpp.PDU.commandLength;
smpp.PDU.commandLength = function (stream) {
  const len = origCommandLength(stream);
  if (len !== false && len < 16) {
    throw new Error('command_length ' + len + ' is below the 16-byte header');
  }
  return len;
};

// Raw TLVs by tag, for commands that name a tag the package does not know.
function tlvKeyForTag(tag) {
  const known = smpp.tlvsById[tag];
  if (known) return known.tag;
  const key = 'tlv_0x' + tag.toString(16).padStart(4, '0');
  if (!smpp.tlvs[key]) smpp.addTLV(key, {id: tag, type: smpp.types.tlv.buffer});
  return key;
}

// ---------------------------------------------------------------------------------------------
// Raw submit_sm decoding: mandatory fields in order, then TLVs. Throws on a truncated body.

class Reader {
  constructor(buf, offset) { this.buf = buf; this.off = offset; }
  need(n) {
    if (this.off + n > this.buf.length) throw new Error('PDU body truncated at offset ' + this.off);
  }
  u8() { this.need(1); return this.buf[this.off++]; }
  u16() { this.need(2); const v = this.buf.readUInt16BE(this.off); this.off += 2; return v; }
  bytes(n) { this.need(n); const b = this.buf.subarray(this.off, this.off + n); this.off += n; return b; }
  cstring(max) {
    let end = this.off;
    while (end < this.buf.length && this.buf[end] !== 0) end++;
    if (end >= this.buf.length) throw new Error('unterminated C-Octet String at offset ' + this.off);
    if (max && end - this.off > max) throw new Error('C-Octet String longer than ' + max);
    const s = this.buf.toString('latin1', this.off, end);
    this.off = end + 1;
    return s;
  }
  left() { return this.buf.length - this.off; }
}

function decodeTlvs(r) {
  const tlvs = [];
  while (r.left() > 0) {
    if (r.left() < 4) throw new Error('TLV header truncated');
    const tag = r.u16();
    const len = r.u16();
    const value = r.bytes(len);
    const def = smpp.tlvsById[tag];
    tlvs.push({tag: tag, name: def && !def.tag.startsWith('tlv_0x') ? def.tag : null, hex: hex(value)});
  }
  return tlvs;
}

function decodeSubmitSm(raw) {
  const r = new Reader(raw, 16);
  const f = {};
  f.service_type = r.cstring(6);
  f.source_addr_ton = r.u8();
  f.source_addr_npi = r.u8();
  f.source_addr = r.cstring(21);
  f.dest_addr_ton = r.u8();
  f.dest_addr_npi = r.u8();
  f.destination_addr = r.cstring(21);
  f.esm_class = r.u8();
  f.protocol_id = r.u8();
  f.priority_flag = r.u8();
  f.schedule_delivery_time = r.cstring(17);
  f.validity_period = r.cstring(17);
  f.registered_delivery = r.u8();
  f.replace_if_present_flag = r.u8();
  f.data_coding = r.u8();
  f.sm_default_msg_id = r.u8();
  const smLength = r.u8();
  const sm = r.bytes(smLength);
  f.sm_length = smLength;
  f.short_message_hex = hex(sm);
  f.tlvs = decodeTlvs(r);
  const payload = f.tlvs.find(t => t.tag === 0x0424);
  f._content = payload ? Buffer.from(payload.hex, 'hex') : Buffer.from(sm);
  return f;
}

// The first 20 characters of a message, as a receipt's text: field carries them.
function receiptText(f) {
  let body = f._content;
  if ((f.esm_class & 0x40) && body.length > 0) body = body.subarray(Math.min(body.length, body[0] + 1));
  let s;
  const dc = f.data_coding;
  if (dc === 0x08) {
    s = '';
    for (let i = 0; i + 1 < body.length; i += 2) s += String.fromCharCode(body.readUInt16BE(i));
  } else if (dc === 0x00 || dc === 0x01 || dc === 0x03 || (dc & 0xF0) === 0xF0 && !(dc & 0x04)) {
    s = body.toString('latin1');
  } else {
    return '';  // binary
  }
  return s.substring(0, 20).replace(/[^\x20-\x7e]/g, '?');
}

// ---------------------------------------------------------------------------------------------
// State.

const runPrefix = crypto.randomBytes(4).toString('hex');
let nextMessageSeq = crypto.randomBytes(2).readUInt16BE(0);
function newMessageId() {
  nextMessageSeq = (nextMessageSeq + 1) >>> 0;
  return runPrefix + nextMessageSeq.toString(16).padStart(8, '0');
}

const counters = {
  sessions_opened: 0, binds_ok: 0, binds_refused: 0, submits: 0, submits_ok: 0,
  submits_failed: 0, receipts_sent: 0, receipts_acked: 0, mo_sent: 0, mo_acked: 0,
  deliver_attempts: 0, deliver_refused: 0, deliver_timeouts: 0, deliveries_given_up: 0,
  enquire_links_in: 0, protocol_errors: 0, generic_nacks_in: 0, unbinds_in: 0,
};

const state = {
  listening: false,
  port: opt.port,
  receiptRules: new Map(),        // destination_addr -> {stat, err}, '*' = default
  failSubmits: [],                // [{count, status}] consumed in order
  holdSubmits: false,
  heldSubmitResps: [],            // closures sending a held submit_sm_resp
  holdReceipts: false,
  heldReceipts: [],               // deliveries waiting for release_receipts
  refuseBinds: null,              // status for every bind, or null
  deliveries: new Map(),          // delivery_id -> delivery
  nextDeliveryId: 1,
  nextSessionId: 1,
  rr: 0,                          // round robin over receiving sessions
};

let server = null;
const sessions = new Set();

const STATES = {
  ENROUTE: 1, DELIVRD: 2, EXPIRED: 3, DELETED: 4, UNDELIV: 5, ACCEPTD: 6, UNKNOWN: 7, REJECTD: 8,
};

function smppDate(d) {
  const p = n => String(n).padStart(2, '0');
  return p(d.getUTCFullYear() % 100) + p(d.getUTCMonth() + 1) + p(d.getUTCDate()) +
      p(d.getUTCHours()) + p(d.getUTCMinutes());
}

// ---------------------------------------------------------------------------------------------
// Sessions.

function receivingSessions() {
  return [...sessions].filter(s => s.bound === 'transceiver' || s.bound === 'receiver');
}

function sessionInfo(s) {
  return {session: s.id, system_id: s.systemId || null, bound: s.bound || null};
}

function sendPdu(s, pdu) {
  try {
    return s.send(pdu);
  } catch (e) {
    emit('error', Object.assign({what: 'send ' + pdu.command, message: String(e.message)}, sessionInfo(s)));
    return false;
  }
}

function protocolError(s, message, respond) {
  counters.protocol_errors++;
  emit('protocol_error', Object.assign({message: String(message)}, sessionInfo(s)));
  if (respond) {
    sendPdu(s, new smpp.PDU('generic_nack', {command_status: smpp.errors.ESME_RINVCMDLEN, sequence_number: 0}));
  }
  // The package stops reading a session after a framing error: drop it, as a real SMSC does.
  setTimeout(() => s.destroy(), 50);
}

function onSession(s) {
  s.id = state.nextSessionId++;
  s.bound = null;
  s.pending = new Map();  // sequence_number -> {onResp, timer}
  counters.sessions_opened++;
  sessions.add(s);
  const remote = s.socket.remotePort;
  emit('session_open', {session: s.id, remote_port: remote});

  s.on('error', e => {
    // Framing errors come here from the package; socket errors (ECONNRESET) too.
    if (e && e.syscall) {
      emit('socket_error', Object.assign({code: e.code, message: String(e.message)}, sessionInfo(s)));
    } else {
      protocolError(s, e && e.message, true);
    }
  });
  s.on('close', () => {
    if (!sessions.delete(s)) return;
    emit('session_close', sessionInfo(s));
    const pending = [...s.pending.values()];
    s.pending.clear();
    for (const p of pending) {
      clearTimeout(p.timer);
      if (p.onClose) p.onClose();
    }
  });
  s.on('pdu', pdu => {
    try {
      onPdu(s, pdu);
    } catch (e) {
      emit('error', Object.assign({what: 'handling ' + pdu.command, message: String(e && e.stack)}, sessionInfo(s)));
    }
  });
}

function onPdu(s, pdu) {
  if (pdu.isResponse()) {
    const p = s.pending.get(pdu.sequence_number);
    if (pdu.command === 'generic_nack') {
      counters.generic_nacks_in++;
      emit('generic_nack', Object.assign({status: pdu.command_status, status_name: statusName(pdu.command_status),
        sequence_number: pdu.sequence_number}, sessionInfo(s)));
    }
    if (p) {
      s.pending.delete(pdu.sequence_number);
      clearTimeout(p.timer);
      p.onResp(pdu);
    } else if (pdu.command !== 'generic_nack') {
      emit('unexpected_response', Object.assign({command: pdu.command, status: pdu.command_status,
        sequence_number: pdu.sequence_number}, sessionInfo(s)));
    }
    return;
  }
  switch (pdu.command) {
    case 'bind_transceiver':
    case 'bind_transmitter':
    case 'bind_receiver':
      return onBind(s, pdu);
    case 'submit_sm':
      return onSubmit(s, pdu);
    case 'enquire_link':
      counters.enquire_links_in++;
      emit('enquire_link', Object.assign({sequence_number: pdu.sequence_number}, sessionInfo(s)));
      sendPdu(s, pdu.response());
      return;
    case 'unbind':
      counters.unbinds_in++;
      emit('unbind', Object.assign({sequence_number: pdu.sequence_number}, sessionInfo(s)));
      sendPdu(s, pdu.response());
      s.bound = null;
      setTimeout(() => s.close(), 20);
      return;
    case 'unknown':
      emit('unknown_command', Object.assign({command_id: pdu.command_id, sequence_number: pdu.sequence_number,
        raw_hex: hex(pdu.raw)}, sessionInfo(s)));
      sendPdu(s, pdu.response());  // generic_nack ESME_RINVCMDID
      return;
    default:
      emit('unsupported_command', Object.assign({command: pdu.command, sequence_number: pdu.sequence_number,
        raw_hex: hex(pdu.raw)}, sessionInfo(s)));
      sendPdu(s, pdu.response({command_status: smpp.errors.ESME_RINVCMDID}));
  }
}

function onBind(s, pdu) {
  const mode = pdu.command.substring('bind_'.length);
  let status = 0;
  if (s.bound) status = smpp.errors.ESME_RALYBND;
  else if (state.refuseBinds !== null) status = state.refuseBinds;
  else if (pdu.system_id !== opt.system_id) status = smpp.errors.ESME_RINVSYSID;
  else if (pdu.password !== opt.password) status = smpp.errors.ESME_RINVPASWD;
  emit('bind', {session: s.id, mode: mode, system_id: pdu.system_id, password: pdu.password,
    system_type: pdu.system_type, interface_version: pdu.interface_version, addr_ton: pdu.addr_ton,
    addr_npi: pdu.addr_npi, address_range: pdu.address_range, status: status,
    status_name: statusName(status), sequence_number: pdu.sequence_number});
  if (status !== 0) {
    counters.binds_refused++;
    sendPdu(s, pdu.response({command_status: status}));
    return;
  }
  counters.binds_ok++;
  s.bound = mode;
  s.systemId = pdu.system_id;
  sendPdu(s, pdu.response({system_id: opt.smsc_system_id}));
  if (mode !== 'transmitter') dispatchWaiting();
}

function onSubmit(s, pdu) {
  counters.submits++;
  let f;
  try {
    f = decodeSubmitSm(pdu.raw);
  } catch (e) {
    counters.submits_failed++;
    emit('submit_sm', Object.assign({sequence_number: pdu.sequence_number, malformed: String(e.message),
      raw_hex: hex(pdu.raw), status: smpp.errors.ESME_RINVCMDLEN,
      status_name: 'ESME_RINVCMDLEN'}, sessionInfo(s)));
    sendPdu(s, pdu.response({command_status: smpp.errors.ESME_RINVCMDLEN}));
    return;
  }
  let status = 0;
  if (s.bound !== 'transceiver' && s.bound !== 'transmitter') {
    status = smpp.errors.ESME_RINVBNDSTS;
  } else if (state.failSubmits.length > 0) {
    const rule = state.failSubmits[0];
    status = rule.status;
    if (--rule.count <= 0) state.failSubmits.shift();
  }
  const messageId = status === 0 ? newMessageId() : null;
  const content = f._content;
  delete f._content;
  const held = state.holdSubmits;
  const delay = opt.submit_delay_ms;
  emit('submit_sm', Object.assign({sequence_number: pdu.sequence_number, message_id: messageId,
    status: status, status_name: statusName(status), held: held, delay_ms: delay}, f, sessionInfo(s)));
  if (status === 0) counters.submits_ok++; else counters.submits_failed++;

  const respond = () => {
    const sent = sessions.has(s) && s.socket.writable;
    if (sent) {
      sendPdu(s, pdu.response(status === 0 ? {message_id: messageId} : {command_status: status}));
    }
    emit('submit_sm_resp', Object.assign({sequence_number: pdu.sequence_number, message_id: messageId,
      status: status, status_name: statusName(status), sent: sent}, sessionInfo(s)));
    // The message was accepted when its id was assigned: the receipt comes even if the response
    // was lost with the session, as with a real SMSC.
    if (status === 0 && (f.registered_delivery & 0x03) !== 0) {
      scheduleReceipt(f, messageId, content);
    }
  };
  if (held) state.heldSubmitResps.push(respond);
  else if (delay > 0) setTimeout(respond, delay);
  else respond();
}

// ---------------------------------------------------------------------------------------------
// Outgoing deliver_sm (receipts and MO), with retries.

function scheduleReceipt(f, messageId, content) {
  const rule = state.receiptRules.get(f.destination_addr) || state.receiptRules.get('*') ||
      {stat: 'DELIVRD', err: 0};
  if (rule.stat === 'NONE') {
    emit('receipt_suppressed', {message_id: messageId, destination_addr: f.destination_addr});
    return;
  }
  // registered_delivery 2 = receipt on failure only.
  if ((f.registered_delivery & 0x03) === 0x02 && rule.stat === 'DELIVRD') return;
  const submitDate = new Date();
  setTimeout(() => {
    const done = new Date();
    const dlvrd = rule.stat === 'DELIVRD' ? '001' : '000';
    const err = String(rule.err).padStart(3, '0');
    const text = 'id:' + messageId + ' sub:001 dlvrd:' + dlvrd + ' submit date:' + smppDate(submitDate) +
        ' done date:' + smppDate(done) + ' stat:' + rule.stat + ' err:' + err + ' text:' +
        receiptText(Object.assign({_content: content}, f));
    const d = newDelivery('receipt', {
      source_addr_ton: f.dest_addr_ton, source_addr_npi: f.dest_addr_npi, source_addr: f.destination_addr,
      dest_addr_ton: f.source_addr_ton, dest_addr_npi: f.source_addr_npi, destination_addr: f.source_addr,
      esm_class: 0x04, data_coding: 0, short_message: Buffer.from(text, 'latin1'),
      receipted_message_id: messageId, message_state: STATES[rule.stat] || STATES.UNKNOWN,
    }, {message_id: messageId, stat: rule.stat, err: rule.err, text: text});
    if (state.holdReceipts) {
      state.heldReceipts.push(d);
      emit('receipt_held', {delivery_id: d.id, message_id: messageId, stat: rule.stat});
    } else {
      dispatch(d);
    }
  }, opt.receipt_delay_ms);
}

function newDelivery(kind, fields, info, policy) {
  const d = {
    id: state.nextDeliveryId++, kind: kind, fields: fields, info: info, attempts: 0,
    retryIntervalMs: (policy && policy.retry_interval_ms) || opt.retry_interval_ms,
    maxAttempts: (policy && policy.max_attempts) || opt.max_attempts,
    responseTimeoutMs: (policy && policy.response_timeout_ms) || opt.response_timeout_ms,
    waiting: false, done: false,
  };
  state.deliveries.set(d.id, d);
  return d;
}

function deliveryInfo(d) {
  return Object.assign({delivery_id: d.id, kind: d.kind, attempt: d.attempts}, d.info);
}

// Sessions bound later pick up deliveries that found no receiving session.
function dispatchWaiting() {
  for (const d of state.deliveries.values()) {
    if (d.waiting && !d.done) {
      d.waiting = false;
      dispatch(d);
    }
  }
}

function dispatch(d) {
  if (d.done) return;
  const rx = receivingSessions();
  if (rx.length === 0) {
    if (!d.waiting) emit('deliver_sm_waiting', deliveryInfo(d));
    d.waiting = true;
    return;
  }
  const s = rx[state.rr++ % rx.length];
  d.attempts++;
  counters.deliver_attempts++;
  if (d.kind === 'receipt') counters.receipts_sent++; else counters.mo_sent++;
  const pdu = new smpp.PDU('deliver_sm', Object.assign({}, d.fields));
  if (!sendPdu(s, pdu)) {
    retryLater(d, 'send failed');
    return;
  }
  const seq = pdu.sequence_number;
  emit('deliver_sm', Object.assign({sequence_number: seq, source_addr: d.fields.source_addr,
    destination_addr: d.fields.destination_addr, esm_class: d.fields.esm_class,
    data_coding: d.fields.data_coding, short_message_hex: hex(d.fields.short_message)},
  deliveryInfo(d), sessionInfo(s)));
  const entry = {
    onResp: resp => {
      const status = resp.command_status;
      emit('deliver_sm_resp', Object.assign({status: status, status_name: statusName(status),
        sequence_number: seq, resp_command: resp.command}, deliveryInfo(d), sessionInfo(s)));
      if (status === 0 && resp.command === 'deliver_sm_resp') {
        if (d.kind === 'receipt') counters.receipts_acked++; else counters.mo_acked++;
        finish(d, 'delivered');
      } else {
        counters.deliver_refused++;
        retryLater(d, 'status ' + statusName(status));
      }
    },
    onClose: () => {
      emit('deliver_sm_unanswered', Object.assign({reason: 'session closed', sequence_number: seq},
          deliveryInfo(d), sessionInfo(s)));
      retryLater(d, 'session closed');
    },
    timer: setTimeout(() => {
      if (!s.pending.delete(seq)) return;
      counters.deliver_timeouts++;
      emit('deliver_sm_timeout', Object.assign({sequence_number: seq, timeout_ms: d.responseTimeoutMs},
          deliveryInfo(d), sessionInfo(s)));
      retryLater(d, 'timeout');
    }, d.responseTimeoutMs),
  };
  s.pending.set(seq, entry);
}

function retryLater(d, reason) {
  if (d.done) return;
  if (d.attempts >= d.maxAttempts) {
    counters.deliveries_given_up++;
    finish(d, 'gave_up', reason);
    return;
  }
  emit('deliver_sm_retry', Object.assign({reason: reason, in_ms: d.retryIntervalMs}, deliveryInfo(d)));
  setTimeout(() => dispatch(d), d.retryIntervalMs);
}

function finish(d, result, reason) {
  d.done = true;
  state.deliveries.delete(d.id);
  emit('delivery_done', Object.assign({result: result, attempts: d.attempts, reason: reason || null},
      deliveryInfo(d)));
}

// ---------------------------------------------------------------------------------------------
// Listening.

function startListening(port, onDone) {
  server = smpp.createServer({}, onSession);
  server.on('error', e => {
    emit('listen_error', {port: port, code: e.code || null, message: String(e.message)});
    state.listening = false;
    if (onDone) onDone(e);
  });
  server.listen(port, opt.host, () => {
    state.listening = true;
    state.port = server.address().port;
    emit('listening', {port: state.port, host: opt.host});
    if (onDone) onDone(null);
  });
}

function stopListening(done) {
  const srv = server;
  server = null;
  state.listening = false;
  for (const s of [...sessions]) s.destroy();
  if (!srv) return done();
  srv.close(() => done());
}

// ---------------------------------------------------------------------------------------------
// Commands.

function tlvOptions(tlvs) {
  const out = {};
  if (!tlvs) return out;
  for (const key of Object.keys(tlvs)) {
    let v = tlvs[key];
    let name = key;
    if (/^(0x)?[0-9a-f]{1,4}$/i.test(key) && !(key in smpp.tlvs)) name = tlvKeyForTag(parseInt(key, 16));
    if (!(name in smpp.tlvs)) throw new Error('unknown TLV ' + key);
    if (v && typeof v === 'object' && 'hex' in v) v = Buffer.from(v.hex, 'hex');
    out[name] = v;
  }
  return out;
}

function encodeText(text, dc) {
  if (dc === 0x08) {
    const b = Buffer.alloc(text.length * 2);
    for (let i = 0; i < text.length; i++) b.writeUInt16BE(text.charCodeAt(i), i * 2);
    return b;
  }
  return Buffer.from(text, 'latin1');
}

const MALFORMED = {
  // command_length far over any sane PDU size
  huge_length: () => Buffer.from('7fffffff000000050000000000000001', 'hex'),
  // command_length below the header size
  short_length: () => Buffer.from('00000008000000050000000000000001', 'hex'),
  // a command_id no SMPP version defines
  unknown_command: () => Buffer.from('0000001000000077000000000000' + '4242', 'hex'),
  // a deliver_sm whose body ends inside the mandatory fields
  truncated_deliver_sm: () => Buffer.from('00000016000000050000000000004243' + '000101343600', 'hex'),
  // a deliver_sm whose sm_length claims more octets than the PDU holds
  bad_sm_length: () => {
    const body = Buffer.concat([Buffer.from('00', 'hex'), Buffer.from('0101', 'hex'), Buffer.from('1234\0'),
      Buffer.from('0101', 'hex'), Buffer.from('5678\0'), Buffer.from('000000', 'hex'), Buffer.from('\0\0'),
      Buffer.from('00000000', 'hex'), Buffer.from([200]), Buffer.from('abc')]);
    const head = Buffer.alloc(16);
    head.writeUInt32BE(16 + body.length, 0);
    head.writeUInt32BE(0x00000005, 4);
    head.writeUInt32BE(0, 8);
    head.writeUInt32BE(0x4244, 12);
    return Buffer.concat([head, body]);
  },
};

function targetSessions(cmd) {
  let list = [...sessions];
  if (cmd.session !== undefined) list = list.filter(s => s.id === cmd.session);
  else if (!cmd.all) list = list.filter(s => s.bound);
  return list;
}

const commands = {
  ping: () => ({}),
  set: cmd => {
    const changed = {};
    for (const key of Object.keys(cmd)) {
      if (key === 'cmd' || key === 'id') continue;
      if (!(key in DEFAULTS) || key === 'port' || key === 'host') throw new Error('cannot set ' + key);
      opt[key] = INT_OPTIONS.has(key) ? Number(cmd[key]) : String(cmd[key]);
      changed[key] = opt[key];
    }
    return {options: changed};
  },
  receipt_rule: cmd => {
    const stat = String(cmd.stat || 'DELIVRD');
    if (!(stat in STATES) && stat !== 'NONE') throw new Error('unknown stat ' + stat);
    state.receiptRules.set(String(cmd.dest || '*'), {stat: stat, err: Number(cmd.err || 0)});
    return {};
  },
  clear_receipt_rules: () => { state.receiptRules.clear(); return {}; },
  hold_receipts: cmd => {
    state.holdReceipts = cmd.hold !== false;
    return {hold: state.holdReceipts};
  },
  release_receipts: () => {
    const held = state.heldReceipts;
    state.heldReceipts = [];
    state.holdReceipts = false;
    for (const d of held) dispatch(d);
    return {released: held.length};
  },
  fail_submits: cmd => {
    const count = Number(cmd.count === undefined ? 1 : cmd.count);
    if (count > 0) state.failSubmits.push({count: count, status: toStatus(cmd.status, smpp.errors.ESME_RTHROTTLED)});
    return {queued: state.failSubmits.reduce((n, r) => n + r.count, 0)};
  },
  clear_fail_submits: () => { state.failSubmits = []; return {}; },
  hold_submits: cmd => {
    state.holdSubmits = cmd.hold !== false;
    return {hold: state.holdSubmits};
  },
  release_submits: () => {
    const held = state.heldSubmitResps;
    state.heldSubmitResps = [];
    state.holdSubmits = false;
    for (const f of held) f();
    return {released: held.length};
  },
  refuse_binds: cmd => {
    state.refuseBinds = cmd.refuse === false ? null : toStatus(cmd.status, smpp.errors.ESME_RBINDFAIL);
    return {status: state.refuseBinds};
  },
  mo: cmd => {
    const dc = cmd.data_coding === undefined ? 0 : Number(cmd.data_coding);
    let sm;
    if (cmd.short_message_hex !== undefined) sm = Buffer.from(String(cmd.short_message_hex), 'hex');
    else sm = encodeText(String(cmd.text || ''), dc);
    const fields = Object.assign({
      service_type: String(cmd.service_type || ''),
      source_addr_ton: Number(cmd.source_ton === undefined ? 1 : cmd.source_ton),
      source_addr_npi: Number(cmd.source_npi === undefined ? 1 : cmd.source_npi),
      source_addr: String(cmd.source || ''),
      dest_addr_ton: Number(cmd.dest_ton === undefined ? 0 : cmd.dest_ton),
      dest_addr_npi: Number(cmd.dest_npi === undefined ? 1 : cmd.dest_npi),
      destination_addr: String(cmd.dest || ''),
      esm_class: Number(cmd.esm_class || 0),
      protocol_id: Number(cmd.protocol_id || 0),
      data_coding: dc,
      short_message: sm,
    }, tlvOptions(cmd.tlvs));
    const d = newDelivery('mo', fields, {mo_ref: cmd.ref === undefined ? null : cmd.ref}, cmd);
    dispatch(d);
    return {delivery_id: d.id};
  },
  enquire_link: cmd => {
    const list = targetSessions(cmd);
    for (const s of list) {
      const pdu = new smpp.PDU('enquire_link');
      if (!sendPdu(s, pdu)) continue;
      const seq = pdu.sequence_number;
      s.pending.set(seq, {
        onResp: resp => emit('enquire_link_resp', Object.assign({status: resp.command_status,
          sequence_number: seq}, sessionInfo(s))),
        timer: setTimeout(() => {
          if (s.pending.delete(seq)) emit('enquire_link_timeout', Object.assign({sequence_number: seq}, sessionInfo(s)));
        }, opt.response_timeout_ms),
      });
    }
    return {sessions: list.map(s => s.id)};
  },
  unbind: cmd => {
    const list = targetSessions(cmd);
    for (const s of list) {
      const pdu = new smpp.PDU('unbind');
      if (!sendPdu(s, pdu)) continue;
      const seq = pdu.sequence_number;
      s.pending.set(seq, {
        onResp: resp => {
          emit('unbind_resp', Object.assign({status: resp.command_status, sequence_number: seq}, sessionInfo(s)));
          s.bound = null;
          s.close();
        },
        timer: setTimeout(() => {
          if (s.pending.delete(seq)) {
            emit('unbind_timeout', Object.assign({sequence_number: seq}, sessionInfo(s)));
            s.destroy();
          }
        }, opt.response_timeout_ms),
      });
    }
    return {sessions: list.map(s => s.id)};
  },
  garbage: cmd => {
    let bytes;
    if (cmd.kind !== undefined) {
      if (!MALFORMED[cmd.kind]) throw new Error('unknown malformed kind ' + cmd.kind);
      bytes = MALFORMED[cmd.kind]();
    } else {
      bytes = Buffer.from(String(cmd.hex || ''), 'hex');
    }
    const list = targetSessions(cmd);
    for (const s of list) s.socket.write(bytes);
    return {sessions: list.map(s => s.id), bytes: bytes.length, hex: hex(bytes)};
  },
  drop: cmd => {
    const list = targetSessions(cmd);
    for (const s of list) s.destroy();
    return {sessions: list.map(s => s.id)};
  },
  sessions: () => ({sessions: [...sessions].map(sessionInfo)}),
  counters: () => ({counters: Object.assign({}, counters, {
    sessions: sessions.size, bound_sessions: [...sessions].filter(s => s.bound).length,
    held_receipts: state.heldReceipts.length, held_submit_resps: state.heldSubmitResps.length,
    pending_deliveries: state.deliveries.size, listening: state.listening, port: state.port,
  })}),
};

// Commands that finish later ack through `reply`.
const asyncCommands = {
  down: (cmd, reply) => stopListening(() => { emit('down', {port: state.port}); reply({}); }),
  up: (cmd, reply) => {
    if (state.listening) return reply({port: state.port});
    startListening(state.port, err => err ? reply(null, err) : reply({port: state.port}));
  },
  quit: (cmd, reply) => stopListening(() => {
    reply({});
    emit('stopped', {counters: counters});
    process.exit(0);
  }),
};

function onCommandLine(line) {
  line = line.trim();
  if (!line) return;
  let cmd;
  try {
    cmd = JSON.parse(line);
  } catch (e) {
    emit('command_error', {message: 'not JSON: ' + e.message, line: line});
    return;
  }
  const id = cmd.id === undefined ? null : cmd.id;
  const name = String(cmd.cmd);
  const reply = (result, err) => {
    if (err) emit('command_error', {cmd: name, id: id, message: String(err.message || err)});
    else emit('ack', Object.assign({cmd: name, id: id}, result));
  };
  try {
    if (commands[name]) reply(commands[name](cmd));
    else if (asyncCommands[name]) asyncCommands[name](cmd, reply);
    else reply(null, new Error('unknown command ' + name));
  } catch (e) {
    reply(null, e);
  }
}

process.on('uncaughtException', e => {
  emit('error', {what: 'uncaught', message: String(e && e.stack)});
});

const rl = readline.createInterface({input: process.stdin});
rl.on('line', onCommandLine);
// The test that started us is gone: do not linger.
rl.on('close', () => stopListening(() => process.exit(0)));

startListening(opt.port, err => { if (err) process.exit(2); });
