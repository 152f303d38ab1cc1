#include <gtest/gtest.h>

#include <natrix/monitor/http_request.hh>
#include <natrix/monitor/http_response.hh>
#include <natrix/monitor/query_params.hh>

namespace natrix::monitor {
namespace {

http_parse_status parse(std::string_view in, http_request* r, std::size_t* len = nullptr,
                        std::size_t max = 8192) {
    std::size_t l = 0;
    std::string why;
    auto st = parse_http_request(in, max, r, &l, &why);
    if (len) *len = l;
    return st;
}

TEST(http_request, simple_get) {
    http_request r;
    std::size_t len = 0;
    const std::string in =
        "GET /connz?limit=2&sort=cid HTTP/1.1\r\nHost: x\r\nUser-Agent:  curl/7 \r\n\r\nBODY";
    ASSERT_EQ(parse(in, &r, &len), http_parse_status::complete);
    EXPECT_EQ(len, in.size() - 4);
    EXPECT_EQ(r.method, "GET");
    EXPECT_EQ(r.target, "/connz?limit=2&sort=cid");
    EXPECT_EQ(r.path, "/connz");
    EXPECT_EQ(r.query, "limit=2&sort=cid");
    EXPECT_EQ(r.version_minor, 1);
    ASSERT_EQ(r.headers.size(), 2u);
    EXPECT_EQ(r.headers[1].first, "User-Agent");
    EXPECT_EQ(r.headers[1].second, "curl/7");
}

TEST(http_request, incomplete_until_blank_line) {
    http_request r;
    const std::string full = "GET /varz HTTP/1.0\r\nHost: x\r\n\r\n";
    for (std::size_t n = 0; n < full.size(); ++n)
        EXPECT_EQ(parse(full.substr(0, n), &r), http_parse_status::incomplete) << n;
    EXPECT_EQ(parse(full, &r), http_parse_status::complete);
    EXPECT_EQ(r.version_minor, 0);
}

TEST(http_request, bare_lf_and_leading_blank_lines) {
    http_request r;
    ASSERT_EQ(parse("\r\nGET /healthz HTTP/1.1\nHost: a\n\n", &r), http_parse_status::complete);
    EXPECT_EQ(r.path, "/healthz");
    ASSERT_EQ(r.headers.size(), 1u);
    EXPECT_EQ(r.headers[0].second, "a");
}

TEST(http_request, absolute_form_and_percent_decoded_path) {
    http_request r;
    ASSERT_EQ(parse("GET http://127.0.0.1:8222/sub%73z?subs=1#frag HTTP/1.1\r\n\r\n", &r),
              http_parse_status::complete);
    EXPECT_EQ(r.path, "/subsz");
    EXPECT_EQ(r.query, "subs=1");
    ASSERT_EQ(parse("GET http://host HTTP/1.1\r\n\r\n", &r), http_parse_status::complete);
    EXPECT_EQ(r.path, "/");
}

TEST(http_request, malformed_requests_are_bad) {
    http_request r;
    for (const char* in : {
             "GET /varz\r\n\r\n",            // no version
             "GET  /varz HTTP/1.1\r\n\r\n",  // double space
             "GET /varz HTTP/2.0\r\n\r\n",   // not HTTP/1.x
             "GET /varz HTTP/1.1 x\r\n\r\n", // extra field
             "G(T /varz HTTP/1.1\r\n\r\n",   // bad method token
             "GET varz HTTP/1.1\r\n\r\n",    // not a path
             "GET /va%zz HTTP/1.1\r\n\r\n",  // bad escape
             "GET /varz HTTP/1.1\r\nNoColon\r\n\r\n",
             "GET /varz HTTP/1.1\r\nA: b\r\n folded\r\n\r\n",
             "GET /varz HTTP/1.1\r\nBad Name: x\r\n\r\n",
             "GET /\x01 HTTP/1.1\r\n\r\n",
         })
        EXPECT_EQ(parse(in, &r), http_parse_status::bad_request) << in;
}

TEST(http_request, size_bound) {
    http_request r;
    std::string big = "GET /varz HTTP/1.1\r\nX: " + std::string(200, 'a') + "\r\n\r\n";
    EXPECT_EQ(parse(big, &r, nullptr, 100), http_parse_status::too_large);
    EXPECT_EQ(parse(big.substr(0, 150), &r, nullptr, 100), http_parse_status::too_large);
    EXPECT_EQ(parse(big.substr(0, 50), &r, nullptr, 100), http_parse_status::incomplete);
    EXPECT_EQ(parse(big, &r, nullptr, big.size()), http_parse_status::complete);
    EXPECT_EQ(parse(big, &r, nullptr, big.size() - 1), http_parse_status::too_large);
}

TEST(url_decode, escapes_and_plus) {
    std::string out;
    ASSERT_TRUE(url_decode("a%20b+c%2Fd", true, &out));
    EXPECT_EQ(out, "a b c/d");
    ASSERT_TRUE(url_decode("a+b", false, &out));
    EXPECT_EQ(out, "a+b");
    EXPECT_FALSE(url_decode("%", true, &out));
    EXPECT_FALSE(url_decode("%4", true, &out));
    EXPECT_FALSE(url_decode("%g0", true, &out));
}

TEST(query_params, first_value_wins_and_decoding) {
    const query_params q = query_params::parse("sort=cid&limit=2&sort=subs&&flag&sp=a+b%21");
    EXPECT_EQ(q.get("sort"), "cid");
    EXPECT_EQ(q.get("limit"), "2");
    EXPECT_EQ(q.get("flag"), "");
    EXPECT_EQ(q.get("sp"), "a b!");
    EXPECT_FALSE(q.get("missing"));
    EXPECT_EQ(q.items().size(), 5u);
}

TEST(query_params, bad_pairs_are_left_out_like_go) {
    // Go's url.ParseQuery drops a pair with a bad escape or a ';' and keeps
    // the rest; nats-server then uses its defaults (offset=%zz: offset 0).
    const query_params q = query_params::parse("offset=%zz&limit=2;offset=3&a=1&%g=x&b=%4&c=ok");
    EXPECT_FALSE(q.get("offset"));
    EXPECT_FALSE(q.get("limit"));
    EXPECT_FALSE(q.get("b"));
    EXPECT_EQ(q.get("a"), "1");
    EXPECT_EQ(q.get("c"), "ok");
    EXPECT_EQ(q.items().size(), 2u);
}

TEST(query_params, ints_like_strconv_atoi) {
    const query_params q = query_params::parse(
        "a=12&b=-3&c=abc&d=&e=1x&f=99999999999999999999&g=%2B4&h=-0"
        "&i=9223372036854775807&j=-9223372036854775808&k=9223372036854775808"
        "&l=-9223372036854775809&m=99999999999999999999x&n=x99999999999999999999"
        "&o=-&p=--1&q=+2&r=1_0&s=0x10&t=1%22x%5C%07%0A%7F%FF%C3%A9%C2%AD%CD%B8");
    std::optional<long long> v;
    std::string err;
    ASSERT_TRUE(q.get_int("a", &v, &err));
    EXPECT_EQ(v, 12);
    ASSERT_TRUE(q.get_int("b", &v, &err));
    EXPECT_EQ(v, -3);
    ASSERT_TRUE(q.get_int("g", &v, &err));
    EXPECT_EQ(v, 4);
    ASSERT_TRUE(q.get_int("h", &v, &err));
    EXPECT_EQ(v, 0);
    ASSERT_TRUE(q.get_int("i", &v, &err));
    EXPECT_EQ(v, 9223372036854775807LL);
    ASSERT_TRUE(q.get_int("j", &v, &err));
    EXPECT_EQ(v, -9223372036854775807LL - 1);
    ASSERT_TRUE(q.get_int("d", &v, &err));
    EXPECT_FALSE(v);
    ASSERT_TRUE(q.get_int("zz", &v, &err));
    EXPECT_FALSE(v);
    // Texts from nats-server 2.9.10 (go1.19.8) for the same queries.
    const auto bad = [&](const char* key) {
        EXPECT_FALSE(q.get_int(key, &v, &err)) << key;
        return err;
    };
    const std::string pre = "Error decoding int for '";
    EXPECT_EQ(bad("c"), pre + "c': strconv.Atoi: parsing \"abc\": invalid syntax");
    EXPECT_EQ(bad("e"), pre + "e': strconv.Atoi: parsing \"1x\": invalid syntax");
    EXPECT_EQ(bad("f"),
              pre + "f': strconv.Atoi: parsing \"99999999999999999999\": value out of range");
    EXPECT_EQ(bad("k"),
              pre + "k': strconv.Atoi: parsing \"9223372036854775808\": value out of range");
    EXPECT_EQ(bad("l"),
              pre + "l': strconv.Atoi: parsing \"-9223372036854775809\": value out of range");
    // Go reads left to right: the overflow comes before the 'x'.
    EXPECT_EQ(bad("m"),
              pre + "m': strconv.Atoi: parsing \"99999999999999999999x\": value out of range");
    EXPECT_EQ(bad("n"),
              pre + "n': strconv.Atoi: parsing \"x99999999999999999999\": invalid syntax");
    EXPECT_EQ(bad("o"), pre + "o': strconv.Atoi: parsing \"-\": invalid syntax");
    EXPECT_EQ(bad("p"), pre + "p': strconv.Atoi: parsing \"--1\": invalid syntax");
    EXPECT_EQ(bad("q"), pre + "q': strconv.Atoi: parsing \" 2\": invalid syntax"); // '+' is ' '
    EXPECT_EQ(bad("r"), pre + "r': strconv.Atoi: parsing \"1_0\": invalid syntax");
    EXPECT_EQ(bad("s"), pre + "s': strconv.Atoi: parsing \"0x10\": invalid syntax");
    // The value in Go's strconv.Quote (util::append_go_quoted): a quote, a
    // backslash, controls, invalid UTF-8, unprintable and unassigned code
    // points escaped; what Go prints, printed.
    EXPECT_EQ(bad("t"), pre +
                            "t': strconv.Atoi: parsing "
                            "\"1\\\"x\\\\\\a\\n\\x7f\\xff\xc3\xa9\\u00ad\\u0378\": invalid syntax");
}

TEST(query_params, uint64_like_strconv_parseuint) {
    const query_params q = query_params::parse(
        "a=42&b=-1&c=%2B1&d=18446744073709551615&e=18446744073709551616&f=00001&g=");
    std::optional<std::uint64_t> v;
    std::string err;
    ASSERT_TRUE(q.get_uint64("a", &v, &err));
    EXPECT_EQ(v, 42u);
    ASSERT_TRUE(q.get_uint64("d", &v, &err));
    EXPECT_EQ(v, 18446744073709551615u);
    ASSERT_TRUE(q.get_uint64("f", &v, &err));
    EXPECT_EQ(v, 1u);
    ASSERT_TRUE(q.get_uint64("g", &v, &err));
    EXPECT_FALSE(v);
    EXPECT_FALSE(q.get_uint64("b", &v, &err));
    EXPECT_EQ(err,
              "Error decoding uint64 for 'b': strconv.ParseUint: parsing \"-1\": invalid syntax");
    EXPECT_FALSE(q.get_uint64("c", &v, &err));
    EXPECT_EQ(err,
              "Error decoding uint64 for 'c': strconv.ParseUint: parsing \"+1\": invalid syntax");
    EXPECT_FALSE(q.get_uint64("e", &v, &err));
    EXPECT_EQ(err, "Error decoding uint64 for 'e': strconv.ParseUint: parsing "
                   "\"18446744073709551616\": value out of range");
}

TEST(query_params, paging_clamps_like_nats_server) {
    const auto paging = [](std::string_view query, std::size_t* off, std::size_t* lim) {
        *off = 0;
        *lim = 1024;
        std::string err;
        const bool ok = query_params::parse(query).get_paging(off, lim, &err);
        EXPECT_EQ(ok, err.empty()) << query;
        return ok ? std::string() : err;
    };
    std::size_t off = 0, lim = 0;
    EXPECT_EQ(paging("offset=-1&limit=-1", &off, &lim), "");
    EXPECT_EQ(off, 0u);
    EXPECT_EQ(lim, 1024u);
    EXPECT_EQ(paging("offset=-9223372036854775808&limit=0", &off, &lim), "");
    EXPECT_EQ(off, 0u);
    EXPECT_EQ(lim, 1024u);
    EXPECT_EQ(paging("offset=3&limit=2", &off, &lim), "");
    EXPECT_EQ(off, 3u);
    EXPECT_EQ(lim, 2u);
    EXPECT_EQ(paging("offset=9223372036854775807", &off, &lim), "");
    EXPECT_EQ(off, 9223372036854775807u);
    // offset is decoded first, as in nats-server.
    EXPECT_EQ(paging("limit=y&offset=x", &off, &lim),
              "Error decoding int for 'offset': strconv.Atoi: parsing \"x\": invalid syntax");
}

TEST(query_params, bools_like_strconv_parsebool) {
    const query_params q = query_params::parse("a=1&b=true&c=F&d=yes&e=%0a");
    std::optional<bool> v;
    std::string err;
    ASSERT_TRUE(q.get_bool("a", &v, &err));
    EXPECT_EQ(v, true);
    ASSERT_TRUE(q.get_bool("b", &v, &err));
    EXPECT_EQ(v, true);
    ASSERT_TRUE(q.get_bool("c", &v, &err));
    EXPECT_EQ(v, false);
    EXPECT_FALSE(q.get_bool("d", &v, &err));
    EXPECT_EQ(err,
              "Error decoding boolean for 'd': strconv.ParseBool: parsing \"yes\": invalid syntax");
    EXPECT_FALSE(q.get_bool("e", &v, &err));
    EXPECT_EQ(err,
              "Error decoding boolean for 'e': strconv.ParseBool: parsing \"\\n\": invalid syntax");
}

TEST(http_response, serialization) {
    http_response r = http_response::text(405, "no\n");
    r.headers.emplace_back("Allow", "GET, HEAD");
    const std::string s = serialize_response(r, false);
    EXPECT_EQ(s.rfind("HTTP/1.1 405 Method Not Allowed\r\n", 0), 0u) << s;
    EXPECT_NE(s.find("\r\nContent-Length: 3\r\n"), std::string::npos);
    EXPECT_NE(s.find("\r\nAllow: GET, HEAD\r\n"), std::string::npos);
    EXPECT_NE(s.find("\r\nConnection: close\r\n\r\nno\n"), std::string::npos);
    const std::string h = serialize_response(r, true);
    EXPECT_NE(h.find("\r\nContent-Length: 3\r\n"),
              std::string::npos); // HEAD: length of what GET would send
    EXPECT_EQ(h.substr(h.size() - 4), "\r\n\r\n");
}

} // namespace
} // namespace natrix::monitor
