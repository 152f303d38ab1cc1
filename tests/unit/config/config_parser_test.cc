#include <cstdlib>
#include <string>

#include <gtest/gtest.h>

#include <natrix/config/config_parser.hh>

#include "temp_dir.hh"

using natrix::config::map_entry;
using natrix::config::parse_file;
using natrix::config::parse_options;
using natrix::config::parse_result;
using natrix::config::parse_string;
using natrix::config::value;
using natrix::config::value_kind;
using natrix::config::test::temp_dir;

namespace {

parse_result parse(const std::string& text) {
    return parse_string(text, "t.conf");
}

// Parses text that must be valid and returns the root.
value ok(const std::string& text) {
    parse_result r = parse(text);
    EXPECT_TRUE(r.ok()) << r.error << "\n--- input ---\n" << text;
    return r.root;
}

std::string err(const std::string& text) {
    parse_result r = parse(text);
    EXPECT_FALSE(r.ok()) << "accepted:\n" << text;
    return r.error;
}

std::int64_t int_of(const std::string& literal) {
    value root = ok("v = " + literal);
    const value* v = root.find("v");
    EXPECT_TRUE(v && v->is_integer()) << literal;
    return v ? v->as_integer() : -12345;
}

std::vector<std::string> keys(const value& map) {
    std::vector<std::string> out;
    for (const map_entry& e : map.as_map()) out.push_back(e.key);
    return out;
}

} // namespace

TEST(config_parser, three_key_separators) {
    value root = ok("a = 1\nb: 2\nc 3\nd=4\ne:5\n");
    EXPECT_EQ(keys(root), (std::vector<std::string>{"a", "b", "c", "d", "e"}));
    for (const auto& [k, n] : {std::pair{"a", 1}, {"b", 2}, {"c", 3}, {"d", 4}, {"e", 5}})
        EXPECT_EQ(root.find(k)->as_integer(), n) << k;
}

TEST(config_parser, optional_terminators_and_order) {
    value root = ok("z = 1; y = 2, x = 3;\nw = 4,\n");
    EXPECT_EQ(keys(root), (std::vector<std::string>{"z", "y", "x", "w"}));
    EXPECT_EQ(root.find("x")->as_integer(), 3);
}

TEST(config_parser, repeated_key_last_wins_in_place) {
    value root = ok("a = 1\nb = 2\na = 3\n");
    EXPECT_EQ(keys(root), (std::vector<std::string>{"a", "b"}));
    EXPECT_EQ(root.find("a")->as_integer(), 3);
    EXPECT_EQ(root.find_entry("a")->key_pos.line, 3u);
}

TEST(config_parser, nested_maps_in_every_spelling) {
    for (const char* text : {"a { b = 1 }", "a: { b: 1 }", "a = {b=1}", "a {\n  b 1\n}",
                             "a\n{\n  b = 1\n}", "a{b=1}", "a { b = 1; }", "a {b=1,}"}) {
        value root = ok(text);
        const value* a = root.find("a");
        ASSERT_TRUE(a && a->is_map()) << text;
        ASSERT_TRUE(a->find("b")) << text;
        EXPECT_EQ(a->find("b")->as_integer(), 1) << text;
    }
    value deep = ok("a { b { c { d = \"x\" } }, e = 2 }\n");
    EXPECT_EQ(deep.find("a")->find("b")->find("c")->find("d")->as_string(), "x");
    EXPECT_EQ(deep.find("a")->find("e")->as_integer(), 2);
    EXPECT_TRUE(ok("empty {}\n").find("empty")->as_map().empty());
}

