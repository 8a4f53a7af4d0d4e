// berthctl: docker's image verbs and ctr's store verbs against berthd.
// Nothing happens before the arguments are parsed (no channel, no I/O):
// the time to first byte is a budget (bench/).
#include "cli.h"

int main(int argc, char** argv) {
  berth::ctl::Cli cli;
  berth::ctl::add_image_commands(cli);
  berth::ctl::add_registry_commands(cli);
  berth::ctl::add_archive_commands(cli);
  berth::ctl::add_system_commands(cli);
  berth::ctl::add_content_commands(cli);
  return cli.run(argc, argv);
}
