#include "storage/backup_manifest.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <boost/json.hpp>

#include "common/hex.h"
#include "storage/file_util.h"

namespace msgin5g::storage {
namespace fs = std::filesystem;
namespace json = boost::json;

namespace {

bool ValidFileName(std::string_view n) {
  return !n.empty() && n.size() <= 255 && n != "." && n != ".." &&
         n.find('/') == std::string_view::npos && n.find('\0') == std::string_view::npos;
}

bool ValidSha256(std::string_view h) {
  return h.size() == 64 && std::all_of(h.begin(), h.end(), [](char c) {
           return HexDigitValue(c) >= 0 && !(c >= 'A' && c <= 'F');
         });
}

Status Bad(const std::string& dir, const std::string& why) {
  return Status(StatusCode::kCorruption,
                "backup " + dir + ": " + std::string(kManifestFile) + " " + why);
}

}  // namespace

bool ValidBackupName(std::string_view name) {
  if (name.empty() || name.size() > 128 || name[0] == '.' || name[0] == '-') return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' ||
           c == '_' || c == '-';
  });
}

Status WriteManifest(const std::string& dir, BackupManifest* m) {
  m->files.clear();
  m->bytes = 0;
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    const std::string name = entry.path().filename().string();
    if (name == kManifestFile || !entry.is_regular_file()) continue;
    BackupFile f;
    f.name = name;
    auto hash = Sha256File(entry.path().string(), &f.bytes);
    if (!hash.ok()) return hash.status();
    f.sha256 = std::move(*hash);
    m->bytes += f.bytes;
    m->files.push_back(std::move(f));
  }
  if (ec) return Status::Unavailable("cannot list " + dir + ": " + ec.message());
  std::sort(m->files.begin(), m->files.end(),
            [](const BackupFile& a, const BackupFile& b) { return a.name < b.name; });

  json::array files;
  for (const auto& f : m->files) {
    files.push_back(json::object{{"name", f.name}, {"bytes", f.bytes}, {"sha256", f.sha256}});
  }
  json::object doc{{"name", m->name},
                   {"formatVersion", m->format_version},
                   {"sequence", m->sequence},
                   {"createdMs", m->created_ms},
                   {"tookMs", m->took_ms},
                   {"files", std::move(files)}};
  return WriteFileAtomically(dir + "/" + std::string(kManifestFile), json::serialize(doc) + "\n");
}

Result<BackupManifest> ReadManifest(const std::string& dir) {
  const std::string path = dir + "/" + std::string(kManifestFile);
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::error_code ec;
    if (!fs::exists(path, ec)) {
      return Status::NotFound(dir + " is not a complete msgin5g backup (no " +
                              std::string(kManifestFile) + ")");
    }
    return Status::Unavailable("cannot read " + path);
  }
  std::stringstream text;
  text << in.rdbuf();
  if (text.str().size() > (16u << 20)) return Bad(dir, "is too large");
  json::error_code ec;
  json::value v = json::parse(text.str(), ec);
  if (ec || !v.is_object()) return Bad(dir, "is not a JSON object");
  const json::object& o = v.as_object();

  BackupManifest m;
  m.directory = dir;
  const auto* name = o.if_contains("name");
  const auto* version = o.if_contains("formatVersion");
  const auto* seq = o.if_contains("sequence");
  const auto* created = o.if_contains("createdMs");
  const auto* took = o.if_contains("tookMs");
  const auto* files = o.if_contains("files");
  if (name == nullptr || !name->is_string() || version == nullptr || !version->is_int64() ||
      seq == nullptr || !(seq->is_uint64() || seq->is_int64()) || created == nullptr ||
      !created->is_int64() || took == nullptr || !took->is_int64() || files == nullptr ||
      !files->is_array()) {
    return Bad(dir, "lacks name, formatVersion, sequence, createdMs, tookMs or files");
  }
  m.name = std::string(name->as_string());
  m.format_version = static_cast<int>(version->as_int64());
  m.sequence = seq->to_number<std::uint64_t>();
  m.created_ms = created->as_int64();
  m.took_ms = took->as_int64();
  for (const auto& f : files->as_array()) {
    const auto* fo = f.if_object();
    const auto* fname = fo != nullptr ? fo->if_contains("name") : nullptr;
    const auto* fbytes = fo != nullptr ? fo->if_contains("bytes") : nullptr;
    const auto* fsha = fo != nullptr ? fo->if_contains("sha256") : nullptr;
    if (fname == nullptr || !fname->is_string() || !ValidFileName(fname->as_string()) ||
        fname->as_string() == kManifestFile || fbytes == nullptr ||
        !(fbytes->is_uint64() || (fbytes->is_int64() && fbytes->as_int64() >= 0)) ||
        fsha == nullptr || !fsha->is_string() || !ValidSha256(fsha->as_string())) {
      return Bad(dir, "has a file entry without a plain name, a size and a SHA-256");
    }
    BackupFile bf{std::string(fname->as_string()), fbytes->to_number<std::uint64_t>(),
                  std::string(fsha->as_string())};
    m.bytes += bf.bytes;
    m.files.push_back(std::move(bf));
  }
  if (m.files.empty()) return Bad(dir, "lists no files");
  std::vector<std::string> names;
  for (const auto& f : m.files) names.push_back(f.name);
  std::sort(names.begin(), names.end());
  if (std::adjacent_find(names.begin(), names.end()) != names.end()) {
    return Bad(dir, "lists a file twice");
  }
  return m;
}

}  // namespace msgin5g::storage
