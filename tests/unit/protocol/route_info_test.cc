// Route INFO and CONNECT as a 2.9.10 peer writes and reads them.
#include <gtest/gtest.h>

#include <natrix/protocol/route_info.hh>

namespace {

using namespace natrix::protocol;

TEST(route_info, written_info_reads_back_and_has_no_space_before_crlf) {
    route_info i;
    i.server_id = "NABC";
    i.server_name = "n1";
    i.version = "2.9.10";
    i.host = "127.0.0.1";
    i.port = 6222;
    i.cluster = "c1";
    i.connect_urls = {"127.0.0.1:4222", "[::1]:4223"};
    i.auth_required = true;
    const std::string line = write_route_info(i);
    ASSERT_EQ(line.substr(0, 5), "INFO ");
    ASSERT_EQ(line.substr(line.size() - 3), "}\r\n") << "routes: no space before CRLF";
    EXPECT_NE(line.find("\"proto\":2"), std::string::npos);
    EXPECT_EQ(line.find("route_pool_size"), std::string::npos) << "a no-pool (2.9) peer";
    EXPECT_EQ(line.find("compression"), std::string::npos);
    route_info back;
    std::string err;
    ASSERT_TRUE(parse_route_info(line.substr(5, line.size() - 7), back, &err)) << err;
    EXPECT_EQ(back.server_id, "NABC");
    EXPECT_EQ(back.server_name, "n1");
    EXPECT_EQ(back.port, 6222);
    EXPECT_EQ(back.cluster, "c1");
    EXPECT_EQ(back.connect_urls, i.connect_urls);
    EXPECT_TRUE(back.auth_required);
    EXPECT_FALSE(back.ldm);
}

TEST(route_info, reads_a_nats_server_info_and_ignores_unknown_fields) {
    const std::string json =
        R"({"server_id":"NCX","server_name":"ns","version":"2.10.4","proto":2,"go":"go1.21",)"
        R"("host":"0.0.0.0","port":6222,"headers":true,"max_payload":1048576,"jetstream":true,)"
        R"("cluster":"c1","cluster_dynamic":false,"connect_urls":["10.0.0.1:4222"],"lnoc":true,)"
        R"("route_pool_size":3,"route_account":"ACC","compression":"accept","gossip_mode":0,)"
        R"("ip":"nats-route://10.0.0.1:6222/","ldm":true,"nonce":"xyz","import":{"allow":["a"]}})";
    route_info i;
    std::string err;
    ASSERT_TRUE(parse_route_info(json, i, &err)) << err;
    EXPECT_EQ(i.server_id, "NCX");
    EXPECT_EQ(i.ip, "nats-route://10.0.0.1:6222/");
    EXPECT_EQ(i.route_pool_size, 3);
    EXPECT_EQ(i.route_account, "ACC");
    EXPECT_TRUE(i.ldm);
    EXPECT_EQ(i.connect_urls, std::vector<std::string>{"10.0.0.1:4222"});
}

TEST(route_info, refuses_bad_json_and_wrong_types) {
    route_info i;
    std::string err;
    EXPECT_FALSE(parse_route_info("{", i, &err));
    EXPECT_FALSE(err.empty());
    EXPECT_FALSE(parse_route_info("[1]", i, &err));
    EXPECT_FALSE(parse_route_info(R"({"port":"x"})", i, &err));
    EXPECT_NE(err.find("port"), std::string::npos);
    EXPECT_FALSE(parse_route_info(R"({"connect_urls":[1]})", i, &err));
}

TEST(route_connect, written_connect_names_the_server_id_and_reads_back) {
    route_connect c;
    c.name = "NSELF";
    c.cluster = "c1";
    c.user = "ruser";
    c.pass = "p\"w";
    const std::string line = write_route_connect(c);
    ASSERT_EQ(line.substr(0, 8), "CONNECT ");
    EXPECT_NE(line.find("\"echo\":true"), std::string::npos);
    route_connect back;
    std::string err;
    ASSERT_TRUE(parse_route_connect(line.substr(8, line.size() - 10), back, &err)) << err;
    EXPECT_EQ(back.name, "NSELF");
    EXPECT_EQ(back.user, "ruser");
    EXPECT_EQ(back.pass, "p\"w");
    EXPECT_TRUE(back.lang.empty());
}

TEST(route_connect, a_client_connect_shows_its_lang) {
    route_connect c;
    std::string err;
    ASSERT_TRUE(parse_route_connect(R"({"verbose":false,"lang":"go","version":"1.22"})", c, &err));
    EXPECT_EQ(c.lang, "go") << "the route port refuses clients by their lang";
}

} // namespace

// Gateway INFOs (brief §2.2-2.3): commands carry the account as Go encodes
// a []byte, base64 with padding; gossip carries another cluster's URLs.
TEST(gateway_info, commands_carry_a_base64_account) {
    natrix::protocol::route_info i;
    i.gateway = "east";
    i.gateway_cmd = 2;
    i.gateway_cmd_payload = "$G";
    const std::string line = natrix::protocol::write_gateway_info(i);
    EXPECT_EQ(line,
              "INFO {\"gateway\":\"east\",\"gateway_cmd\":2,\"gateway_cmd_payload\":\"JEc=\"}\r\n");
    for (const std::string acc : {"A", "AB", "ABC", "ACCOUNT_WITH_A_LONG_NAME"}) {
        i.gateway_cmd_payload = acc;
        const std::string l = natrix::protocol::write_gateway_info(i);
        natrix::protocol::route_info back;
        std::string err;
        ASSERT_TRUE(natrix::protocol::parse_route_info(std::string_view(l).substr(5, l.size() - 7),
                                                       back, &err))
            << err;
        EXPECT_EQ(back.gateway_cmd, 2);
        EXPECT_EQ(back.gateway_cmd_payload, acc);
    }
}

TEST(gateway_info, the_handshake_info_and_gossip) {
    natrix::protocol::route_info i;
    i.server_id = "NID";
    i.server_name = "s1";
    i.gateway = "east";
    i.gateway_url = "10.0.0.1:7222";
    i.gateway_urls = {"10.0.0.1:7222", "10.0.0.2:7222"};
    i.port = 7222;
    std::string line = natrix::protocol::write_gateway_info(i);
    natrix::protocol::route_info back;
    std::string err;
    ASSERT_TRUE(natrix::protocol::parse_route_info(
        std::string_view(line).substr(5, line.size() - 7), back, &err))
        << err;
    EXPECT_EQ(back.gateway, "east");
    EXPECT_TRUE(back.gateway_nrp);
    EXPECT_TRUE(back.gateway_iom);
    EXPECT_EQ(back.gateway_urls, i.gateway_urls);
    EXPECT_EQ(back.gateway_url, "10.0.0.1:7222");
    EXPECT_EQ(back.gateway_cmd, 0);
    i.gateway_cmd = 1;
    line = natrix::protocol::write_gateway_info(i);
    EXPECT_EQ(line,
              "INFO {\"server_id\":\"NID\",\"server_name\":\"s1\",\"gateway\":\"east\","
              "\"gateway_urls\":[\"10.0.0.1:7222\",\"10.0.0.2:7222\"],\"gateway_cmd\":1}\r\n");
    // A payload that is not base64 is a malformed INFO.
    EXPECT_FALSE(natrix::protocol::parse_route_info(
        R"({"gateway":"e","gateway_cmd":2,"gateway_cmd_payload":"!!"})", back, &err));
}
