/* PROTOCOL.md against the code's limits: every row of section 8's limits
 * table against common/proto_limits.c's table (value, unit, configuration
 * key; and every row of the code documented), every string cap of section
 * 3's field table and every "FIELD str≤N" of the message tables against what
 * the codec really enforces (N bytes encode, N + 1 do not). A mismatch names
 * the row. Also proto_type_accepted and the ERR_UNSUPPORTED sentences.
 * Reads common/PROTOCOL.md from the source tree (NX_SRCDIR, default "."). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "proto.h"
#include "proto_limits.h"

#define DOC_MAX (512 * 1024)
#define CELLS_MAX 8
#define CELL_MAX 512

static char doc[DOC_MAX];

static void doc_load(void)
{
	const char *dir = getenv("NX_SRCDIR");
	char path[1024];
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "%s/common/PROTOCOL.md", dir && *dir ? dir : ".");
	f = fopen(path, "r");
	if (!f)
		fail_msg("cannot open %s (run from the source tree or set NX_SRCDIR)", path);
	n = fread(doc, 1, sizeof(doc) - 1, f);
	fclose(f);
	assert_true(n > 0 && n < sizeof(doc) - 1);
	doc[n] = '\0';
}

/* The text of section "## N. " up to the next "## ". */
static const char *doc_section(const char *heading, size_t *ret_len)
{
	const char *a = strstr(doc, heading), *b;

	if (!a) {
		fail_msg("PROTOCOL.md has no section '%s'", heading);
		*ret_len = 0;
		return doc;
	}
	b = strstr(a + 1, "\n## ");
	*ret_len = b ? (size_t)(b - a) : strlen(a);
	return a;
}

/* Split one table line "| a | b |" into trimmed cells; returns their count. */
static int row_cells(const char *line, size_t len, char cells[CELLS_MAX][CELL_MAX])
{
	int n = 0;
	size_t i = 1;

	while (i < len && n < CELLS_MAX) {
		size_t start = i, end;

		while (i < len && line[i] != '|')
			i++;
		if (i >= len)
			break;
		end = i;
		while (start < end && line[start] == ' ')
			start++;
		while (end > start && line[end - 1] == ' ')
			end--;
		snprintf(cells[n], CELL_MAX, "%.*s", (int)(end - start), line + start);
		n++;
		i++;
	}
	return n;
}

/* Bytes and time scale with their unit; other units must match as words. */
static uint64_t unit_scale(const char *unit, int *ret_class)
{
	static const struct {
		const char *unit;
		uint64_t scale;
		int cls;
	} units[] = {{"bytes", 1, 1},
	             {"KiB", 1024, 1},
	             {"MiB", 1024 * 1024, 1},
	             {"GiB", 1024ull * 1024 * 1024, 1},
	             {"ms", 1, 2},
	             {"s", 1000, 2}};

	for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
		if (strcmp(unit, units[i].unit) == 0) {
			*ret_class = units[i].cls;
			return units[i].scale;
		}
	*ret_class = 0;
	return 1;
}

/* Does a Value cell ("64 KiB", "10 per second") state the limit? */
static int value_matches(const char *cell, const struct proto_limit *l, char *why, size_t whylen)
{
	char *end, word[64];
	unsigned long long v = strtoull(cell, &end, 10);
	int cls_doc, cls_code;
	uint64_t sd, sc;

	if (end == cell) {
		snprintf(why, whylen, "value '%s' does not start with a number", cell);
		return 0;
	}
	while (*end == ' ')
		end++;
	snprintf(word, sizeof(word), "%.*s", (int)strcspn(end, " ,("), end);
	sd = unit_scale(word, &cls_doc);
	sc = unit_scale(l->unit, &cls_code);
	if (cls_code) {
		if (cls_doc != cls_code || v * sd != l->value * sc) {
			snprintf(why, whylen, "value '%s', the code says %" PRIu64 " %s", cell,
			         l->value, l->unit);
			return 0;
		}
		return 1;
	}
	if (v != l->value || strncmp(end, l->unit, strlen(l->unit)) != 0) {
		snprintf(why, whylen, "value '%s', the code says %" PRIu64 " %s", cell, l->value,
		         l->unit);
		return 0;
	}
	return 1;
}

