#include "mkt/runtime/tls.h"

#include <grpcpp/grpcpp.h>
#include <grpcpp/security/server_credentials.h>
#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>

#include "mkt/runtime/files.h"

namespace mkt::runtime {

namespace {

namespace fs = std::filesystem;

template <auto free_fn>
struct Free {
  template <class T>
  void operator()(T* p) const {
    free_fn(p);
  }
};
using Key = std::unique_ptr<EVP_PKEY, Free<EVP_PKEY_free>>;
using Cert = std::unique_ptr<X509, Free<X509_free>>;
using Bio = std::unique_ptr<BIO, Free<BIO_free_all>>;
using Bignum = std::unique_ptr<BIGNUM, Free<BN_free>>;
using Extension = std::unique_ptr<X509_EXTENSION, Free<X509_EXTENSION_free>>;

constexpr std::size_t pem_bytes_max = 64 * 1024;

// What OpenSSL says went wrong last, after `what`.
std::string openssl_error(std::string_view what) {
  std::string message(what);
  if (const unsigned long code = ERR_get_error(); code != 0) {
    std::array<char, 256> text{};
    ERR_error_string_n(code, text.data(), text.size());
    message += ": ";
    message += text.data();
  }
  ERR_clear_error();
  return message;
}

std::expected<std::string, std::string> to_pem(const auto& write) {
  const Bio bio(BIO_new(BIO_s_mem()));
  if (!bio || write(bio.get()) != 1) return std::unexpected(openssl_error("PEM encoding"));
  char* data = nullptr;
  const long size = BIO_get_mem_data(bio.get(), &data);
  return std::string(data, static_cast<std::size_t>(size));
}

std::expected<Key, std::string> read_key(const std::string& pem) {
  const Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Key key(PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr));
  if (!key) return std::unexpected(openssl_error("not a PEM private key"));
  return key;
}

std::expected<Cert, std::string> read_cert(const std::string& pem) {
  const Bio bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  Cert cert(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
  if (!cert) return std::unexpected(openssl_error("not a PEM certificate"));
  return cert;
}

std::expected<void, std::string> add_extension(X509* cert, X509* issuer, int nid,
                                               const std::string& value) {
  X509V3_CTX context;
  X509V3_set_ctx_nodb(&context);
  X509V3_set_ctx(&context, issuer, cert, nullptr, nullptr, 0);
  const Extension extension(X509V3_EXT_conf_nid(nullptr, &context, nid, value.c_str()));
  if (!extension || X509_add_ext(cert, extension.get(), -1) != 1) {
    return std::unexpected(openssl_error("certificate extension " + value));
  }
  return {};
}

// A certificate for `subject_key`, named `common_name`, signed by `issuer_key` (and named by
// `issuer`, or self-signed when null), with `extensions` ({nid, value}).
std::expected<Cert, std::string> make_certificate(
    EVP_PKEY* subject_key, const std::string& common_name, X509* issuer, EVP_PKEY* issuer_key,
    std::chrono::hours valid_for, const std::vector<std::pair<int, std::string>>& extensions) {
  Cert cert(X509_new());
  if (!cert || X509_set_version(cert.get(), 2) != 1) {
    return std::unexpected(openssl_error("X509_new"));
  }
  const Bignum serial(BN_new());
  if (!serial || BN_rand(serial.get(), 127, BN_RAND_TOP_ANY, BN_RAND_BOTTOM_ANY) != 1 ||
      BN_to_ASN1_INTEGER(serial.get(), X509_get_serialNumber(cert.get())) == nullptr) {
    return std::unexpected(openssl_error("certificate serial number"));
  }
  // An hour of slack before now: clocks of the hosts of a swarm market differ a little.
  X509_gmtime_adj(X509_getm_notBefore(cert.get()), -3600);
  X509_gmtime_adj(X509_getm_notAfter(cert.get()),
                  static_cast<long>(std::chrono::seconds(valid_for).count()));
  X509_NAME* name = X509_get_subject_name(cert.get());
  X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>("netmarket run"), -1, -1, 0);
  if (X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                                 reinterpret_cast<const unsigned char*>(common_name.c_str()), -1,
                                 -1, 0) != 1) {
    return std::unexpected(openssl_error("certificate name '" + common_name + "'"));
  }
  X509* signer = issuer != nullptr ? issuer : cert.get();
  if (X509_set_issuer_name(cert.get(), X509_get_subject_name(signer)) != 1 ||
      X509_set_pubkey(cert.get(), subject_key) != 1) {
    return std::unexpected(openssl_error("certificate issuer or key"));
  }
  for (const auto& [nid, value] : extensions) {
    if (auto added = add_extension(cert.get(), signer, nid, value); !added) {
      return std::unexpected(added.error());
    }
  }
  if (X509_sign(cert.get(), issuer_key, EVP_sha256()) == 0) {
    return std::unexpected(openssl_error("signing the certificate of '" + common_name + "'"));
  }
  return cert;
}

