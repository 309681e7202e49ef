/* SPDX-License-Identifier: Apache-2.0 */
/* Writing TOML: the one quoting of strings and keys for every file nvbind writes or edits
 * (config show/template, containers.conf, migrate's output). */
#include "format/toml.h"

void nvb_toml_quote_append(struct nvb_strbuf *b, const char *s)
{
	nvb_strbuf_appendc(b, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c == '"' || c == '\\') {
			nvb_strbuf_appendc(b, '\\');
			nvb_strbuf_appendc(b, (char)c);
		} else if (c < 0x20 || c == 0x7f) {
			nvb_strbuf_appendf(b, "\\u%04x", c);
		} else {
			nvb_strbuf_appendc(b, (char)c);
		}
	}
	nvb_strbuf_appendc(b, '"');
}

char *nvb_toml_quote(const char *s)
{
	struct nvb_strbuf b = {0};
	nvb_toml_quote_append(&b, s);
	return nvb_strbuf_take(&b);
}

/* A bare key is A-Za-z0-9_- and not empty (TOML 1.0 "Keys"). */
static bool bare_key(const char *key)
{
	static const char bare[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_-";
	return *key && strspn(key, bare) == strlen(key);
}

void nvb_toml_key_append(struct nvb_strbuf *b, const char *key)
{
	if (bare_key(key))
		nvb_strbuf_append(b, key);
	else
		nvb_toml_quote_append(b, key);
}

char *nvb_toml_key(const char *key)
{
	struct nvb_strbuf b = {0};
	nvb_toml_key_append(&b, key);
	return nvb_strbuf_take(&b);
}
