#include <sodium.h>

#include <natrix/broker/gateway_hash.hh>

namespace natrix::broker {

std::string gateway_hash(std::string_view name) {
    static constexpr char digits[] =
        "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    unsigned char sum[crypto_hash_sha256_BYTES];
    crypto_hash_sha256(sum, reinterpret_cast<const unsigned char*>(name.data()), name.size());
    std::string out(6, '0');
    for (int i = 0; i < 6; ++i) out[i] = digits[sum[i] % 62];
    return out;
}

} // namespace natrix::broker
