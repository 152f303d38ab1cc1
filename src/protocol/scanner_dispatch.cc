#include <natrix/protocol/scanner.hh>
#include <natrix/util/cpu_features.hh>

namespace natrix::protocol {

scan_isa widest_scan_isa() noexcept {
    const auto& f = util::host_cpu_features();
    if (f.avx2) return scan_isa::avx2;
    if (f.sse2) return scan_isa::sse2;
    return scan_isa::scalar;
}

scan_isa best_scan_isa() noexcept {
    return util::host_cpu_features().sse2 ? scan_isa::sse2 : scan_isa::scalar;
}

scan_fn scan_kernel(scan_isa isa) noexcept {
    switch (isa) {
    case scan_isa::avx2:
        return &scan_line_avx2;
    case scan_isa::sse2:
        return &scan_line_sse2;
    case scan_isa::scalar:
        return &scan_line_scalar;
    }
    return &scan_line_scalar;
}

const char* scan_isa_name(scan_isa isa) noexcept {
    switch (isa) {
    case scan_isa::avx2:
        return "avx2";
    case scan_isa::sse2:
        return "sse2";
    case scan_isa::scalar:
        return "scalar";
    }
    return "?";
}

} // namespace natrix::protocol