TEST(config_parser, arrays_comma_or_newline_separated) {
    value root = ok("a = [1, 2, 3]\n"
                    "b [\n  \"x\"\n  'y', z\n  # comment\n  w // another\n]\n"
                    "c = [1, 2, ]\n"
                    "d = []\n"
                    "e = [[1, 2], {k: v}, [ ]]\n");
    const auto& a = root.find("a")->as_array();
    ASSERT_EQ(a.size(), 3u);
    EXPECT_EQ(a[2].as_integer(), 3); // a number glued to ']' is still a number
    const auto& b = root.find("b")->as_array();
    ASSERT_EQ(b.size(), 4u);
    EXPECT_EQ(b[0].as_string(), "x");
    EXPECT_EQ(b[1].as_string(), "y");
    EXPECT_EQ(b[2].as_string(), "z");
    EXPECT_EQ(b[3].as_string(), "w");
    EXPECT_EQ(root.find("c")->as_array().size(), 2u);
    EXPECT_TRUE(root.find("d")->is_array());
    EXPECT_TRUE(root.find("d")->as_array().empty());
    const auto& e = root.find("e")->as_array();
    ASSERT_EQ(e.size(), 3u);
    EXPECT_EQ(e[0].as_array()[1].as_integer(), 2);
    EXPECT_EQ(e[1].find("k")->as_string(), "v");
    EXPECT_TRUE(e[2].as_array().empty());
}

TEST(config_parser, double_quoted_strings_and_escapes) {
    value root = ok(R"(a = "tab\there\nnl\rcr \"q\" back\\slash \x41\x7a"
b = "multi
line"
c = ""
d = "has # and // and ; , } ]"
)");
    EXPECT_EQ(root.find("a")->as_string(), "tab\there\nnl\rcr \"q\" back\\slash Az");
    EXPECT_EQ(root.find("b")->as_string(), "multi\nline");
    EXPECT_EQ(root.find("c")->as_string(), "");
    EXPECT_EQ(root.find("d")->as_string(), "has # and // and ; , } ]");
    EXPECT_TRUE(ok("n = \"4222\"").find("n")->is_string()); // quoting keeps it a string
    EXPECT_TRUE(ok("n = \"true\"").find("n")->is_string());
}

TEST(config_parser, single_quoted_strings_are_raw) {
    value root = ok(R"(a = 'C:\path\n "x"')");
    EXPECT_EQ(root.find("a")->as_string(), R"(C:\path\n "x")");
}

TEST(config_parser, bare_strings) {
    value root = ok("a = hello\nb = 127.0.0.1:4222\nc = 2s\nd = 1h30m\ne = 500ms\n"
                    "f = nats://host:4222/x\ng = a\\tb\nh = 10.0.0.1\ni = foo#bar\n");
    EXPECT_EQ(root.find("a")->as_string(), "hello");
    EXPECT_EQ(root.find("b")->as_string(), "127.0.0.1:4222");
    EXPECT_EQ(root.find("c")->as_string(), "2s");
    EXPECT_EQ(root.find("d")->as_string(), "1h30m");
    EXPECT_EQ(root.find("e")->as_string(), "500ms");
    EXPECT_EQ(root.find("f")->as_string(), "nats://host:4222/x");
    EXPECT_EQ(root.find("g")->as_string(), "a\tb");
    EXPECT_EQ(root.find("h")->as_string(), "10.0.0.1");
    EXPECT_EQ(root.find("i")->as_string(), "foo#bar");
}

TEST(config_parser, block_strings) {
    value root = ok("a = (\nline one\n  line (two)\n)\nb = 1\n");
    EXPECT_EQ(root.find("a")->as_string(), "\nline one\n  line (two)");
    EXPECT_EQ(root.find("b")->as_integer(), 1);
    EXPECT_EQ(ok("a (\nx\n)").find("a")->as_string(), "\nx"); // ends at end of file
    EXPECT_EQ(err("a = (\nnot closed\n"), "t.conf:1:5: unterminated block string: it ends at a "
                                          "line holding only ')'");
}

