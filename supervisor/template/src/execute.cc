// Execution: walks the tree with a dot, a variable stack and an output
// buffer. Errors read as Go's: "template: :LINE:COL: executing ... what".

#include <algorithm>
#include <string>
#include <utility>
#include <vector>

#include "ast.h"
#include "berth/template/template.h"
#include "functions.h"

namespace berth::tmpl {
namespace {

enum class Flow { kNormal, kBreak, kContinue };

class Executor {
 public:
  Executor(const json::Value& root, bool header) : header_(header) {
    vars_.emplace_back("$", Val::ref(root));
  }

  Result<Flow> run(const Node& list, const Val& dot, std::string& out) {
    for (const auto& n : list.children) {
      auto flow = run_node(*n, dot, out);
      if (!flow) return flow;
      if (*flow != Flow::kNormal) return flow;
    }
    return Flow::kNormal;
  }

 private:
  Error exec_error(size_t line, size_t column, std::string_view what) const {
    return make_error("template: :" + std::to_string(line) + ":" + std::to_string(column) +
                      ": executing: " + std::string(what));
  }

  Result<Flow> run_node(const Node& n, const Val& dot, std::string& out) {
    line_ = n.line;
    switch (n.kind) {
      case Node::Kind::kText: out += n.text; return Flow::kNormal;
      case Node::Kind::kList: return run(n, dot, out);
      case Node::Kind::kBreak: return Flow::kBreak;
      case Node::Kind::kContinue: return Flow::kContinue;
      case Node::Kind::kAction: {
        auto v = pipeline(*n.pipeline, dot);
        if (!v) return std::move(v).error();
        // A declaration or assignment prints nothing.
        if (n.pipeline->variables.empty()) out += format_val(*v);
        return Flow::kNormal;
      }
      case Node::Kind::kIf:
      case Node::Kind::kWith: {
        size_t mark = vars_.size();
        auto v = pipeline(*n.pipeline, dot);
        if (!v) return std::move(v).error();
        Result<Flow> flow = Flow::kNormal;
        if (truthy(*v)) {
          flow = run(*n.body, n.kind == Node::Kind::kWith ? *v : dot, out);
        } else if (n.otherwise) {
          flow = run(*n.otherwise, dot, out);
        }
        vars_.resize(mark);
        return flow;
      }
      case Node::Kind::kRange: return range(n, dot, out);
    }
    return Flow::kNormal;
  }

  Result<Flow> range(const Node& n, const Val& dot, std::string& out) {
    size_t mark = vars_.size();
    // The range pipeline's variables are bound per element, not to the
    // pipeline's value: evaluate it without its declaration.
    Pipeline bare = *n.pipeline;
    bare.variables.clear();
    auto v = pipeline(bare, dot);
    if (!v) return std::move(v).error();
    const auto& vars = n.pipeline->variables;
    const json::Value& seq = v->get();
    auto iterate = [&](const Val& key, const Val& elem) -> Result<Flow> {
      vars_.resize(mark);
      if (vars.size() == 1) bind(vars[0], elem, n.pipeline->assign);
      if (vars.size() == 2) {
        bind(vars[0], key, n.pipeline->assign);
        bind(vars[1], elem, n.pipeline->assign);
      }
      return run(*n.body, elem, out);
    };
    bool any = false;
    if (!v->missing() && seq.is_array()) {
      for (size_t i = 0; i < seq.items().size(); ++i) {
        any = true;
        auto flow =
            iterate(Val::own(json::Value::number(std::to_string(i))), v->child(seq.items()[i]));
        if (!flow) return flow;
        if (*flow == Flow::kBreak) break;
      }
    } else if (!v->missing() && seq.is_object()) {
      // Go ranges over a map in sorted key order.
      std::vector<const std::pair<std::string, json::Value>*> members;
      for (const auto& m : seq.members()) members.push_back(&m);
      std::sort(members.begin(), members.end(),
                [](auto* a, auto* b) { return a->first < b->first; });
      for (auto* m : members) {
        any = true;
        auto flow = iterate(Val::own(json::Value::string(m->first)), v->child(m->second));
        if (!flow) return flow;
        if (*flow == Flow::kBreak) break;
      }
    } else if (!v->missing() && seq.is_number() && seq.as_i64()) {
      // Go 1.22: range over an integer counts from 0.
      for (int64_t i = 0; i < *seq.as_i64(); ++i) {
        any = true;
        Val iv = Val::own(json::Value::number(std::to_string(i)));
        auto flow = iterate(iv, iv);
        if (!flow) return flow;
        if (*flow == Flow::kBreak) break;
      }
    } else if (!v->missing() && !seq.is_null()) {
      return exec_error(line_, n.pipeline->column, "range can't iterate over " + format_val(*v));
    }
    vars_.resize(mark);
    if (!any && n.otherwise) return run(*n.otherwise, dot, out);
    return Flow::kNormal;
  }

