#include <doctest/doctest.h>

#include <string>

#include "berth/json/json.h"
#include "berth/template/template.h"

using berth::json::Value;
using berth::tmpl::Template;

namespace {

Value data(std::string_view text) {
  auto v = berth::json::parse(text, "test");
  REQUIRE(v.ok());
  return std::move(*v);
}

// Renders `tmpl` over `json`; on an error returns "ERR: <message>".
std::string render(std::string_view tmpl, std::string_view json = "{}") {
  auto t = Template::parse(tmpl);
  if (!t) return "ERR: " + t.error().message();
  std::string out;
  auto st = t->execute(data(json), out);
  if (!st) return "ERR: " + st.error().message();
  return out;
}

const char* kContainer = R"({
  "Id": "d2cc496561d6", "Name": "/Test_Box", "Image": "ubuntu:latest",
  "Path": "sh", "Args": ["-c", "sleep 10"], "LogPath": "/var/lib/x.log",
  "State": {"Status": "running", "Running": true, "Pid": 42, "ExitCode": 0},
  "Config": {"Image": "ubuntu", "Env": ["PATH=/usr/bin", "A=b"], "Labels": {"z": "1", "a": "<&>"}},
  "NetworkSettings": {
    "Networks": {"bridge": {"IPAddress": "172.17.0.2", "MacAddress": "02:42:ac:11:00:02"}},
    "Ports": {"8787/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8787"}],
              "80/tcp": [{"HostIp": "0.0.0.0", "HostPort": "8080"}]}},
  "Mounts": [], "Size": 1234567890, "Nothing": null
})";

}  // namespace

TEST_CASE("fields, nested fields, dot and text") {
  CHECK(render("{{.LogPath}}", kContainer) == "/var/lib/x.log");
  CHECK(render("{{.Config.Image}}", kContainer) == "ubuntu");
  CHECK(render("id={{.Id}} pid={{.State.Pid}}!", kContainer) == "id=d2cc496561d6 pid=42!");
  CHECK(render("{{.}}", R"("plain")") == "plain");
  CHECK(render("{{.Size}}", kContainer) == "1234567890");  // integers print whole, never 1.2e+09
  CHECK(render("{{.State.Running}}", kContainer) == "true");
}

TEST_CASE("Go's %v for missing keys, null, lists and maps") {
  CHECK(render("{{.Missing}}", kContainer) == "<no value>");
  CHECK(render("{{.Missing.Deeper}}", kContainer) == "<no value>");
  CHECK(render("{{.Nothing}}", kContainer) == "<nil>");
  CHECK(render("{{.Args}}", kContainer) == "[-c sleep 10]");
  CHECK(render("{{.Config.Labels}}", kContainer) == "map[a:<&> z:1]");
  CHECK(render("{{.Mounts}}", kContainer) == "[]");
  CHECK(render("{{.Id.Foo}}", kContainer).starts_with("ERR: template: :1:"));
}

TEST_CASE("docker's documented inspect examples") {
  CHECK(render("{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}", kContainer) ==
        "172.17.0.2");
  CHECK(render("{{range .NetworkSettings.Networks}}{{.MacAddress}}{{end}}", kContainer) ==
        "02:42:ac:11:00:02");
  CHECK(render("{{range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf "
               "0).HostPort}} {{end}}",
               kContainer) == " 80/tcp -> 8080  8787/tcp -> 8787 ");
  CHECK(render(R"({{(index (index .NetworkSettings.Ports "8787/tcp") 0).HostPort}})", kContainer) ==
        "8787");
  CHECK(render(R"({{join .Args " , "}})", kContainer) == "-c , sleep 10");
  CHECK(render("{{json .Mounts}}", kContainer) == "[]");
  CHECK(render("{{lower .Name}}", kContainer) == "/test_box");
  CHECK(render("{{upper .Name}}", kContainer) == "/TEST_BOX");
  CHECK(render(R"({{split .Image ":"}})", kContainer) == "[ubuntu latest]");
  CHECK(render("{{title .Path}}", kContainer) == "Sh");
  CHECK(render("{{range .Config.Env}}{{println .}}{{end}}", kContainer) == "PATH=/usr/bin\nA=b\n");
  CHECK(render("{{.State.Status | printf \"%s!\"}}", kContainer) == "running!");
}

TEST_CASE("json is encoding/json's: compact, HTML characters escaped, order kept") {
  CHECK(render("{{json .Config.Labels}}", kContainer) == R"({"z":"1","a":"\u003c\u0026\u003e"})");
  CHECK(render("{{json .State}}", kContainer) ==
        R"({"Status":"running","Running":true,"Pid":42,"ExitCode":0})");
  CHECK(render("{{json .Missing}}", kContainer) == "null");
  CHECK(render("{{json .Args}}", kContainer) == R"(["-c","sleep 10"])");
}

