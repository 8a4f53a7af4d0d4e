// berthctl: docker's image verbs and ctr's store verbs against berthd.
// Nothing happens before the arguments are parsed (no channel, no I/O):
// the time to first byte is a budget (see CMakeLists.txt on linking).
// Declared here rather than included: this file is compiled without the
// include paths of the library (the static link below bypasses its target).
namespace berth::ctl {
int berthctl_main(int argc, char** argv);
}

int main(int argc, char** argv) { return berth::ctl::berthctl_main(argc, argv); }
