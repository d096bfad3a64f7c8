/* libFuzzer target for the token.revoked parser (common/revoke.c): a file
 * every verifying daemon reads. A list that parses is sorted, has one
 * entry per valid user name, and answers each of its users' stamps. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "auth.h"
#include "revoke.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct revoke_list l = {NULL, 0};
	size_t line = 0;

	if (revoke_parse((const char *)data, size, &l, &line) < 0) {
		if (line == 0 && size <= REVOKE_FILE_MAX)
			abort(); /* an error names its line */
		return 0;
	}
	if (l.n > REVOKE_ENTRIES_MAX)
		abort();
	for (size_t i = 0; i < l.n; i++) {
		if (!auth_name_valid(l.e[i].user) ||
		    (i > 0 && strcmp(l.e[i - 1].user, l.e[i].user) >= 0) ||
		    revoke_list_stamp(&l, l.e[i].user) != l.e[i].stamp_ms)
			abort();
	}
	revoke_list_free(&l);
	return 0;
}
