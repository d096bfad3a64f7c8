/* portuse: who holds a local port, and the one "address already in use"
 * sentence every daemon prints (naming the port, the holder when it can be
 * found, and the flag and config key that choose another port). */
#ifndef NEXUS_PORTUSE_H
#define NEXUS_PORTUSE_H

#include <stddef.h>
#include <stdint.h>

enum portuse_proto { PORTUSE_TCP, PORTUSE_UDP };

/* The process holding PORT (a TCP listener, or a bound UDP socket) as
 * "NAME (pid N)" in out; -ENOENT when no socket holds it, -EACCES when one
 * does but its process is not visible to us (another user's, without root). */
int portuse_holder(enum portuse_proto proto, uint16_t port, char *out, size_t outlen);

/* The sentence for EADDRINUSE on HOST (NULL or "" or "::" = all addresses)
 * PORT, for program PROG whose FLAG (e.g. "-p") and config KEY (in [PROG])
 * choose another port. */
void portuse_explain(char *err, size_t errlen, const char *prog, enum portuse_proto proto,
                     const char *host, uint16_t port, const char *flag, const char *key);

#endif