TEST(config_parser, integers_and_floats) {
    EXPECT_EQ(int_of("0"), 0);
    EXPECT_EQ(int_of("4222"), 4222);
    EXPECT_EQ(int_of("-17"), -17);
    EXPECT_EQ(int_of("007"), 7);
    EXPECT_EQ(int_of("9223372036854775807"), INT64_MAX);
    EXPECT_EQ(int_of("-9223372036854775808"), INT64_MIN);
    value f = ok("a = 1.5\nb = -0.25\nc = 10.0");
    EXPECT_TRUE(f.find("a")->is_float());
    EXPECT_DOUBLE_EQ(f.find("a")->as_float(), 1.5);
    EXPECT_DOUBLE_EQ(f.find("b")->as_float(), -0.25);
    EXPECT_DOUBLE_EQ(f.find("c")->as_float(), 10.0);
}

TEST(config_parser, size_units_as_nats_server) {
    // conf/parse.go: a bare letter is decimal, b / i / ib binary.
    EXPECT_EQ(int_of("2k"), 2000);
    EXPECT_EQ(int_of("2K"), 2000);
    EXPECT_EQ(int_of("2kb"), 2048);
    EXPECT_EQ(int_of("2KB"), 2048);
    EXPECT_EQ(int_of("2ki"), 2048);
    EXPECT_EQ(int_of("2Ki"), 2048);
    EXPECT_EQ(int_of("2kib"), 2048);
    EXPECT_EQ(int_of("2KiB"), 2048);
    EXPECT_EQ(int_of("3m"), 3'000'000);
    EXPECT_EQ(int_of("3mb"), 3 << 20);
    EXPECT_EQ(int_of("3mi"), 3 << 20);
    EXPECT_EQ(int_of("3MiB"), 3 << 20);
    EXPECT_EQ(int_of("2g"), 2'000'000'000);
    EXPECT_EQ(int_of("2gb"), 2ll << 30);
    EXPECT_EQ(int_of("2gi"), 2ll << 30);
    EXPECT_EQ(int_of("2gib"), 2ll << 30);
    EXPECT_EQ(int_of("1t"), 1'000'000'000'000);
    EXPECT_EQ(int_of("1tb"), 1ll << 40);
    EXPECT_EQ(int_of("1ti"), 1ll << 40);
    EXPECT_EQ(int_of("1tib"), 1ll << 40);
    EXPECT_EQ(int_of("1p"), 1'000'000'000'000'000);
    EXPECT_EQ(int_of("1pb"), 1ll << 50);
    EXPECT_EQ(int_of("1e"), 1'000'000'000'000'000'000);
    EXPECT_EQ(int_of("1eb"), 1ll << 60);
    EXPECT_EQ(int_of("-2k"), -2000);
    EXPECT_EQ(int_of("1MB"), 1 << 20);
    // Not units: strings.
    EXPECT_TRUE(ok("v = 2kx").find("v")->is_string());
    EXPECT_TRUE(ok("v = 2kbb").find("v")->is_string());
}

TEST(config_parser, booleans_any_case) {
    for (const char* t : {"true", "TRUE", "True", "yes", "YES", "on", "On"})
        EXPECT_TRUE(ok(std::string("v = ") + t).find("v")->as_bool()) << t;
    for (const char* f : {"false", "FALSE", "no", "No", "off", "OFF"}) {
        value root = ok(std::string("v = ") + f);
        const value* v = root.find("v");
        EXPECT_TRUE(v->is_bool()) << f;
        EXPECT_FALSE(v->as_bool()) << f;
    }
    EXPECT_TRUE(ok("v = truex").find("v")->is_string());
}

TEST(config_parser, comments_everywhere) {
    value root = ok("# top\n// also top\na = 1 # after\nb = 2 // after\n"
                    "m {\n  # inside\n  c = 3 # after\n  // inside\n}\n"
                    "arr = [ # after open\n 1 # after item\n]\n   # indented\n");
    EXPECT_EQ(keys(root), (std::vector<std::string>{"a", "b", "m", "arr"}));
    EXPECT_EQ(root.find("m")->find("c")->as_integer(), 3);
    EXPECT_EQ(root.find("arr")->as_array().size(), 1u);
    EXPECT_TRUE(ok("").as_map().empty());
    EXPECT_TRUE(ok("# only a comment").as_map().empty());
}

TEST(config_parser, quoted_keys) {
    value root = ok("\"a key\" = 1\n'b.c': 2\nm { \"x y\" = 3 }\n");
    EXPECT_EQ(root.find("a key")->as_integer(), 1);
    EXPECT_EQ(root.find("b.c")->as_integer(), 2);
    EXPECT_EQ(root.find("m")->find("x y")->as_integer(), 3);
}

TEST(config_parser, json_is_a_config) {
    value root = ok(R"({
  "port": 4222,
  "debug": true,
  "authorization": {"user": "a", "password": "b"},
  "list": [1, "two", 3.5]
}
)");
    EXPECT_EQ(root.find("port")->as_integer(), 4222);
    EXPECT_TRUE(root.find("debug")->as_bool());
    EXPECT_EQ(root.find("authorization")->find("password")->as_string(), "b");
    EXPECT_EQ(root.find("list")->as_array()[1].as_string(), "two");
    EXPECT_EQ(err("{ \"a\": 1 "), "t.conf:1:10: missing '}' to close the '{' at t.conf:1:1");
    EXPECT_EQ(err("{ a: 1 }\nb: 2"), "t.conf:2:1: unexpected 'b' after the closing '}'");
}

TEST(config_parser, positions_of_keys_and_values) {
    value root = ok("a = 1\n  bb: \"x\"\nm {\n\tc [\n 5 ]\n}\n");
    const map_entry* a = root.find_entry("a");
    EXPECT_EQ(a->key_pos.to_string(), "t.conf:1:1");
    EXPECT_EQ(a->val.pos().to_string(), "t.conf:1:5");
    const map_entry* bb = root.find_entry("bb");
    EXPECT_EQ(bb->key_pos.to_string(), "t.conf:2:3");
    EXPECT_EQ(bb->val.pos().to_string(), "t.conf:2:7");
    const value* m = root.find("m");
    EXPECT_EQ(m->pos().to_string(), "t.conf:3:3");
    EXPECT_EQ(m->find_entry("c")->key_pos.to_string(), "t.conf:4:2");
    EXPECT_EQ(m->find("c")->as_array()[0].pos().to_string(), "t.conf:5:2");
    EXPECT_EQ(parse_string("a = 1").root.find("a")->pos().to_string(), "<string>:1:5");
}

TEST(config_parser, variables_from_same_and_enclosing_blocks) {
    value root = ok("port_var = 4222\n"
                    "port = $port_var\n"
                    "outer {\n"
                    "  inner_var = \"in\"\n"
                    "  a = $port_var\n"
                    "  nested { b = $inner_var; c = $port_var }\n"
                    "}\n"
                    "list = [$port_var, {x = $port_var}]\n"
                    "copy = $outer\n");
    EXPECT_EQ(root.find("port")->as_integer(), 4222);
    EXPECT_EQ(root.find("port")->pos().to_string(), "t.conf:2:8"); // the reference's place
    EXPECT_EQ(root.find("outer")->find("a")->as_integer(), 4222);
    EXPECT_EQ(root.find("outer")->find("nested")->find("b")->as_string(), "in");
    EXPECT_EQ(root.find("outer")->find("nested")->find("c")->as_integer(), 4222);
    EXPECT_EQ(root.find("list")->as_array()[0].as_integer(), 4222);
    EXPECT_EQ(root.find("list")->as_array()[1].find("x")->as_integer(), 4222);
    EXPECT_EQ(root.find("copy")->find("nested")->find("b")->as_string(), "in");
    EXPECT_TRUE(root.find_entry("port_var")->used_as_variable);
    EXPECT_TRUE(root.find_entry("outer")->used_as_variable);
    EXPECT_FALSE(root.find_entry("port")->used_as_variable);
    // The innermost definition wins.
    value shadow = ok("v = 1\nm { v = 2, w = $v }\nw = $v\n");
    EXPECT_EQ(shadow.find("m")->find("w")->as_integer(), 2);
    EXPECT_EQ(shadow.find("w")->as_integer(), 1);
}

TEST(config_parser, variables_must_be_defined_earlier) {
    ::unsetenv("NATRIX_TEST_LATER");
    EXPECT_EQ(err("a = $NATRIX_TEST_LATER\nNATRIX_TEST_LATER = 1\n"),
              "t.conf:1:5: variable reference for 'NATRIX_TEST_LATER' can not be found (not an "
              "earlier key in scope, nor an environment variable)");
    // A sibling block's keys are not in scope.
    ::unsetenv("hidden");
    EXPECT_NE(err("m { hidden = 1 }\nn { a = $hidden }\n")
                  .find("t.conf:2:9: variable reference "
                        "for 'hidden' can not be found"),
              std::string::npos);
    EXPECT_EQ(err("a = $\n"), "t.conf:1:5: '$' must be followed by a variable name");
}

TEST(config_parser, environment_fallback_is_parsed_as_a_value) {
    ::setenv("NATRIX_TEST_PORT", "4333", 1);
    ::setenv("NATRIX_TEST_SIZE", "2MB", 1);
    ::setenv("NATRIX_TEST_STR", "hello world", 1);
    ::setenv("NATRIX_TEST_LIST", "[1, 2]", 1);
    ::setenv("NATRIX_TEST_EMPTY", "", 1);
    ::setenv("NATRIX_TEST_CHAIN", "$NATRIX_TEST_PORT", 1);
    value root = ok("a = $NATRIX_TEST_PORT\nb = $NATRIX_TEST_SIZE\nc = x\n"
                    "d = $NATRIX_TEST_LIST\ne = $NATRIX_TEST_EMPTY\nf = $NATRIX_TEST_CHAIN\n");
    EXPECT_EQ(root.find("a")->as_integer(), 4333);
    EXPECT_EQ(root.find("a")->pos().to_string(), "t.conf:1:5");
    EXPECT_EQ(root.find("b")->as_integer(), 2 << 20);
    EXPECT_EQ(root.find("d")->as_array().size(), 2u);
    EXPECT_EQ(root.find("d")->as_array()[1].pos().to_string(), "t.conf:4:5");
    EXPECT_EQ(root.find("e")->as_string(), "");
    EXPECT_EQ(root.find("f")->as_integer(), 4333);
    // "hello world" is two values: nats-server rejects it too.
    EXPECT_FALSE(parse("c = $NATRIX_TEST_STR").ok());
    ::setenv("NATRIX_TEST_QUOTED", "\"hello world\"", 1);
    EXPECT_EQ(ok("c = $NATRIX_TEST_QUOTED").find("c")->as_string(), "hello world");
    // A file key shadows the environment.
    EXPECT_EQ(ok("NATRIX_TEST_PORT = 1\na = $NATRIX_TEST_PORT").find("a")->as_integer(), 1);
    parse_options no_env;
    no_env.use_environment = false;
    EXPECT_FALSE(parse_string("a = $NATRIX_TEST_PORT", "t.conf", no_env).ok());
}

TEST(config_parser, environment_cycles_and_bad_values_are_errors) {
    ::setenv("NATRIX_TEST_CYC_A", "$NATRIX_TEST_CYC_B", 1);
    ::setenv("NATRIX_TEST_CYC_B", "$NATRIX_TEST_CYC_A", 1);
    std::string e = err("x {\n  y = $NATRIX_TEST_CYC_A\n}\n");
    EXPECT_EQ(e.rfind("t.conf:2:7: variable reference for 'NATRIX_TEST_CYC_A' could not be "
                      "parsed: ",
                      0),
              0u)
        << e;
    EXPECT_NE(e.find("variable reference cycle for 'NATRIX_TEST_CYC_A'"), std::string::npos) << e;
    ::setenv("NATRIX_TEST_SELF", "$NATRIX_TEST_SELF", 1);
    EXPECT_NE(err("a = $NATRIX_TEST_SELF").find("cycle"), std::string::npos);
    ::setenv("NATRIX_TEST_BAD", "\"unterminated", 1);
    e = err("a = $NATRIX_TEST_BAD");
    EXPECT_EQ(e, "t.conf:1:5: variable reference for 'NATRIX_TEST_BAD' could not be parsed: "
                 "environment variable NATRIX_TEST_BAD:1:1: unterminated string (missing closing "
                 "'\"')");
}

TEST(config_parser, bcrypt_hashes_are_not_variables) {
    value root = ok("a = $2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG\n"
                    "b = $2b$10$abcdefghijklmnopqrstuv\n");
    EXPECT_EQ(root.find("a")->as_string(),
              "$2a$11$W2zko751KUvVy59mUTWmpOdWjpEm5qhcCZRd05GjI/sSOT.xtiHyG");
    EXPECT_EQ(root.find("b")->as_string(), "$2b$10$abcdefghijklmnopqrstuv");
}

TEST(config_parser, include_relative_to_the_including_file) {
    temp_dir dir;
    dir.write("sub/auth.conf", "user = alice\ninclude more/pass.conf\n");
    dir.write("sub/more/pass.conf", "password = \"s3cret\"\n");
    dir.write("sub/opts.conf", "debug: true\nlimit_var = 5\n");
    std::string main = dir.write("main.conf", "port = 4222\n"
                                              "authorization {\n"
                                              "  include sub/auth.conf\n"
                                              "  timeout: 1\n"
                                              "}\n"
                                              "include \"sub/opts.conf\"; max = $limit_var\n");
    parse_result r = parse_file(main);
    ASSERT_TRUE(r.ok()) << r.error;
    const value* auth = r.root.find("authorization");
    ASSERT_TRUE(auth);
    EXPECT_EQ(auth->find("user")->as_string(), "alice");
    EXPECT_EQ(auth->find("password")->as_string(), "s3cret");
    EXPECT_EQ(auth->find("timeout")->as_integer(), 1);
    EXPECT_TRUE(r.root.find("debug")->as_bool());
    EXPECT_EQ(r.root.find("max")->as_integer(),
              5); // variables from an include are in scope after it
    EXPECT_EQ(auth->find("password")->pos().to_string(), dir.path() + "/sub/more/pass.conf:1:12");
    // From a string, relative to its name's directory.
    parse_result s = parse_string("include sub/opts.conf", dir.path() + "/virtual.conf");
    ASSERT_TRUE(s.ok()) << s.error;
    EXPECT_TRUE(s.root.find("debug")->as_bool());
    // An absolute path is taken as is.
    parse_result abs = parse_string("include " + dir.path() + "/sub/opts.conf", "x.conf");
    ASSERT_TRUE(abs.ok()) << abs.error;
}

TEST(config_parser, included_files_do_not_see_the_includers_variables) {
    temp_dir dir;
    ::unsetenv("outer_only");
    dir.write("inc.conf", "b = $outer_only\n");
    std::string main = dir.write("main.conf", "outer_only = 1\ninclude inc.conf\n");
    parse_result r = parse_file(main);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error, dir.path() + "/main.conf:2:1: in included file: " + dir.path() +
                           "/inc.conf:1:5: variable reference for 'outer_only' can not be found "
                           "(not an earlier key in scope, nor an environment variable)");
}

