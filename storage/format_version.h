// The data format version: kMeta "format_version" holds the decimal number of the layout the store
// was written with (column families, keys, record encodings). A daemon opens only stores in its own
// format; a store from a newer release is refused with a message saying so, never read half-way.
//
// Version 1 is the first format. When a layout change ships, it gets number 2 and an upgrade step
// from 1, run by Store::Open before anything else reads the store (docs/operations.md, "Upgrades").
#pragma once

#include <string_view>

#include "common/status.h"

namespace msgin5g::storage {

inline constexpr int kCurrentFormatVersion = 1;

// OK when `stored` is this daemon's version. Otherwise kCorruption, with a message for the
// operator: a newer version ("written by a newer msgin5g ..."), or a value that is no version
// this project ever wrote. `where` names the store in the message (its path).
Status CheckFormatVersion(std::string_view stored, std::string_view where);

}  // namespace msgin5g::storage
