#include "api/http/tls_session_cache.h"

namespace msgin5g::api::http {

namespace {

int SlotIndex() {
  static const int index = SSL_get_ex_new_index(0, nullptr, nullptr, nullptr, nullptr);
  return index;
}

}  // namespace

TlsSessionCache::TlsSessionCache(std::size_t max_entries) : max_entries_(max_entries) {}

TlsSessionCache::~TlsSessionCache() {
  for (auto& [key, session] : sessions_) SSL_SESSION_free(session);
}

void TlsSessionCache::Install(SSL_CTX* ctx) {
  SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
  SSL_CTX_sess_set_new_cb(ctx, &TlsSessionCache::OnNewSession);
}

int TlsSessionCache::OnNewSession(SSL* ssl, SSL_SESSION* session) {
  auto* slot = static_cast<Slot*>(SSL_get_ex_data(ssl, SlotIndex()));
  if (slot == nullptr || slot->cache == nullptr) return 0;  // not ours: OpenSSL frees it
  slot->cache->Store(slot->key, session);
  return 1;  // we keep the reference
}

void TlsSessionCache::Attach(SSL* ssl, Slot* slot, std::string key) {
  slot->cache = this;
  slot->key = std::move(key);
  SSL_set_ex_data(ssl, SlotIndex(), slot);
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(slot->key);
  if (it == sessions_.end()) return;
  if (SSL_SESSION_is_resumable(it->second) != 1) {
    SSL_SESSION_free(it->second);
    sessions_.erase(it);
    return;
  }
  SSL_set_session(ssl, it->second);  // takes its own reference
}

void TlsSessionCache::Detach(SSL* ssl) { SSL_set_ex_data(ssl, SlotIndex(), nullptr); }

void TlsSessionCache::Forget(const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  SSL_SESSION_free(it->second);
  sessions_.erase(it);
}

std::size_t TlsSessionCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size();
}

void TlsSessionCache::Store(const std::string& key, SSL_SESSION* session) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(key);
  if (it != sessions_.end()) {
    SSL_SESSION_free(it->second);
    it->second = session;
    return;
  }
  // Full: drop any one entry. The map holds one entry per authority we deliver to, so this only
  // happens with more distinct ASs than max_entries; that AS's next reconnect is a full handshake.
  if (sessions_.size() >= max_entries_ && !sessions_.empty()) {
    SSL_SESSION_free(sessions_.begin()->second);
    sessions_.erase(sessions_.begin());
  }
  sessions_.emplace(key, session);
}

}  // namespace msgin5g::api::http
