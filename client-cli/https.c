/* https: a short, blocking HTTPS exchange with a daemon of the server
 * (videod's API), for commands that run no event loop around it: connect
 * (HTTPS_IO_SECS socket timeouts), handshake, check the chat server's pin
 * (the daemons share one certificate) before anything is sent, then plain
 * HTTP/1.x over it. The full-screen client never calls it on its loop: it
 * runs such commands as children. */
#include "client.h"

#include <errno.h>
#include <netdb.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define HTTPS_IO_SECS 10
#define HTTPS_RESP_MAX (64 * 1024)

void https_close(struct https *h)
{
	if (h->ssl) {
		SSL_shutdown(h->ssl);
		SSL_free(h->ssl);
	}
	if (h->ctx)
		tls_ctx_free(h->ctx);
	if (h->fd >= 0)
		close(h->fd);
	h->ssl = NULL;
	h->ctx = NULL;
	h->fd = -1;
}

static void https_fd_timeout(int fd, int secs)
{
	struct timeval tv = {secs, 0};

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
}

static int https_connect(const char *host, uint16_t port)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res, *ai;
	char ps[8];
	int fd = -1;

	snprintf(ps, sizeof(ps), "%u", port);
	if (getaddrinfo(host, ps, &hints, &res) != 0)
		return -EHOSTUNREACH;
	for (ai = res; ai; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		https_fd_timeout(fd, HTTPS_IO_SECS);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			break;
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

int https_open(struct settings *s, uint16_t port, const char *service, struct https *h)
{
	char err[256], fp[TLS_FP_LEN], pinned[TLS_FP_LEN] = "";
	int pin;

	h->fd = https_connect(s->server, port);
	if (h->fd < 0) {
		out_err("cannot reach %s at %s port %u: is it running? (nexus ports %s)", service,
		        s->server, port, s->server);
		return EXIT_NETWORK;
	}
	h->ctx = tls_client_ctx(err, sizeof(err));
	h->ssl = h->ctx ? SSL_new(h->ctx) : NULL;
	if (!h->ssl || !SSL_set_fd(h->ssl, h->fd)) {
		out_err("out of memory");
		return EXIT_ERROR;
	}
	SSL_set_tlsext_host_name(h->ssl, s->server);
	if (SSL_connect(h->ssl) != 1 || tls_peer_fingerprint(h->ssl, fp) < 0) {
		ERR_clear_error();
		out_err("TLS handshake with %s at %s port %u failed", service, s->server, port);
		return EXIT_NETWORK;
	}
	pin = tls_pin_check(s->known_path, s->host_port, fp, pinned);
	if (pin == TLS_PIN_MATCH)
		return 0;
	if (pin == TLS_PIN_MISMATCH)
		out_err("WARNING: %s's certificate is not the one pinned for %s: pinned %s "
		        "now %s; if expected run: %s trust --yes",
		        service, s->host_port, pinned, fp, settings_cmd_prefix(s));
	else
		out_err("unknown server %s; run: %s trust", fp, settings_cmd_prefix(s));
	return EXIT_CERT;
}

int https_write(struct https *h, const char *buf, size_t len)
{
	return SSL_write(h->ssl, buf, (int)len) == (int)len ? 0 : -EIO;
}

int https_read_all(struct https *h, int *ret_status, char **ret_body)
{
	char *buf = malloc(HTTPS_RESP_MAX + 1), *body;
	size_t len = 0;
	int n;

	if (!buf)
		return -ENOMEM;
	while (len < HTTPS_RESP_MAX &&
	       (n = SSL_read(h->ssl, buf + len, (int)(HTTPS_RESP_MAX - len))) > 0)
		len += (size_t)n;
	ERR_clear_error();
	buf[len] = '\0';
	body = strstr(buf, "\r\n\r\n");
	if (strncmp(buf, "HTTP/1.", 7) != 0 || !body || len < 12) {
		free(buf);
		return -EPROTO;
	}
	*ret_status = atoi(buf + 9);
	memmove(buf, body + 4, strlen(body + 4) + 1);
	*ret_body = buf;
	return 0;
}

int https_read(struct https *h, char *buf, size_t len)
{
	int n = SSL_read(h->ssl, buf, (int)len);

	if (n <= 0)
		ERR_clear_error();
	return n > 0 ? n : 0;
}

void https_set_timeout(struct https *h, int secs)
{
	https_fd_timeout(h->fd, secs);
}
