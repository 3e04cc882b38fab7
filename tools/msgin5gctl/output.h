// Output: aligned tables with a header row (no colour, no box drawing) and pretty JSON.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <boost/json/value.hpp>

namespace msgin5gctl {

class Table {
 public:
  explicit Table(std::vector<std::string> headers) : headers_(std::move(headers)) {}
  void Add(std::vector<std::string> row) { rows_.push_back(std::move(row)); }
  // Columns separated by two spaces and padded to the widest cell (bytes; ids are ASCII);
  // the last column is not padded. An empty cell is shown as "-".
  std::string Render() const;

 private:
  std::vector<std::string> headers_;
  std::vector<std::vector<std::string>> rows_;
};

// A value as one table cell: strings as they are, numbers, true/false, null as "-", an
// Address {addrType, addr} as "TYPE:ADDR", arrays joined with ",", other objects as JSON.
std::string Cell(const boost::json::value& v);
// The member `key` of `o` (when `o` is an object) as a cell; "-" when absent.
std::string CellOf(const boost::json::value& o, const char* key);

// FIELD/VALUE rows for an object, nested objects flattened as "parent.child".
Table FieldTable(const boost::json::object& o);

// JSON indented by two spaces, members in the server's order, ending in a newline.
std::string PrettyJson(const boost::json::value& v);

}  // namespace msgin5gctl