TEST_CASE("if / else if / else, with, and truthiness") {
  const char* t = "{{if eq .State.Status \"exited\"}}E{{else if .State.Running}}R{{else}}?{{end}}";
  CHECK(render(t, kContainer) == "R");
  CHECK(render(t, R"({"State": {"Status": "exited"}})") == "E");
  CHECK(render(t, R"({"State": {}})") == "?");
  CHECK(render("{{with .Config}}{{.Image}}{{end}}", kContainer) == "ubuntu");
  CHECK(render("{{with .Missing}}x{{else}}none{{end}}", kContainer) == "none");
  CHECK(render("{{if .Mounts}}m{{else}}no mounts{{end}}", kContainer) == "no mounts");
  CHECK(render("{{if .Nothing}}n{{end}}{{if 0}}z{{end}}{{if \"\"}}s{{end}}{{if 1}}1{{end}}") ==
        "1");
  CHECK(render("{{with $x := .State.Pid}}{{$x}}{{end}}", kContainer) == "42");
}

TEST_CASE("range over lists, maps in key order, else, break and continue") {
  CHECK(render("{{range $i, $e := .Args}}{{$i}}={{$e}};{{end}}", kContainer) == "0=-c;1=sleep 10;");
  CHECK(render("{{range $k, $v := .Config.Labels}}{{$k}}{{$v}} {{end}}", kContainer) == "a<&> z1 ");
  CHECK(render("{{range .Mounts}}x{{else}}empty{{end}}", kContainer) == "empty");
  CHECK(render("{{range .Missing}}x{{else}}empty{{end}}", kContainer) == "empty");
  CHECK(render("{{range .}}{{if eq . 3}}{{break}}{{end}}{{.}}{{end}}", "[1,2,3,4]") == "12");
  CHECK(render("{{range .}}{{if eq . 2}}{{continue}}{{end}}{{.}}{{end}}", "[1,2,3]") == "13");
  CHECK(render("{{range .}}{{.}}{{end}}", "\"str\"").starts_with("ERR: "));
}

TEST_CASE("variables: $, declaration, assignment, scope") {
  CHECK(render("{{range .Args}}{{$.Id}}{{end}}", kContainer) == "d2cc496561d6d2cc496561d6");
  CHECK(render("{{$n := .State.Pid}}{{$n}}", kContainer) == "42");
  CHECK(render("{{$n := 1}}{{range .Args}}{{$n = 2}}{{end}}{{$n}}", kContainer) == "2");
  CHECK(render("{{$x}}").starts_with("ERR: "));
  CHECK(render("{{$y = 1}}").starts_with("ERR: "));
}

TEST_CASE("printf, print, println") {
  CHECK(render(R"({{printf "%s has pid %d" .Name .State.Pid}})", kContainer) ==
        "/Test_Box has pid 42");
  CHECK(render(R"({{printf "%-6s|%5d|%05d" "ab" 42 7}})") == "ab    |   42|00007");
  CHECK(render(R"({{printf "%q %v %t %x %.2f" "a\"b" .Args true 255 3.14159}})", kContainer) ==
        R"("a\"b" [-c sleep 10] true ff 3.14)");
  CHECK(render(R"({{printf "%d"}})") == "%!d(MISSING)");
  CHECK(render(R"({{printf "%d" "x"}})") == "%!d(string=x)");
  CHECK(render(R"({{print "a" 1 2 "b"}})") == "a1 2b");
  CHECK(render(R"({{println "a" 1}})") == "a 1\n");
  CHECK(render(R"({{printf "%.3s" "abcdef"}})") == "abc");
}

TEST_CASE("comparisons, logic, len, index, slice") {
  CHECK(render("{{eq 1 1}} {{eq 1 2 3 1}} {{ne \"a\" \"b\"}} {{lt 1 2}} {{le 2 2}} {{gt 1.5 1}} "
               "{{ge 1 2}}") == "true true true true true true false");
  CHECK(render("{{and 1 0 2}} {{or 0 \"\" 3}} {{not true}} {{and 1 2}}") == "0 3 false 2");
  CHECK(render("{{len .Args}} {{len .Name}} {{len .Config.Labels}}", kContainer) == "2 9 2");
  CHECK(render("{{index .Args 1}}", kContainer) == "sleep 10");
  CHECK(render("{{index .Args 5}}", kContainer).starts_with("ERR: "));
  CHECK(render(R"({{index .Config.Labels "z"}})", kContainer) == "1");
  CHECK(render("{{slice .Name 1 5}} {{slice .Args 1}}", kContainer) == "Test [sleep 10]");
  CHECK(render("{{lt 1 \"a\"}}").starts_with("ERR: "));
}

