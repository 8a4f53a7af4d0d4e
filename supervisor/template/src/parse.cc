// Parsing: the source is cut into text and {{actions}} (trim markers and
// comments handled there), each action is lexed into tokens, and a stack of
// open if/range/with blocks builds the tree. Errors read as Go's do:
// "template: :LINE:COL: what".

#include <cctype>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "ast.h"
#include "berth/template/template.h"
#include "functions.h"

namespace berth::tmpl {
namespace {

struct Token {
  enum class Kind {
    kField,
    kDot,
    kVariable,
    kIdent,
    kString,
    kNumber,
    kChar,
    kOpen,
    kClose,
    kPipe,
    kComma,
    kDeclare,
    kAssign
  };
  Kind kind;
  std::string text;  // field name without '.', variable with '$', decoded string
  size_t column;     // 1-based, in the whole source line
  bool adjacent;     // no space before it (a field right after a term chains)
};

Error parse_error(size_t line, size_t column, std::string_view what) {
  return make_error("template: :" + std::to_string(line) + ":" + std::to_string(column) + ": " +
                    std::string(what));
}

bool is_ident_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

// Decodes the escapes Go's strconv.Unquote accepts in a "..." literal.
Result<std::string> unquote(std::string_view body, size_t line, size_t column) {
  std::string out;
  for (size_t i = 0; i < body.size(); ++i) {
    char c = body[i];
    if (c != '\\') {
      out += c;
      continue;
    }
    if (++i >= body.size()) return parse_error(line, column, "unterminated quoted string");
    char e = body[i];
    switch (e) {
      case 'n': out += '\n'; break;
      case 't': out += '\t'; break;
      case 'r': out += '\r'; break;
      case 'a': out += '\a'; break;
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'v': out += '\v'; break;
      case '\\': out += '\\'; break;
      case '"': out += '"'; break;
      case '\'': out += '\''; break;
      case 'x':
      case 'u':
      case 'U': {
        size_t digits = e == 'x' ? 2 : e == 'u' ? 4 : 8;
        if (i + digits >= body.size())
          return parse_error(line, column, "invalid syntax in quoted string");
        std::string hex(body.substr(i + 1, digits));
        char* end = nullptr;
        unsigned long cp = std::strtoul(hex.c_str(), &end, 16);
        if (hex.size() != digits || *end != '\0')
          return parse_error(line, column, "invalid syntax in quoted string");
        i += digits;
        if (e == 'x') {
          out += static_cast<char>(cp);
        } else if (cp < 0x80) {
          out += static_cast<char>(cp);
        } else if (cp < 0x800) {
          out += static_cast<char>(0xC0 | (cp >> 6));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else if (cp < 0x10000) {
          out += static_cast<char>(0xE0 | (cp >> 12));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        } else {
          out += static_cast<char>(0xF0 | (cp >> 18));
          out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
          out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
          out += static_cast<char>(0x80 | (cp & 0x3F));
        }
        break;
      }
      default: return parse_error(line, column, "invalid syntax in quoted string");
    }
  }
  return out;
}

// Lexes one action's inside (between the delimiters and trim markers).
Result<std::vector<Token>> lex(std::string_view s, size_t line, size_t base_column) {
  std::vector<Token> out;
  size_t i = 0;
  bool spaced = true;
  while (i < s.size()) {
    char c = s[i];
    size_t col = base_column + i;
    if (is_space(c)) {
      ++i;
      spaced = true;
      continue;
    }
    bool adjacent = !spaced;
    spaced = false;
    auto push = [&](Token::Kind k, std::string text, size_t len) {
      out.push_back(Token{k, std::move(text), col, adjacent});
      i += len;
    };
    if (c == '(') {
      push(Token::Kind::kOpen, "(", 1);
      continue;
    }
    if (c == ')') {
      push(Token::Kind::kClose, ")", 1);
      continue;
    }
    if (c == '|') {
      push(Token::Kind::kPipe, "|", 1);
      continue;
    }
    if (c == ',') {
      push(Token::Kind::kComma, ",", 1);
      continue;
    }
    if (c == ':' && i + 1 < s.size() && s[i + 1] == '=') {
      push(Token::Kind::kDeclare, ":=", 2);
      continue;
    }
    if (c == '=') {
      push(Token::Kind::kAssign, "=", 1);
      continue;
    }
    if (c == '"') {
      size_t j = i + 1;
      while (j < s.size() && s[j] != '"') j += s[j] == '\\' ? 2 : 1;
      if (j >= s.size()) return parse_error(line, col, "unterminated quoted string");
      auto text = unquote(s.substr(i + 1, j - i - 1), line, col);
      if (!text) return std::move(text).error();
      push(Token::Kind::kString, std::move(*text), j + 1 - i);
      continue;
    }
    if (c == '`') {
      size_t j = s.find('`', i + 1);
      if (j == std::string_view::npos)
        return parse_error(line, col, "unterminated raw quoted string");
      push(Token::Kind::kString, std::string(s.substr(i + 1, j - i - 1)), j + 1 - i);
      continue;
    }
    if (c == '\'') {
      // A character constant is its code point, as in Go.
      size_t j = i + 1;
      while (j < s.size() && s[j] != '\'') j += s[j] == '\\' ? 2 : 1;
      if (j >= s.size()) return parse_error(line, col, "unterminated character constant");
      auto text = unquote(s.substr(i + 1, j - i - 1), line, col);
      if (!text) return std::move(text).error();
      if (text->empty()) return parse_error(line, col, "empty character constant");
      unsigned char b0 = static_cast<unsigned char>((*text)[0]);
      uint32_t cp = b0;
      if (b0 >= 0xC0 && text->size() >= 2) {
        int extra = b0 >= 0xF0 ? 3 : b0 >= 0xE0 ? 2 : 1;
        cp = b0 & (0x3F >> extra);
        for (int k = 1; k <= extra && k < static_cast<int>(text->size()); ++k)
          cp = (cp << 6) | (static_cast<unsigned char>((*text)[k]) & 0x3F);
      }
      push(Token::Kind::kChar, std::to_string(cp), j + 1 - i);
      continue;
    }
    bool sign = (c == '-' || c == '+') && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1]));
    if (std::isdigit(static_cast<unsigned char>(c)) || sign) {
      size_t j = i + 1;
      while (j < s.size() &&
             (is_ident_char(s[j]) || s[j] == '.' ||
              ((s[j] == '-' || s[j] == '+') && (s[j - 1] == 'e' || s[j - 1] == 'E'))))
        ++j;
      push(Token::Kind::kNumber, std::string(s.substr(i, j - i)), j - i);
      continue;
    }
    if (c == '.') {
      size_t j = i + 1;
      while (j < s.size() && is_ident_char(s[j])) ++j;
      if (j == i + 1) {
        push(Token::Kind::kDot, ".", 1);
      } else {
        push(Token::Kind::kField, std::string(s.substr(i + 1, j - i - 1)), j - i);
      }
      continue;
    }
    if (c == '$') {
      size_t j = i + 1;
      while (j < s.size() && is_ident_char(s[j])) ++j;
      push(Token::Kind::kVariable, std::string(s.substr(i, j - i)), j - i);
      continue;
    }
    if (is_ident_char(c)) {
      size_t j = i;
      while (j < s.size() && is_ident_char(s[j])) ++j;
      push(Token::Kind::kIdent, std::string(s.substr(i, j - i)), j - i);
      continue;
    }
    return parse_error(line, col, std::string("unexpected \"") + c + "\" in command");
  }
  return out;
}