TEST(config_parser, include_errors) {
    temp_dir dir;
    std::string a = dir.write("a.conf", "x = 1\ninclude b.conf\n");
    dir.write("b.conf", "y = 2\n  include a.conf\n");
    parse_result r = parse_file(a);
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.error, dir.path() + "/a.conf:2:1: in included file: " + dir.path() +
                           "/b.conf:2:3: include cycle: " + dir.path() + "/a.conf -> " +
                           dir.path() + "/b.conf -> " + dir.path() + "/a.conf");

    std::string self = dir.write("self.conf", "include self.conf\n");
    EXPECT_NE(parse_file(self).error.find("include cycle"), std::string::npos);

    std::string missing = dir.write("missing.conf", "a = 1\n\n  include nope.conf\n");
    EXPECT_EQ(parse_file(missing).error, dir.path() +
                                             "/missing.conf:3:3: cannot read include "
                                             "file '" +
                                             dir.path() + "/nope.conf': No such file or directory");

    std::string directory = dir.write("dir.conf", "include sub\n");
    dir.write("sub/x.conf", "");
    EXPECT_EQ(parse_file(directory).error, dir.path() +
                                               "/dir.conf:1:1: cannot read include file '" +
                                               dir.path() + "/sub': not a regular file");

    // A chain deeper than the limit.
    for (int i = 0; i < 5; ++i)
        dir.write("chain" + std::to_string(i) + ".conf",
                  "include chain" + std::to_string(i + 1) + ".conf\n");
    dir.write("chain5.conf", "end = 1\n");
    parse_options shallow;
    shallow.max_include_depth = 3;
    EXPECT_NE(parse_file(dir.path() + "/chain0.conf", shallow)
                  .error.find("includes nested deeper "
                              "than 3"),
              std::string::npos);
    EXPECT_TRUE(parse_file(dir.path() + "/chain0.conf").ok());

    parse_options no_includes;
    no_includes.allow_includes = false;
    EXPECT_EQ(parse_string("include x.conf", "t.conf", no_includes).error,
              "t.conf:1:1: include is not allowed here");
    EXPECT_EQ(err("include\nx = 1"), "t.conf:1:1: include needs a file name on the same line");
    EXPECT_EQ(err("include \"x.conf\n"), "t.conf:1:9: unterminated quoted include file name");
    // `include` glued to a separator is an ordinary key, as in nats-server.
    EXPECT_EQ(ok("include: 5").find("include")->as_integer(), 5);
    EXPECT_EQ(ok("include=5").find("include")->as_integer(), 5);
}