std::expected<Key, std::string> new_key() {
  Key key(EVP_EC_gen("P-256"));
  if (!key) return std::unexpected(openssl_error("ECDSA P-256 key generation"));
  return key;
}

std::expected<void, std::string> write_pair(const fs::path& dir, const std::string& stem,
                                            EVP_PKEY* key, X509* cert) {
  const auto key_pem = to_pem([&](BIO* bio) {
    return PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
  });
  const auto cert_pem = to_pem([&](BIO* bio) { return PEM_write_bio_X509(bio, cert); });
  if (!key_pem) return std::unexpected(key_pem.error());
  if (!cert_pem) return std::unexpected(cert_pem.error());
  // The key first: a certificate on disk always has its key.
  if (auto ok = write_file_atomically((dir / (stem + ".key")).string(), *key_pem, 0600); !ok) {
    return ok;
  }
  return write_file_atomically((dir / (stem + ".pem")).string(), *cert_pem, 0644);
}

// Whether a certificate is still valid a day from now (a market started on it runs on).
bool lasts_a_day(X509* cert) {
  std::time_t tomorrow = std::time(nullptr) + 24 * 3600;
  return X509_cmp_time(X509_get0_notAfter(cert), &tomorrow) > 0;
}

std::expected<std::string, std::string> read_pem(const fs::path& path) {
  return read_file(path.string(), pem_bytes_max);
}

}  // namespace

std::string role_name(std::string_view role) {
  return std::string(role) + ".role";
}

