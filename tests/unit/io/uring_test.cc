#include <gtest/gtest.h>
#include <liburing.h>
#include <sys/socket.h>
#include <unistd.h>

#include <natrix/io/uring.hh>

using natrix::io::uring;
using natrix::io::uring_settings;

TEST(uring, opens_and_receives_into_provided_buffers) {
    uring r;
    uring_settings s;
    s.sq_entries = 64;
    s.buffer_count = 8;
    s.buffer_size = 4096;
    std::string err;
    ASSERT_TRUE(r.open(s, &err)) << err;
    int sv[2];
    ASSERT_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    io_uring_sqe* sqe = r.sqe();
    ASSERT_NE(sqe, nullptr);
    io_uring_prep_recv_multishot(sqe, sv[0], nullptr, 0, 0);
    sqe->flags |= IOSQE_BUFFER_SELECT;
    sqe->buf_group = r.buffer_group();
    io_uring_sqe_set_data64(sqe, 42);
    ASSERT_EQ(::write(sv[1], "hello", 5), 5);
    io_uring_cqe* cqe = nullptr;
    ASSERT_EQ(io_uring_submit_and_wait(r.get(), 1), 1);
    ASSERT_EQ(io_uring_peek_cqe(r.get(), &cqe), 0);
    EXPECT_EQ(io_uring_cqe_get_data64(cqe), 42u);
    ASSERT_EQ(cqe->res, 5);
    ASSERT_TRUE(cqe->flags & IORING_CQE_F_BUFFER);
    const unsigned bid = cqe->flags >> IORING_CQE_BUFFER_SHIFT;
    EXPECT_LT(bid, 8u);
    EXPECT_EQ(std::string(r.buffer(bid), 5), "hello");
    io_uring_cqe_seen(r.get(), cqe);
    r.return_buffer(bid);
    ::close(sv[0]);
    ::close(sv[1]);
}

TEST(uring, bad_buffer_ring_size_is_a_clear_error) {
    uring r;
    uring_settings s;
    s.sq_entries = 64;
    s.buffer_count = 100; // not a power of two: the kernel refuses the ring
    s.buffer_size = 4096;
    std::string err;
    EXPECT_FALSE(r.open(s, &err));
    EXPECT_NE(err.find("buffer ring"), std::string::npos) << err;
}
