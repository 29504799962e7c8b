#include "util/diff.hpp"

#include <algorithm>
#include <vector>

namespace decamp::util {

namespace {

// Lines keep their terminator so "x" (last, unterminated) differs from "x\n".
std::vector<std::string_view> split_lines(std::string_view s) {
    std::vector<std::string_view> out;
    size_t start = 0;
    while (start < s.size()) {
        size_t nl = s.find('\n', start);
        size_t end = nl == std::string_view::npos ? s.size() : nl + 1;
        out.push_back(s.substr(start, end - start));
        start = end;
    }
    return out;
}

enum class Op { Equal, Delete, Insert };

// Edit script for a[lo_a, hi_a) vs b[lo_b, hi_b): Myers with a trace, or nullopt-like
// empty+false when the edit distance exceeds max_d.
bool myers(const std::vector<std::string_view>& a, const std::vector<std::string_view>& b,
           size_t lo_a, size_t hi_a, size_t lo_b, size_t hi_b, int max_d, std::vector<Op>& ops) {
    const int n = int(hi_a - lo_a), m = int(hi_b - lo_b);
    const int max = std::min(n + m, max_d);
    const int off = max + 1;
    std::vector<int> v(2 * max + 3, 0);
    std::vector<std::vector<int>> trace;
    auto A = [&](int i) { return a[lo_a + i]; };
    auto B = [&](int j) { return b[lo_b + j]; };
    int found = -1;
    for (int d = 0; d <= max && found < 0; ++d) {
        trace.push_back(v);
        for (int k = -d; k <= d; k += 2) {
            int x;
            if (k == -d || (k != d && v[off + k - 1] < v[off + k + 1]))
                x = v[off + k + 1];
            else
                x = v[off + k - 1] + 1;
            int y = x - k;
            while (x < n && y < m && A(x) == B(y)) { ++x; ++y; }
            v[off + k] = x;
            if (x >= n && y >= m) { found = d; break; }
        }
    }
    if (found < 0) return false;
    // Backtrack from (n, m) through the saved V arrays.
    std::vector<Op> rev;
    int x = n, y = m;
    for (int d = found; d > 0; --d) {
        const std::vector<int>& pv = trace[d];  // V before step d
        int k = x - y;
        int prev_k = (k == -d || (k != d && pv[off + k - 1] < pv[off + k + 1])) ? k + 1 : k - 1;
        int prev_x = pv[off + prev_k], prev_y = prev_x - prev_k;
        while (x > prev_x && y > prev_y) { rev.push_back(Op::Equal); --x; --y; }
        if (x == prev_x) { rev.push_back(Op::Insert); --y; }
        else { rev.push_back(Op::Delete); --x; }
    }
    while (x > 0 && y > 0) { rev.push_back(Op::Equal); --x; --y; }
    ops.insert(ops.end(), rev.rbegin(), rev.rend());
    return true;
}

std::string range(size_t start, size_t count) {
    // diff -u: "l,s"; s omitted when 1; an empty range names the line before it.
    std::string s = std::to_string(count == 0 ? start : start + 1);
    if (count != 1) s += "," + std::to_string(count);
    return s;
}

void emit_line(std::string& out, char tag, std::string_view line) {
    out += tag;
    if (!line.empty() && line.back() == '\n') {
        out.append(line);
    } else {
        out.append(line);
        out += "\n\\ No newline at end of file\n";
    }
}

}  // namespace

std::string unified_diff(std::string_view ta, std::string_view tb, const std::string& label_a,
                         const std::string& label_b, int context) {
    if (ta == tb) return "";
    const auto a = split_lines(ta), b = split_lines(tb);
    size_t pre = 0;
    while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) ++pre;
    size_t suf = 0;
    while (suf < a.size() - pre && suf < b.size() - pre &&
           a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
        ++suf;

    std::vector<Op> ops(pre, Op::Equal);
    constexpr int kMaxEdits = 1000;
    if (!myers(a, b, pre, a.size() - suf, pre, b.size() - suf, kMaxEdits, ops)) {
        ops.insert(ops.end(), a.size() - suf - pre, Op::Delete);
        ops.insert(ops.end(), b.size() - suf - pre, Op::Insert);
    }
    ops.insert(ops.end(), suf, Op::Equal);

    // Walk the script, cutting hunks where more than 2*context equal lines separate changes.
    std::string out = "--- " + label_a + "\n+++ " + label_b + "\n";
    const size_t ctx = size_t(std::max(context, 0));
    size_t i = 0;
    // Positions in a and b before ops[i].
    std::vector<size_t> pa(ops.size() + 1), pb(ops.size() + 1);
    for (size_t k = 0; k < ops.size(); ++k) {
        pa[k + 1] = pa[k] + (ops[k] != Op::Insert);
        pb[k + 1] = pb[k] + (ops[k] != Op::Delete);
    }
    while (i < ops.size()) {
        while (i < ops.size() && ops[i] == Op::Equal) ++i;
        if (i == ops.size()) break;
        size_t start = i >= ctx ? i - ctx : 0;
        // Extend the hunk while the next change is within 2*context equal lines.
        size_t end = i;
        while (true) {
            while (end < ops.size() && ops[end] != Op::Equal) ++end;
            size_t run = end;
            while (run < ops.size() && ops[run] == Op::Equal) ++run;
            if (run < ops.size() && run - end <= 2 * ctx) {
                end = run;
                continue;
            }
            end = std::min(ops.size(), end + ctx);
            break;
        }
        out += "@@ -" + range(pa[start], pa[end] - pa[start]) + " +" +
               range(pb[start], pb[end] - pb[start]) + " @@\n";
        for (size_t k = start; k < end; ++k) {
            switch (ops[k]) {
                case Op::Equal: emit_line(out, ' ', a[pa[k]]); break;
                case Op::Delete: emit_line(out, '-', a[pa[k]]); break;
                case Op::Insert: emit_line(out, '+', b[pb[k]]); break;
            }
        }
        i = end;
    }
    return out;
}

}  // namespace decamp::util
