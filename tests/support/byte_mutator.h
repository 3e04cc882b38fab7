// Random mutations of byte strings, for the bounded mutation runs that have no coverage-guided
// fuzzer behind them: the CoAP datagram run against the real daemon (tests/e2e/coap_fuzz_test.cc)
// and the replay driver that runs the libFuzzer targets in the GCC test trees
// (tests/fuzz/replay_main.cc). Each output is a seed put through 0 to 4 mutations: bit flips,
// random or boundary bytes (nibbles that mean "extended" in CoAP options, 0xff, 0), inserts,
// deletes, truncation, a splice with another seed, a repeated slice.
#pragma once

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string>
#include <vector>

namespace msgin5g::testing_support {

class ByteMutator {
 public:
  // Outputs are cut to `max_size`; one mutation in nine hits the first `header_bytes` bytes,
  // where the framing of most formats lives.
  ByteMutator(std::uint64_t seed, std::size_t max_size, std::size_t header_bytes = 24)
      : rng_(seed), max_size_(max_size), header_bytes_(header_bytes) {}

  std::string Next(const std::vector<std::string>& seeds) {
    std::string d = seeds[Pick(seeds.size())];
    const int n = static_cast<int>(Pick(5));  // 0: the seed as it is (sequences must arrive whole)
    for (int i = 0; i < n; ++i) Mutate(d, seeds);
    return d;
  }

 private:
  std::size_t Pick(std::size_t n) { return std::uniform_int_distribution<std::size_t>(0, n - 1)(rng_); }
  char Byte() { return static_cast<char>(Pick(256)); }

  void Mutate(std::string& d, const std::vector<std::string>& seeds) {
    if (d.empty()) d.push_back(Byte());
    switch (Pick(9)) {
      case 0: d[Pick(d.size())] ^= static_cast<char>(1 << Pick(8)); break;                 // bit flip
      case 1: d[Pick(d.size())] = Byte(); break;                                             // byte
      case 2: d[Pick(std::min(d.size(), header_bytes_))] = Byte(); break;                    // framing
      case 3: d.insert(d.begin() + static_cast<long>(Pick(d.size() + 1)), Byte()); break;    // insert
      case 4: d.erase(d.begin() + static_cast<long>(Pick(d.size()))); break;                 // delete
      case 5: d.resize(Pick(d.size() + 1)); break;                                           // truncate
      case 6: {                                                                              // splice
        const std::string& o = seeds[Pick(seeds.size())];
        const std::size_t at = Pick(d.size() + 1), from = Pick(o.size() + 1);
        d = d.substr(0, at) + o.substr(from);
        break;
      }
      case 7: {  // repeat a slice (fields repeated, lengths off)
        const std::size_t at = Pick(d.size()), len = 1 + Pick(std::min<std::size_t>(8, d.size() - at));
        d.insert(at, d.substr(at, len));
        break;
      }
      default: {  // a boundary value in a byte
        static constexpr std::array<unsigned char, 8> k = {0x00, 0xff, 0x0d, 0x0e, 0xd0, 0xe0, 0x0f, 0xf0};
        d[Pick(d.size())] = static_cast<char>(k[Pick(k.size())]);
      }
    }
    if (d.size() > max_size_) d.resize(max_size_);
  }

  std::mt19937_64 rng_;
  std::size_t max_size_;
  std::size_t header_bytes_;
};

}  // namespace msgin5g::testing_support
