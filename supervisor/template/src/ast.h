#pragma once
// The parsed form of a template: a tree of nodes, immutable once built and
// shared by every execution.

#include <memory>
#include <string>
#include <vector>

#include "berth/json/json.h"

namespace berth::tmpl {

struct Pipeline;

// One operand of a command: `.A.B`, `$x.A`, `.`, `fn`, a literal, or a
// parenthesised pipeline followed by a field chain.
struct Operand {
  enum class Kind { kDot, kField, kVariable, kFunction, kLiteral, kNil, kPipeline };
  Kind kind = Kind::kDot;
  std::string name;                 // variable ("$x", "$") or function name
  std::vector<std::string> fields;  // the chain after it
  json::Value literal = json::Value::null();
  std::shared_ptr<Pipeline> pipeline;
  size_t column = 0;
};

struct Command {
  std::vector<Operand> operands;
  size_t column = 0;
};

struct Pipeline {
  std::vector<std::string> variables;  // declared or assigned, in order
  bool assign = false;                 // `=` rather than `:=`
  std::vector<Command> commands;
  size_t column = 0;
};

struct Node {
  enum class Kind { kList, kText, kAction, kIf, kRange, kWith, kBreak, kContinue };
  Kind kind = Kind::kList;
  std::string text;                             // kText
  std::shared_ptr<Pipeline> pipeline;           // kAction, kIf, kRange, kWith
  std::vector<std::unique_ptr<Node>> children;  // kList: the nodes in order
  std::unique_ptr<Node> body;                   // kIf/kRange/kWith: a kList
  std::unique_ptr<Node> otherwise;              // their {{else}} branch (kList), or null
  size_t line = 1;
};

}  // namespace berth::tmpl
