#include "gateway/mqtt/mqtt_packets.h"

#include <algorithm>

#include "gateway/mqtt/topic_template.h"

namespace msgin5g::gateway::mqtt::wire {
namespace {

Status Malformed(std::string what) { return Status::InvalidArgument("mqtt: malformed " + what); }

void PutU16(std::string& out, std::uint16_t v) {
  out.push_back(static_cast<char>(v >> 8));
  out.push_back(static_cast<char>(v & 0xff));
}
void PutString(std::string& out, std::string_view s) {
  PutU16(out, static_cast<std::uint16_t>(s.size()));
  out.append(s);
}
void PutRemainingLength(std::string& out, std::size_t n) {
  do {
    auto byte = static_cast<std::uint8_t>(n % 128);
    n /= 128;
    if (n > 0) byte |= 0x80;
    out.push_back(static_cast<char>(byte));
  } while (n > 0);
}
// Fixed header + body.
std::string Frame(Type type, std::uint8_t flags, std::string_view body) {
  std::string out;
  out.reserve(body.size() + 5);
  out.push_back(static_cast<char>((static_cast<std::uint8_t>(type) << 4) | (flags & 0x0f)));
  PutRemainingLength(out, body.size());
  out.append(body);
  return out;
}

std::uint16_t U16(std::string_view s, std::size_t at) {
  return static_cast<std::uint16_t>((static_cast<std::uint8_t>(s[at]) << 8) |
                                    static_cast<std::uint8_t>(s[at + 1]));
}

// The fixed-header flags each type must carry (2.2.2); PUBLISH's are free.
bool FlagsAllowed(Type t, std::uint8_t flags) {
  switch (t) {
    case Type::kPublish: return ((flags >> 1) & 0x3) != 3;  // QoS 3 is malformed
    case Type::kPubRel:
    case Type::kSubscribe:
    case Type::kUnsubscribe: return flags == 0x2;
    default: return flags == 0;
  }
}

}  // namespace

std::string EncodeConnect(const ConnectFields& c) {
  std::string body;
  PutString(body, "MQTT");
  body.push_back(4);  // protocol level 3.1.1
  std::uint8_t flags = 0;
  if (c.clean_session) flags |= 0x02;
  if (c.username) flags |= 0x80;
  if (c.username && c.password) flags |= 0x40;
  body.push_back(static_cast<char>(flags));
  PutU16(body, c.keepalive_s);
  PutString(body, c.client_id);
  if (c.username) PutString(body, *c.username);
  if (c.username && c.password) PutString(body, *c.password);
  return Frame(Type::kConnect, 0, body);
}

std::string EncodePublish(std::string_view topic, std::string_view payload, int qos, bool retain,
                          bool dup, std::uint16_t id) {
  std::string body;
  body.reserve(2 + topic.size() + 2 + payload.size());
  PutString(body, topic);
  if (qos > 0) PutU16(body, id);
  body.append(payload);
  std::uint8_t flags = static_cast<std::uint8_t>((qos & 0x3) << 1);
  if (retain) flags |= 0x1;
  if (dup && qos > 0) flags |= 0x8;
  return Frame(Type::kPublish, flags, body);
}

std::string EncodeIdOnly(Type type, std::uint16_t id) {
  std::string body;
  PutU16(body, id);
  return Frame(type, type == Type::kPubRel ? 0x2 : 0, body);
}

std::string EncodeSubscribe(std::uint16_t id, const std::vector<Filter>& filters) {
  std::string body;
  PutU16(body, id);
  for (const auto& f : filters) {
    PutString(body, f.filter);
    body.push_back(static_cast<char>(f.qos & 0x3));
  }
  return Frame(Type::kSubscribe, 0x2, body);
}

std::string EncodePingReq() { return Frame(Type::kPingReq, 0, {}); }
std::string EncodeDisconnect() { return Frame(Type::kDisconnect, 0, {}); }

void FrameReader::Reset() {
  buf_.clear();
  pos_ = 0;
  skip_ = 0;
  skipped_.reset();
}

Result<std::optional<Packet>> FrameReader::Next() {
  // Compact now and then so the buffer does not grow with the stream.
  if (pos_ > 0 && (pos_ == buf_.size() || pos_ > 65536)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  if (skip_ > 0) {
    const std::size_t n = std::min(skip_, buf_.size() - pos_);
    pos_ += n;
    skip_ -= n;
    if (skip_ > 0) return std::optional<Packet>();
    return std::optional<Packet>(std::exchange(skipped_, std::nullopt));
  }
  const std::size_t avail = buf_.size() - pos_;
  if (avail < 2) return std::optional<Packet>();
  const auto first = static_cast<std::uint8_t>(buf_[pos_]);
  const std::uint8_t type_bits = first >> 4;
  if (type_bits == 0 || type_bits == 15) return Malformed("packet type " + std::to_string(type_bits));
  const auto type = static_cast<Type>(type_bits);
  const std::uint8_t flags = first & 0x0f;
  if (!FlagsAllowed(type, flags)) return Malformed("fixed header flags");
  std::size_t len = 0;
  std::size_t header = 1;
  for (int shift = 0;; shift += 7) {
    if (header >= avail) return std::optional<Packet>();
    if (header > 4) return Malformed("remaining length");
    const auto b = static_cast<std::uint8_t>(buf_[pos_ + header]);
    ++header;
    len |= static_cast<std::size_t>(b & 0x7f) << shift;
    if ((b & 0x80) == 0) break;
  }
  if (type != Type::kPublish && len > kMaxControlBody) {
    return Malformed("packet: a type " + std::to_string(type_bits) + " of " + std::to_string(len) +
                     " bytes");
  }
  Packet p;
  p.type = type;
  p.flags = flags;
  p.full_size = len;
  if (type == Type::kPublish && len > max_publish_body_) {
    // Keep the head (topic, packet id), skip the rest as it streams in.
    if (avail < header + 2) return std::optional<Packet>();
    const std::size_t id_bytes = ((flags >> 1) & 0x3) > 0 ? 2 : 0;
    const std::size_t head = std::min(len, 2 + std::size_t{U16(buf_, pos_ + header)} + id_bytes);
    if (avail < header + head) return std::optional<Packet>();
    p.body.assign(buf_, pos_ + header, head);
    p.truncated = true;
    pos_ += header + head;
    skip_ = len - head;
    if (skip_ == 0) return std::optional<Packet>(std::move(p));
    skipped_ = std::move(p);
    return Next();
  }
  if (avail < header + len) return std::optional<Packet>();
  p.body.assign(buf_, pos_ + header, len);
  pos_ += header + len;
  return std::optional<Packet>(std::move(p));
}

Result<ConnAck> ParseConnAck(const Packet& p) {
  if (p.type != Type::kConnAck || p.body.size() != 2) return Malformed("CONNACK");
  const auto ack_flags = static_cast<std::uint8_t>(p.body[0]);
  if ((ack_flags & 0xfe) != 0) return Malformed("CONNACK flags");
  ConnAck c;
  c.session_present = (ack_flags & 1) != 0;
  c.return_code = static_cast<std::uint8_t>(p.body[1]);
  return c;
}

Result<Publish> ParsePublish(Packet& p) {
  if (p.type != Type::kPublish) return Malformed("PUBLISH");
  Publish m;
  m.qos = (p.flags >> 1) & 0x3;
  m.dup = (p.flags & 0x8) != 0;
  m.retain = (p.flags & 0x1) != 0;
  const std::string_view b = p.body;
  if (b.size() < 2) return Malformed("PUBLISH topic");
  const std::size_t tlen = U16(b, 0);
  std::size_t at = 2 + tlen;
  if (b.size() < at) return Malformed("PUBLISH topic");
  m.topic.assign(b.substr(2, tlen));  // the caller checks the name (IsValidTopicName)
  if (m.qos > 0) {
    if (b.size() < at + 2) return Malformed("PUBLISH packet id");
    m.id = U16(b, at);
    if (m.id == 0) return Malformed("PUBLISH packet id 0");
    at += 2;
  }
  if (!p.truncated) m.payload = p.body.substr(at);
  return m;
}

Result<std::uint16_t> ParseIdOnly(const Packet& p) {
  if (p.body.size() != 2) return Malformed("acknowledgement of " + std::to_string(p.body.size()) + " bytes");
  return U16(p.body, 0);
}

Result<SubAck> ParseSubAck(const Packet& p) {
  if (p.type != Type::kSubAck || p.body.size() < 3) return Malformed("SUBACK");
  SubAck s;
  s.id = U16(p.body, 0);
  for (std::size_t i = 2; i < p.body.size(); ++i) {
    const auto c = static_cast<std::uint8_t>(p.body[i]);
    if (c > 2 && c != 0x80) return Malformed("SUBACK return code");
    s.codes.push_back(c);
  }
  return s;
}

const char* ConnAckReason(std::uint8_t code) {
  switch (code) {
    case 0: return "accepted";
    case 1: return "unacceptable protocol version";
    case 2: return "identifier rejected";
    case 3: return "server unavailable";
    case 4: return "bad user name or password";
    case 5: return "not authorized";
    default: return "unknown return code";
  }
}

bool IsValidTopicName(std::string_view t) {
  return !t.empty() && t.size() <= 65535 && t.find_first_of("+#") == std::string_view::npos &&
         IsValidMqttUtf8(t);
}

bool IsValidFilter(std::string_view f) {
  if (f.empty() || f.size() > 65535 || !IsValidMqttUtf8(f)) return false;
  std::size_t start = 0;
  while (true) {
    const std::size_t end = f.find('/', start);
    const std::string_view level = f.substr(start, end == std::string_view::npos ? f.npos : end - start);
    if (level.find_first_of("+#") != std::string_view::npos && level.size() != 1) return false;
    if (level == "#" && end != std::string_view::npos) return false;  // '#' must be last
    if (end == std::string_view::npos) return true;
    start = end + 1;
  }
}

bool TopicMatches(std::string_view filter, std::string_view topic) {
  if (!topic.empty() && topic[0] == '$' && !filter.empty() && (filter[0] == '+' || filter[0] == '#')) {
    return false;
  }
  std::size_t fi = 0, ti = 0;
  while (true) {
    const std::size_t fe = filter.find('/', fi);
    const std::string_view flevel = filter.substr(fi, fe == filter.npos ? filter.npos : fe - fi);
    if (flevel == "#") return true;  // the rest, and the parent ("a/#" matches "a")
    if (ti > topic.size()) {
      return false;
    }
    const std::size_t te = topic.find('/', ti);
    const std::string_view tlevel = topic.substr(ti, te == topic.npos ? topic.npos : te - ti);
    if (flevel != "+" && flevel != tlevel) return false;
    const bool flast = fe == filter.npos;
    const bool tlast = te == topic.npos;
    if (flast && tlast) return true;
    if (flast) return false;
    if (tlast) {
      // Only "a/#" may still match "a".
      return filter.substr(fe + 1) == "#";
    }
    fi = fe + 1;
    ti = te + 1;
  }
}

}  // namespace msgin5g::gateway::mqtt::wire
