// A DnsBackend for unit tests of the migration: rrsets live in memory, every call is
// recorded as text ("replace www.example.test. A 60 198.18.2.11"), and it can be told to
// fail from the Nth call on, to test resume and abort paths without a PowerDNS.
#pragma once

#include <map>
#include <mutex>

#include "dns/dns.hpp"

namespace decamp::dns {

class RecordingBackend : public DnsBackend {
public:
    explicit RecordingBackend(const std::string& zone = "example.test.");

    // Seeds or overwrites an rrset without recording a call.
    void set(const RRset& rrset);
    // Calls number n (1-based, counting every call) and later throw Error(message);
    // 0 turns failing off.
    void fail_from(size_t n, std::string message = "simulated DNS API failure");

    void ping() override;
    std::optional<RRset> get(const std::string& name, const std::string& type) override;
    void replace(const RRset& rrset) override;
    std::string describe() const override;

    // "ping", "get NAME TYPE", "replace NAME TYPE TTL ADDR[,ADDR…]" in call order, failed
    // calls included.
    std::vector<std::string> calls() const;
    size_t call_count() const;
    // The rrset as stored now (no call recorded).
    std::optional<RRset> peek(const std::string& name, const std::string& type) const;

private:
    void enter(std::string call);  // records, then throws when told to fail

    mutable std::mutex mu_;
    std::string zone_;
    std::map<std::pair<std::string, std::string>, RRset> sets_;
    std::vector<std::string> calls_;
    size_t fail_from_ = 0;
    std::string fail_message_;
};

}  // namespace decamp::dns
