// The L3G identity map (TS 23.554 8.7.1.2): UE Service ID <-> MSISDN. Entries come from the
// configuration ([ues.ID] msisdn) and from the admin API (stored, so they outlive a restart); a
// stored entry overrides a configured one for the same UE. One MSISDN belongs to one UE at most,
// or an MO SMS could not be attributed.
//
// Threads: the gateway's core io_context only (reads and changes); the admin API posts there.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "gateway/store.h"

namespace msgin5g::gateway {

class IdentityMap {
 public:
  struct Entry {
    std::string ue;
    std::string msisdn;
    bool configured = false;  // from the configuration file (not removable over the API)
  };

  explicit IdentityMap(Store& store) : store_(store) {}
  // Configured entries first, then the stored ones (over them). Call once, at start.
  Status Load(const std::vector<Entry>& configured);

  std::optional<std::string> MsisdnOf(const std::string& ue) const;
  std::optional<std::string> UeOf(const std::string& msisdn) const;
  std::vector<Entry> List() const;

  // Stores ue -> msisdn, then `done` with OK, or Conflict (the MSISDN is another UE's),
  // InvalidArgument (not an MSISDN), or the store's error. `done` runs on the store's writer
  // thread: the caller posts.
  void Put(const std::string& ue, const std::string& msisdn, std::function<void(Status)> done);
  // Removes a stored entry (NotFound when there is none; a configured one cannot be removed).
  void Remove(const std::string& ue, std::function<void(Status)> done);

  static bool IsMsisdn(std::string_view s);

 private:
  Store& store_;
  std::map<std::string, Entry> by_ue_;
  std::map<std::string, std::string> by_msisdn_;
};

}  // namespace msgin5g::gateway