// Turns a number literal into a json number (Go accepts 0x1F, 1_000, 1e3).
Result<json::Value> number_literal(const Token& t, size_t line) {
  std::string text;
  for (char c : t.text)
    if (c != '_') text += c;
  if (text.size() > 2 &&
      (text[0] == '0' || ((text[0] == '-' || text[0] == '+') && text[1] == '0'))) {
    size_t at = text[0] == '0' ? 1 : 2;
    if (text[at] == 'x' || text[at] == 'X' || text[at] == 'o' || text[at] == 'b') {
      int base = text[at] == 'x' || text[at] == 'X' ? 16 : text[at] == 'o' ? 8 : 2;
      char* end = nullptr;
      long long v = std::strtoll(text.c_str() + at + 1, &end, base);
      if (*end != '\0') return parse_error(line, t.column, "bad number syntax: \"" + t.text + "\"");
      if (text[0] == '-') v = -v;
      return json::Value::number(std::to_string(v));
    }
  }
  char* end = nullptr;
  double d = std::strtod(text.c_str(), &end);
  if (text.empty() || *end != '\0')
    return parse_error(line, t.column, "bad number syntax: \"" + t.text + "\"");
  if (text[0] == '+') text.erase(0, 1);
  // A constant with '.' or an exponent is a float64 in Go: it prints as
  // fmt's %v does (1e3 → 1000, 1e6 → 1e+06).
  if (text.find_first_of(".eE") != std::string::npos) return json::Value::number(go_float(d));
  return json::Value::number(text);
}