std::expected<void, std::string> write_certificates(const fs::path& dir,
                                                    const std::vector<CertificateSubject>& subjects,
                                                    std::chrono::hours valid_for) {
  std::error_code error;
  fs::create_directories(dir, error);
  if (error) return std::unexpected(dir.string() + ": " + error.message());
  Key ca_key;
  Cert ca_cert;
  if (fs::exists(dir / "ca.pem") && fs::exists(dir / "ca.key")) {
    const auto key_pem = read_pem(dir / "ca.key");
    const auto cert_pem = read_pem(dir / "ca.pem");
    if (!key_pem) return std::unexpected(key_pem.error());
    if (!cert_pem) return std::unexpected(cert_pem.error());
    auto key = read_key(*key_pem);
    auto cert = read_cert(*cert_pem);
    if (!key) return std::unexpected((dir / "ca.key").string() + ": " + key.error());
    if (!cert) return std::unexpected((dir / "ca.pem").string() + ": " + cert.error());
    if (lasts_a_day(cert->get())) {
      ca_key = std::move(*key);
      ca_cert = std::move(*cert);
    }
  }
  const bool new_ca = !ca_cert;
  if (new_ca) {
    auto key = new_key();
    if (!key) return std::unexpected(key.error());
    auto cert = make_certificate(key->get(), "netmarket run CA", nullptr, key->get(), valid_for,
                                 {{NID_basic_constraints, "critical,CA:TRUE,pathlen:0"},
                                  {NID_key_usage, "critical,keyCertSign,cRLSign"},
                                  {NID_subject_key_identifier, "hash"}});
    if (!cert) return std::unexpected(cert.error());
    if (auto ok = write_pair(dir, "ca", key->get(), cert->get()); !ok) return ok;
    ca_key = std::move(*key);
    ca_cert = std::move(*cert);
  }
  for (const auto& subject : subjects) {
    // Kept while it lasts another day under the same CA; a new CA reissues every certificate.
    if (!new_ca && fs::exists(dir / (subject.node_id + ".key"))) {
      const auto pem = read_pem(dir / (subject.node_id + ".pem"));
      const auto cert = pem ? read_cert(*pem) : std::unexpected(pem.error());
      if (cert && lasts_a_day(cert->get()) && X509_verify(cert->get(), ca_key.get()) == 1) {
        continue;
      }
      ERR_clear_error();
    }
    auto key = new_key();
    if (!key) return std::unexpected(key.error());
    auto cert = make_certificate(
        key->get(), subject.node_id, ca_cert.get(), ca_key.get(), valid_for,
        {{NID_basic_constraints, "critical,CA:FALSE"},
         {NID_key_usage, "critical,digitalSignature"},
         {NID_ext_key_usage, "serverAuth,clientAuth"},
         {NID_subject_alt_name, "DNS:" + subject.node_id + ",DNS:" + role_name(subject.role)},
         {NID_authority_key_identifier, "keyid:always"}});
    if (!cert) return std::unexpected(cert.error());
    if (auto ok = write_pair(dir, subject.node_id, key->get(), cert->get()); !ok) return ok;
  }
  return {};
}

std::expected<TlsIdentity, std::string> load_identity(const fs::path& dir,
                                                      const std::string& node_id) {
  return load_identity(node_id, [&](const std::string& leaf) { return read_pem(dir / leaf); });
}

std::expected<TlsIdentity, std::string> load_identity(
    const std::string& node_id,
    const std::function<std::expected<std::string, std::string>(const std::string& leaf)>& read) {
  TlsIdentity identity{.node_id = node_id, .ca_pem = {}, .cert_pem = {}, .key_pem = {}};
  for (auto [leaf, into] : {std::pair{std::string("ca.pem"), &identity.ca_pem},
                            std::pair{node_id + ".pem", &identity.cert_pem},
                            std::pair{node_id + ".key", &identity.key_pem}}) {
    auto text = read(leaf);
    if (!text) return std::unexpected(text.error() + " (the TLS files of node '" + node_id + "')");
    *into = std::move(*text);
  }
  return identity;
}

std::shared_ptr<grpc::ServerCredentials> server_credentials(const TlsIdentity* tls) {
  if (tls == nullptr) return grpc::InsecureServerCredentials();
  grpc::SslServerCredentialsOptions options(
      GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  options.pem_root_certs = tls->ca_pem;
  options.pem_key_cert_pairs.push_back({tls->key_pem, tls->cert_pem});
  return grpc::SslServerCredentials(options);
}

std::shared_ptr<grpc::ChannelCredentials> channel_credentials(const TlsIdentity* tls) {
  if (tls == nullptr) return grpc::InsecureChannelCredentials();
  grpc::SslCredentialsOptions options;
  options.pem_root_certs = tls->ca_pem;
  options.pem_private_key = tls->key_pem;
  options.pem_cert_chain = tls->cert_pem;
  return grpc::SslCredentials(options);
}

std::optional<std::string> peer_node_id(const grpc::ServerContextBase& context) {
  const auto auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) return std::nullopt;
  const auto names = auth->FindPropertyValues("x509_common_name");
  if (names.empty()) return std::nullopt;
  return std::string(names.front().data(), names.front().size());
}

grpc::Status peer_refused(std::string_view peer, std::string_view needed) {
  return {grpc::StatusCode::PERMISSION_DENIED,
          "the TLS peer '" + std::string(peer) + "' is not " + std::string(needed)};
}

}  // namespace mkt::runtime
