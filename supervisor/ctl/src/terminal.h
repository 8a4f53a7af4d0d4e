#pragma once
// What berthctl needs of its terminal: whether stdin/stdout are one, the
// width (progress bars), and reading a password without echo.

#include <optional>
#include <string>
#include <string_view>

#include "berth/base/error.h"

namespace berth::ctl {

bool is_terminal(int fd);
// Columns of the terminal on fd; 0 when it is not a terminal.
int terminal_width(int fd);
// One line from stdin without its newline; nullopt at end of file.
std::optional<std::string> read_line();
// Writes `prompt` to stdout, reads a line from the terminal on stdin with
// echo off (restored even when reading fails).
Result<std::string> read_password(std::string_view prompt);
// Writes all of `data` to fd (stdout: binary output of save, content get).
Status write_out(int fd, std::string_view data);

}  // namespace berth::ctl
