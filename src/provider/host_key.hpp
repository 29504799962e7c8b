// Host keys decamp makes for servers it orders or reinstalls: an Ed25519 pair generated here,
// handed to the server in cloud-init user data (cloud-config `ssh_keys`), so decamp knows the
// key the server will present before it first connects (no trust on first use). Hetzner Cloud
// and OVH never tell a server's host key; this is the channel they leave.
// OpenSSL stays in host_key.cpp.
#pragma once

#include <string>

#include "provider/provider.hpp"

namespace decamp::provider {

// A fresh Ed25519 pair: public "ssh-ed25519 AAAA… comment", private in OpenSSH's own file
// format (what sshd reads from /etc/ssh/ssh_host_ed25519_key). The private text is
// registered with the redactor, so it is masked in any output.
HostKeyPair generate_host_key(const std::string& comment);

// "ssh-ed25519 AAAA…" without the comment: the form the state and known_hosts compare.
std::string key_of(const std::string& public_line);

// A cloud-config document for a server's first boot: our authorized key for root, and the
// given host key pair replacing every key cloud-init would generate.
std::string cloud_config(const std::string& hostname, const std::string& authorized_key,
                         const HostKeyPair& key);

// A post-installation shell script (OVH's postInstallationScript, installimage -x) that puts
// the pair in place of the host keys the installer generated.
std::string host_key_script(const HostKeyPair& key);

}  // namespace decamp::provider
