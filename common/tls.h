/* tls: OpenSSL contexts (TLS 1.3 only), first-start certificate generation,
 * certificate fingerprints and trust-on-first-use pinning for clients. */
#ifndef NEXUS_TLS_H
#define NEXUS_TLS_H

#include <stddef.h>
#include <sys/types.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;

/* "SHA256:" + 64 hex digits + NUL */
#define TLS_FP_LEN 72

/* Make sure cert_path and key_path exist. When both are missing, generate
 * an ECDSA P-256 key and a self-signed certificate (SAN: hostname,
 * localhost, 127.0.0.1, ::1 and the host's addresses), valid 10 years,
 * written to temporary files and linked into place so that several daemons
 * starting at once never see a half-written file. Returns 0 or a negative
 * errno with a sentence in err. */
int tls_ensure_cert(const char *cert_path, const char *key_path, const char *hostname, char *err,
                    size_t errlen);

/* Server context from PEM files, TLS 1.3 only. NULL with a sentence in err. */
SSL_CTX *tls_server_ctx(const char *cert_path, const char *key_path, char *err, size_t errlen);
/* Client context, TLS 1.3 only. Verification is by pinning (tls_pin_*). */
SSL_CTX *tls_client_ctx(char *err, size_t errlen);
void tls_ctx_free(SSL_CTX *ctx);

/* Fingerprint of the peer certificate of an established connection, or of a
 * PEM certificate file. Returns 0 or a negative errno. */
int tls_peer_fingerprint(SSL *ssl, char out[TLS_FP_LEN]);
int tls_file_fingerprint(const char *cert_path, char out[TLS_FP_LEN]);

enum tls_pin_state { TLS_PIN_MATCH = 0, TLS_PIN_UNKNOWN = 1, TLS_PIN_MISMATCH = 2 };

/* Look host_port ("host:port") up in known_path (lines "host:port SHA256:..").
 * Returns a tls_pin_state, or a negative errno if the file is unreadable;
 * on mismatch the pinned fingerprint is copied to ret_pinned. */
int tls_pin_check(const char *known_path, const char *host_port, const char *fp,
                  char ret_pinned[TLS_FP_LEN]);
/* Add or replace the pin for host_port, creating the file (0600) and its
 * folder as needed; rewritten atomically. Returns 0 or a negative errno. */
int tls_pin_save(const char *known_path, const char *host_port, const char *fp);

#endif
