/* gate: how many connections one address may hold. One table per process,
 * by descriptor: the listener enters each accepted socket, the code that
 * closes it leaves (conn_free, videod's HTTP connections). A descriptor
 * entered again (closed by someone who did not leave) replaces the old
 * entry, so a missed leave costs no more than that descriptor's lifetime. */
#ifndef NEXUS_GATE_H
#define NEXUS_GATE_H

#include <stddef.h>
#include <sys/socket.h>

#define GATE_PER_ADDR_DEFAULT 64
#define GATE_PER_ADDR_MAX 65535

/* Connections one address may hold at a time; 0 = no cap. */
void gate_set_max(unsigned per_addr);
unsigned gate_max(void);
/* Counts fd against its peer's address sa. 0, or -EUSERS when that address
 * already holds the maximum (the caller closes fd), or -ENOMEM. */
int gate_enter(int fd, const struct sockaddr *sa);
/* fd is being closed; a descriptor never entered is ignored. */
void gate_leave(int fd);
/* Connections the address of sa holds now (for tests and logs). */
unsigned gate_count(const struct sockaddr *sa);
/* The address of sa for logs ("192.0.2.1", "2001:db8::1"; v4-mapped as v4). */
void gate_addr_name(const struct sockaddr *sa, char *out, size_t outlen);
/* Forgets everything (tests, exit). */
void gate_reset(void);

#endif