TEST(config_parser, file_errors) {
    parse_result r = parse_file("/nonexistent/natrix.conf");
    EXPECT_EQ(r.error, "/nonexistent/natrix.conf: cannot read config file: No such file or "
                       "directory");
    temp_dir dir;
    std::string bad = dir.write("bad.conf", "a = 1\nb = \"open\n");
    EXPECT_EQ(parse_file(bad).error, bad + ":2:5: unterminated string (missing closing '\"')");
    EXPECT_TRUE(parse_file(bad).root.as_map().empty());
}

TEST(config_parser, syntax_errors_say_where) {
    EXPECT_EQ(err("a = \"x\\q\""), "t.conf:1:7: invalid escape 'q' in string; allowed: \\t \\n "
                                   "\\r \\\" \\\\ \\xHH");
    EXPECT_EQ(err("a = \"\\x4g\""), "t.conf:1:6: expected two hexadecimal digits after '\\x'");
    EXPECT_EQ(err("a = b\\q"), "t.conf:1:6: invalid escape 'q' in value; quote it or use \\t \\n "
                               "\\r \\\" \\\\");
    EXPECT_EQ(err("a = 'x"), "t.conf:1:5: unterminated string (missing closing \"'\")");
    EXPECT_EQ(err("a = 1 2"), "t.conf:1:7: expected a new line, ';', ',' or '}' after a value but "
                              "found '2'");
    EXPECT_EQ(err("a = \"x\"y"), "t.conf:1:8: expected a new line, ';', ',' or '}' after a value "
                                 "but found 'y'");
    EXPECT_EQ(err("m {\n  a = 1\n"),
              "t.conf:3:1: missing '}' to close the map opened at t.conf:1:3");
    EXPECT_EQ(err("a = [1, 2\n"),
              "t.conf:2:1: missing ']' to close the array opened at t.conf:1:5");
    EXPECT_EQ(err("a = [1, , 2]"), "t.conf:1:9: unexpected ',' in array (empty element)");
    EXPECT_EQ(err("a = [1 2]"),
              "t.conf:1:8: expected ',', a new line or ']' after an array element "
              "but found '2'");
    EXPECT_EQ(err("a\nb = 1"), "t.conf:1:1: key 'a' has no value");
    EXPECT_EQ(err("x = 1\nlonely"), "t.conf:2:1: key 'lonely' has no value");
    EXPECT_EQ(err("a =\n1"), "t.conf:1:1: expected a value for 'a' on the same line");
    EXPECT_EQ(err("a = -x"), "t.conf:1:5: expected a digit after '-' in '-x'");
    EXPECT_EQ(err("a = -5s"), "t.conf:1:5: invalid number '-5s'");
    EXPECT_EQ(err("a = 9223372036854775808"), "t.conf:1:5: integer '9223372036854775808' is out of "
                                              "range");
    EXPECT_EQ(err("a = 10e"), "t.conf:1:5: integer '10e' is out of range");
    EXPECT_EQ(err("\n\n   }"), "t.conf:3:4: unexpected '}' with no '{' open");
    EXPECT_EQ(err("= 1"), "t.conf:1:1: expected a key but found '='");
    EXPECT_EQ(err("m { , }"), "t.conf:1:5: expected a key but found ','");
    EXPECT_EQ(err("a = ,"), "t.conf:1:5: expected a value but found ','");
    EXPECT_EQ(err("a = ]"), "t.conf:1:5: expected a value but found ']'");
    EXPECT_EQ(err("a = 1 \x01"), "t.conf:1:7: expected a new line, ';', ',' or '}' after a value "
                                 "but found byte 0x01");
    EXPECT_EQ(err("\"open key"), "t.conf:1:1: unterminated quoted key");
}

