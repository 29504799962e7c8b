// The systemctl commands decamp itself runs on an inventory's units (the app a cutover
// freezes, a restore stops, a drill tears down). Each puts `--` before the units (a unit
// can never read as an option) and then proves the change took effect: after a stop every
// unit is inactive (or failed), after a start every unit is active; otherwise the script
// fails naming the unit and its state. A stop that "succeeded" while the app kept running
// is exactly how a source keeps taking writes after cutover.
#pragma once

#include <string>
#include <vector>

namespace decamp::systemd {

enum class Verb { Stop, Start, Restart, DisableNow };

// When a unit is not installed on the host: Fail (the cutover: a unit that does not exist
// means the inventory names the wrong app) or Ignore (teardown/restore on fresh hosts: a
// unit that does not exist is not running). Ignore only forgives systemctl's own exit
// status; the state check still runs (a missing unit is "inactive"; after a start it fails).
enum class Missing { Fail, Ignore };

// A /bin/sh script; exit 0 only when every unit ended in the wanted state.
std::string units_cmd(Verb verb, const std::vector<std::string>& units, Missing missing = Missing::Fail);

}  // namespace decamp::systemd