  void bind(const std::string& name, const Val& v, bool assign) {
    if (assign) {
      for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
        if (it->first == name) {
          it->second = v;
          return;
        }
    }
    vars_.emplace_back(name, v);
  }

  Result<Val> pipeline(const Pipeline& p, const Val& dot) {
    Val value;
    bool have = false;
    for (const auto& cmd : p.commands) {
      auto v = command(cmd, dot, have ? &value : nullptr);
      if (!v) return v;
      value = std::move(*v);
      have = true;
    }
    if (!p.variables.empty()) {
      if (p.assign) {
        bool found = false;
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == p.variables[0]) found = true;
        if (!found) return exec_error(line_, p.column, "undefined variable: " + p.variables[0]);
      }
      bind(p.variables[0], value, p.assign);
    }
    return value;
  }

  Result<Val> command(const Command& c, const Val& dot, const Val* piped) {
    const Operand& first = c.operands.front();
    if (first.kind == Operand::Kind::kFunction) {
      std::vector<Val> args;
      for (size_t i = 1; i < c.operands.size(); ++i) {
        auto a = operand(c.operands[i], dot);
        if (!a) return a;
        args.push_back(std::move(*a));
      }
      if (piped) args.push_back(*piped);
      auto r = call_function(first.name, args, header_);
      if (!r) {
        return exec_error(line_, first.column,
                          "error calling " + first.name + ": " + r.error().message());
      }
      return r;
    }
    if (c.operands.size() > 1 || piped) {
      if (first.kind == Operand::Kind::kField)
        return exec_error(line_, first.column,
                          "can't give argument to field ." + first.fields.back() +
                              " (methods are not supported)");
      return exec_error(line_, first.column, "can't give argument to non-function");
    }
    return operand(first, dot);
  }

  Result<Val> walk(Val v, const std::vector<std::string>& fields, size_t column) {
    for (const auto& f : fields) {
      if (v.missing() || v.get().is_null()) {
        v = Val();
        continue;
      }
      const json::Value& cur = v.get();
      if (!cur.is_object())
        return exec_error(line_, column,
                          "can't evaluate field " + f + " in type " + std::string(v.type_name()));
      const json::Value* next = cur.get(f);
      v = next ? v.child(*next) : Val();
    }
    return v;
  }

  Result<Val> operand(const Operand& o, const Val& dot) {
    switch (o.kind) {
      case Operand::Kind::kDot: return dot;
      case Operand::Kind::kField: return walk(dot, o.fields, o.column);
      case Operand::Kind::kVariable: {
        for (auto it = vars_.rbegin(); it != vars_.rend(); ++it)
          if (it->first == o.name) return walk(it->second, o.fields, o.column);
        return exec_error(line_, o.column, "undefined variable: " + o.name);
      }
      case Operand::Kind::kFunction: {
        std::vector<Val> none;
        return call_function(o.name, none, header_);
      }
      case Operand::Kind::kLiteral: return Val::own(o.literal);
      case Operand::Kind::kNil: return Val::own(json::Value::null());
      case Operand::Kind::kPipeline: {
        size_t mark = vars_.size();
        auto v = pipeline(*o.pipeline, dot);
        vars_.resize(mark);
        if (!v) return v;
        return walk(std::move(*v), o.fields, o.column);
      }
    }
    return Val();
  }

  std::vector<std::pair<std::string, Val>> vars_;
  bool header_;
  size_t line_ = 1;
};

}  // namespace

Status Template::execute(const json::Value& dot, std::string& out, bool header) const {
  Executor ex(dot, header);
  std::string buf;
  auto flow = ex.run(*root_, Val::ref(dot), buf);
  if (!flow) return std::move(flow).error();
  out += buf;
  return {};
}

std::string format_value(const json::Value& v) { return format_val(Val::ref(v)); }

}  // namespace berth::tmpl
