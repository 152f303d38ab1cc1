#include <natrix/auth/accounts.hh>
#include <natrix/subjects/subject.hh>

namespace natrix::auth {

account_set::account_set() {
    accounts_.push_back(account{config::global_account_name, 0, {}, {}, false});
}

account_set::account_set(const std::vector<config::account_option>& list,
                         std::vector<std::string>* errors)
    : account_set() {
    for (const config::account_option& a : list)
        accounts_.push_back(
            account{a.name, static_cast<account_id>(accounts_.size()), {}, {}, false});
    auto fail = [&](std::string e) {
        if (errors) errors->push_back(std::move(e));
    };
    for (const config::account_option& a : list) {
        const account_id me = *find(a.name);
        for (const config::import_option& im : a.imports) {
            const std::optional<account_id> other = find(im.account);
            if (!other) {
                fail("\"" + im.account + "\" account not defined for import");
                continue;
            }
            std::string err;
            if (!im.service) {
                stream_route r;
                r.importer = me;
                r.subject = im.subject;
                r.map = im.prefix.empty() ? subject_transform::mapping(im.subject, im.to, &err)
                                          : subject_transform::with_prefix(im.prefix);
                if (!err.empty()) {
                    fail("stream import \"" + im.subject + "\" to \"" + im.to + "\": " + err);
                    continue;
                }
                accounts_[*other].stream_exports.push_back(std::move(r));
            } else {
                service_route r;
                r.exporter = *other;
                r.local = im.to.empty() ? im.subject : im.to;
                r.map = subject_transform::mapping(r.local, im.subject, &err);
                if (!err.empty()) {
                    fail("service import \"" + im.subject + "\" to \"" + im.to + "\": " + err);
                    continue;
                }
                // Response type and threshold come from the export that covers it.
                for (const config::account_option& e : list) {
                    if (e.name != im.account) continue;
                    for (const config::export_option& ex : e.exports)
                        if (ex.service && (subjects::is_subset_match(im.subject, ex.subject) ||
                                           subjects::is_subset_match(ex.subject, im.subject))) {
                            r.responses = ex.responses;
                            r.threshold = ex.response_threshold;
                            break;
                        }
                }
                accounts_[*other].exports_services = true;
                accounts_[me].service_imports.push_back(std::move(r));
            }
            any_routes_ = true;
        }
    }
}

std::optional<account_id> account_set::find(std::string_view name) const noexcept {
    for (const account& a : accounts_)
        if (a.name == name) return a.id;
    return std::nullopt;
}

} // namespace natrix::auth
