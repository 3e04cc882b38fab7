// groups list|show|create|delete|add-member|remove-member (/admin/v1/groups).
#include "tools/msgin5gctl/address.h"
#include "tools/msgin5gctl/handlers.h"
#include "tools/msgin5gctl/output.h"

namespace msgin5gctl {

namespace json = boost::json;

namespace {

const json::array* Members(const json::value& group) {
  const auto* m = group.is_object() ? group.get_object().if_contains("members") : nullptr;
  return m != nullptr && m->is_array() ? &m->get_array() : nullptr;
}

// One row per member: GROUP MEMBER.
std::string GroupText(const json::value& group) {
  Table t({"GROUP", "MEMBER"});
  if (const auto* members = Members(group)) {
    for (const auto& m : *members) t.Add({CellOf(group, "groupId"), Cell(m)});
  }
  return t.Render();
}

Result<json::array> ParseMembers(const std::vector<std::string>& words, std::size_t from) {
  json::array members;
  for (std::size_t i = from; i < words.size(); ++i) {
    auto a = ParseMember(words[i]);
    if (!a.ok()) return a.error();
    members.push_back(AddressJson(*a));
  }
  return members;
}

Result<json::array> ListGroups(const CommandContext& c) {
  auto res = CallForObject(c, "GET", "/groups");
  if (!res.ok()) return res.error();
  const auto* groups = res->if_contains("groups");
  if (groups == nullptr || !groups->is_array()) {
    return Error{Exit::kRefused, "GET /groups: the answer has no \"groups\" array"};
  }
  return groups->get_array();
}

}  // namespace

Result<Rendered> RunGroupsList(const CommandContext& c) {
  auto groups = ListGroups(c);
  if (!groups.ok()) return groups.error();
  Table t({"GROUP", "COUNT", "MEMBERS"});
  for (const auto& g : *groups) {
    const auto* members = Members(g);
    t.Add({CellOf(g, "groupId"), std::to_string(members != nullptr ? members->size() : 0),
           CellOf(g, "members")});
  }
  return Show(json::object{{"groups", *groups}}, t.Render());
}

// The admin API has no GET for one group: the list, filtered here.
Result<Rendered> RunGroupsShow(const CommandContext& c) {
  auto groups = ListGroups(c);
  if (!groups.ok()) return groups.error();
  for (const auto& g : *groups) {
    if (CellOf(g, "groupId") == c.args[0]) return Show(g, GroupText(g));
  }
  return Error{Exit::kNotFound, "404 RESOURCE_NOT_FOUND: no group '" + c.args[0] + "'"};
}

Result<Rendered> RunGroupsCreate(const CommandContext& c) {
  auto members = ParseMembers(c.args, 1);
  if (!members.ok()) return members.error();
  json::object body{{"groupId", c.args[0]}, {"members", *members}};
  auto res = CallForObject(c, "POST", "/groups", json::serialize(body));
  if (!res.ok()) return res.error();
  return Show(*res, GroupText(*res));
}

Result<Rendered> RunGroupsDelete(const CommandContext& c) {
  return DeleteResource(c, "/groups/" + Segment(c.args[0]), "groupId", "group");
}

Result<Rendered> RunGroupsAddMember(const CommandContext& c) {
  auto a = ParseMember(c.args[1]);
  if (!a.ok()) return a.error();
  auto res = c.api->Call("POST", "/groups/" + Segment(c.args[0]) + "/members",
                         json::serialize(AddressJson(*a)));
  if (!res.ok()) return res.error();
  return Show(json::object{{"groupId", c.args[0]}, {"member", AddressJson(*a)}, {"added", true}},
              a->type + ":" + a->addr + " added to group " + c.args[0] + "\n");
}

Result<Rendered> RunGroupsRemoveMember(const CommandContext& c) {
  auto a = ParseMember(c.args[1]);
  if (!a.ok()) return a.error();
  auto res = c.api->Call("DELETE", "/groups/" + Segment(c.args[0]) + "/members" + AddressPath(*a));
  if (!res.ok()) return res.error();
  return Show(json::object{{"groupId", c.args[0]}, {"member", AddressJson(*a)}, {"removed", true}},
              a->type + ":" + a->addr + " removed from group " + c.args[0] + "\n");
}

}  // namespace msgin5gctl
