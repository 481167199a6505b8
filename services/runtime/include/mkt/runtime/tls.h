#pragma once
// Mutual TLS between the nodes of a run (`marketctl up --tls`, `marketctl compose --tls`).
//
// marketctl makes a certificate authority for the run and a key and certificate per node, in one
// folder (<run>/tls):
//   ca.pem, ca.key         the run's CA (its key mode 0600; it signs certificates for nodes that
//                          join later, such as a user's own agent)
//   <node>.pem, <node>.key a node's certificate and key (mode 0600)
// A node's certificate names its node id as its common name and as a DNS name, and its role as a
// second DNS name ("validator.role"): a client that wants one node expects its id, a client that
// wants any node of a role (an exchange looking for the Raft leader) expects the role's name.
// Keys are ECDSA P-256, certificates SHA-256, valid for 30 days.
//
// Every server then asks for a client certificate from the run's CA and refuses a connection
// without one; every client checks the server's certificate and the name it expects. What a call
// may do is the server's decision: it reads the caller's node id from the connection
// (peer_node_id) and checks it against the role the call needs. Through the proxy, TLS runs end to
// end inside the CONNECT tunnel: the proxy still impairs every byte and still knows who talks to
// whom (the CONNECT request before the handshake names both), but cannot read or alter a call.

#include <chrono>
#include <expected>
#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace grpc {
class ChannelCredentials;
class ServerContextBase;
class ServerCredentials;
class Status;
}  // namespace grpc

namespace mkt::runtime {

// A node's TLS identity: the run's CA and the node's own certificate and key, PEM.
struct TlsIdentity {
  std::string node_id;
  std::string ca_pem;
  std::string cert_pem;
  std::string key_pem;
};

// Who a certificate is for: a node id and the role it names ("validator", or "operator" for
// marketctl).
struct CertificateSubject {
  std::string node_id;
  std::string role;
};

// The DNS name every certificate of `role` carries besides its node id: "<role>.role". A node id
// has no dot, so the two never meet.
std::string role_name(std::string_view role);

// Makes `dir` a run's TLS folder: a CA when it has none, then a certificate and key for every
// subject that has none yet. What is there is kept while it is valid for another day (so a
// restarted market keeps its identities); an expiring CA is replaced, and with it every
// certificate; an expiring certificate, or one of another CA, is reissued. Errors name the file or
// the OpenSSL call that failed.
std::expected<void, std::string> write_certificates(
    const std::filesystem::path& dir, const std::vector<CertificateSubject>& subjects,
    std::chrono::hours valid_for = std::chrono::hours(24 * 30));

// A node's identity from a folder write_certificates made. Errors name the missing file.
std::expected<TlsIdentity, std::string> load_identity(const std::filesystem::path& dir,
                                                      const std::string& node_id);
// The same, with the files read by `read` (a leaf name such as "ca.pem" in, its text out), for a
// folder that is not on this host (a compose market's volume).
std::expected<TlsIdentity, std::string> load_identity(
    const std::string& node_id,
    const std::function<std::expected<std::string, std::string>(const std::string& leaf)>& read);

// Credentials for a server and for a client: mutual TLS with `tls`, plaintext without (null).
std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsIdentity* tls);
std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const TlsIdentity* tls);

// The node id the caller's certificate names (its common name); nullopt for a call without TLS.
std::optional<std::string> peer_node_id(const grpc::ServerContextBase& context);

// PERMISSION_DENIED for a TLS caller that is not who a call needs: "the TLS peer 'a-1' is not
// <needed>".
grpc::Status peer_refused(std::string_view peer, std::string_view needed);

}  // namespace mkt::runtime
