#include "berth/core/container.h"

#include <array>
#include <utility>

namespace berth::core {

namespace {

constexpr std::array<std::pair<ContainerStatus, std::string_view>, 7> kStatusNames = {{
    {ContainerStatus::created, "created"},
    {ContainerStatus::running, "running"},
    {ContainerStatus::paused, "paused"},
    {ContainerStatus::restarting, "restarting"},
    {ContainerStatus::removing, "removing"},
    {ContainerStatus::exited, "exited"},
    {ContainerStatus::dead, "dead"},
}};

}  // namespace

std::string_view to_string(ContainerStatus s) {
  for (const auto& [status, name] : kStatusNames)
    if (status == s) return name;
  return "unknown";
}

std::optional<ContainerStatus> container_status_from(std::string_view s) {
  for (const auto& [status, name] : kStatusNames)
    if (name == s) return status;
  return std::nullopt;
}

}  // namespace berth::core