class ActionParser {
 public:
  ActionParser(std::vector<Token> tokens, size_t line, size_t end_column)
      : toks_(std::move(tokens)), line_(line), end_column_(end_column) {}

  bool at_end() const { return pos_ >= toks_.size(); }
  const Token* peek(size_t ahead = 0) const {
    return pos_ + ahead < toks_.size() ? &toks_[pos_ + ahead] : nullptr;
  }
  size_t column() const { return at_end() ? end_column_ : toks_[pos_].column; }
  void skip(size_t n = 1) { pos_ += n; }

  // pipeline := [decl] command ('|' command)*; stops at ')' when nested.
  Result<std::shared_ptr<Pipeline>> pipeline(std::string_view context, bool allow_range_decl,
                                             bool nested) {
    auto p = std::make_shared<Pipeline>();
    p->column = column();
    // $x := ..., $x = ..., $i, $e := ...
    if (peek() && peek()->kind == Token::Kind::kVariable) {
      const Token* n1 = peek(1);
      if (n1 && (n1->kind == Token::Kind::kDeclare || n1->kind == Token::Kind::kAssign)) {
        p->variables.push_back(peek()->text);
        p->assign = n1->kind == Token::Kind::kAssign;
        skip(2);
      } else if (n1 && n1->kind == Token::Kind::kComma && allow_range_decl && peek(2) &&
                 peek(2)->kind == Token::Kind::kVariable && peek(3) &&
                 (peek(3)->kind == Token::Kind::kDeclare ||
                  peek(3)->kind == Token::Kind::kAssign)) {
        p->variables = {peek()->text, peek(2)->text};
        p->assign = peek(3)->kind == Token::Kind::kAssign;
        skip(4);
      } else if (n1 && n1->kind == Token::Kind::kComma) {
        return parse_error(line_, n1->column, "too many declarations in " + std::string(context));
      }
    }
    for (;;) {
      Command cmd;
      cmd.column = column();
      while (!at_end() && peek()->kind != Token::Kind::kPipe &&
             !(nested && peek()->kind == Token::Kind::kClose)) {
        auto op = operand();
        if (!op) return std::move(op).error();
        cmd.operands.push_back(std::move(*op));
      }
      if (cmd.operands.empty()) {
        return parse_error(line_, cmd.column,
                           p->commands.empty() && p->variables.empty()
                               ? "missing value for " + std::string(context)
                               : "missing command");
      }
      p->commands.push_back(std::move(cmd));
      if (at_end() || peek()->kind != Token::Kind::kPipe) break;
      skip();
    }
    return p;
  }

