// Reader's lists of the registry kinds (registrations, groups, topic subscriptions, routing rules,
// client policies): range scans of committed data on the reader thread. Store::Recover loads the
// broker's caches through the same scans, so what an admin list shows and what a restart loads
// are read one way.
#include <memory>
#include <string>
#include <string_view>

#include <rocksdb/db.h>
#include <rocksdb/iterator.h>

#include "storage/codec.h"
#include "storage/keys.h"
#include "storage/store.h"

namespace msgin5g::storage {
namespace {

std::string_view View(const rocksdb::Slice& s) { return {s.data(), s.size()}; }

// Calls fn(key, value) for every key of `cf` from `from` on while it starts with `prefix`, until
// fn returns false. An iterator error (I/O, corruption) is the answer: a list it cut short would
// look complete.
template <class Fn>
Status Scan(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf, std::string_view prefix,
            std::string_view from, Fn&& fn) {
  std::unique_ptr<rocksdb::Iterator> it(db->NewIterator(rocksdb::ReadOptions(), cf));
  it->Seek(rocksdb::Slice(from.data(), from.size()));
  for (; it->Valid(); it->Next()) {
    std::string_view key = View(it->key());
    if (key.substr(0, prefix.size()) != prefix) break;
    if (!fn(key, View(it->value()))) break;
  }
  if (!it->status().ok()) {
    return Status::Unavailable("reading the store failed: " + it->status().ToString());
  }
  return Status::Ok();
}

// Every record of a column family that decodes as a T (one that does not is skipped, as at
// recovery: a record this build cannot read is not served either).
template <class T>
Result<std::vector<T>> DecodeAll(rocksdb::DB* db, rocksdb::ColumnFamilyHandle* cf,
                                 std::string_view prefix = {}) {
  std::vector<T> out;
  Status st = Scan(db, cf, prefix, prefix, [&](std::string_view, std::string_view v) {
    T r;
    if (codec::Decode(v, &r)) out.push_back(std::move(r));
    return true;
  });
  if (!st.ok()) return st;
  return out;
}

}  // namespace

Result<std::vector<AsRegistrationRecord>> Reader::AsRegistrations() {
  return DecodeAll<AsRegistrationRecord>(store_.db_.get(), store_.cfs_[keys::kAsRegistrations]);
}

Result<std::vector<GroupRecord>> Reader::Groups() {
  return DecodeAll<GroupRecord>(store_.db_.get(), store_.cfs_[keys::kGroups]);
}

Result<std::vector<TopicSubscriptionRecord>> Reader::TopicSubscriptions() {
  return DecodeAll<TopicSubscriptionRecord>(store_.db_.get(), store_.cfs_[keys::kTopics]);
}

Result<std::vector<TopicSubscriptionRecord>> Reader::TopicSubscribers(const std::string& topic) {
  return DecodeAll<TopicSubscriptionRecord>(store_.db_.get(), store_.cfs_[keys::kTopics],
                                            keys::TopicPrefix(topic));
}

Result<std::vector<RoutingRuleRecord>> Reader::RoutingRules() {
  return DecodeAll<RoutingRuleRecord>(store_.db_.get(), store_.cfs_[keys::kRouting]);
}

Result<std::vector<ClientPolicyRecord>> Reader::ClientPolicies() {
  std::vector<ClientPolicyRecord> out;
  const std::string_view prefix = keys::kClientPolicyPrefix;
  Status st = Scan(store_.db_.get(), store_.cfs_[keys::kMeta], prefix, prefix,
                   [&](std::string_view k, std::string_view v) {
                     out.push_back({std::string(k.substr(prefix.size())), std::string(v)});
                     return true;
                   });
  if (!st.ok()) return st;
  return out;
}

Result<UeRegistrationPage> Reader::UeRegistrations(std::string_view after, std::size_t limit) {
  UeRegistrationPage page;
  const std::string_view prefix = keys::kUeRegistrationPrefix;
  std::string from(prefix);
  if (!after.empty()) {
    from.append(after);
    from.push_back('\0');  // the smallest key past "ue-reg/{after}"
  }
  Status st = Scan(store_.db_.get(), store_.cfs_[keys::kMeta], prefix, from,
                   [&](std::string_view, std::string_view v) {
                     if (page.ues.size() == limit) {
                       page.more = true;
                       return false;
                     }
                     UeRegistrationRecord r;
                     if (codec::Decode(v, &r)) page.ues.push_back(std::move(r));
                     return true;
                   });
  if (!st.ok()) return st;
  return page;
}

}  // namespace msgin5g::storage
