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
    query_params q;
    ASSERT_TRUE(query_params::parse("sort=cid&limit=2&sort=subs&&flag&sp=a+b%21", &q));
    EXPECT_EQ(q.get("sort"), "cid");
    EXPECT_EQ(q.get("limit"), "2");
    EXPECT_EQ(q.get("flag"), "");
    EXPECT_EQ(q.get("sp"), "a b!");
    EXPECT_FALSE(q.get("missing"));
    EXPECT_EQ(q.items().size(), 5u);
    std::string err;
    EXPECT_FALSE(query_params::parse("a=%zz", &q, &err));
    EXPECT_FALSE(err.empty());
}

TEST(query_params, ints_like_strconv_atoi) {
    query_params q;
    ASSERT_TRUE(query_params::parse("a=12&b=-3&c=abc&d=&e=1x&f=99999999999999999999&g=%2B4", &q));
    std::optional<long long> v;
    std::string err;
    ASSERT_TRUE(q.get_int("a", &v, &err));
    EXPECT_EQ(v, 12);
    ASSERT_TRUE(q.get_int("b", &v, &err));
    EXPECT_EQ(v, -3);
    ASSERT_TRUE(q.get_int("g", &v, &err));
    EXPECT_EQ(v, 4);
    ASSERT_TRUE(q.get_int("d", &v, &err));
    EXPECT_FALSE(v);
    ASSERT_TRUE(q.get_int("zz", &v, &err));
    EXPECT_FALSE(v);
    EXPECT_FALSE(q.get_int("c", &v, &err));
    EXPECT_EQ(err, "Error decoding int for 'c': strconv.Atoi: parsing \"abc\": invalid syntax");
    EXPECT_FALSE(q.get_int("e", &v, &err));
    EXPECT_FALSE(q.get_int("f", &v, &err));
    EXPECT_NE(err.find("out of range"), std::string::npos);
}

TEST(query_params, bools_like_strconv_parsebool) {
    query_params q;
    ASSERT_TRUE(query_params::parse("a=1&b=true&c=F&d=yes", &q));
    std::optional<bool> v;
    std::string err;
    ASSERT_TRUE(q.get_bool("a", &v, &err));
    EXPECT_EQ(v, true);
    ASSERT_TRUE(q.get_bool("b", &v, &err));
    EXPECT_EQ(v, true);
    ASSERT_TRUE(q.get_bool("c", &v, &err));
    EXPECT_EQ(v, false);
    EXPECT_FALSE(q.get_bool("d", &v, &err));
    EXPECT_NE(err.find("Error decoding boolean for 'd'"), std::string::npos);
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
