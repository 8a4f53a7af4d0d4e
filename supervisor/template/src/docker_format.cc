#include "berth/template/docker_format.h"

#include <string>
#include <vector>

namespace berth::tmpl {
namespace {

constexpr std::string_view kTable = "table";

size_t rune_width(std::string_view s) {
  size_t n = 0;
  for (unsigned char c : s)
    if ((c & 0xC0) != 0x80) ++n;
  return n;
}

std::string unescape_and_trim(std::string_view f) {
  while (!f.empty() && f.front() == ' ') f.remove_prefix(1);
  while (!f.empty() && f.back() == ' ') f.remove_suffix(1);
  std::string out;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] == '\\' && i + 1 < f.size() && (f[i + 1] == 't' || f[i + 1] == 'n')) {
      out += f[i + 1] == 't' ? '\t' : '\n';
      ++i;
    } else {
      out += f[i];
    }
  }
  return out;
}

class TabWriter {
 public:
  TabWriter(std::string_view text, size_t minwidth, size_t padding)
      : minwidth_(minwidth), padding_(padding) {
    size_t start = 0;
    while (start <= text.size()) {
      size_t nl = text.find('\n', start);
      std::string_view line =
          text.substr(start, nl == std::string_view::npos ? text.npos : nl - start);
      std::vector<std::string> cells;
      size_t c0 = 0;
      for (;;) {
        size_t tab = line.find('\t', c0);
        cells.emplace_back(line.substr(c0, tab == std::string_view::npos ? line.npos : tab - c0));
        if (tab == std::string_view::npos) break;
        c0 = tab + 1;
      }
      lines_.push_back(std::move(cells));
      newline_.push_back(nl != std::string_view::npos);
      if (nl == std::string_view::npos) break;
      start = nl + 1;
    }
  }

  std::string run() {
    format(0, lines_.size());
    return std::move(out_);
  }

 private:
  // A line's column cells are all but its last (tab-terminated) cell.
  size_t columns(size_t line) const { return lines_[line].size() - 1; }

  void format(size_t line0, size_t line1) {
    size_t column = widths_.size();
    for (size_t l = line0; l < line1; ++l) {
      if (column >= columns(l)) continue;
      write_lines(line0, l);
      line0 = l;
      size_t width = minwidth_;
      for (; l < line1 && column < columns(l); ++l) {
        width = std::max(width, rune_width(lines_[l][column]) + padding_);
      }
      widths_.push_back(width);
      format(line0, l);
      widths_.pop_back();
      line0 = l;
      // Line l (if any) has no cell in this column: the loop's ++l skips it,
      // as Go's does; write_lines prints it with the next block or at the end.
      if (l == line1) break;
    }
    write_lines(line0, line1);
  }

  void write_lines(size_t line0, size_t line1) {
    for (size_t l = line0; l < line1; ++l) {
      const auto& cells = lines_[l];
      for (size_t j = 0; j < cells.size(); ++j) {
        out_ += cells[j];
        if (j < widths_.size() && j + 1 < cells.size()) {
          size_t w = rune_width(cells[j]);
          if (widths_[j] > w) out_.append(widths_[j] - w, ' ');
        }
      }
      if (newline_[l]) out_ += '\n';
    }
  }

  size_t minwidth_, padding_;
  std::vector<std::vector<std::string>> lines_;
  std::vector<bool> newline_;
  std::vector<size_t> widths_;
  std::string out_;
};

}  // namespace

std::string tabwrite(std::string_view text, size_t minwidth, size_t padding) {
  return TabWriter(text, minwidth, padding).run();
}

Result<DockerFormat> DockerFormat::parse(std::string_view format) {
  bool table = format.starts_with(kTable);
  std::string body;
  if (table) {
    body = unescape_and_trim(format.substr(kTable.size()));
  } else if (unescape_and_trim(format) == "json") {
    body = "{{json .}}";
  } else {
    body = unescape_and_trim(format);
  }
  auto t = Template::parse(body);
  if (!t) return std::move(t).error();
  return DockerFormat(std::move(*t), table);
}

Status DockerFormat::add(const json::Value& item) {
  BERTH_TRY(template_.execute(item, rows_));
  rows_ += '\n';
  return {};
}

Result<std::string> DockerFormat::finish(const json::Value& headers) const {
  if (!table_) return rows_;
  std::string text;
  BERTH_TRY(template_.execute(headers, text, /*header=*/true));
  text += '\n';
  text += rows_;
  return tabwrite(text);
}

}  // namespace berth::tmpl
