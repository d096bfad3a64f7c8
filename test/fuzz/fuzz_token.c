/* libFuzzer target for login tokens and room passes (common/auth.c): the
 * text a client puts in HELLO, a cookie or an Authorization header. The
 * key is fixed, so the seeds (test/fuzz/seeds_token) hold tokens that
 * verify and the fuzzer starts past the MAC check. A token that verifies
 * must name a valid user and be refused once expired. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 32 bytes of 'k': the seeds are signed with it. */
static const uint8_t key[AUTH_KEY_LEN] = "kkkkkkkkkkkkkkkkkkkkkkkkkkkkkkkk";
#define NOW 1700000000u

static void check_token(const char *s)
{
	char user[PROTO_NAME_MAX + 1];
	uint64_t exp = 0, issued = 0;
	int r = auth_token_verify_issued(key, s, NOW, user, sizeof(user), &exp, &issued);

	if (r == 0) {
		if (!auth_name_valid(user) || exp <= NOW)
			abort();
		if (auth_token_verify(key, s, exp, NULL, 0, NULL) != -EKEYEXPIRED)
			abort();
	} else if (r != -EBADMSG && r != -EKEYEXPIRED) {
		abort();
	}
	/* a user buffer too small for the name is an error, never an overflow */
	r = auth_token_verify(key, s, NOW, user, 2, &exp);
	if (r == 0 && strlen(user) >= 2)
		abort();
}

static void check_pass(const char *s)
{
	bool admin = false;
	int r = auth_pass_verify(key, s, "alice", "lobby", NOW, &admin);

	if (r != 0 && r != -EBADMSG && r != -EKEYEXPIRED)
		abort();
	/* never a token for a pass, and the other way round */
	if (auth_token_verify(key, s, NOW, NULL, 0, NULL) == 0 && r == 0)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *s = malloc(size + 1);

	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	check_token(s);
	check_pass(s);
	free(s);
	return 0;
}