static const struct proto_limit *limit_by_macro(const char *cell)
{
	size_t n;
	const struct proto_limit *t = proto_limits(&n);
	char macro[128];

	if (cell[0] != '`')
		return NULL;
	snprintf(macro, sizeof(macro), "%.*s", (int)strcspn(cell + 1, "`"), cell + 1);
	for (size_t i = 0; i < n; i++)
		if (strcmp(t[i].macro, macro) == 0)
			return &t[i];
	return NULL;
}

/* Section 8: each row names a limit of the code and states its value and
 * configuration key; each limit of the code has a row. */
static void test_limits_table(void **state)
{
	size_t len, n, rows = 0;
	const char *sec = doc_section("\n## 8. Limits", &len), *p = sec;
	const struct proto_limit *t = proto_limits(&n);
	int seen[128] = {0}, bad = 0;

	(void)state;
	assert_true(n <= sizeof(seen) / sizeof(seen[0]));
	while (p < sec + len) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char cells[CELLS_MAX][CELL_MAX], why[CELL_MAX + 128];
		const struct proto_limit *l;
		int nc;

		if (ll > 1 && p[0] == '|' && !strstr(p, "|---") && strncmp(p, "| Limit ", 8) != 0) {
			nc = row_cells(p, ll, cells);
			rows++;
			l = nc >= 5 ? limit_by_macro(cells[2]) : NULL;
			if (!l) {
				printf("limits row '%s': 'In the code' (%s) names no row of "
				       "proto_limits.c\n",
				       cells[0], nc >= 3 ? cells[2] : "missing");
				bad++;
			} else {
				seen[l - t]++;
				if (!value_matches(cells[1], l, why, sizeof(why))) {
					printf("limits row '%s' (%s): %s\n", cells[0], l->macro,
					       why);
					bad++;
				}
				if (l->config && !strstr(cells[3], l->config)) {
					printf("limits row '%s' (%s): configured by '%s', the code "
					       "says "
					       "'%s'\n",
					       cells[0], l->macro, cells[3], l->config);
					bad++;
				}
				if (!l->config && strchr(cells[3], '[')) {
					printf("limits row '%s' (%s): configured by '%s', the code "
					       "has no "
					       "key\n",
					       cells[0], l->macro, cells[3]);
					bad++;
				}
			}
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	for (size_t i = 0; i < n; i++)
		if (seen[i] != 1) {
			printf("%s (%" PRIu64
			       " %s): %d rows of PROTOCOL.md's limits table, want 1\n",
			       t[i].macro, t[i].value, t[i].unit, seen[i]);
			bad++;
		}
	printf("%zu limits rows checked against %zu limits of the code\n", rows, n);
	assert_int_equal(bad, 0);
}

/* Decode a frame whose string field is n bytes of 'a' (the other strings
 * empty): 0, or the decoder's negated error. What the codec enforces on
 * read, found by decoding, not by reading the code's constants. */
static int field_decode_len(const char *field, size_t n)
{
	static const struct {
		const char *field;
		uint16_t type;
		size_t before, after;               /* bytes of the other fields around it */
	} probes[] = {{"room", MSG_LEAVE, 4, 0},    /* req, room */
	              {"user", MSG_REGISTER, 4, 4}, /* req, user, secret "" */
	              {"name", MSG_HELLO, 2, 8},    /* version, name, secret "", text "" */
	              {"text", MSG_ERROR, 6, 0},    /* req, code, text */
	              {"secret", MSG_LOGIN, 8, 0}}; /* req, user "", secret */
	static uint8_t buf[2 * PROTO_TEXT_MAX];
	static struct msg m;

	for (size_t i = 0; i < sizeof(probes) / sizeof(probes[0]); i++) {
		size_t len = probes[i].before + 4 + n + probes[i].after;

		if (strcmp(field, probes[i].field) != 0)
			continue;
		assert_true(len <= sizeof(buf));
		memset(buf, 0, len);
		buf[probes[i].before] = (uint8_t)(n >> 24);
		buf[probes[i].before + 1] = (uint8_t)(n >> 16);
		buf[probes[i].before + 2] = (uint8_t)(n >> 8);
		buf[probes[i].before + 3] = (uint8_t)n;
		memset(buf + probes[i].before + 4, 'a', n);
		return proto_decode(probes[i].type, 0, buf, len, &m);
	}
	return -ERR_INVALID;
}

/* The largest length the codec takes in a string field, -1 if unknown. */
static long field_cap_measured(const char *field)
{
	long lo = 0, hi = PROTO_TEXT_MAX + 1; /* lo decodes, hi does not */

	if (field_decode_len(field, 0) != 0 || field_decode_len(field, (size_t)hi) == 0)
		return -1;
	while (hi - lo > 1) {
		long mid = (lo + hi) / 2;

		if (field_decode_len(field, (size_t)mid) == 0)
			lo = mid;
		else
			hi = mid;
	}
	assert_int_equal(field_decode_len(field, (size_t)hi), -ERR_TOO_LARGE);
	return lo;
}

/* Section 3: the Cap column of every str field. */
static void test_field_caps(void **state)
{
	size_t len;
	const char *sec = doc_section("\n## 3. Field encodings", &len), *p = sec;
	int bad = 0, rows = 0;

	(void)state;
	while (p < sec + len) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char cells[CELLS_MAX][CELL_MAX], field[64];
		int nc;

		if (ll > 1 && p[0] == '|' && p[2] == '`') {
			nc = row_cells(p, ll, cells);
			snprintf(field, sizeof(field), "%.*s", (int)strcspn(cells[0] + 1, "`"),
			         cells[0] + 1);
			if (nc >= 3 && strncmp(cells[1], "str", 3) == 0) {
				long want = field_cap_measured(field),
				     got = strtol(cells[2], NULL, 10);

				rows++;
				if (want < 0 || got != want) {
					printf(
					    "field row '%s': cap '%s', the codec takes %ld bytes\n",
					    field, cells[2], want);
					bad++;
				}
			}
			/* "exactly 32" */
			if (nc >= 3 && strcmp(field, "hash") == 0 &&
			    strtol(cells[2] + strcspn(cells[2], "0123456789"), NULL, 10) !=
			        PROTO_HASH_LEN) {
				printf("field row 'hash': '%s', the codec takes %d bytes\n",
				       cells[2], PROTO_HASH_LEN);
				bad++;
			}
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	printf("%d string fields checked\n", rows);
	assert_int_equal(rows, 5);
	assert_int_equal(bad, 0);
}

/* Length of a table line's first two cells: "| `0x0109` | INVITE |". */
static size_t row_head_len(const char *line)
{
	size_t i = 0;

	for (int bars = 0; line[i] && line[i] != '\n' && bars < 3; i++)
		bars += line[i] == '|';
	return i;
}

/* Every "FIELD str≤N" in the message tables (section 4). */
static void test_message_table_caps(void **state)
{
	static const char *const fields[] = {"room", "user", "name", "text", "secret"};
	long caps[5];
	int bad = 0, hits = 0;

	(void)state;
	for (int i = 0; i < 5; i++)
		caps[i] = field_cap_measured(fields[i]);
	for (const char *p = strstr(doc, " str\xe2\x89\xa4"); p;
	     p = strstr(p + 1, " str\xe2\x89\xa4")) {
		const char *w = p;
		long n = strtol(p + 7, NULL, 10);
		char field[32], line[96];
		int k;

		while (w > doc && w[-1] != ' ' && w[-1] != '|' && w[-1] != '(')
			w--;
		snprintf(field, sizeof(field), "%.*s", (int)(p - w), w);
		for (k = 0; k < 5 && strcmp(field, fields[k]) != 0; k++)
			;
		hits++;
		if (k == 5 || n != caps[k]) {
			const char *bol = p;

			while (bol > doc && bol[-1] != '\n')
				bol--;
			/* the row's type and name: "| `0x0109` | INVITE |" */
			snprintf(line, sizeof(line), "%.*s", (int)row_head_len(bol), bol);
			printf("message table row '%s': '%s str<=%ld', the codec takes %ld bytes\n",
			       line, field, n, k == 5 ? -1 : caps[k]);
			bad++;
		}
	}
	printf("%d 'str<=N' fields checked\n", hits);
	assert_true(hits > 50);
	assert_int_equal(bad, 0);
}

/* Section 4's "Sent by" column: a type a client sends ("C", "C, S", "C
 * (admin)"...) is one its service takes from a client, and no other is. */
static void test_sent_by(void **state)
{
	size_t len;
	const char *sec = doc_section("\n## 4. Messages", &len), *p = sec;
	int bad = 0, rows = 0, types = 0;

	(void)state;
	while (p < sec + len) {
		const char *eol = strchr(p, '\n');
		size_t ll = eol ? (size_t)(eol - p) : strlen(p);
		char cells[CELLS_MAX][CELL_MAX];

		/* message rows; the flags tables name constants in backquotes */
		if (ll > 4 && strncmp(p, "| `0x", 5) == 0 && row_cells(p, ll, cells) >= 4 &&
		    cells[1][0] != '`') {
			uint16_t type = (uint16_t)strtoul(cells[0] + 1, NULL, 16);
			const char *svc = proto_type_service(type);
			int doc_c = cells[3][0] == 'C' || strstr(cells[3], "C, S") != NULL;
			int code_c = svc && proto_type_accepted(type, svc[0] ? svc : "chat");

			rows++;
			if (!svc || strcmp(proto_type_name(type), cells[1]) != 0) {
				printf("message row '%s' (%s): not this type in the registry\n",
				       cells[1], cells[0]);
				bad++;
			} else if (doc_c != code_c) {
				printf("message row '%s': sent by '%s', the code says %s\n",
				       cells[1], cells[3],
				       code_c ? "a client sends it" : "no client sends it");
				bad++;
			}
		}
		if (!eol)
			break;
		p = eol + 1;
	}
	for (uint32_t t = 0; t <= 0xffff; t++) {
		if (!proto_type_name((uint16_t)t))
			continue;
		types++;
		if (!strstr(sec, proto_type_name((uint16_t)t))) {
			printf("type 0x%04x %s: no row in PROTOCOL.md's message tables\n", t,
			       proto_type_name((uint16_t)t));
			bad++;
		}
	}
	printf("%d message rows checked, %d types in the registry\n", rows, types);
	assert_int_equal(rows, types); /* every type documented, once */
	assert_int_equal(bad, 0);
}

/* Which types a service takes from a client, and what it says otherwise. */
static void test_type_accepted(void **state)
{
	char why[200];

	(void)state;
	assert_true(proto_type_accepted(MSG_SAY, "chat"));
	assert_true(proto_type_accepted(MSG_PING, "file"));
	assert_true(proto_type_accepted(MSG_HELLO, "audio"));
	assert_true(proto_type_accepted(MSG_TYPING, "chat"));
	assert_true(proto_type_accepted(MSG_FILE_DATA, "file"));
	assert_true(proto_type_accepted(MSG_AUDIO, "audio"));
	assert_false(proto_type_accepted(MSG_FILE_PUSH, "chat"));
	assert_false(proto_type_accepted(MSG_SAY, "file"));
	assert_false(proto_type_accepted(MSG_VOICE_JOIN, "file"));
	assert_false(proto_type_accepted(MSG_CHAT, "chat"));
	assert_false(proto_type_accepted(MSG_WELCOME, "chat"));
	assert_false(proto_type_accepted(MSG_PONG, "audio"));
	assert_false(proto_type_accepted(0x0fff, "chat"));
	assert_string_equal(proto_type_service(MSG_OK), "");
	assert_string_equal(proto_type_service(MSG_FILE_LIST), "file");
	assert_null(proto_type_service(0x0199));

	proto_unsupported_text(MSG_FILE_PUSH, "chat", why, sizeof(why));
	assert_string_equal(why, "FILE_PUSH is a message of filed, the file service, not of chatd: "
	                         "send it to filed's port");
	proto_unsupported_text(MSG_CHAT, "chat", why, sizeof(why));
	assert_string_equal(why, "chatd does not answer CHAT: only a server sends it");
	proto_unsupported_text(MSG_OK, "audio", why, sizeof(why));
	assert_string_equal(why, "audiod does not answer OK: only a server sends it");
	proto_unsupported_text(0x0fff, "file", why, sizeof(why));
	assert_string_equal(why, "filed does not know message type 0x0fff");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_limits_table),       cmocka_unit_test(test_field_caps),
	    cmocka_unit_test(test_message_table_caps), cmocka_unit_test(test_sent_by),
	    cmocka_unit_test(test_type_accepted),
	};

	doc_load();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
