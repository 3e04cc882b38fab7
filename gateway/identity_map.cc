#include "gateway/identity_map.h"

#include <algorithm>

#include "gateway/records.h"

namespace msgin5g::gateway {

namespace {
// "+4670..." and "4670..." are one number: the reverse index (MO SMS) keys on the digits.
std::string Digits(std::string_view msisdn) {
  if (!msisdn.empty() && msisdn.front() == '+') msisdn.remove_prefix(1);
  return std::string(msisdn);
}
}  // namespace

bool IdentityMap::IsMsisdn(std::string_view s) {
  if (!s.empty() && s.front() == '+') s.remove_prefix(1);
  return !s.empty() && s.size() <= 20 &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return c >= '0' && c <= '9'; });
}

Status IdentityMap::Load(const std::vector<Entry>& configured) {
  for (const auto& e : configured) {
    by_ue_[e.ue] = Entry{e.ue, e.msisdn, true};
    by_msisdn_[Digits(e.msisdn)] = e.ue;
  }
  std::string after;
  for (;;) {
    auto page = store_.Scan(keys::kIdentity, 1024, after);
    for (const auto& [key, msisdn] : page) {
      std::string ue = key.substr(keys::kIdentity.size());
      if (auto old = by_ue_.find(ue); old != by_ue_.end()) by_msisdn_.erase(Digits(old->second.msisdn));
      if (auto other = by_msisdn_.find(Digits(msisdn)); other != by_msisdn_.end() && other->second != ue) {
        return Status::InvalidArgument("stored identity " + ue + " -> " + msisdn +
                                       " clashes with the configured UE " + other->second);
      }
      by_ue_[ue] = Entry{ue, msisdn, false};
      by_msisdn_[Digits(msisdn)] = ue;
    }
    if (page.size() < 1024) break;
    after = page.back().first;
  }
  return Status::Ok();
}

std::optional<std::string> IdentityMap::MsisdnOf(const std::string& ue) const {
  auto it = by_ue_.find(ue);
  if (it == by_ue_.end()) return std::nullopt;
  return it->second.msisdn;
}

std::optional<std::string> IdentityMap::UeOf(const std::string& msisdn) const {
  auto it = by_msisdn_.find(Digits(msisdn));
  if (it == by_msisdn_.end()) return std::nullopt;
  return it->second;
}

std::vector<IdentityMap::Entry> IdentityMap::List() const {
  std::vector<Entry> out;
  out.reserve(by_ue_.size());
  for (const auto& [ue, e] : by_ue_) out.push_back(e);
  return out;
}

void IdentityMap::Put(const std::string& ue, const std::string& msisdn,
                      std::function<void(Status)> done) {
  if (!IsMsisdn(msisdn)) return done(Status::InvalidArgument("msisdn must be digits (E.164)"));
  if (auto other = by_msisdn_.find(Digits(msisdn)); other != by_msisdn_.end() && other->second != ue) {
    return done(Status::Conflict("MSISDN " + msisdn + " belongs to UE " + other->second));
  }
  // Changed in memory first (the core thread is the only reader), so that a second request
  // right behind sees it; a failed write is reported and the process refuses further writes.
  if (auto old = by_ue_.find(ue); old != by_ue_.end()) by_msisdn_.erase(Digits(old->second.msisdn));
  by_ue_[ue] = Entry{ue, msisdn, false};
  by_msisdn_[Digits(msisdn)] = ue;
  Batch b;
  b.Put(std::string(keys::kIdentity) + ue, msisdn);
  store_.Write(std::move(b), std::move(done));
}

void IdentityMap::Remove(const std::string& ue, std::function<void(Status)> done) {
  auto it = by_ue_.find(ue);
  if (it == by_ue_.end()) return done(Status::NotFound("no identity for UE " + ue));
  if (it->second.configured) {
    return done(Status::Conflict("UE " + ue + " is mapped in the configuration file"));
  }
  by_msisdn_.erase(Digits(it->second.msisdn));
  by_ue_.erase(it);
  Batch b;
  b.Delete(std::string(keys::kIdentity) + ue);
  store_.Write(std::move(b), std::move(done));
}

}  // namespace msgin5g::gateway
