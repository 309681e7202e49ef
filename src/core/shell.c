/* SPDX-License-Identifier: Apache-2.0 */
/* Words for a POSIX shell (printed commands: nvbind run --dry-run, migrate's suggestions). */
#include "core/core.h"

char *nvb_shell_quote(const char *word)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
				    "0123456789-_./=:,+@%";
	if (*word && strspn(word, plain) == strlen(word))
		return strdup(word);
	struct nvb_strbuf b = {0};
	nvb_strbuf_appendc(&b, '\'');
	for (const char *p = word; *p; p++) {
		if (*p == '\'')
			nvb_strbuf_append(&b, "'\\''");
		else
			nvb_strbuf_appendc(&b, *p);
	}
	nvb_strbuf_appendc(&b, '\'');
	return nvb_strbuf_take(&b);
}
