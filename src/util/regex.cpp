#include "util/regex.hpp"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

namespace decamp::util {

namespace {

// Backtracking steps per match: a few hundred milliseconds at most, far more than any sane
// pattern needs on a line (linear patterns use about one step per byte and group).
constexpr uint32_t kMatchLimit = 20'000'000;
// Backtracking memory per match.
constexpr uint32_t kHeapLimitKiB = 64 * 1024;

std::string error_text(int code) {
    PCRE2_UCHAR buf[256];
    if (pcre2_get_error_message(code, buf, sizeof buf) < 0) return "error " + std::to_string(code);
    return reinterpret_cast<const char*>(buf);
}

}  // namespace

struct Regex::Impl {
    std::string pattern;
    pcre2_code* code = nullptr;
    pcre2_match_context* mctx = nullptr;
    ~Impl() {
        pcre2_match_context_free(mctx);
        pcre2_code_free(code);
    }
};

Regex::Regex(std::string_view pattern) : impl_(std::make_unique<Impl>()) {
    impl_->pattern = std::string(pattern);
    int err = 0;
    PCRE2_SIZE offset = 0;
    impl_->code = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(), 0, &err,
                                &offset, nullptr);
    if (!impl_->code)
        throw Error("bad regular expression /" + impl_->pattern + "/: " + error_text(err) +
                         " at offset " + std::to_string(offset));
    impl_->mctx = pcre2_match_context_create(nullptr);
    if (!impl_->mctx) throw Error("out of memory compiling /" + impl_->pattern + "/");
    pcre2_set_match_limit(impl_->mctx, kMatchLimit);
    pcre2_set_heap_limit(impl_->mctx, kHeapLimitKiB);
}

Regex::~Regex() = default;
Regex::Regex(Regex&&) noexcept = default;
Regex& Regex::operator=(Regex&&) noexcept = default;

const std::string& Regex::pattern() const { return impl_->pattern; }

bool Regex::search(std::string_view subject, std::vector<std::string>* groups) const {
    if (!groups) {
        std::vector<std::pair<size_t, size_t>> spans;
        return search_at(subject, 0, spans);
    }
    std::vector<std::pair<size_t, size_t>> spans;
    if (!search_at(subject, 0, spans)) return false;
    groups->clear();
    for (const auto& [b, e] : spans)
        groups->emplace_back(b == std::string::npos ? std::string_view() : subject.substr(b, e - b));
    return true;
}

bool Regex::search_at(std::string_view subject, size_t start,
                      std::vector<std::pair<size_t, size_t>>& spans) const {
    pcre2_match_data* md = pcre2_match_data_create_from_pattern(impl_->code, nullptr);
    if (!md) throw Error("out of memory matching /" + impl_->pattern + "/");
    const int rc = pcre2_match(impl_->code, reinterpret_cast<PCRE2_SPTR>(subject.data()), subject.size(),
                               start, 0, md, impl_->mctx);
    if (rc == PCRE2_ERROR_NOMATCH) {
        pcre2_match_data_free(md);
        return false;
    }
    if (rc < 0) {
        pcre2_match_data_free(md);
        if (rc == PCRE2_ERROR_MATCHLIMIT || rc == PCRE2_ERROR_HEAPLIMIT || rc == PCRE2_ERROR_DEPTHLIMIT)
            throw Error("regular expression /" + impl_->pattern +
                             "/ is too expensive on this input (PCRE2: " + error_text(rc) + ")");
        throw Error("regular expression /" + impl_->pattern + "/: " + error_text(rc));
    }
    spans.clear();
    uint32_t count = 0;
    pcre2_pattern_info(impl_->code, PCRE2_INFO_CAPTURECOUNT, &count);
    const PCRE2_SIZE* ov = pcre2_get_ovector_pointer(md);
    for (size_t g = 0; g <= count; ++g) {
        // Groups past rc did not take part; so does one whose start is unset.
        if (int(g) < rc && ov[2 * g] != PCRE2_UNSET)
            spans.emplace_back(ov[2 * g], ov[2 * g + 1]);
        else
            spans.emplace_back(std::string::npos, std::string::npos);
    }
    pcre2_match_data_free(md);
    return true;
}

}  // namespace decamp::util