TEST_CASE("docker's pad and truncate") {
  CHECK(render("[{{pad .Path 2 3}}]", kContainer) == "[  sh   ]");
  CHECK(render("{{truncate .Id 4}}", kContainer) == "d2cc");
  CHECK(render("{{truncate .Path 10}}", kContainer) == "sh");
}

TEST_CASE("literals, pipelines and parentheses") {
  CHECK(render(R"({{"quoted\tstring"}})") == "quoted\tstring");
  CHECK(render("{{`raw\\t`}}") == "raw\\t");
  CHECK(render("{{0x1F}} {{-3}} {{1e3}} {{1.50}} {{1e6}} {{0.00001}} {{'a'}} {{true}} {{nil}}") ==
        "31 -3 1000 1.5 1e+06 1e-05 97 true <nil>");
  CHECK(render("{{.Name | lower | printf \"<%s>\"}}", kContainer) == "</test_box>");
  CHECK(render("{{(index .Args 0)}}", kContainer) == "-c");
  CHECK(render("{{ .Name }}", kContainer) == "/Test_Box");
}

TEST_CASE("trim markers and comments") {
  CHECK(render("a  {{- 1 -}}  b") == "a1b");
  CHECK(render("a {{-1}} b") == "a -1 b");  // "-1" is a number, not a trim marker
  CHECK(render("x{{/* a comment */}}y") == "xy");
  CHECK(render("x  {{- /* trimmed */ -}}\n  y") == "xy");
  CHECK(render("{{range .}}\n  {{- .}}\n{{- end}}", "[1,2]") == "12");
}

TEST_CASE("parse errors name the line, column and what is wrong") {
  CHECK(render("{{.Name") == "ERR: template: :1:1: unclosed action");
  CHECK(render("{{nope .X}}") == "ERR: template: :1:3: function \"nope\" not defined");
  CHECK(render("{{if .X}}a") == "ERR: template: :1:1: unexpected EOF: {{if}} has no {{end}}");
  CHECK(render("line1\n{{end}}") == "ERR: template: :2:3: unexpected {{end}}");
  CHECK(render("{{else}}").starts_with("ERR: template: :1:3: unexpected {{else}}"));
  CHECK(render("{{break}}").starts_with("ERR: template: :1:3: {{break}} outside {{range}}"));
  CHECK(render("{{template \"x\"}}").find("not supported") != std::string::npos);
  CHECK(render("{{\"unterminated}}").starts_with("ERR: "));
  CHECK(render("{{}}").starts_with("ERR: "));
  CHECK(render("{{.A | }}").starts_with("ERR: "));
  CHECK(render("{{(.A}}").starts_with("ERR: "));
  CHECK(render("{{.Name 1}}", kContainer).find("can't give argument") != std::string::npos);
}

TEST_CASE("output is all or nothing") {
  auto t = Template::parse("before {{index .A 9}} after");
  REQUIRE(t.ok());
  std::string out = "kept:";
  CHECK_FALSE(t->execute(data(R"({"A": []})"), out).ok());
  CHECK(out == "kept:");
}

TEST_CASE("every prefix and every one-byte corruption of a template fails cleanly or renders") {
  const std::string full =
      R"({{- range $p, $conf := .NetworkSettings.Ports}} {{$p}} -> {{(index $conf 0).HostPort | printf "%q"}})"
      R"({{else}}{{if and .A (not .B)}}{{"s\"x"}}{{else if eq .C 1}}{{`r`}}{{end}}{{end -}}{{/* c */}})";
  for (size_t n = 0; n <= full.size(); ++n) {
    std::string out = render(full.substr(0, n), kContainer);
    CHECK((out.rfind("ERR: template: ", 0) == 0 || out.find("ERR") == std::string::npos));
  }
  const char junk[] = {'{', '}',  '(', ')', '|',  '$',  '.', '"',
                       '`', '\'', '-', ' ', '\\', '\n', '\0'};
  for (size_t n = 0; n < full.size(); ++n) {
    for (char c : junk) {
      std::string t = full;
      t[n] = c;
      std::string out = render(t, kContainer);
      CHECK((out.rfind("ERR: template: ", 0) == 0 || out.find("ERR") == std::string::npos));
    }
  }
}