 private:
  // Field tokens written right after a term ("$x.A", "(...).B") chain onto it.
  void chain(Operand& op) {
    while (peek() && peek()->kind == Token::Kind::kField && peek()->adjacent) {
      op.fields.push_back(peek()->text);
      skip();
    }
  }

  Result<Operand> operand() {
    const Token& t = *peek();
    Operand op;
    op.column = t.column;
    switch (t.kind) {
      case Token::Kind::kOpen: {
        skip();
        auto inner = pipeline("parenthesized pipeline", false, true);
        if (!inner) return std::move(inner).error();
        if (at_end() || peek()->kind != Token::Kind::kClose)
          return parse_error(line_, column(), "unclosed left paren");
        skip();
        op.kind = Operand::Kind::kPipeline;
        op.pipeline = std::move(*inner);
        chain(op);
        return op;
      }
      case Token::Kind::kField:
        op.kind = Operand::Kind::kField;
        op.fields.push_back(t.text);
        skip();
        chain(op);
        return op;
      case Token::Kind::kDot:
        op.kind = Operand::Kind::kDot;
        skip();
        return op;
      case Token::Kind::kVariable:
        op.kind = Operand::Kind::kVariable;
        op.name = t.text;
        skip();
        chain(op);
        return op;
      case Token::Kind::kString:
        op.kind = Operand::Kind::kLiteral;
        op.literal = json::Value::string(t.text);
        skip();
        return op;
      case Token::Kind::kChar:
        op.kind = Operand::Kind::kLiteral;
        op.literal = json::Value::number(t.text);
        skip();
        return op;
      case Token::Kind::kNumber: {
        auto v = number_literal(t, line_);
        if (!v) return std::move(v).error();
        op.kind = Operand::Kind::kLiteral;
        op.literal = std::move(*v);
        skip();
        return op;
      }
      case Token::Kind::kIdent:
        if (t.text == "true" || t.text == "false") {
          op.kind = Operand::Kind::kLiteral;
          op.literal = json::Value::boolean(t.text == "true");
        } else if (t.text == "nil") {
          op.kind = Operand::Kind::kNil;
        } else if (is_function(t.text)) {
          op.kind = Operand::Kind::kFunction;
          op.name = t.text;
        } else {
          return parse_error(line_, t.column, "function \"" + t.text + "\" not defined");
        }
        skip();
        return op;
      default: return parse_error(line_, t.column, "unexpected \"" + t.text + "\" in operand");
    }
  }

  std::vector<Token> toks_;
  size_t pos_ = 0;
  size_t line_;
  size_t end_column_;
};

// One open block on the parser's stack.
struct Open {
  Node* node;  // the if/range/with node
  Node* list;  // where the next nodes go (its body or its else)
  bool in_else = false;
  bool is_else_if = false;  // an `else if` opened it: its `end` closes the parent too
};

}  // namespace