TEST(config_parser, nesting_and_size_limits) {
    std::string deep(200, '[');
    EXPECT_EQ(err("a = " + deep), "t.conf:1:105: maps and arrays nested deeper than 100");
    std::string maps;
    for (int i = 0; i < 150; ++i) maps += "m {";
    EXPECT_NE(err(maps).find("nested deeper than 100"), std::string::npos);

    // Doubling through variables must hit the budget, not the memory limit.
    std::string bomb = "v0 = [1, 1]\n";
    for (int i = 1; i < 40; ++i)
        bomb += "v" + std::to_string(i) + " = [$v" + std::to_string(i - 1) + ", $v" +
                std::to_string(i - 1) + "]\n";
    std::string e = err(bomb);
    EXPECT_NE(e.find("configuration is too large (more than 1000000 values)"), std::string::npos)
        << e;
    std::string text_bomb = "s0 = \"" + std::string(1000, 'x') + "\"\n";
    for (int i = 1; i < 40; ++i)
        text_bomb += "s" + std::to_string(i) + " = [$s" + std::to_string(i - 1) + ", $s" +
                     std::to_string(i - 1) + "]\n";
    EXPECT_NE(err(text_bomb).find("bytes of text"), std::string::npos);
    // Copies cannot stack nesting past the limit either.
    std::string stack = "a0 = " + std::string(60, '[') + std::string(60, ']') + "\n" +
                        "a1 = " + std::string(60, '[') + "$a0" + std::string(60, ']') + "\n";
    EXPECT_NE(err(stack).find("nested deeper than 100 (via $a0)"), std::string::npos);
}

TEST(config_parser, accessors_on_the_wrong_kind_return_defaults) {
    value root = ok("s = x\ni = 3");
    const value* s = root.find("s");
    EXPECT_EQ(s->as_integer(), 0);
    EXPECT_FALSE(s->as_bool());
    EXPECT_TRUE(s->as_array().empty());
    EXPECT_TRUE(s->as_map().empty());
    EXPECT_EQ(s->find("x"), nullptr);
    EXPECT_EQ(root.find("i")->as_string(), "");
    EXPECT_EQ(root.find("nope"), nullptr);
    EXPECT_EQ(natrix::config::kind_name(value_kind::floating), "float");
}