Result<Template> Template::parse(std::string_view src) {
  auto root = std::make_unique<Node>();
  root->kind = Node::Kind::kList;
  std::vector<Open> stack;
  Node* current = root.get();
  size_t line = 1, line_start = 0;  // line_start: offset where `line` begins
  size_t pos = 0;
  bool trim_next_text = false;
  int range_depth = 0;

  auto advance_lines = [&](size_t from, size_t to) {
    for (size_t k = from; k < to; ++k)
      if (src[k] == '\n') {
        ++line;
        line_start = k + 1;
      }
  };
  auto add_text = [&](std::string_view text) {
    if (text.empty()) return;
    auto n = std::make_unique<Node>();
    n->kind = Node::Kind::kText;
    n->text = std::string(text);
    n->line = line;
    current->children.push_back(std::move(n));
  };

  while (pos < src.size()) {
    size_t open = src.find("{{", pos);
    std::string_view text = src.substr(pos, open == std::string_view::npos ? src.npos : open - pos);
    if (trim_next_text) {
      size_t k = 0;
      while (k < text.size() && is_space(text[k])) ++k;
      text.remove_prefix(k);
      trim_next_text = false;
    }
    size_t inner_start = open == std::string_view::npos ? src.size() : open + 2;
    bool trim_left = open != std::string_view::npos && inner_start + 1 < src.size() &&
                     src[inner_start] == '-' && is_space(src[inner_start + 1]);
    if (trim_left) {
      while (!text.empty() && is_space(text.back())) text.remove_suffix(1);
    }
    add_text(text);
    if (open == std::string_view::npos) break;
    advance_lines(pos, open);
    size_t action_line = line;
    size_t action_col = open - line_start + 1;
    if (trim_left) inner_start += 2;

    // Comment: {{/* ... */}} (with optional trim markers).
    std::string_view rest = src.substr(inner_start);
    size_t lead = 0;
    while (lead < rest.size() && is_space(rest[lead]) && !trim_left) ++lead;
    if (rest.substr(lead).starts_with("/*")) {
      size_t close = src.find("*/", inner_start + lead + 2);
      if (close == std::string_view::npos)
        return parse_error(action_line, action_col, "unclosed comment");
      size_t after = close + 2;
      bool trim_right = false;
      if (src.substr(after).starts_with(" -}}")) {
        trim_right = true;
        after += 4;
      } else if (src.substr(after).starts_with("}}")) {
        after += 2;
      } else {
        return parse_error(action_line, action_col, "comment ends before closing delimiter");
      }
      advance_lines(open, after);
      trim_next_text = trim_right;
      pos = after;
      continue;
    }

    // Find the closing "}}" outside quoted strings.
    size_t k = inner_start;
    char quote = 0;
    for (; k + 1 < src.size(); ++k) {
      char c = src[k];
      if (quote) {
        if (c == '\\' && quote != '`') {
          ++k;
        } else if (c == quote) {
          quote = 0;
        } else if (c == '\n' && quote != '`') {
          return parse_error(action_line, action_col, "unterminated quoted string");
        }
        continue;
      }
      if (c == '"' || c == '`' || c == '\'') {
        quote = c;
        continue;
      }
      if (c == '}' && src[k + 1] == '}') break;
    }
    if (k + 1 >= src.size()) return parse_error(action_line, action_col, "unclosed action");
    size_t inner_end = k;
    bool trim_right =
        inner_end >= inner_start + 2 && src[inner_end - 1] == '-' && is_space(src[inner_end - 2]);
    if (trim_right) inner_end -= 1;
    std::string_view inner = src.substr(inner_start, inner_end - inner_start);
    size_t inner_col = inner_start - line_start + 1;
    advance_lines(open, k + 2);
    pos = k + 2;
    trim_next_text = trim_right;

    auto tokens = lex(inner, action_line, inner_col);
    if (!tokens) return std::move(tokens).error();
    if (tokens->empty()) return parse_error(action_line, action_col, "missing value for command");
    ActionParser p(std::move(*tokens), action_line, inner_col + inner.size());
    const Token& first = *p.peek();
    std::string keyword = first.kind == Token::Kind::kIdent ? first.text : "";

    auto open_block = [&](Node::Kind kind, bool is_else_if) -> Status {
      std::string_view ctx = kind == Node::Kind::kIf      ? "if"
                             : kind == Node::Kind::kRange ? "range"
                                                          : "with";
      auto pipe = p.pipeline(ctx, kind == Node::Kind::kRange, false);
      if (!pipe) return std::move(pipe).error();
      auto n = std::make_unique<Node>();
      n->kind = kind;
      n->line = action_line;
      n->pipeline = std::move(*pipe);
      n->body = std::make_unique<Node>();
      Node* raw = n.get();
      current->children.push_back(std::move(n));
      stack.push_back(Open{raw, raw->body.get(), false, is_else_if});
      current = raw->body.get();
      if (kind == Node::Kind::kRange) ++range_depth;
      return {};
    };

    if (keyword == "if" || keyword == "range" || keyword == "with") {
      p.skip();
      Node::Kind kind = keyword == "if"      ? Node::Kind::kIf
                        : keyword == "range" ? Node::Kind::kRange
                                             : Node::Kind::kWith;
      BERTH_TRY(open_block(kind, false));
    } else if (keyword == "else") {
      if (stack.empty() || stack.back().in_else)
        return parse_error(action_line, first.column, "unexpected {{else}}");
      p.skip();
      Open& top = stack.back();
      top.node->otherwise = std::make_unique<Node>();
      top.in_else = true;
      current = top.node->otherwise.get();
      if (!p.at_end()) {
        // {{else if ...}} / {{else with ...}}: a nested block that the one
        // {{end}} closes together with its parent.
        const Token& t = *p.peek();
        bool chained = t.kind == Token::Kind::kIdent &&
                       ((t.text == "if" && top.node->kind == Node::Kind::kIf) ||
                        (t.text == "with" && top.node->kind == Node::Kind::kWith));
        if (!chained)
          return parse_error(action_line, t.column, "unexpected \"" + t.text + "\" in else");
        p.skip();
        BERTH_TRY(open_block(top.node->kind, true));
      }
    } else if (keyword == "end") {
      if (stack.empty()) return parse_error(action_line, first.column, "unexpected {{end}}");
      p.skip();
      if (!p.at_end())
        return parse_error(action_line, p.peek()->column,
                           "unexpected \"" + p.peek()->text + "\" in end");
      for (;;) {
        Open top = stack.back();
        stack.pop_back();
        if (top.node->kind == Node::Kind::kRange) --range_depth;
        if (!top.is_else_if) break;
      }
      current = stack.empty() ? root.get() : stack.back().list;
      if (!stack.empty() && stack.back().in_else) current = stack.back().node->otherwise.get();
    } else if (keyword == "break" || keyword == "continue") {
      if (range_depth == 0)
        return parse_error(action_line, first.column, "{{" + keyword + "}} outside {{range}}");
      p.skip();
      if (!p.at_end())
        return parse_error(action_line, p.peek()->column,
                           "unexpected \"" + p.peek()->text + "\" in " + keyword);
      auto n = std::make_unique<Node>();
      n->kind = keyword == "break" ? Node::Kind::kBreak : Node::Kind::kContinue;
      n->line = action_line;
      current->children.push_back(std::move(n));
    } else if (keyword == "define" || keyword == "template" || keyword == "block") {
      return parse_error(action_line, first.column, "{{" + keyword + "}} is not supported");
    } else {
      auto pipe = p.pipeline("command", false, false);
      if (!pipe) return std::move(pipe).error();
      if (!p.at_end())
        return parse_error(action_line, p.peek()->column,
                           "unexpected \"" + p.peek()->text + "\" in command");
      auto n = std::make_unique<Node>();
      n->kind = Node::Kind::kAction;
      n->line = action_line;
      n->pipeline = std::move(*pipe);
      current->children.push_back(std::move(n));
    }
  }
  if (!stack.empty()) {
    Node* open_node = stack.back().node;
    std::string_view what = open_node->kind == Node::Kind::kIf      ? "if"
                            : open_node->kind == Node::Kind::kRange ? "range"
                                                                    : "with";
    return parse_error(open_node->line, 1,
                       "unexpected EOF: {{" + std::string(what) + "}} has no {{end}}");
  }
  return Template(std::shared_ptr<const Node>(std::move(root)));
}

Template::Template(std::shared_ptr<const Node> root) : root_(std::move(root)) {}
Template::Template(Template&&) noexcept = default;
Template& Template::operator=(Template&&) noexcept = default;
Template::~Template() = default;

}  // namespace berth::tmpl
